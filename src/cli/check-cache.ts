/**
 * What `syncwright check` keeps for the next check of the same paths: the project's outline
 * (src/check/project.ts), from which the next check resumes as a recompile does from its
 * output's record, parsing and checking only what the files changed since reach. Kept under the
 * working folder in `.syncwright/check/`, one file per set of paths and options, which git
 * skips. Never needed: one that cannot be read, or was made by another compiler, means a whole
 * check; one that cannot be written, none kept.
 */
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hash, randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Outline } from '../check/project.js';
import { readRegularFile } from '../output/kept-output.js';
import { compilerStamp } from '../output/kept-syncs.js';
import { isFolder } from '../output/file-system-thread.js';

export interface CheckCache {
  /** The outline the last check of these paths and options left, by this compiler; undefined when there is none. */
  outline: Outline | undefined;
  /** Keeps `outline` for the next check (nothing when it is the one read). */
  save(outline: Outline): void;
}

/** The folder of the caches, under the working folder. */
export const cacheFolder = (cwd: string): string => join(cwd, '.syncwright', 'check');

/** The caches kept at most, the most recently written: a hook that checks the files a commit changes makes one per list of files. */
export const cachesKept = 16;

/** Makes `path` a folder unless it is one; false when it is something else (a link, a file) or cannot be made: the cache is read and written only in `.syncwright/check/` itself. */
function realFolder(path: string): boolean {
  try {
    mkdirSync(path);
  } catch {
    // There already (checked below), or not to be made.
  }
  return isFolder({ lstatSync }, path);
}

/** Makes git skip `folder` (a `.gitignore` of its own that ignores everything, itself too), unless it has a `.gitignore` already. */
function gitSkips(folder: string): void {
  try {
    writeFileSync(join(folder, '.gitignore'), '*\n', { flag: 'wx' });
  } catch {
    // There already, or not to be made: the cache is kept all the same.
  }
}

/** Removes all but the `cachesKept` caches of `folder` written last. */
function prune(folder: string): void {
  const caches = readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ path: join(folder, f), at: statSync(join(folder, f), { throwIfNoEntry: false })?.mtimeMs ?? 0 }))
    .sort((a, b) => b.at - a.at);
  for (const { path } of caches.slice(cachesKept)) rmSync(path, { force: true });
}

/**
 * The cache of a check of `paths` (as given: none is the working folder) from `cwd`, with the
 * dbt target `target` (the one option that changes the diagnostics). `check` and `run` share it.
 */
export function checkCache(cwd: string, paths: readonly string[], target: string | undefined): CheckCache {
  const folder = cacheFolder(cwd);
  const top = join(cwd, '.syncwright');
  // The paths in any order are one project (src/files.ts sorts what it finds).
  const roots = (paths.length === 0 ? ['.'] : paths).map((p) => resolve(cwd, p)).sort();
  const file = join(folder, `${hash('sha256', JSON.stringify([roots, target ?? null])).slice(0, 24)}.json`);
  const compiler = compilerStamp();
  const text = isFolder({ lstatSync }, top) && isFolder({ lstatSync }, folder) ? readRegularFile(file) : undefined;
  let outline: Outline | undefined;
  try {
    const kept = text === undefined ? undefined : (JSON.parse(text) as { compiler?: unknown; outline?: Outline });
    // Its shape is checked where the check resumes from it (Project.resume).
    if (kept?.compiler === compiler) outline = kept.outline;
  } catch {
    // Not JSON: a whole check, and the cache is written anew.
  }
  return {
    outline,
    save(now) {
      const next = JSON.stringify({ compiler, outline: now });
      if (next === text) return;
      // A name no other check writes, in this process's other threads either.
      const temp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        if (!realFolder(top) || !realFolder(folder)) return;
        gitSkips(folder);
        // Whole or not at all: a check that reads it meanwhile finds the last one.
        writeFileSync(temp, next, { flag: 'wx' });
        renameSync(temp, file);
        prune(folder);
      } catch {
        try {
          rmSync(temp, { force: true });
        } catch {
          // Not there to remove: the check's result stands all the same.
        }
      }
    },
  };
}
