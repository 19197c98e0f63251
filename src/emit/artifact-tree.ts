/**
 * The build folder, written atomically: a temporary folder beside the output is filled, then
 * renamed into place, so a failed compile leaves the previous output whole and files of
 * removed syncs disappear. Every plan is validated against schemas/plan.schema.json (and the
 * manifest against its schema) before it is queued, so a plan the schema rejects (a compiler
 * bug) stops the compile before the output is touched.
 *
 * On a project of thousands of syncs the file system costs about as much as planning, so two
 * threads do it: the writer fills the new folder while the main thread is still planning; once
 * planning is done, the helper takes folders from the far end of what is left; then both
 * remove the previous output. Making a folder holds a lock on its parent, so the helper makes
 * its folders in a staging folder of its own and moves each into place when it is full.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MessageChannel, Worker, type MessagePort, type TransferListItem } from 'node:worker_threads';
import type { SyncArtifacts } from '../plan/plan.js';
import { manifestSchemaId, validateManifest, type Manifest } from './manifest.js';
import { validatePlan } from './plan-schema.js';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/**
 * Folders of the tree, each [folder, name, start, end, name, start, end, ...] (folder '.' is
 * the top of the tree): each file's content is bytes[start, end). Both threads get the same
 * batch, so its memory is shared rather than copied: the files' bytes, and one slot per folder
 * that the thread taking it sets.
 */
interface Batch {
  bytes: SharedArrayBuffer;
  claims: SharedArrayBuffer;
  folders: (string | number)[][];
}

/** A folder, not a link to one. Also part of the file system threads' source. */
function isFolder(fs: Pick<typeof import('node:fs'), 'lstatSync'>, path: string): boolean {
  try {
    return fs.lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The code of the file system threads. It runs from the source text of this function and
 * `isFolder` (so the same code runs from src/ under the tests and from the bundled CLI): it
 * uses nothing else of this module, only its own code, its arguments and globals.
 *
 * The writer takes the folders of each Batch as it comes. The helper (workerData.staging and
 * .queue set) gets the same batches on its queue, reads them only when told { help }, and
 * takes folders from the last one back until it meets one the writer took. Other messages:
 * { end }, answered once every batch before it is written; { remove: [path, ...] }. Answers:
 * { ok }, or the first error { error, code }.
 *
 * Creating and freeing tens of thousands of inodes is most of a recompile's file system time
 * (on ext4 without a journal, each new inode also scans past every one freed in the last
 * minutes), so a compile makes as few as it can. When `reused` is set, `temp` is the output
 * before last, brought up to date in place: its folders are kept, a file that already holds
 * the new bytes is left as it is, anything else in it is removed. A file the current output
 * (workerData.previous, absent when there is none) holds byte for byte is hard-linked from it
 * rather than written. A file is kept or linked only when it is a regular file that nothing
 * but the two outputs links to, in real folders: the output never shares a file with
 * anything else, and nothing is written through a symbolic link.
 */
function fileSystemThread(fs: typeof import('node:fs'), { join }: typeof import('node:path'), threads: typeof import('node:worker_threads')): void {
  const { parentPort, receiveMessageOnPort } = threads;
  const { temp, previous, staging, queue, reused } = threads.workerData as { temp: string; previous?: string; staging?: string; queue?: MessagePort; reused?: true };
  let failure: { error: string; code?: string } | undefined;

  /** The file's status when `path` is a regular file (not a link to one) holding `bytes`. */
  const holding = (path: string, bytes: Buffer): import('node:fs').Stats | undefined => {
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
      return undefined;
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.size !== bytes.length) return undefined;
      const old = Buffer.allocUnsafe(bytes.length);
      for (let read = 0; read < old.length; ) {
        const n = fs.readSync(fd, old, read, old.length - read, null);
        if (n === 0) return undefined;
        read += n;
      }
      return old.equals(bytes) ? stat : undefined;
    } finally {
      fs.closeSync(fd);
    }
  };

  /** `path` is the file `stat` describes. */
  const sameFile = (path: string, stat: import('node:fs').Stats): boolean => {
    try {
      const other = fs.lstatSync(path);
      return other.ino === stat.ino && other.dev === stat.dev;
    } catch {
      return false;
    }
  };

  // One readdir per folder, no stat per entry.
  const remove = (folder: string): void => {
    for (const e of fs.readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, e.name);
      if (e.isDirectory()) remove(path);
      else fs.unlinkSync(path);
    }
    fs.rmdirSync(folder);
  };

  /** Removes a file, link or folder; nothing when there is none. */
  const removeEntry = (path: string): void => {
    try {
      fs.unlinkSync(path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EISDIR' || code === 'EPERM') remove(path);
      else if (code !== 'ENOENT') throw e;
    }
  };

  // What a reused folder no longer holds is moved into a folder of its own, removed with the
  // stale folders once every file is in: inodes freed before others are made would slow those.
  const discarded = join(temp, `.syncwright-discarded-${threads.threadId}`);
  let discards = 0;
  const discard = (path: string): void => {
    try {
      fs.lstatSync(path);
    } catch {
      return; // Nothing there.
    }
    if (discards === 0) fs.mkdirSync(discarded);
    fs.renameSync(path, join(discarded, String(discards++)));
  };

  /**
   * Puts a file into `dir`: kept when `dir` is reused and already holds it, else linked from
   * the folder `old` of the current output when that holds it, else written.
   */
  const put = (dir: string, reuse: boolean, old: string | undefined, name: string, bytes: Buffer): void => {
    const target = join(dir, name);
    if (reuse) {
      const kept = holding(target, bytes);
      if (kept && (kept.nlink === 1 || (kept.nlink === 2 && old !== undefined && sameFile(join(old, name), kept)))) return;
      discard(target);
    }
    if (old !== undefined && holding(join(old, name), bytes)?.nlink === 1) {
      try {
        return fs.linkSync(join(old, name), target);
      } catch {
        // No hard links here: written below.
      }
    }
    fs.writeFileSync(target, bytes, { flag: 'wx' });
  };

  /** Writes folder `i` of a batch (a new one made in `base`, then moved into the tree); false when the other thread took it. */
  const take = (batch: Batch, i: number, base: string): boolean => {
    if (Atomics.compareExchange(new Int32Array(batch.claims), i, 0, 1) !== 0) return false;
    const [folder, ...files] = batch.folders[i]! as [string, ...(string | number)[]];
    const top = folder === '.';
    const inTree = top ? temp : join(temp, folder);
    const reuse = reused === true && (top || isFolder(fs, inTree));
    const fresh = !top && !reuse;
    if (fresh && reused) discard(inTree);
    const dir = fresh ? join(base, folder) : inTree;
    if (fresh) fs.mkdirSync(dir);
    const old = previous !== undefined && isFolder(fs, join(previous, folder)) ? join(previous, folder) : undefined;
    const names = new Set<string>();
    for (let f = 0; f < files.length; f += 3) {
      const name = files[f] as string;
      const start = files[f + 1] as number;
      names.add(name);
      put(dir, reuse, old, name, Buffer.from(batch.bytes, start, (files[f + 2] as number) - start));
    }
    // Files of the reused folder that the sync no longer has (the top is cleared of stale folders once every folder is in).
    if (reuse && !top) for (const name of fs.readdirSync(dir)) if (!names.has(name)) discard(join(dir, name));
    if (dir !== inTree) fs.renameSync(dir, inTree);
    return true;
  };

  /** Takes folders from the last one back, until one the writer took. */
  const takeFromEnd = (batches: Batch[]): void => {
    for (let b = batches.length - 1; b >= 0; b--) {
      for (let i = batches[b]!.folders.length - 1; i >= 0; i--) if (!take(batches[b]!, i, staging!)) return;
    }
  };

  const help = (): void => {
    // Batches the writer has finished (it takes folders in order) are dropped as they are read.
    const batches: Batch[] = [];
    for (let m = receiveMessageOnPort(queue!); m; m = receiveMessageOnPort(queue!)) {
      const batch = m.message as Batch;
      if (Atomics.load(new Int32Array(batch.claims), batch.folders.length - 1) === 0) batches.push(batch);
    }
    fs.mkdirSync(staging!);
    takeFromEnd(batches);
    fs.rmdirSync(staging!);
  };

  parentPort!.on('message', (m: Partial<Batch> & { end?: true; help?: true; remove?: string[] }) => {
    try {
      if (!failure && m.folders) for (let i = 0; i < m.folders.length; i++) take(m as Batch, i, temp);
      if (!failure && m.help) help();
      if (!failure && m.remove) for (const path of m.remove) removeEntry(path);
    } catch (e) {
      failure = { error: (e as Error).message, code: (e as NodeJS.ErrnoException).code };
    }
    if (!m.folders) parentPort!.postMessage(failure ?? { ok: true });
  });
}

/** A file system thread: messages go in order; `ask` waits for the answer to anything but a batch. */
class FileSystemThread {
  private readonly worker: Worker;
  private answer: ((error?: Error) => void) | undefined;
  /** Set once the thread has failed or stopped: nothing more will be answered. */
  private gone: Error | undefined;

  constructor(data: { temp: string; previous: string | undefined; reused: true | undefined; staging?: string; queue?: MessagePort }, transferList: TransferListItem[] = []) {
    const source = `${String(isFolder)}\n(${String(fileSystemThread)})(require('node:fs'), require('node:path'), require('node:worker_threads'))`;
    this.worker = new Worker(source, { eval: true, workerData: data, transferList });
    this.worker.on('message', (m: { ok?: true; error?: string; code?: string }) => this.settle(m.ok ? undefined : Object.assign(new Error(m.error), { code: m.code })));
    this.worker.on('error', (e) => this.settle((this.gone ??= e)));
    this.worker.on('exit', () => this.settle((this.gone ??= new Error('a file system thread stopped before answering'))));
  }

  private settle(error?: Error): void {
    const answer = this.answer;
    this.answer = undefined;
    answer?.(error);
  }

  send(batch: Batch): void {
    this.worker.postMessage(batch);
  }

  ask(message: { end: true } | { help: true } | { remove: string[] }): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.gone) return reject(this.gone);
      this.answer = (error) => (error ? reject(error) : resolve());
      this.worker.postMessage(message);
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

// Folders per batch: few messages, and the writer starts early.
const batchSize = 32;

/** What a compile puts in the build folder, handed to the file system threads as it comes. */
export class ArtifactTree {
  /** Folders not sent yet: the folder, then each file's name and content. */
  private folders: { folder: string; files: [string, string][] }[] = [];
  /** What the top of the tree holds: sync folders and manifest.json. */
  readonly names = new Set<string>();
  private readonly folded = new Set<string>();

  constructor(
    private readonly writer: FileSystemThread,
    private readonly helperQueue: MessagePort,
  ) {}

  /** Queues a sync's plan.json and files; throws, naming every schema error, when the plan does not match its schema. */
  addSync(a: SyncArtifacts): void {
    validatePlan(a.plan, `${a.plan.sync.name}/plan.json`);
    this.add(a.plan.sync.name, [['plan.json', json(a.plan)], ...a.files.map((f): [string, string] => [f.name, f.content])]);
  }

  /** Queues manifest.json, once it matches its schema. */
  addManifest(manifest: Manifest): void {
    validateManifest(manifest);
    this.add('.', [['manifest.json', json(manifest)]]);
  }

  private add(folder: string, files: [string, string][]): void {
    if (folder === '.') for (const [name] of files) this.names.add(name);
    else {
      // The checker's rules for sync names, asserted where a clash would lose files (a reused folder is written in place).
      if (!/^[^./\\][^/\\]*$/.test(folder)) throw new Error(`\`${folder}\` cannot be a folder of the build`);
      if (this.folded.has(folder.toLowerCase())) throw new Error(`two sync folders are named \`${folder}\` but for case`);
      this.folded.add(folder.toLowerCase());
      this.names.add(folder);
    }
    this.folders.push({ folder, files });
    if (this.folders.length >= batchSize) this.flush();
  }

  flush(): void {
    if (this.folders.length === 0) return;
    let size = 0;
    for (const { files } of this.folders) for (const [, content] of files) size += Buffer.byteLength(content);
    const bytes = new SharedArrayBuffer(size);
    const buffer = Buffer.from(bytes);
    let at = 0;
    const folders = this.folders.map(({ folder, files }) => [
      folder,
      ...files.flatMap(([name, content]) => {
        const start = at;
        at += buffer.write(content, at);
        return [name, start, at];
      }),
    ]);
    const batch: Batch = { bytes, claims: new SharedArrayBuffer(4 * folders.length), folders };
    this.writer.send(batch);
    this.helperQueue.postMessage(batch);
    this.folders = [];
  }
}

/** Removes files and folders, shared among the threads: the file system's waits overlap. */
async function removeAll(paths: string[], threads: FileSystemThread[]): Promise<void> {
  await Promise.all(threads.map((t, k) => t.ask({ remove: paths.filter((_, i) => i % threads.length === k) })));
}

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
function readRegularFile(path: string, bytes?: number): string | undefined {
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
function claimPrevious(previous: string, temp: string): boolean {
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

/**
 * Fills a temporary folder through `fill` (which queues every file), then replaces `outDir`
 * with it. When `fill` throws, or a file cannot be written, the temporary folder is removed
 * and `outDir` stays as it was.
 *
 * The replaced output is kept beside it, as `.<name>.syncwright-previous`, and the next compile
 * fills that folder rather than an empty one: a recompile then makes and frees only the files
 * that changed. A compile that finds no such folder starts from an empty one.
 */
export async function writeTreeAtomically<T>(outDir: string, fill: (tree: ArtifactTree) => T | Promise<T>, carry?: Carry): Promise<T> {
  const out = resolve(outDir);
  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(parent, `.${tag}.syncwright-new`);
  const staging = join(parent, `.${tag}.syncwright-staging`);
  const old = join(parent, `.${tag}.syncwright-old`);
  const first = join(parent, `.${tag}.syncwright-first`);
  const kept = join(parent, `.${basename(out)}.syncwright-previous`);
  const reused = claimPrevious(kept, temp) || undefined;
  const carried = reused && carry ? readRegularFile(join(temp, carry.name)) : undefined;
  if (carried !== undefined) carry!.load(carried);
  const previous = isFolder({ lstatSync }, out) ? out : undefined;
  const { port1: helperQueue, port2 } = new MessageChannel();
  const writer = new FileSystemThread({ temp, previous, reused });
  const helper = new FileSystemThread({ temp, previous, reused, staging, queue: port2 }, [port2]);
  try {
    const tree = new ArtifactTree(writer, helperQueue);
    const result = await fill(tree);
    tree.flush();
    await Promise.all([writer.ask({ end: true }), helper.ask({ help: true })]);
    if (reused) {
      const stale = readdirSync(temp).filter((name) => !tree.names.has(name));
      await removeAll(stale.map((name) => join(temp, name)), [writer, helper]);
    }
    if (existsSync(out)) await rename(out, old);
    try {
      await rename(temp, out);
    } catch (e) {
      if (existsSync(old)) await rename(old, out);
      throw e;
    }
    if (previous !== undefined) await keepPrevious(old, kept, carry);
    else if (carry) {
      // No output to keep yet: the kept folder starts with the carried file alone.
      mkdirSync(first);
      await keepPrevious(first, kept, carry);
    }
    return result;
  } finally {
    helperQueue.close();
    await Promise.all([writer.stop(), helper.stop()]);
    for (const leftover of [temp, staging, old, first]) await rm(leftover, { recursive: true, force: true });
  }
}

/** Keeps the replaced output for the next compile, unless a folder is already in its place. */
async function keepPrevious(old: string, kept: string, carry: Carry | undefined): Promise<void> {
  try {
    writeFileSync(join(old, markerFile), previousMarker, { flag: 'wx' });
    if (carry) writeFileSync(join(old, carry.name), carry.save(), { flag: 'wx' });
    await rename(old, kept);
  } catch {
    // Left to the final clean-up.
  }
}
