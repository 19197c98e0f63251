/**
 * What a compile keeps beside its output folder: the output it replaces
 * (`.<name>.syncwright-previous`), for the next compile to bring up to date in place, with the
 * file it carries; the lock held while it compiles (`.<name>.syncwright-lock`); and which
 * folders a compile may replace at all.
 */
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isFolder } from './file-system-thread.js';
import { manifestSchemaId } from './manifest.js';

/**
 * Marks the folder that keeps the previous output, and tells git and backup tools to skip it
 * (as .pytest_cache does). A folder of that name without it is not ours: it is left alone.
 */
const previousMarker = '# The previous output of `syncwright compile`, reused by the next compile. Safe to delete.\n*\n';
const markerFile = '.gitignore';

function isPreviousOutput(folder: string): boolean {
  return isFolder({ lstatSync }, folder) && readRegularFile(join(folder, markerFile)) === previousMarker;
}

/** `.<name>.syncwright-<what>` beside the output folder. */
export const besideOutput = (out: string, what: string): string => join(dirname(out), `.${basename(out)}.syncwright-${what}`);

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the output's lock for the whole compile, or throws OutputRefused: two compiles of one
 * output would fill, link and swap folders under each other. The lock file holds the process
 * id; a lock whose process is gone (a killed compile) is taken over. Returns the release.
 */
export function lockOutput(out: string): () => void {
  const lock = besideOutput(out, 'lock');
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw e;
      const pid = Number(readRegularFile(lock, 32)?.trim());
      if (Number.isInteger(pid) && pid > 0 && running(pid)) {
        throw new OutputRefused(`another compile (process ${pid}) is writing ${basename(out)}; if none is running, delete ${lock}`);
      }
      rmSync(lock, { force: true });
    }
  }
}

/**
 * The folders an interrupted compile of this output left beside it (named
 * `.<name>.<pid>-<hex>.syncwright-<part>`, see artifact-tree.ts). Only called with the lock
 * held, when no other compile of the output is running.
 */
export function leftovers(out: string): string[] {
  const name = basename(out);
  return readdirSync(dirname(out))
    .filter((f) => f.startsWith(`.${name}.`) && /^\.\d+-[0-9a-f]{8}\.syncwright-(new|staging|old|first)$/.test(f.slice(name.length + 1)))
    .map((f) => join(dirname(out), f));
}

/** The output folder may not be written: it is not syncwright's, or another compile is writing it. */
export class OutputRefused extends Error {}

/**
 * Throws OutputRefused unless `out` may be replaced by a build folder: it is absent, a link
 * (replaced, not followed), an empty folder, or a folder whose manifest.json a compile wrote.
 * Anything else (a file, the project itself after a mistyped --out) is refused.
 */
export function assertReplaceable(out: string): void {
  const reason = refusal(out);
  if (reason) throw new OutputRefused(`refusing to replace ${out}: ${reason}. The output folder is replaced as a whole: name a new or empty folder, or delete this one first`);
}

/** A folder a compile wrote: its manifest.json starts as a compile writes it. */
export function isCompileOutput(folder: string): boolean {
  return readRegularFile(join(folder, 'manifest.json'), manifestStart.length) === manifestStart;
}

function refusal(out: string): string | undefined {
  let stat;
  try {
    stat = lstatSync(out);
  } catch {
    return undefined;
  }
  if (stat.isSymbolicLink()) return undefined;
  if (!stat.isDirectory()) return 'it is a file, not a folder';
  if (readdirSync(out).length === 0) return undefined;
  return isCompileOutput(out) ? undefined : 'it holds files but no manifest.json written by syncwright compile';
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
    // Not a link, and no wait on a named pipe.
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
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
