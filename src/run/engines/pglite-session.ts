/**
 * The embedded database: PGlite kept in a folder (`.syncwright/db` by default), so that a
 * first run needs no server. One process at a time may open a folder (src/run/locks/folder-lock.ts).
 */
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite, protocol, types } from '@electric-sql/pglite';
import { smallHeap } from '../../heap.js';
import { lockFolder } from '../locks/folder-lock.js';
import type { Wait } from '../locks/sync-lock.js';
import { sessionOf, type SqlRow, type SqlSession } from './sql-session.js';
import { pgText } from './exact-text.js';

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

/**
 * The rows of one statement without parameters, sent by the simple protocol and read straight
 * from the raw reply. PGlite's own reader copies every field into an ArrayBuffer of its own
 * before decoding it (execProtocolRaw runs it too): on a 1,000-row FETCH of change rows that was
 * a third of a send's time (bench/deliver.bench.js). The rows are the same as `query` gives:
 * fields by name, each value through PGlite's parser for its type; text decoded as a
 * PostgreSQL server's client decodes it, a leading byte-order mark kept (PGlite's own reader
 * drops it: a key `\uFEFFA1` came back as `A1`, was committed so, and the next change set saw
 * it added and `A1` removed); an error reply is read by PGlite's own parser into its
 * DatabaseError, as `query` throws it. One statement: the session sends only the plan's FETCH
 * and CLOSE this way (several statements' rows would come back as one list). The reply is
 * copied into one buffer kept for the next (not one per reply, which the collector would have
 * to free), and read before the next statement may run. `text`: each value as its exact text
 * (exact-text.ts) instead, for a load into another warehouse.
 */
export function rawRows(db: PGlite, text = false): (sql: string) => Promise<SqlRow[]> {
  let reply = Buffer.alloc(0);
  return (sql) =>
    db._runExclusiveQuery(async () => {
      let size = 0;
      await db.execProtocolRawStream(protocol.serialize.query(sql), {
        onRawData: (data) => {
          if (size + data.length > reply.length) {
            const grown = Buffer.allocUnsafe(Math.max(2 * reply.length, size + data.length, 1 << 16));
            reply.copy(grown, 0, 0, size);
            reply = grown;
          }
          reply.set(data, size);
          size += data.length;
        },
      });
      return readRows(db, reply.subarray(0, size), sql, text);
    });
}

/** The rows of a raw reply (RowDescription, DataRows; the rest skipped), or its error thrown. */
function readRows(db: PGlite, bytes: Buffer, sql: string, asText: boolean): SqlRow[] {
  const rows: SqlRow[] = [];
  let names: string[] = [];
  let parsers: ((text: string) => unknown)[] = [];
  // A column named `__proto__` is a member like any other (as PGlite's Object.fromEntries makes it).
  let set = (row: SqlRow, name: string, value: unknown) => {
    row[name] = value;
  };
  for (let at = 0; at + 5 <= bytes.length; at += 1 + bytes.readInt32BE(at + 1)) {
    const kind = String.fromCharCode(bytes[at] as number);
    let p = at + 5;
    if (kind === 'E') throw replyError(bytes.subarray(at), sql);
    if (kind === 'T') {
      const count = bytes.readInt16BE(p);
      p += 2;
      names = [];
      parsers = [];
      for (let i = 0; i < count; i++) {
        const end = bytes.indexOf(0, p);
        names.push(bytes.toString('utf8', p, end));
        const oid = bytes.readInt32BE(end + 7);
        const parse = db.parsers[oid] ?? types.parsers[oid];
        parsers.push(asText ? (text) => pgText(oid, text) : parse ? (text) => parse(text, oid) : (text) => text);
        p = end + 19;
      }
      if (names.includes('__proto__'))
        set = (row, name, value) => Object.defineProperty(row, name, { value, writable: true, enumerable: true, configurable: true });
    } else if (kind === 'D') {
      const count = bytes.readInt16BE(p);
      p += 2;
      const row: SqlRow = {};
      for (let i = 0; i < count; i++) {
        const length = bytes.readInt32BE(p);
        p += 4;
        if (length < 0) {
          set(row, names[i] as string, null);
          continue;
        }
        const text = bytes.toString('utf8', p, p + length);
        set(row, names[i] as string, (parsers[i] as (text: string) => unknown)(text));
        p += length;
      }
      rows.push(row);
    }
  }
  return rows;
}

/** The error of a reply, as PGlite's `query` throws it. */
function replyError(reply: Uint8Array, sql: string): Error {
  let error: Error | undefined;
  new protocol.Parser().parse(reply, (message) => {
    if (message instanceof protocol.messages.DatabaseError) error ??= message;
  });
  return Object.assign(error ?? new Error('the embedded database sent an error it did not describe'), {
    query: sql,
    params: undefined,
    queryOptions: undefined,
  });
}

/** Opens the database in `dir` (in memory when undefined), waiting as `wait` says for another process to let it go. */
export async function openPgliteSession(dir: string | undefined, wait: Wait = { waitMs: 0, notice: () => undefined }): Promise<SqlSession> {
  const folder = dir === undefined ? undefined : resolve(dir);
  const release = folder ? await lockFolder(folder, wait) : () => undefined;
  let db: PGlite;
  let letGo: (() => void) | undefined;
  try {
    if (folder) {
      mkdirSync(folder, { recursive: true, mode: 0o700 });
      ownerOnly(folder);
    }
    // 16 MB of shared buffers instead of 128 MB: the embedded database lives in the executor's
    // own memory, and a sync's scans gain nothing from a larger cache. The file is ours to write.
    // For the same reason the JavaScript heap is held small while the database is open, as it
    // would be in a process of its own (smallHeap). Without this a send of 1,000,000 rows peaked
    // near 400 MB (bench/deliver.bench.js); `--optimize-for-size` kept it small as well, at a
    // larger cost in time.
    letGo = smallHeap();
    const options = { postgresqlconf: 'shared_buffers = 16MB\n' };
    db = folder ? await PGlite.create(folder, options) : await PGlite.create(options);
  } catch (e) {
    letGo?.();
    release();
    throw e;
  }
  return sessionOf({
    engine: 'pglite',
    location: folder ?? 'memory',
    query: async (sql, params) => (await db.query<SqlRow>(sql, params as unknown[] | undefined)).rows,
    rows: rawRows(db),
    textRows: rawRows(db, true),
    exec: async (sql) => (await db.exec(sql)).map((r) => r.rows as SqlRow[]),
    close: async () => {
      try {
        await db.close();
        if (folder) ownerOnly(folder);
      } finally {
        letGo?.();
        release();
      }
    },
  });
}

/** The default folder of the embedded database, under the project folder. */
export function defaultDbFolder(cwd: string): string {
  return join(cwd, '.syncwright', 'db');
}
