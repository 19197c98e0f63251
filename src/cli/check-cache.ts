/**
 * What `syncwright check` keeps for the next check of the same paths: the project's outline
 * (src/check/project.ts), from which the next check resumes as a recompile does from its
 * output's record, parsing and checking only what the files changed since reach. Kept under the
 * working folder in `.syncwright/check/`, one file per set of paths and options, which git
 * skips. Never needed: one that cannot be read, or was made by another compiler or for other
 * options, means a whole check; one that cannot be written, none kept.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { hash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Outline } from '../check/project.js';
import { readRegularFile } from '../output/kept-output.js';
import { compilerStamp } from '../output/kept-syncs.js';

export interface CheckCache {
  /** The outline the last check of these paths and options left, by this compiler; undefined when there is none. */
  outline: Outline | undefined;
  /** Keeps `outline` for the next check (nothing when it is the one read). */
  save(outline: Outline): void;
}

/** Makes git skip `folder` (a `.gitignore` of its own that ignores everything, itself too), unless it has a `.gitignore` already. */
function gitSkips(folder: string): void {
  try {
    writeFileSync(join(folder, '.gitignore'), '*\n', { flag: 'wx' });
  } catch {
    // There already, or not to be made: the cache is kept all the same.
  }
}

/** The folder of the caches, under the working folder. */
export const cacheFolder = (cwd: string): string => join(cwd, '.syncwright', 'check');

/**
 * The cache of a check of `paths` (as given: none is the working folder) from `cwd`, with
 * `options` (what else changes the diagnostics: the dbt target).
 */
export function checkCache(cwd: string, paths: readonly string[], options: string): CheckCache {
  const folder = cacheFolder(cwd);
  const key = hash('sha256', JSON.stringify([(paths.length === 0 ? ['.'] : paths).map((p) => resolve(cwd, p)), options])).slice(0, 24);
  const file = join(folder, `${key}.json`);
  const compiler = compilerStamp();
  const text = readRegularFile(file);
  let outline: Outline | undefined;
  try {
    const kept = text === undefined ? undefined : (JSON.parse(text) as { compiler?: unknown; options?: unknown; outline?: Outline });
    // Its shape is checked where the check resumes from it (Project.resume).
    if (kept?.compiler === compiler && kept.options === options) outline = kept.outline;
  } catch {
    // Not JSON: a whole check, and the cache is written anew.
  }
  return {
    outline,
    save(now) {
      const next = JSON.stringify({ compiler, options, outline: now });
      if (next === text) return;
      // A name no other check writes, in this process's other threads either.
      const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        mkdirSync(folder, { recursive: true });
        // Written only into a folder, not through a link to one elsewhere.
        if (!lstatSync(folder).isDirectory()) return;
        gitSkips(folder);
        // Whole or not at all: a check that reads it meanwhile finds the last one.
        writeFileSync(temp, next, { flag: 'wx' });
        renameSync(temp, file);
      } catch {
        rmSync(temp, { force: true });
      }
    },
  };
}
