/** Warehouse destinations: another warehouse than the source, loaded then merged in its own SQL. */
import { defineDestination, type DestinationSpec } from '../define.js';
import { settingsSchema } from '../settings.js';
import { warehouseConnection } from '../connection-settings.js';

const table = [{ kind: 'table', describes: 'a table, optionally schema-qualified, e.g. crm.users; audiences write membership rows', audience: true }];
// Batches only size the load into the destination's staging table; the merge runs once.
const limits = { maxBatch: 1_000_000, defaultBatch: 100_000 };
const common = { category: 'warehouse', objectKinds: table, limits } satisfies Partial<DestinationSpec>;

export const postgres = defineDestination({
  ...common,
  type: 'postgres',
  title: 'PostgreSQL',
  settings: settingsSchema(warehouseConnection.postgres, ['host', 'database', 'user', 'password']),
  docs: 'https://www.postgresql.org/docs/current/sql-merge.html',
});

export const snowflake = defineDestination({
  ...common,
  type: 'snowflake',
  title: 'Snowflake',
  settings: settingsSchema(warehouseConnection.snowflake, ['account', 'warehouse', 'database', 'user'], {
    // Exactly one way to authenticate.
    oneOf: [{ required: ['password'] }, { required: ['private_key'] }],
  }),
  docs: 'https://docs.snowflake.com/en/sql-reference/sql/merge',
});

export const bigquery = defineDestination({
  ...common,
  type: 'bigquery',
  title: 'BigQuery',
  settings: settingsSchema(warehouseConnection.bigquery, ['project']),
  docs: 'https://cloud.google.com/bigquery/docs/reference/standard-sql/dml-syntax',
});
