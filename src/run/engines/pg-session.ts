/** A PostgreSQL server through `pg`: one connection for the whole run, so temp tables and cursors stay visible. */
import pg from 'pg';
import { sessionOf, type SqlRow, type SqlSession } from './sql-session.js';

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
  return sessionOf({
    engine: 'postgres',
    location: redactUrl(url),
    // Always the extended protocol for one statement, so a script is never run here by accident.
    query: async (sql, params) => (await client.query({ text: sql, values: (params ?? []) as unknown[], queryMode: 'extended' } as pg.QueryConfig)).rows,
    // No values: the simple protocol, which runs every statement of the file.
    exec: async (sql) => {
      const res = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(res) ? res : [res]).map((r) => r.rows as SqlRow[]);
    },
    close: () => client.end(),
  });
}
