/**
 * A warehouse type as dbt reports it (YAML `data_type`, or the catalog's, which is the
 * warehouse's own name: `character varying`, `NUMBER(38,0)`, `TIMESTAMP_NTZ`, `INT64`) read as
 * a column type of the language. Undefined for a type the language has none for (arrays,
 * geography, intervals): such a column cannot be synced, and the checker says so if it is used.
 */
import type { ColumnType } from '../../catalog/types.js';

export interface ReadType {
  type: ColumnType;
  precision?: number;
  scale?: number;
}

// Lower case, without length or precision; each dialect's spellings (Postgres, Snowflake, BigQuery, DuckDB).
const names: Record<string, ColumnType> = {
  text: 'string',
  varchar: 'string',
  'character varying': 'string',
  character: 'string',
  char: 'string',
  bpchar: 'string',
  string: 'string',
  uuid: 'string',
  citext: 'string',
  smallint: 'int',
  int2: 'int',
  integer: 'int',
  int: 'int',
  int4: 'int',
  tinyint: 'int',
  byteint: 'int',
  bigint: 'bigint',
  int8: 'bigint',
  int64: 'bigint',
  hugeint: 'decimal',
  real: 'float',
  float4: 'float',
  'double precision': 'float',
  float8: 'float',
  double: 'float',
  float: 'float',
  float64: 'float',
  numeric: 'decimal',
  decimal: 'decimal',
  number: 'decimal',
  bignumeric: 'decimal',
  boolean: 'bool',
  bool: 'bool',
  date: 'date',
  timestamp: 'timestamp',
  'timestamp without time zone': 'timestamp',
  'timestamp with time zone': 'timestamp',
  timestamptz: 'timestamp',
  timestamp_ntz: 'timestamp',
  timestamp_ltz: 'timestamp',
  timestamp_tz: 'timestamp',
  datetime: 'timestamp',
  json: 'json',
  jsonb: 'json',
  variant: 'json',
  object: 'json',
};

export function readWarehouseType(text: string): ReadType | undefined {
  const m = /^\s*([a-z_0-9 ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$/i.exec(text);
  if (!m) return undefined;
  const type = names[m[1]!.toLowerCase().replace(/\s+/g, ' ')];
  if (!type) return undefined;
  if (type !== 'decimal') return { type };
  // Snowflake's NUMBER(38,0) is its integer: a whole number, read as decimal(38, 0) as written.
  if (m[2] === undefined) return m[1]!.toLowerCase() === 'hugeint' ? { type, precision: 38, scale: 0 } : { type };
  const precision = Math.min(Number(m[2]), 38);
  return { type, precision, scale: Math.min(Number(m[3] ?? 0), precision) };
}
