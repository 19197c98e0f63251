/** A PostgreSQL server through `pg`: one connection for the whole run, so temp tables and cursors stay visible. */
import pg from 'pg';
import { cursorPages, type SqlRow, type SqlSession } from './sql-session.js';
import { markSqlError } from './sql-errors.js';

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the database URL';
  }
}

export async function openPgSession(url: string): Promise<SqlSession> {
  const client = new pg.Client({ connectionString: url, application_name: 'syncwright' });
  await client.connect();
  // A script error must not leave the connection unusable: a dropped connection would otherwise crash the run.
  client.on('error', () => undefined);
  // One statement at a time on the one connection, in the order asked (a fetch, then a ledger write).
  let tail: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => undefined);
    return next;
  };
  const place = { engine: 'postgres', location: redactUrl(url) };
  const query = <T extends SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]> => serial(async () => {
    // Always the extended protocol for one statement, so a script is never run here by accident.
    const config = { text: sql, values: (params ?? []) as unknown[], queryMode: 'extended' } as pg.QueryConfig;
    try {
      return (await client.query(config)).rows as T[];
    } catch (e) {
      throw markSqlError(e, place);
    }
  });
  const script = (sql: string): Promise<SqlRow[][]> => serial(async () => {
    try {
      // No values: the simple protocol, which runs every statement of the file.
      const res = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(res) ? res : [res]).map((r) => r.rows as SqlRow[]);
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw markSqlError(e, place);
    }
  });
  return {
    ...place,
    script,
    query,
    pages: <T extends SqlRow>(sql: string, pageSize: number) => cursorPages<T>((s) => query<T>(s), script, sql, pageSize),
    close: () => client.end(),
  };
}
