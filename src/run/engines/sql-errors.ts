/**
 * What a failed statement means, said for the person running the sync: which sync, which table
 * and column, and what to do; the database's own message follows. Sessions mark their errors
 * with where they ran (`markSqlError`), so that a missing table can be placed: the embedded
 * database, or which server.
 */
import type { Plan } from '../../plan/plan.js';
import type { TargetColumn } from '../../plan/warehouse-steps.js';

/** Where a statement ran. */
export interface SqlPlace {
  engine: string;
  location: string;
}

/** The fields Postgres errors carry (node-postgres and PGlite alike). */
interface PgError {
  code?: string;
  message: string;
  column?: string;
  table?: string;
  schema?: string;
  constraint?: string;
  detail?: string;
  ranOn?: SqlPlace;
}

/** Marks an error with the session it came from (the first session to see it). */
export function markSqlError(e: unknown, place: SqlPlace): unknown {
  if (e !== null && typeof e === 'object' && !('ranOn' in e)) Object.assign(e, { ranOn: place });
  return e;
}

const where = (p: SqlPlace | undefined) => (p === undefined ? 'the database' : p.engine === 'pglite' ? `the embedded database ${p.location}` : p.location);

/** The model column a target column is written from, for messages. */
function source(plan: Plan, column: string | undefined): TargetColumn | undefined {
  return plan.destination.columns?.find((c) => c.name === column);
}

const from = (c: TargetColumn | undefined) => (c?.from ? ` (from the model's column ${c.from})` : '');

/** A Postgres error, explained for `plan`; undefined when it is no database error. */
export function explainSqlError(e: unknown, plan: Plan): string | undefined {
  const err = e as PgError;
  if (typeof err?.code !== 'string' || !/^[0-9A-Z]{5}$/.test(err.code)) return undefined;
  const sync = `sync ${plan.sync.name}`;
  const target = plan.destination.target?.join('.');
  const table = err.table ? [err.schema, err.table].filter(Boolean).join('.') : target;
  const stopped = plan.destination.category === 'warehouse' ? 'nothing was changed (the script rolled back)' : 'the run stopped there';
  const said = `(${err.message})`;
  switch (err.code) {
    case '42P01': // undefined_table
    case '3F000': {
      // invalid_schema_name
      const name = /"([^"]+)"/.exec(err.message)?.[1] ?? 'a table';
      const fix = err.ranOn?.engine === 'pglite' ? 'pass --database or set DATABASE_URL to run on the database that has it' : 'check the model\'s table, and that --database or DATABASE_URL names the database that has it';
      return `${sync}: ${name} does not exist in ${where(err.ranOn)}; ${fix}`;
    }
    case '23502': // not_null_violation
      return `${sync}: a row has no value for ${err.column ?? 'a column'} of ${table}, which is NOT NULL${from(source(plan, err.column))}: keep such rows out of the model, or give the column a default or drop its NOT NULL; ${stopped} ${said}`;
    case '42804': // datatype_mismatch
    case '42883': // undefined_function: an operator between the two types
    case '22P02': // invalid_text_representation
    case '22003': // numeric_value_out_of_range
    case '22001': {
      // string_data_right_truncation
      const column = err.column ?? /column "([^"]+)"/.exec(err.message)?.[1];
      const what = column ? `column ${column} of ${table}${from(source(plan, column))}` : `a column of ${table}`;
      return `${sync}: ${what} cannot take the value the sync writes: make the column's type match the model's (plan.json lists each column's type); ${stopped} ${said}`;
    }
    case '23505': // unique_violation
      return `${sync}: a row breaks the unique constraint ${err.constraint ?? ''} of ${table}, which the sync's identifier does not cover${err.detail ? ` (${err.detail})` : ''}: make the identifier the table's key, or drop the constraint; ${stopped}`;
    default:
      return undefined;
  }
}
