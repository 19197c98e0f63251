/**
 * What a `source` block takes, per warehouse dialect: only what identifies the warehouse,
 * plus the schema that holds the sync snapshots of API destinations.
 */
import { warehouseConnection } from './connection-settings.js';
import { settingsSchema } from './settings.js';
import type { JsonSchema } from './types.js';

export const sourceDialects = ['postgres', 'snowflake', 'bigquery'] as const;
export type SourceDialect = (typeof sourceDialects)[number];

// On BigQuery the state "schema" is a dataset; the name is used as is. The compiled SQL names
// it, so unlike other settings it cannot come from the environment where the sync runs.
const stateSchema: JsonSchema = { type: 'string', minLength: 1, default: 'syncwright', description: 'where sync snapshots are kept (a literal name: the compiled SQL names it)' };

/** The rest comes from the environment the orchestrator provides (PGHOST, ADC, ...). */
export const sourceSettingsSchemas: Readonly<Record<SourceDialect, JsonSchema>> = {
  postgres: settingsSchema({ ...warehouseConnection.postgres, state_schema: stateSchema }, ['database']),
  snowflake: settingsSchema({ ...warehouseConnection.snowflake, state_schema: stateSchema }, ['account', 'database']),
  bigquery: settingsSchema({ ...warehouseConnection.bigquery, state_schema: stateSchema }, ['project']),
};
