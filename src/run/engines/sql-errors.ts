/**
 * What a failed statement means, said for the person running the sync: which sync, which table
 * and column, and what to do; the database's own message follows. Sessions mark their errors
 * with where they ran (`markSqlError`), so that a missing table can be placed: the embedded
 * database, or which server.
 */
import type { Plan, SessionSql, SqlErrorKind } from '../../contract/plan.js';
import type { TargetColumn } from '../../contract/warehouse-steps.js';

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

/** The session statements of a plan's endpoint; a plan without them was not compiled for an engine this executor runs. */
export function sessionSqlOf(plan: Plan, on: 'source' | 'destination'): SessionSql {
  const sql = plan[on].session;
  if (!sql)
    throw new Error(
      `sync ${plan.sync.name}: the plan has no session statements for its ${on} ${plan[on].name}; compile it again with this version of syncwright`,
    );
  return sql;
}

/**
 * Whether a database error means `kind`, by the codes of the plan's session statements: an entry
 * is a code, or `code: text` where the engine gives one code to errors of different meaning
 * (BigQuery's invalidQuery) and the message tells them apart.
 */
export function isSqlError(e: unknown, sql: Pick<SessionSql, 'errors'>, kind: SqlErrorKind): boolean {
  const { code, message } = (e ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string') return false;
  return sql.errors[kind].some((entry) => {
    const at = entry.indexOf(': ');
    if (at < 0) return entry === code;
    return entry.slice(0, at) === code && typeof message === 'string' && message.includes(entry.slice(at + 2));
  });
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

/** What a database error means, by the codes of the session statements of the plan's endpoints. */
function kindOf(e: unknown, plan: Plan): SqlErrorKind | undefined {
  for (const sql of [plan.destination.session, plan.source.session]) {
    if (!sql) continue;
    for (const kind of Object.keys(sql.errors) as SqlErrorKind[]) if (isSqlError(e, sql, kind)) return kind;
  }
  return undefined;
}

/** A database error, explained for `plan`; undefined when it is none the plan's session statements name. */
export function explainSqlError(e: unknown, plan: Plan): string | undefined {
  const err = e as PgError;
  const kind = kindOf(e, plan);
  if (kind === undefined) return undefined;
  const sync = `sync ${plan.sync.name}`;
  const target = plan.destination.target?.join('.');
  const table = err.table ? [err.schema, err.table].filter(Boolean).join('.') : target;
  const stopped = plan.destination.category === 'warehouse' ? 'nothing was changed (the script rolled back)' : 'the run stopped there';
  const said = `(${err.message})`;
  switch (kind) {
    case 'missingTable': {
      const name = /"([^"]+)"/.exec(err.message)?.[1] ?? 'a table';
      const fix =
        err.ranOn?.engine === 'pglite'
          ? 'pass --database or set DATABASE_URL to run on the database that has it'
          : "check the model's table, and that --database or DATABASE_URL names the database that has it";
      return `${sync}: ${name} does not exist in ${where(err.ranOn)}; ${fix}`;
    }
    case 'notNull':
      return `${sync}: a row has no value for ${err.column ?? 'a column'} of ${table}, which is NOT NULL${from(source(plan, err.column))}: keep such rows out of the model, or give the column a default or drop its NOT NULL; ${stopped} ${said}`;
    case 'wrongValue': {
      const column = err.column ?? /column "([^"]+)"/.exec(err.message)?.[1];
      const what = column ? `column ${column} of ${table}${from(source(plan, column))}` : `a column of ${table}`;
      return `${sync}: ${what} cannot take the value the sync writes: make the column's type match the model's (plan.json lists each column's type); ${stopped} ${said}`;
    }
    case 'unique':
      // Advice about the identifier fits the target only: a state table's or a catalog's (a schema made twice) is the server's error as it is.
      if (err.table !== undefined && err.table !== plan.destination.target?.at(-1)) return undefined;
      return `${sync}: a row breaks the unique constraint ${err.constraint ?? ''} of ${table}, which the sync's identifier does not cover${err.detail ? ` (${err.detail})` : ''}: make the identifier the table's key, or drop the constraint; ${stopped}`;
    case 'duplicateKeys':
      return `${sync}: the target table ${target ?? table} holds more than one row for an identifier the sync updates, so the write cannot tell which row takes the model's values: keep one row per identifier (a unique key on the identifier keeps it so); ${stopped} ${said}`;
    case 'lockBusy':
      return undefined;
  }
}
