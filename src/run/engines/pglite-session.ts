/**
 * The embedded database: PGlite kept in a folder (`.syncwright/db` by default), so that a
 * first run needs no server. One process at a time may open a folder (src/run/locks/folder-lock.ts).
 */
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { lockFolder } from '../locks/folder-lock.js';
import type { Wait } from '../locks/sync-lock.js';
import { sessionOf, type SqlRow, type SqlSession } from './sql-session.js';

/**
 * The database's files are its owner's alone, whatever the umask: folders 0700, files 0600.
 * Done when the folder is opened (an older folder, or files a killed run created) and closed
 * (files created by this run, under the process's umask); in between the folder's own 0700
 * keeps everyone else out.
 */
function ownerOnly(folder: string): void {
  chmodSync(folder, 0o700);
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isSymbolicLink()) chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o700 : 0o600);
  }
}

/** Opens the database in `dir` (in memory when undefined), waiting as `wait` says for another process to let it go. */
export async function openPgliteSession(dir: string | undefined, wait: Wait = { waitMs: 0, notice: () => undefined }): Promise<SqlSession> {
  const folder = dir === undefined ? undefined : resolve(dir);
  const release = folder ? await lockFolder(folder, wait) : () => undefined;
  let db: PGlite;
  try {
    if (folder) {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      ownerOnly(folder);
    }
    // 16 MB of shared buffers instead of 128 MB: the embedded database lives in the executor's
    // own memory, and a sync's scans gain nothing from a larger cache. The file is ours to write.
    // For the same reason the JavaScript heap is asked to stay small: V8 otherwise lets its old
    // space grow to about four times what is live between full collections, which is where a
    // send of 1,000,000 rows went over 300 MB (bench/deliver.bench.js). The flag is read at
    // each collection, so setting it now takes effect; it costs a little more collecting.
    setFlagsFromString('--optimize-for-size');
    const options = { postgresqlconf: 'shared_buffers = 16MB\n' };
    db = folder ? await PGlite.create(folder, options) : await PGlite.create(options);
  } catch (e) {
    release();
    throw e;
  }
  return sessionOf({
    engine: 'pglite',
    location: folder ?? 'memory',
    query: async (sql, params) => (await db.query<SqlRow>(sql, params as unknown[] | undefined)).rows,
    exec: async (sql) => (await db.exec(sql)).map((r) => r.rows as SqlRow[]),
    close: async () => {
      try {
        await db.close();
        if (folder) ownerOnly(folder);
      } finally {
        release();
      }
    },
  });
}

/** The default folder of the embedded database, under the project folder. */
export function defaultDbFolder(cwd: string): string {
  return join(cwd, '.syncwright', 'db');
}
