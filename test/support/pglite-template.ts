// A fresh embedded database costs PGlite an initdb (2.5-4 s on a 2-core machine), more than most
// tests that use one. The run makes one (global-setup.ts, by the product's own open) and each
// test gets a copy of its folder: a copy and a reopen, about 0.3 s. A test of the first open
// itself (run-cli's umask test: the folder, its modes) gives the command an empty folder.
import { PGlite } from '@electric-sql/pglite';
import { constants, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

/** Fills `dir` (absent, or an empty folder) with a copy of a freshly created embedded database; returns `dir`. */
export function pgliteCopy(dir: string): string {
  cpSync(inject('pgliteTemplate'), dir, { recursive: true, errorOnExist: true, force: false, mode: constants.COPYFILE_FICLONE });
  return dir;
}

const copies: string[] = [];
process.once('exit', () => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/** A fresh PGlite, as `PGlite.create()` gives, from a copy of the template (removed when the process ends). */
export async function freshPglite(): Promise<PGlite> {
  const dir = mkdtempSync(join(tmpdir(), 'syncwright-pglite-'));
  copies.push(dir);
  return PGlite.create(pgliteCopy(join(dir, 'db')));
}
