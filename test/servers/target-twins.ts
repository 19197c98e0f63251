/**
 * The twins of a plan's target statements (the check of a warehouse target before its script)
 * for the local Snowflake and BigQuery servers (taught by snowflake-twin.ts and bigquery-twin.ts):
 * the engine's INFORMATION_SCHEMA (TABLES, COLUMNS) emulated over the PGlite twin's own catalog, each column's type given as that
 * engine names it. Whether a type fits is decided here by Postgres (the typcategory of the
 * Postgres type each engine's type name stands for), not by the dialect's list of categories,
 * so the test compares the plan's SQL with an oracle of its own. The twins take the values the
 * statements bind in the order the plan's `targetBinds` gives, so a value bound in the wrong
 * place, or a name not as the engine stores it, finds no table or no column.
 */
import { fillSlots, type Plan } from '../../src/contract/plan.js';
import { getDialect } from '../../src/dialect/index.js';

type Engine = 'snowflake' | 'bigquery';

/** Each engine's type names (the base name, before any `(`) and the Postgres type each stands for. */
const typeNames: Record<Engine, Record<string, string>> = {
  snowflake: {
    NUMBER: 'numeric',
    DECIMAL: 'numeric',
    INTEGER: 'int4',
    BIGINT: 'int8',
    FLOAT: 'float8',
    TEXT: 'text',
    VARCHAR: 'text',
    BOOLEAN: 'bool',
    DATE: 'date',
    TIMESTAMP_NTZ: 'timestamp',
    TIMESTAMP_TZ: 'timestamptz',
    VARIANT: 'jsonb',
  },
  bigquery: {
    INT64: 'int8',
    NUMERIC: 'numeric',
    BIGNUMERIC: 'numeric',
    FLOAT64: 'float8',
    STRING: 'text',
    BOOL: 'bool',
    DATE: 'date',
    DATETIME: 'timestamp',
    TIMESTAMP: 'timestamptz',
    JSON: 'jsonb',
  },
};

/** How each engine's catalog names a Postgres twin column's type (its DATA_TYPE). */
const storedAs: Record<Engine, Record<string, string>> = {
  snowflake: {
    smallint: 'NUMBER',
    integer: 'NUMBER',
    bigint: 'NUMBER',
    numeric: 'NUMBER',
    'double precision': 'FLOAT',
    real: 'FLOAT',
    text: 'TEXT',
    'character varying': 'TEXT',
    boolean: 'BOOLEAN',
    date: 'DATE',
    'timestamp without time zone': 'TIMESTAMP_NTZ',
    'timestamp with time zone': 'TIMESTAMP_TZ',
    jsonb: 'VARIANT',
    json: 'VARIANT',
  },
  bigquery: {
    smallint: 'INT64',
    integer: 'INT64',
    bigint: 'INT64',
    numeric: 'NUMERIC',
    'double precision': 'FLOAT64',
    real: 'FLOAT64',
    text: 'STRING',
    'character varying': 'STRING',
    boolean: 'BOOL',
    date: 'DATE',
    'timestamp without time zone': 'DATETIME',
    'timestamp with time zone': 'TIMESTAMP',
    jsonb: 'JSON',
    json: 'JSON',
  },
};

const lit = (v: string) => `'${v.replace(/'/g, "''")}'`;
const values = (map: Record<string, string>) =>
  Object.entries(map)
    .map(([a, b]) => `(${lit(a)}, ${lit(b)})`)
    .join(', ');

/**
 * The engine's catalog over the twin's: `types` (the engine's type names and their Postgres
 * types) and `cols` (information_schema.columns, each type as the engine names it).
 */
function catalog(engine: Engine): string {
  return `WITH types (name, pg) AS (VALUES ${values(typeNames[engine])}),
  cols AS (
    SELECT c.table_schema::text AS table_schema, c.table_name::text AS table_name, c.column_name::text AS column_name, c.ordinal_position,
           s.name AS data_type, c.is_nullable::text AS is_nullable, c.column_default::text AS column_default, c.is_identity::text AS is_identity,
           c.data_type::text AS pg_type, c.numeric_precision::int AS numeric_precision, c.numeric_scale::int AS numeric_scale
    FROM information_schema.columns c LEFT JOIN (VALUES ${values(storedAs[engine])}) AS s (pg, name) ON s.pg = c.data_type
  )`;
}

/**
 * A column's type as each engine's catalog shows it: Snowflake's DATA_TYPE with the precision and
 * scale of a NUMBER (an integer is NUMBER(38, 0)), as syncwright words it;
 * BigQuery's data_type, a NUMERIC's parameters in it.
 */
function shown(engine: Engine): string {
  return engine === 'snowflake'
    ? `CASE WHEN c.data_type = 'NUMBER' THEN 'NUMBER(' || CASE WHEN c.pg_type = 'numeric' THEN COALESCE(c.numeric_precision, 38) ELSE 38 END || ', ' || COALESCE(c.numeric_scale, 0) || ')'
         ELSE c.data_type END`
    : `CASE WHEN c.pg_type = 'numeric' AND c.numeric_precision IS NOT NULL THEN 'NUMERIC(' || c.numeric_precision || ', ' || c.numeric_scale || ')' ELSE c.data_type END`;
}

/**
 * Whether the column rounds what the sync writes, from Postgres's own facts about the twin's
 * column: an integer or numeric of a smaller scale than the decimal written (a BigQuery NUMERIC
 * without one holds 9), or one taking a float; on Snowflake also a date taking a timestamp (its
 * catalog gives no timestamp's precision). A decimal written without a scale (Snowflake's NUMBER(38, 9))
 * is given the benefit of the doubt, as on Postgres.
 */
function narrower(engine: Engine, written: string): string {
  const scale = `CASE WHEN ${written} = ${lit(getDialect('snowflake').types.decimal)} THEN NULL ELSE substring(${written} from ', ([0-9]+)\\)')::int END`;
  const held = engine === 'snowflake' ? 'c.numeric_scale' : `COALESCE(c.numeric_scale, 9)`;
  const numbers = `c.pg_type IN ('smallint', 'integer', 'bigint', 'numeric') AND (to_regtype((SELECT pg FROM types WHERE name = trim(split_part(upper(${written}), '(', 1)))) = 'float8'::regtype OR ${held} < ${scale})`;
  const times = `upper(${written}) LIKE 'TIMESTAMP%' AND c.pg_type = 'date'`;
  return `COALESCE((${numbers})${engine === 'snowflake' ? ` OR (${times})` : ''}, false)`;
}

/** The Postgres category of an engine's type name (its base name, before any `(`). */
const category = (t: string) =>
  `(SELECT typcategory FROM pg_type WHERE oid = (SELECT to_regtype(pg) FROM types WHERE name = trim(split_part(upper(${t}), '(', 1))))`;

/** The Postgres twin of each target statement, by engine, with $n in the order of the statement's binds. */
function twinsOf(engine: Engine, schema: string): Record<'exists' | 'columns' | 'required', string> {
  const fits = `COALESCE(${category('c.data_type')} = ${category('e.type')}, false)`;
  if (engine === 'snowflake')
    // Binds: exists (schema, name); columns (columns JSON, schema, name); required (schema, name, columns JSON).
    return {
      exists: `SELECT count(*) > 0 AS ok FROM information_schema.tables WHERE table_schema = $1 AND table_name = $2`,
      columns: `${catalog(engine)}
        SELECT e.name, e.type, c.column_name IS NOT NULL AS present, ${shown(engine)} AS actual, ${fits} AS fits, ${narrower(engine, 'e.type')} AS narrower
        FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (name text, type text)) WITH ORDINALITY AS e (name, type, n)
        LEFT JOIN cols c ON c.table_schema = $2 AND c.table_name = $3 AND c.column_name = e.name ORDER BY e.n`,
      required: `${catalog(engine)}
        SELECT column_name AS name FROM cols WHERE table_schema = $1 AND table_name = $2 AND is_nullable = 'NO' AND column_default IS NULL
        AND is_identity = 'NO' AND column_name NOT IN (SELECT w.name FROM jsonb_to_recordset($3::jsonb) AS w (name text)) ORDER BY ordinal_position`,
    };
  // BigQuery: the dataset is in the statement's text ({{catalog}}); column names compare case-insensitively.
  const dataset = lit(schema);
  return {
    exists: `SELECT count(*) > 0 AS ok FROM information_schema.tables WHERE table_schema = ${dataset} AND table_name = $1`,
    columns: `${catalog(engine)}
      SELECT e.name, e.type, c.column_name IS NOT NULL AS present, ${shown(engine)} AS actual, ${fits} AS fits, ${narrower(engine, 'e.type')} AS narrower
      FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS e (name, type, n)
      LEFT JOIN cols c ON c.table_schema = ${dataset} AND c.table_name = $3 AND lower(c.column_name) = lower(e.name) ORDER BY e.n`,
    required: `${catalog(engine)}
      SELECT column_name AS name FROM cols WHERE table_schema = ${dataset} AND table_name = $2 AND is_nullable = 'NO' AND column_default IS NULL
      AND lower(column_name) <> ALL (SELECT lower(w) FROM unnest($1::text[]) AS w) ORDER BY ordinal_position`,
  };
}

/** The columns the twin of the target columns statement gives (`ColumnFound` in src/run/engines/target-check.ts). */
const answered = ['name', 'type', 'present', 'actual', 'fits', 'narrower'];

/** [label, the statement as the executor sends it (its catalog filled), its twin] for each target statement of `plan` (none for a plan without a target check). */
export function targetTwins(plan: Plan): [string, string, string][] {
  const { check } = plan.destination;
  const session = plan.destination.session;
  const engine = plan.destination.dialect as Engine;
  if (!check || !session?.targetExists || !session.targetColumns || !session.targetRequired || !(engine in typeNames)) return [];
  const pg = twinsOf(engine, check.schema ?? '');
  const sent = (sql: string) => fillSlots(sql, { catalog: check.catalog ?? '' });
  // The twin answers for the plan's statement: each column the twin gives, the statement must select too.
  const columns = session.targetColumns;
  const missing = answered.filter((c) => !new RegExp(`\\bAS "?${c}"?(,|\\s+FROM\\b)`).test(columns));
  if (missing.length) throw new Error(`the ${engine} target columns statement selects no ${missing.join(', ')}, which its twin gives`);
  return [
    ['target exists', sent(session.targetExists), pg.exists],
    ['target columns', sent(session.targetColumns), pg.columns],
    ['target required', sent(session.targetRequired), pg.required],
  ];
}
