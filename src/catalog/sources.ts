/**
 * What a `source` block takes, per warehouse dialect: only what identifies the warehouse,
 * plus the schema that holds the sync snapshots of API destinations.
 */
import { warehouseConnection } from './connection-settings.js';
import { settingsSchema } from './settings.js';
import type { JsonSchema } from './types.js';

import { dialectNames, type Dialect } from '../contract/dialect-names.js';

/** Every dialect is a warehouse a source can name. */
export const sourceDialects = dialectNames;
export type SourceDialect = Dialect;

// On BigQuery the state "schema" is a dataset; the name is used as is. The compiled SQL names
// it, so unlike other settings it cannot come from the environment where the sync runs.
const stateSchema: JsonSchema = {
  type: 'string',
  minLength: 1,
  default: 'syncwright',
  description: 'where sync snapshots are kept (a literal name: the compiled SQL names it)',
};

// Read by the integrations, not by the compiled SQL: the dbt project whose artifacts models
// name (`dbt name`), and the Airflow connection the generated DAGs run SQL steps on.
const integrations: Record<string, JsonSchema> = {
  state_schema: stateSchema,
  dbt_project: {
    type: 'string',
    minLength: 1,
    description: "the dbt project's folder, relative to this file: models written `dbt name` read its target/manifest.json (and catalog.json)",
  },
  airflow_conn_id: {
    type: 'string',
    minLength: 1,
    pattern: '^[A-Za-z0-9_.-]+$',
    description: 'the Airflow connection id of this warehouse in generated DAGs (default: the source name)',
  },
};

/** The rest comes from the environment the orchestrator provides (PGHOST, ADC, ...). */
export const sourceSettingsSchemas: Readonly<Record<SourceDialect, JsonSchema>> = {
  postgres: settingsSchema({ ...warehouseConnection.postgres, ...integrations }, ['database']),
  snowflake: settingsSchema({ ...warehouseConnection.snowflake, ...integrations }, ['account', 'database']),
  bigquery: settingsSchema({ ...warehouseConnection.bigquery, ...integrations }, ['project']),
};
