/** A PostgreSQL server through `pg`: one connection for the whole run, so temp tables and cursors stay visible. */
import type pg from 'pg';
import { sessionOf, type SqlRow, type SqlSession } from './sql-session.js';
import type { ServerConfig } from './pg-settings.js';
import { pgText } from './exact-text.js';

/** Every column as the server's text (exact-text.ts), whatever parsers the client has. */
const asText: pg.CustomTypesConfig = { getTypeParser: ((oid: number) => (text: string) => pgText(oid, text)) as pg.CustomTypesConfig['getTypeParser'] };

/**
 * TCP keepalives on the run's end of the connection, first probe after 10 s of silence: a server
 * whose machine vanished without closing it fails the statement the run waits on, where the run
 * would otherwise wait for ever (the OS's own keepalives are off unless asked for). A live
 * server's machine answers the probes, however long a statement runs. The server's end is the
 * session's `open` statement (dialects/postgres.json).
 */
const keepAlive = { keepAlive: true, keepAliveInitialDelayMillis: 10_000 } as const;

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

/** A session on the server at `url`, or at a configuration resolved from the endpoint's settings (pg-settings.ts). */
export async function openPgSession(server: string | ServerConfig): Promise<SqlSession> {
  // Loaded by the first session on a server: a run on the embedded database never loads the client.
  const {
    default: { Client },
  } = await import('pg');
  const client = new Client({
    ...(typeof server === 'string' ? { connectionString: server, application_name: 'syncwright' } : server.config),
    ...keepAlive,
  });
  await client.connect();
  // A script error must not leave the connection unusable: a dropped connection would otherwise crash the run.
  client.on('error', () => undefined);
  return sessionOf({
    engine: 'postgres',
    location: typeof server === 'string' ? redactUrl(server) : server.location,
    // Always the extended protocol for one statement, so a script is never run here by accident.
    query: async (sql, params) => (await client.query({ text: sql, values: (params ?? []) as unknown[], queryMode: 'extended' } as pg.QueryConfig)).rows,
    textRows: async (sql) => (await client.query({ text: sql, types: asText, queryMode: 'extended' } as pg.QueryConfig)).rows,
    // No values: the simple protocol, which runs every statement of the file.
    exec: async (sql) => {
      const res = (await client.query(sql)) as unknown as pg.QueryResult | pg.QueryResult[];
      return (Array.isArray(res) ? res : [res]).map((r) => r.rows as SqlRow[]);
    },
    close: () => client.end(),
  });
}
