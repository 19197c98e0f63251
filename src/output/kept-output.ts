/**
 * Where a compile keeps its outputs: one folder beside the output's name, `.<name>.syncwright/`
 * (its `.gitignore` makes git skip it, and marks it as syncwright's), holding
 *
 * - `output-<tag>/`: the output. `<name>` itself is a symbolic link to it, which a compile
 *   replaces with one rename once the new output is whole: at every instant `<name>` is the
 *   whole old output or the whole new one, even when a compile is killed;
 * - `previous/`: the output it replaced, which the next compile brings up to date in place
 *   (src/output/artifact-tree.ts), with the file it carries;
 * - `lock`: the process id of the compile running;
 * - `<tag>-...`: what a compile makes on its way, removed by it, or by the next when it was killed.
 *
 * Also which outputs a compile may replace at all.
 */
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { identityOf, isFolder } from './file-system-thread.js';
import { manifestSchemaId } from '../contract/manifest.js';

/** Tells git and backup tools to skip the folder (as .pytest_cache does), and marks it as syncwright's. */
const homeMarker = '# The outputs of `syncwright compile`: the one the output links to, and the one before, reused by the next compile.\n*\n';
const markerFile = '.gitignore';
const outputPrefix = 'output-';

/** `.<name>.syncwright` beside the output. */
export const outputHome = (out: string): string => join(dirname(out), `.${basename(out)}.syncwright`);

/** The output folder may not be written: it is not syncwright's, or another compile is writing it. */
export class OutputRefused extends Error {}

/**
 * The outputs' folder, made on first use. A folder of that name that is not syncwright's, or a
 * file or link there, is left alone: the compile is refused. Without its marker, a folder is
 * syncwright's only while it holds nothing but lock files (`lockOutput`), as a compile's own
 * does while its marker is briefly gone (`closeHome`).
 */
export function openHome(out: string): string {
  const home = outputHome(out);
  const refused = (why: string) => new OutputRefused(`refusing to use ${home}: ${why}. syncwright keeps its outputs there: move it away`);
  // Each `continue` below: the folder was removed meanwhile by a first compile that failed (`closeHome`), and is made again.
  for (let attempt = 0; ; attempt++) {
    const again = attempt < 2;
    mkdirSync(dirname(home), { recursive: true });
    try {
      mkdirSync(home);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const found = lstatSync(home, { throwIfNoEntry: false });
    if (!found?.isDirectory()) {
      if (again && !found) continue;
      throw refused('it is not a folder');
    }
    const marker = readRegularFile(join(home, markerFile));
    if (marker === homeMarker) return home;
    const names = listing(home);
    if (names === undefined && again) continue;
    // Just made (here, or by a compile of the same output started at the same time), or its marker
    // removed by a first compile that failed while another compile makes its lock (`closeHome`).
    if (marker === undefined && names?.every((f) => f === markerFile || f === 'lock' || atWork.test(f))) {
      // Written by this compile, or by the other one: read again.
      mark(home);
      if (readRegularFile(join(home, markerFile)) === homeMarker) return home;
      if (again) continue;
    }
    throw refused("it holds files that are not syncwright's");
  }
}

/** Writes the folder's marker unless a file has that name (then, or when the folder is gone, nothing). */
function mark(home: string): void {
  try {
    writeFileSync(join(home, markerFile), homeMarker, { flag: 'wx' });
  } catch {
    // There already, or no folder to write it in.
  }
}

/** The names in a folder; undefined when it is gone. */
function listing(folder: string): string[] | undefined {
  try {
    return readdirSync(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Opens the outputs' folder and takes the output's lock (`lockOutput`). A first compile that
 * failed removes the folder once it has let its lock go (`closeHome`): removed between the
 * opening and the lock, the folder is made again; its marker removed meanwhile (that compile
 * puts it back, unless it was killed in that moment), the marker is written again, once the lock
 * is taken and again before it is let go.
 */
export function lockHome(out: string): { home: string; unlock: () => void } {
  for (let attempt = 0; ; attempt++) {
    const home = openHome(out);
    let unlock: () => void;
    try {
      unlock = lockOutput(home, basename(out));
    } catch (e) {
      // Only the compile's own lock file, or `lock` where there are no links, is made there: the folder was gone.
      if (attempt < 2 && (e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    mark(home);
    return {
      home,
      unlock: () => {
        mark(home);
        unlock();
      },
    };
  }
}

/** The outputs' folder when it is there and syncwright's (nothing is made). */
export function existingHome(out: string): string | undefined {
  const home = outputHome(out);
  return isFolder({ lstatSync }, home) && readRegularFile(join(home, markerFile)) === homeMarker ? home : undefined;
}

/**
 * Removes the outputs' folder when there is no output and it holds nothing else: a first compile
 * that failed leaves nothing. Runs once the lock is let go, so another compile may be making its
 * lock there meanwhile: only the marker is removed, then the folder only while it is empty, and
 * should that compile's file be there by then, the marker goes back.
 */
export function closeHome(out: string, home: string): void {
  try {
    lstatSync(out);
    return;
  } catch {
    // No output.
  }
  if (!listing(home)?.every((f) => f === markerFile)) return;
  rmSync(join(home, markerFile), { force: true });
  try {
    rmdirSync(home);
  } catch (e) {
    // Another compile's file came in meanwhile: the marker goes back (unless that compile wrote it already).
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') mark(home);
  }
}

const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** A name of this process's own in the outputs' folder, for a lock it is making or has moved aside (`leftovers` leaves it while the process runs). */
const atWorkName = () => `lock-${process.pid}-${randomBytes(8).toString('hex')}`;
/** Such a name, of any process (its id the first group). */
const atWork = /^lock-(\d+)-[0-9a-f]+$/;

/** A lock file as compared before it is taken over or released: what it is and holds (a rename or a link changes its change time, not these). */
const lockFile = (fd: number, stat: Stats) => ({ id: `${stat.ino} ${stat.mtimeMs}`, text: readFileSync(fd, 'utf8').trim() });
type LockFile = ReturnType<typeof lockFile>;
const sameLock = (a: LockFile | undefined, b: LockFile | undefined): boolean => a !== undefined && b !== undefined && a.id === b.id && a.text === b.text;

/**
 * Makes `lock` hold this process's id, whole from the start: written to a file of its own, then
 * linked to that name (where files cannot be linked, made and written in place). The lock as
 * made, or undefined when there is one already.
 */
function makeLock(home: string, lock: string): LockFile | undefined {
  const own = join(home, atWorkName());
  writeFileSync(own, `${process.pid}\n`, { flag: 'wx' });
  try {
    linkSync(own, lock);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT: the outputs' folder removed meanwhile, by hand (a first compile that failed removes it only while it is empty).
    if (code === 'EEXIST' || code === 'ENOENT') return undefined;
    // No hard links here, whatever the error says (EPERM, ENOTSUP, ENOSYS; EISDIR on FAT under Windows).
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      throw e;
    }
  } finally {
    rmSync(own, { force: true });
  }
  return withRegularFile(lock, lockFile);
}

/**
 * Takes the output's lock for the whole compile, or throws OutputRefused: two compiles of one
 * output would fill, link and swap folders under each other. The lock file holds the process
 * id; a lock whose process is gone (a killed compile) is taken over. Returns the release, which
 * removes the lock only while it is still the one this compile made.
 *
 * A lock is made whole (`makeLock`): one without an id is another compile's, just made (or left
 * by an older version; the message says to delete it). A lock taken over is first moved aside
 * under a name of its own, and only the very file found stale (its inode, modification time and
 * text) is removed: two compiles that both found it stale would otherwise each remove it, the
 * second the lock the first had just taken. (A third compile taking the lock in the moment the
 * second puts the first's back can still run beside the first.)
 */
export function lockOutput(home: string, name: string): () => void {
  const lock = join(home, 'lock');
  const held = (pid: string) => new OutputRefused(`another compile (${pid}) is writing ${name}; if none is running, delete ${lock}`);
  for (let attempt = 0; ; attempt++) {
    const made = makeLock(home, lock);
    if (made)
      return () => {
        if (sameLock(withRegularFile(lock, lockFile), made)) rmSync(lock, { force: true });
      };
    if (attempt > 1) throw held('another process');
    const found = withRegularFile(lock, lockFile);
    // Released meanwhile: tried again.
    if (found === undefined) continue;
    const pid = Number(found.text);
    if (!(/^\d+$/.test(found.text) && pid > 0)) throw held('a process that has not yet written its id');
    if (running(pid)) throw held(`process ${pid}`);
    const aside = join(home, atWorkName());
    try {
      renameSync(lock, aside);
    } catch {
      continue;
    }
    // The very file read (a file made since may have the inode of the one removed).
    if (!sameLock(withRegularFile(aside, lockFile), found)) {
      // Another compile's lock, taken since the stale one was read: it goes back.
      try {
        linkSync(aside, lock);
      } catch {
        // Taken again meanwhile, or gone: either way not ours.
      }
      rmSync(aside, { force: true });
      throw held('another process');
    }
    rmSync(aside, { force: true });
  }
}

/** The folder of the outputs' folder that the output links to now; undefined when it is anything else. */
function linkedOutput(out: string, home: string): string | undefined {
  let target: string;
  try {
    target = readlinkSync(out);
  } catch {
    return undefined;
  }
  const folder = resolve(dirname(out), target);
  return dirname(folder) === home && basename(folder).startsWith(outputPrefix) && isFolder({ lstatSync }, folder) ? folder : undefined;
}

/**
 * The folder that holds the output now, for the new one to link unchanged files from: the one
 * the output links to, or the output itself when it is a folder. Not a folder the output is a
 * link to that syncwright did not make: that one is never touched.
 */
export function currentOutput(out: string, home: string): string | undefined {
  return linkedOutput(out, home) ?? (isFolder({ lstatSync }, out) ? out : undefined);
}

/**
 * What an interrupted compile left in the outputs' folder. Only called with the lock held. A
 * `lock-<pid>-` file of a process that runs is another compile's at work (a lock it is making, or
 * one it moved aside and may put back, `lockOutput`): it stays.
 */
export function leftovers(out: string, home: string): string[] {
  const keep = new Set([markerFile, 'lock', 'previous', basename(linkedOutput(out, home) ?? '')]);
  const ofRunning = (f: string) => {
    const pid = atWork.exec(f)?.[1];
    return pid !== undefined && running(Number(pid));
  };
  return readdirSync(home)
    .filter((f) => !keep.has(f) && !ofRunning(f))
    .map((f) => join(home, f));
}

/** A new output folder in the outputs' folder, for a compile's `tag`. */
export const newOutput = (home: string, tag: string): string => join(home, `${outputPrefix}${tag}`);

/**
 * Puts the output folder `folder` in place: the output becomes a link to it, replaced by one
 * rename. Returns the folder of syncwright's that held the output until then (to be kept as
 * the previous output), if any. When the output was still a folder itself (compiled before
 * outputs were linked, or an empty folder), it is moved to `aside` first: the one moment
 * without an output, once. Where a link cannot replace another by a rename (Windows), the old
 * link is removed first; its folder stays whole until the compile ends.
 */
export async function swapIn(out: string, folder: string, parts: { link: string; aside: string }): Promise<string | undefined> {
  const home = dirname(folder);
  const replaced = linkedOutput(out, home);
  // Relative, so the project can move; on Windows a junction, which needs no privilege (and holds the whole path).
  if (process.platform === 'win32') symlinkSync(folder, parts.link, 'junction');
  else symlinkSync(relative(dirname(out), folder), parts.link, 'dir');
  if (isFolder({ lstatSync }, out)) {
    renameSync(out, parts.aside);
    try {
      await rename(parts.link, out);
    } catch (e) {
      renameSync(parts.aside, out);
      throw e;
    }
    return readdirSync(parts.aside).length > 0 ? parts.aside : undefined;
  }
  try {
    await rename(parts.link, out);
  } catch (e) {
    if (!['EPERM', 'EEXIST', 'ENOTEMPTY', 'EISDIR', 'EACCES'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
    await rm(out, { force: true });
    await rename(parts.link, out);
  }
  return replaced;
}

/**
 * Throws OutputRefused unless `out` may be replaced by a compile's output: it is absent, a link
 * (replaced, not followed), an empty folder, or a folder whose manifest.json a compile wrote.
 * Anything else (a file, the project itself after a mistyped --out) is refused.
 */
export function assertReplaceable(out: string): void {
  const reason = refusal(out);
  if (reason)
    throw new OutputRefused(
      `refusing to replace ${out}: ${reason}. The output folder is replaced as a whole: name a new or empty folder, or delete this one first`,
    );
}

/** A folder a compile wrote (or a link to one): its manifest.json starts as a compile writes it. */
export function isCompileOutput(folder: string): boolean {
  return readRegularFile(join(folder, 'manifest.json'), manifestStart.length) === manifestStart;
}

function refusal(out: string): string | undefined {
  let stat: Stats;
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
 * `load` gets what the previous compile saved, with the folder the output links to now (the
 * previous compile's output, unless something came between); `save` gives what this one
 * keeps, given its output's folder.
 */
export interface Carry {
  name: string;
  load(text: string, output: string | undefined): void;
  save(output: string): string;
}

/** The regular file `path` (not a link) open, with its status; undefined (and nothing left open) when there is none, or it cannot be read. */
export function openRegularFile(path: string): { fd: number; stat: Stats } | undefined {
  let fd: number;
  try {
    // Not a link, and no wait on a named pipe.
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile()) return { fd, stat };
  } catch {
    // No status: none.
  }
  closeSync(fd);
  return undefined;
}

/** What `read` makes of the regular file `path` (not a link), given it open and its status; undefined when there is none, or it cannot be read. */
function withRegularFile<T>(path: string, read: (fd: number, stat: Stats) => T | undefined): T | undefined {
  const file = openRegularFile(path);
  if (!file) return undefined;
  try {
    return read(file.fd, file.stat);
  } catch {
    return undefined;
  } finally {
    closeSync(file.fd);
  }
}

/**
 * The last text of a megabyte or more read whole, by the identity of its file (device, inode,
 * size, modification and change times): a recompile reads its record before its check and again
 * under the output's lock (its folder renamed in between, the file itself untouched).
 */
let lastText: { id: string; text: string } | undefined;

/** The text of a regular file (not a link), or its first `bytes` bytes; undefined when there is none. */
export function readRegularFile(path: string, bytes?: number): string | undefined {
  return withRegularFile(path, (fd, stat) => {
    if (bytes === undefined) {
      if (stat.size < 1 << 20) return readFileSync(fd, 'utf8');
      const id = `${stat.dev} ${identityOf(stat)}`;
      // Bytes, then text: Node 20's reading straight to text takes half again as long at this size (10 MB: 110-140 ms, against 90).
      if (lastText?.id !== id) lastText = { id, text: readFileSync(fd).toString('utf8') };
      return lastText.text;
    }
    const head = Buffer.alloc(bytes);
    return head.toString('utf8', 0, readSync(fd, head, 0, bytes, 0));
  });
}

/** Takes the kept previous output as the folder to fill (true), or makes an empty one. */
export function claimPrevious(home: string, folder: string): boolean {
  const previous = join(home, 'previous');
  if (isFolder({ lstatSync }, previous)) {
    renameSync(previous, folder);
    return true;
  }
  rmSync(previous, { force: true });
  mkdirSync(folder);
  return false;
}

/** UTF-16 units encoded at a time by `writeText`: at most 3 bytes each. */
const textChunk = 1 << 18;

/**
 * Writes `text` as the new file `path` (none may be there), a part at a time through memory
 * reused: a record of 10,001 syncs is 7 MB, and encoding it whole into new memory cost more
 * than writing it (memory is slow to touch anew on some machines).
 */
function writeText(path: string, text: string): void {
  const fd = openSync(path, 'wx');
  try {
    const bytes = Buffer.allocUnsafe(3 * Math.min(text.length, textChunk));
    for (let at = 0; at < text.length; ) {
      let end = Math.min(text.length, at + textChunk);
      // Not between the halves of a surrogate pair: each half alone would be written as U+FFFD.
      const last = text.charCodeAt(end - 1);
      if (end < text.length && last >= 0xd800 && last < 0xdc00) end--;
      const length = bytes.write(text.slice(at, end));
      for (let written = 0; written < length; ) written += writeSync(fd, bytes, written, length - written);
      at = end;
    }
  } finally {
    closeSync(fd);
  }
}

/** Keeps the replaced output as the previous one, for the next compile, with the carried files of the new `output`. */
export async function keepPrevious(old: string, home: string, carries: readonly Carry[], output: string): Promise<void> {
  try {
    for (const carry of carries) {
      // Whatever has that name goes first: a link there would have the text written through it, into a file of an output or anywhere.
      const path = join(old, carry.name);
      rmSync(path, { recursive: true, force: true });
      writeText(path, carry.save(output));
    }
    await rename(old, join(home, 'previous'));
  } catch {
    // Left to the final clean-up: the next compile starts from an empty folder.
  }
}
