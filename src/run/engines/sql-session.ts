import { fillSlots, type SessionSql } from '../../contract/plan.js';
import { markSqlError, type SqlPlace } from './sql-errors.js';

/**
 * The executor's view of a database: run a SQL file as a script, run one statement with
 * parameters, and read a query page by page through a server-side cursor, so that a change
 * set of any size never sits in memory. It holds no SQL: what it runs besides the plan's files
 * (the rollback after a failed script, the cursor's statements) comes from the plan's
 * `session` (`SessionSql`). One factory per engine (engines/*-session.ts): embedded PGlite,
 * a Postgres server through `pg`. A warehouse reached over HTTP (a SQL API that runs a
 * multi-statement script and pages its result) fits the same three operations.
 */

/** The statements a cursor read takes. */
export type CursorSql = Pick<SessionSql, 'cursorOpen' | 'cursorFetch' | 'cursorClose'>;

export type SqlRow = Record<string, unknown>;

/** How a read gives its values: `text`, each as its exact text (exact-text.ts), for a load into another warehouse; else as the engine's client parses them. */
export interface ReadOptions {
  text?: boolean;
}

export interface SqlSession {
  /** `pglite` or `postgres`, for messages. */
  readonly engine: string;
  /** Where the database is, for messages (a folder or a URL without its password). */
  readonly location: string;
  /**
   * Each request is a session of its own (Snowflake's SQL API): nothing a statement leaves in
   * its session (a temporary table, an open transaction) outlives it.
   */
  readonly sessionPerRequest: boolean;
  /**
   * Runs a whole SQL file in one round trip (simple protocol), as psql -1 would not: the file
   * manages its own transactions. The rows of each statement, in order. On error, whatever
   * transaction the script left open is ended by `rollback` (the plan's) and the error rethrown.
   */
  script(sql: string, rollback?: string): Promise<SqlRow[][]>;
  /** One statement with `$n` parameters. */
  query<T extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * One statement outside the session, where the engine has such a path (BigQuery: a job of no
   * session): it waits behind none of the session's statements and sees none of its temporary
   * state. Elsewhere the same as `query`. The lock row is renewed so while a long script runs.
   */
  aside<T extends SqlRow = SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /**
   * Pages of at most `pageSize` rows of one query (its text without a trailing semicolon),
   * through a cursor that survives commits (the plan's `cursor` statements), so that other
   * statements of this session (recording accepted rows) can commit between pages. Breaking
   * out of the loop closes the cursor.
   */
  pages<T extends SqlRow = SqlRow>(query: string, pageSize: number, cursor: CursorSql, options?: ReadOptions): AsyncGenerator<T[]>;
  /** Names the sync the next statements run for, where the engine records it (BigQuery job labels). */
  forSync(name: string): void;
  close(): Promise<void>;
}

/**
 * A SQL file of one statement (a compiled read.sql or extract.sql) as that statement: without
 * the semicolons that end the file. Only the end is looked at: a scan of the whole text, in a
 * dialect of its own, cut a model's `E'it\\'s;'` at the `;` inside, and the sync failed on
 * every run; the compiler writes each such file as one statement and its `;`.
 */
export function asSubquery(sql: string): string {
  return sql.replace(/[\s;]+$/, '');
}

/** What an engine gives a session: one statement with parameters, one script, the end. */
export interface EngineRunners {
  engine: string;
  location: string;
  query(sql: string, params: readonly unknown[] | undefined): Promise<SqlRow[]>;
  /**
   * The rows of one statement without parameters, read the engine's quickest way (a cursor's
   * FETCH of every page, on the embedded database); absent: `query`. The same rows as `query`.
   */
  rows?(sql: string): Promise<SqlRow[]>;
  /** The rows of one statement without parameters, each value as its exact text (`ReadOptions.text`); absent where the engine pages itself. */
  textRows?(sql: string): Promise<SqlRow[]>;
  /** See `SqlSession.aside`; absent: the session's own `query`. */
  aside?(sql: string, params: readonly unknown[] | undefined): Promise<SqlRow[]>;
  /** The rows of each statement of the script, in order. */
  exec(sql: string): Promise<SqlRow[][]>;
  /**
   * Pages of at most `pageSize` rows of one query, where the engine pages results itself
   * (BigQuery: a finished job's results); absent: the session pages through the plan's cursor
   * statements. Each page is fetched through `serial`, so other statements run between pages.
   */
  pages?(query: string, pageSize: number, serial: <T>(fn: () => Promise<T>) => Promise<T>, options: ReadOptions): AsyncGenerator<SqlRow[]>;
  /** Names the sync the next statements run for, where the engine records it (BigQuery job labels). */
  forSync?(name: string): void;
  /** See `SqlSession.sessionPerRequest`. */
  sessionPerRequest?: boolean;
  close(): Promise<void>;
}

/**
 * A session over an engine's runners: on a connection, one statement at a time, in the order
 * asked (a fetch, then a ledger write); an error marked with where it ran; a script that fails
 * has whatever transaction it left open rolled back before anything else runs; reads through
 * cursors, or the engine's own pages.
 */
export function sessionOf(runners: EngineRunners): SqlSession {
  const place = { engine: runners.engine, location: runners.location };
  const sessionPerRequest = runners.sessionPerRequest === true;
  let tail: Promise<unknown> = Promise.resolve();
  // One connection runs one statement at a time. Requests that are sessions of their own need
  // no queue, and must not wait in one: the lock row is renewed while a long script runs.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    if (sessionPerRequest) return fn();
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
  // An engine's error, marked with where it ran.
  const mark = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (e) {
      throw markSqlError(e, place);
    }
  };
  const query = <T extends SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]> =>
    serial(() => mark(() => runners.query(sql, params))) as Promise<T[]>;
  const rows = <T extends SqlRow>(sql: string): Promise<T[]> =>
    serial(() => mark(() => (runners.rows ? runners.rows(sql) : runners.query(sql, undefined)))) as Promise<T[]>;
  const textRows = <T extends SqlRow>(sql: string): Promise<T[]> =>
    serial(() =>
      mark(() => {
        if (!runners.textRows) throw new Error(`${runners.engine} cannot read a query's values as text`);
        return runners.textRows(sql);
      }),
    ) as Promise<T[]>;
  // Outside the session's queue: it waits behind none of its statements.
  const aside = <T extends SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]> =>
    runners.aside ? (mark(() => runners.aside!(sql, params)) as Promise<T[]>) : query<T>(sql, params);
  const script = (sql: string, rollback?: string): Promise<SqlRow[][]> =>
    serial(async () => {
      try {
        return await runners.exec(sql);
      } catch (e) {
        // A request that is its own session took its transaction with it.
        if (rollback !== undefined && !sessionPerRequest) await runners.exec(rollback).catch(() => undefined);
        throw markSqlError(e, place);
      }
    });
  return {
    ...place,
    sessionPerRequest,
    script,
    query,
    aside,
    pages: <T extends SqlRow>(sql: string, pageSize: number, cursor: CursorSql, options: ReadOptions = {}) =>
      runners.pages
        ? markedPages<T>(runners.pages(asSubquery(sql), pageSize, serial, options), place)
        : cursorPages<T>(options.text ? textRows : rows, script, asSubquery(sql), pageSize, cursor),
    forSync: (name) => runners.forSync?.(name),
    close: () => runners.close(),
  };
}

/** An engine's own pages, their errors marked with where they ran. */
async function* markedPages<T extends SqlRow>(pages: AsyncGenerator<SqlRow[]>, place: SqlPlace): AsyncGenerator<T[]> {
  try {
    yield* pages as AsyncGenerator<T[]>;
  } catch (e) {
    throw markSqlError(e, place);
  }
}

/** A bound value's JSON text (an array parameter's element where the engine takes JSON), a bigint as its decimal text. */
export const jsonText = (v: unknown): string => JSON.stringify(v ?? null, (_, x: unknown) => (typeof x === 'bigint' ? String(x) : x));

let cursorCount = 0;

/** The cursor protocol: open, fetch page by page, close; `run` is the session's single-statement runner. */
export async function* cursorPages<T extends SqlRow>(
  run: (sql: string) => Promise<T[]>,
  script: (sql: string) => Promise<unknown>,
  query: string,
  pageSize: number,
  sql: CursorSql,
): AsyncGenerator<T[]> {
  const { cursorOpen, cursorFetch, cursorClose } = sql;
  if (cursorOpen === undefined || cursorFetch === undefined || cursorClose === undefined)
    throw new Error('the plan has no cursor statements for this engine: compile it again with this version of syncwright');
  const cursor = `syncwright_cursor_${++cursorCount}`;
  const rows = Math.max(1, Math.floor(pageSize));
  await script(fillSlots(cursorOpen, { cursor, query }));
  try {
    for (;;) {
      const page = await run(fillSlots(cursorFetch, { cursor, rows }));
      if (page.length) yield page;
      if (page.length < pageSize) return;
    }
  } finally {
    await run(fillSlots(cursorClose, { cursor })).catch(() => undefined);
  }
}
