/**
 * The output a compile replaces, kept beside the new one (`.<name>.syncwright-previous`) for the
 * next compile to bring up to date in place, with the file it carries; and which folders a
 * compile may replace at all.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { isFolder } from './file-system-thread.js';
import { manifestSchemaId } from './manifest.js';

/**
 * Marks the folder that keeps the previous output, and tells git and backup tools to skip it
 * (as .pytest_cache does). A folder of that name without it is not ours: it is left alone.
 */
const previousMarker = '# The previous output of `syncwright compile`, reused by the next compile. Safe to delete.\n*\n';
const markerFile = '.gitignore';

function isPreviousOutput(folder: string): boolean {
  try {
    return isFolder({ lstatSync }, folder) && readFileSync(join(folder, markerFile), 'utf8') === previousMarker;
  } catch {
    return false;
  }
}

/**
 * Why `out` may not be replaced by a build folder, or undefined when it may: it is absent, a
 * link (replaced, not followed), an empty folder, or a folder whose manifest.json a compile
 * wrote. Anything else (a file, the project itself after a mistyped --out) is refused.
 */
export function refusesReplacement(out: string): string | undefined {
  let stat;
  try {
    stat = lstatSync(out);
  } catch {
    return undefined;
  }
  if (stat.isSymbolicLink()) return undefined;
  if (!stat.isDirectory()) return 'it is a file, not a folder';
  if (readdirSync(out).length === 0) return undefined;
  const manifest = readRegularFile(join(out, 'manifest.json'), manifestStart.length);
  return manifest === manifestStart ? undefined : 'it holds files but no manifest.json written by syncwright compile';
}

const manifestStart = `{\n  "$schema": ${JSON.stringify(manifestSchemaId)}`;

/**
 * A file carried from one compile to the next in the kept previous output (not in the output):
 * `load` gets what the previous compile saved, `save` gives what this one keeps.
 */
export interface Carry {
  name: string;
  load(text: string): void;
  save(): string;
}

/** The text of a regular file (not a link), or its first `bytes` bytes; undefined when there is none. */
export function readRegularFile(path: string, bytes?: number): string | undefined {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      if (!fstatSync(fd).isFile()) return undefined;
      if (bytes === undefined) return readFileSync(fd, 'utf8');
      const head = Buffer.alloc(bytes);
      return head.toString('utf8', 0, readSync(fd, head, 0, bytes, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/** Takes the kept previous output as the folder to fill (true), or makes an empty one. */
export function claimPrevious(previous: string, temp: string): boolean {
  if (isPreviousOutput(previous)) {
    try {
      // Another compile of the same output may take it first: then this one starts empty.
      renameSync(previous, temp);
      if (isFolder({ lstatSync }, temp)) return true;
      rmSync(temp, { force: true });
    } catch {
      // Taken: start empty.
    }
  }
  mkdirSync(temp);
  return false;
}


/** Keeps the replaced output for the next compile, unless a folder is already in its place. */
export async function keepPrevious(old: string, kept: string, carry: Carry | undefined): Promise<void> {
  try {
    writeFileSync(join(old, markerFile), previousMarker, { flag: 'wx' });
    if (carry) writeFileSync(join(old, carry.name), carry.save(), { flag: 'wx' });
    await rename(old, kept);
  } catch {
    // Left to the final clean-up.
  }
}
