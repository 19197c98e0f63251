// A fresh embedded database costs PGlite an initdb (2.5-4 s on a 2-core machine), more than most
// tests that use one. The run makes one (global-setup.ts, by the product's own open) and each
// test gets a copy of its folder: a copy and a reopen, about 0.3 s. A test of the first open
// itself (run-cli's umask test: the folder, its modes) gives the command an empty folder.
import { PGlite } from '@electric-sql/pglite';
import { constants, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

/**
 * A copy of the template in a folder of its own: `folder` to open, `remove` when done. The
 * folders are made beside the template, so the run's teardown removes what a test left.
 */
export function pgliteScratch(): { folder: string; remove: () => void } {
  const dir = mkdtempSync(join(dirname(inject('pgliteTemplate')), 'db-'));
  return { folder: pgliteCopy(join(dir, 'db')), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A fresh PGlite, as `PGlite.create()` gives, from a copy of the template (removed with the run's). */
export async function freshPglite(): Promise<PGlite> {
  return PGlite.create(pgliteScratch().folder);
}
