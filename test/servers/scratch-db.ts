/**
 * Scratch databases for executor tests: a fresh PGlite folder, or a fresh database on the
 * PostgreSQL test server (SYNCWRIGHT_TEST_PG_URL) dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { pgliteScratch } from '../support/pglite-template.js';

export const pgUrl = process.env.SYNCWRIGHT_TEST_PG_URL;

export interface ScratchDb {
  /** `--database` value, or undefined for the embedded database. */
  url?: string;
  /** The embedded database's folder (`--db`), when embedded. */
  folder?: string;
  drop(): Promise<void>;
}

export function scratchFolder(prefix = 'syncwright-run-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function scratchPostgres(url: string): Promise<ScratchDb> {
  const name = `syncwright_run_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: async () => {
      const a = new pg.Client({ connectionString: url });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

export function scratchPglite(): ScratchDb {
  const { folder, remove } = pgliteScratch();
  return { folder, drop: async () => remove() };
}

/** The engines executor tests run on: PGlite always, the server when its URL is set. */
export const scratchEngines: { name: string; open: () => Promise<ScratchDb> }[] = [
  { name: 'pglite', open: async () => scratchPglite() },
  ...(pgUrl ? [{ name: 'postgres15', open: () => scratchPostgres(pgUrl) }] : []),
];
