// One way for tests to run SQL on every Postgres we support: embedded PGlite (always there)
// and a real PostgreSQL 15 server (SYNCWRIGHT_TEST_PG_URL, see scripts/pg-test-server.sh).
import { randomBytes } from 'node:crypto';
import { types as pgliteTypes } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { inCi, warnOnce } from './env.js';
import { pgliteScratch } from './pglite-template.js';
import { getDialect } from '../../src/dialect/index.js';
import { openPgliteSession } from '../../src/run/engines/pglite-session.js';
import { openPgSession } from '../../src/run/engines/pg-session.js';
import type { SqlSession } from '../../src/run/engines/sql-session.js';

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

async function versionOf(query: Engine['query']): Promise<number> {
  const rows = await query<{ server_version_num: string }>('SHOW server_version_num');
  return Number(rows[0]?.server_version_num);
}

/**
 * The executor's own session (src/run/engines) as a test engine: one factory per engine for
 * the product and the tests. `exec` runs a script as the executor does, ending what it left
 * open with the dialect's rollback on error and rethrowing the driver's error (`.code` is the
 * SQLSTATE), so the engine stays usable.
 */
async function engineOf(name: EngineName, session: SqlSession, close: () => Promise<void>): Promise<Engine> {
  const rollback = getDialect('postgres').session!.rollback;
  const query: Engine['query'] = async <T>(sql: string, params?: unknown[]) => (await session.query(sql, params)) as T[];
  return {
    name,
    serverVersionNum: await versionOf(query),
    exec: async (sql) => {
      await session.script(sql, rollback);
    },
    query,
    close,
  };
}

/** A fresh PGlite instance, in a copy of the template folder (pglite-template.ts) removed on close. */
export async function openPglite(): Promise<Engine> {
  const scratch = pgliteScratch();
  const session = await openPgliteSession(scratch.folder);
  return engineOf('pglite', session, async () => {
    await session.close();
    scratch.remove();
  });
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
  let session: SqlSession | undefined;
  try {
    await admin.query(`CREATE DATABASE ${database}`);
    session = await openPgSession({ config: { connectionString: withDatabase(url, database), types: sameTypesAsPglite }, location: database });
  } catch (err) {
    await session?.close().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    throw err;
  }
  const opened = session;
  return engineOf('postgres15', opened, async () => {
    await opened.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  });
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
