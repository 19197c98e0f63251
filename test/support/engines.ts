// One way for tests to run SQL on every Postgres we support: embedded PGlite (always there)
// and a real PostgreSQL 15 server (SYNCWRIGHT_TEST_PG_URL, see scripts/pg-test-server.sh).
import { randomBytes } from 'node:crypto';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { inCi, warnOnce } from './env.js';

export type EngineName = 'pglite' | 'postgres15';
export const engineNames: readonly EngineName[] = ['pglite', 'postgres15'];

export const PG_URL_VAR = 'SYNCWRIGHT_TEST_PG_URL';

export interface Engine {
  readonly name: EngineName;
  /** `SHOW server_version_num`, e.g. 150018 or 180006. */
  readonly serverVersionNum: number;
  /**
   * Runs a multi-statement script the way a script runner does: one simple-protocol
   * round trip. On error it rolls back what the script left open and rethrows the
   * driver's error (`.code` is the SQLSTATE), so the engine stays usable.
   */
  exec(sql: string): Promise<void>;
  /** One statement, extended protocol (so `$1` parameters work and scripts are refused). */
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export function majorVersion(engine: Pick<Engine, 'serverVersionNum'>): number {
  return Math.floor(engine.serverVersionNum / 10_000);
}

async function rollbackAfter(run: () => Promise<unknown>, rollback: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (err) {
    // A runner that stops on error drops its connection, which rolls back; do the same.
    await rollback().catch(() => undefined);
    throw err;
  }
}

async function versionOf(query: Engine['query']): Promise<number> {
  const rows = await query<{ server_version_num: string }>('SHOW server_version_num');
  return Number(rows[0]?.server_version_num);
}

/** A fresh in-memory PGlite instance. */
export async function openPglite(): Promise<Engine> {
  const db = await PGlite.create();
  const query: Engine['query'] = async <T>(sql: string, params?: unknown[]) =>
    (await db.query<T>(sql, params)).rows;
  const serverVersionNum = await versionOf(query);
  return {
    name: 'pglite',
    serverVersionNum,
    exec: (sql) => rollbackAfter(() => db.exec(sql), () => db.exec('ROLLBACK')),
    query,
    close: () => db.close(),
  };
}

// Decode values as PGlite does, so one assertion holds on both engines (pg alone would
// return int8 as a string and date as a local-midnight Date); pg's own parser otherwise.
const pgliteParsers = pgliteTypes.parsers as Record<number, unknown>;
const sameTypesAsPglite = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid in pgliteParsers && format !== 'binary'
      ? (text: string) => pgliteTypes.parseType(text, oid)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * A fresh database on the server at `url`, dropped on close, so test files running in
 * parallel never see each other's tables.
 */
export async function openPostgres(url: string): Promise<Engine> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  const database = `syncwright_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  let client: pg.Client | undefined;
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    client = new pg.Client({ connectionString: withDatabase(url, database), types: sameTypesAsPglite });
    await client.connect();
  } catch (err) {
    await client?.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    throw err;
  }
  const c = client;
  const query: Engine['query'] = async <T>(sql: string, params?: unknown[]) => {
    // queryMode: without it pg sends a parameterless query over the simple protocol,
    // which would accept scripts here and not on PGlite.
    const config = { text: sql, values: params ?? [], queryMode: 'extended' } as pg.QueryConfig;
    return (await c.query(config)).rows as T[];
  };
  const serverVersionNum = await versionOf(query);
  return {
    name: 'postgres15',
    serverVersionNum,
    // No values: pg uses the simple query protocol, which runs a whole script.
    exec: (sql) => rollbackAfter(() => c.query(sql), () => c.query('ROLLBACK')),
    query,
    close: async () => {
      await c.end();
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Opens a fresh engine; throws, saying how to start one, when the server URL is unset. */
export async function openEngine(name: EngineName): Promise<Engine> {
  if (name === 'pglite') return openPglite();
  const url = process.env[PG_URL_VAR];
  if (!url) throw new Error(missingServerMessage());
  return openPostgres(url);
}

function missingServerMessage(): string {
  return (
    `${PG_URL_VAR} is not set, so the PostgreSQL 15 suites cannot run. Start the test server with ` +
    `\`scripts/pg-test-server.sh start\` and run \`export ${PG_URL_VAR}=$(scripts/pg-test-server.sh url)\`.`
  );
}

/** Engines this process can use; logs loudly (once) about the server when it is skipped. */
function engineAvailable(name: EngineName): boolean {
  if (name === 'pglite' || process.env[PG_URL_VAR]) return true;
  if (!inCi()) warnOnce(`SKIPPING postgres15 suites: ${missingServerMessage()}`);
  return false;
}

/**
 * Declares the suite once per engine, e.g. `describe('merge [pglite]')`. `engine` stands
 * for that suite's own instance (fresh, opened in beforeAll, closed in afterAll); use it
 * inside hooks and tests, not while the suite is being declared.
 */
export function describeEngines(title: string, fn: (engine: Engine) => void): void {
  for (const name of engineNames) {
    const label = `${title} [${name}]`;
    if (!engineAvailable(name)) {
      if (inCi()) {
        describe(label, () => {
          it('has a server to run on', () => {
            throw new Error(`CI must run the server suites: ${missingServerMessage()}`);
          });
        });
      } else {
        describe.skip(label, () => fn(unopened(name)));
      }
      continue;
    }
    describe(label, () => {
      let current: Engine | undefined;
      beforeAll(async () => {
        current = await openEngine(name);
      });
      afterAll(async () => {
        await current?.close();
        current = undefined;
      });
      fn(delegate(name, () => current));
    });
  }
}

function delegate(name: EngineName, get: () => Engine | undefined): Engine {
  const open = (): Engine => {
    const e = get();
    if (!e) throw new Error(`engine ${name} is not open: use it inside tests or hooks`);
    return e;
  };
  return {
    name,
    get serverVersionNum() {
      return open().serverVersionNum;
    },
    exec: (sql) => open().exec(sql),
    query: <T>(sql: string, params?: unknown[]) => open().query<T>(sql, params),
    close: () => Promise.reject(new Error('describeEngines closes its engines itself')),
  };
}

function unopened(name: EngineName): Engine {
  return delegate(name, () => undefined);
}
