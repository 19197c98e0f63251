/**
 * The embedded database: PGlite kept in a folder (`.syncwright/db` by default), so that a
 * first run needs no server. One process at a time may open a folder: a lock file beside it
 * says who holds it, and a lock left by a process that no longer exists is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { cursorPages, type SqlRow, type SqlSession } from './sql-session.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the folder's lock or throws naming the process that holds it; returns the release. */
function lockFolder(dir: string): () => void {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  for (let tries = 0; tries < 2; tries++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(lock, 'utf8'));
      if (holder && holder !== process.pid && alive(holder)) {
        throw new Error(`the embedded database ${dir} is in use by process ${holder}; wait for it or pass --database`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw new Error(`cannot lock the embedded database ${dir}`);
}

export async function openPgliteSession(dir: string | undefined): Promise<SqlSession> {
  const folder = dir === undefined ? undefined : resolve(dir);
  const release = folder ? lockFolder(folder) : () => undefined;
  let db: PGlite;
  try {
    if (folder) mkdirSync(folder, { recursive: true });
    // 16 MB of shared buffers instead of 128 MB: the embedded database lives in the executor's
    // own memory, and a sync's scans gain nothing from a larger cache. The file is ours to write.
    const options = { postgresqlconf: 'shared_buffers = 16MB\n' };
    db = folder ? await PGlite.create(folder, options) : await PGlite.create(options);
  } catch (e) {
    release();
    throw e;
  }
  const query = async <T extends SqlRow>(sql: string, params?: readonly unknown[]): Promise<T[]> =>
    (await db.query<T>(sql, params as unknown[] | undefined)).rows;
  const script = async (sql: string): Promise<SqlRow[][]> => {
    try {
      return (await db.exec(sql)).map((r) => r.rows as SqlRow[]);
    } catch (e) {
      await db.exec('ROLLBACK').catch(() => undefined);
      throw e;
    }
  };
  return {
    engine: 'pglite',
    location: folder ?? 'memory',
    script,
    query,
    pages: <T extends SqlRow>(sql: string, pageSize: number) => cursorPages<T>((s) => query<T>(s), script, sql, pageSize),
    close: async () => {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}

/** The default folder of the embedded database, under the project folder. */
export function defaultDbFolder(cwd: string): string {
  return join(cwd, '.syncwright', 'db');
}
