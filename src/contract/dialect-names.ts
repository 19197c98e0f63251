/**
 * Every dialect the compiler writes SQL for, the one list the `Dialect` type, the checker's
 * dialect names and the source settings are derived from; each has its record in
 * dialects/<name>.json.
 */
export const dialectNames = ['postgres', 'snowflake', 'bigquery'] as const;
export type Dialect = (typeof dialectNames)[number];
