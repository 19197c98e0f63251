/**
 * The build folder, written atomically: a temporary folder beside the output is filled, then
 * renamed into place, so a failed compile leaves the previous output whole and files of
 * removed syncs disappear. Every plan is validated against schemas/plan.schema.json (and the
 * manifest against its schema) before it is queued, so a plan the schema rejects (a compiler
 * bug) stops the compile before the output is touched.
 *
 * On a project of thousands of syncs, the file system costs about as much as planning, so it
 * is done by threads: one fills the new folder while the main thread is still planning, and
 * two remove the previous output once it has been replaced.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { SyncArtifacts } from '../plan/plan.js';
import { validateManifest, type Manifest } from './manifest.js';
import { validatePlan } from './plan-schema.js';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/** A folder, not a link to one. Also part of the file system thread's source. */
function isFolder(fs: Pick<typeof import('node:fs'), 'lstatSync'>, path: string): boolean {
  try {
    return fs.lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The code of a file system thread. It runs from the source text of this function and
 * `isFolder` (so the same code runs from src/ under the tests and from the bundled CLI): it
 * uses nothing else of this module, only its own code, its arguments and globals.
 *
 * In: { files: [path, content, path, content, ...] } to write into workerData.temp; { end }
 * once every file is queued; { remove: [folder, ...] } to delete folders. Out: one answer per
 * end or remove, { ok } or the first error, { error, code }.
 *
 * A file the previous output already holds, byte for byte, is hard-linked from it rather
 * than written: creating and later freeing tens of thousands of inodes is most of a
 * recompile's file system time, and an unchanged file then needs neither. Only a regular file
 * that nothing else links to, in a real folder of the previous output (workerData.previous,
 * absent when there is none), is reused: the output never shares a file with anything else.
 */
function fileSystemThread(fs: typeof import('node:fs'), { dirname, join }: typeof import('node:path'), { parentPort, workerData }: typeof import('node:worker_threads')): void {
  const { temp, previous } = (workerData ?? {}) as { temp: string; previous?: string };
  /** Folder of the new tree -> whether the previous output has it, as a folder (not a link), to reuse files from. */
  const folders = new Map([['.', previous !== undefined]]);
  let failure: { error: string; code?: string } | undefined;

  const unchanged = (path: string, bytes: Buffer): boolean => {
    let fd: number;
    try {
      fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    } catch {
      return false;
    }
    try {
      const stat = fs.fstatSync(fd);
      if (!stat.isFile() || stat.nlink !== 1 || stat.size !== bytes.length) return false;
      const old = Buffer.allocUnsafe(bytes.length);
      for (let read = 0; read < old.length; ) {
        const n = fs.readSync(fd, old, read, old.length - read, null);
        if (n === 0) return false;
        read += n;
      }
      return old.equals(bytes);
    } finally {
      fs.closeSync(fd);
    }
  };

  const write = (path: string, content: string): void => {
    const folder = dirname(path);
    let reusable = folders.get(folder);
    if (reusable === undefined) {
      fs.mkdirSync(join(temp, folder), { recursive: true });
      reusable = previous !== undefined && isFolder(fs, join(previous, folder));
      folders.set(folder, reusable);
    }
    const bytes = Buffer.from(content);
    const old = join(previous ?? '', path);
    const target = join(temp, path);
    if (reusable && unchanged(old, bytes)) {
      try {
        return fs.linkSync(old, target);
      } catch {
        // No hard links here: written below.
      }
    }
    fs.writeFileSync(target, bytes);
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

  parentPort!.on('message', (m: { files?: string[]; end?: true; remove?: string[] }) => {
    try {
      if (!failure && m.files) for (let i = 0; i < m.files.length; i += 2) write(m.files[i]!, m.files[i + 1]!);
      if (!failure && m.remove) for (const folder of m.remove) remove(folder);
    } catch (e) {
      failure = { error: (e as Error).message, code: (e as NodeJS.ErrnoException).code };
    }
    if (m.end || m.remove) parentPort!.postMessage(failure ?? { ok: true });
  });
}

/** A file system thread: messages go in order; `ask` waits for the answer to an end or remove. */
class FileSystemThread {
  private readonly worker: Worker;
  private answer: ((error?: Error) => void) | undefined;
  /** Set once the thread has failed or stopped: nothing more will be answered. */
  private gone: Error | undefined;

  constructor(data?: { temp: string; previous: string | undefined }) {
    const source = `${String(isFolder)}\n(${String(fileSystemThread)})(require('node:fs'), require('node:path'), require('node:worker_threads'))`;
    this.worker = new Worker(source, { eval: true, workerData: data });
    this.worker.on('message', (m: { ok?: true; error?: string; code?: string }) => this.settle(m.ok ? undefined : Object.assign(new Error(m.error), { code: m.code })));
    this.worker.on('error', (e) => this.settle((this.gone ??= e)));
    this.worker.on('exit', () => this.settle((this.gone ??= new Error('a file system thread stopped before answering'))));
  }

  private settle(error?: Error): void {
    const answer = this.answer;
    this.answer = undefined;
    answer?.(error);
  }

  send(message: { files: string[] }): void {
    this.worker.postMessage(message);
  }

  ask(message: { end: true } | { remove: string[] }): Promise<void> {
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

// Files per message to the writer thread: few messages, and the thread starts early.
const batchSize = 64;

/** What a compile puts in the build folder, handed to the writer thread as it comes. */
export class ArtifactTree {
  private batch: string[] = [];

  constructor(private readonly writer: FileSystemThread) {}

  /** Queues a sync's plan.json and files; throws, naming every schema error, when the plan does not match its schema. */
  addSync(a: SyncArtifacts): void {
    const dir = a.plan.sync.name;
    validatePlan(a.plan, `${dir}/plan.json`);
    this.add(`${dir}/plan.json`, json(a.plan));
    for (const f of a.files) this.add(`${dir}/${f.name}`, f.content);
  }

  /** Queues manifest.json, once it matches its schema. */
  addManifest(manifest: Manifest): void {
    validateManifest(manifest);
    this.add('manifest.json', json(manifest));
  }

  private add(path: string, content: string): void {
    this.batch.push(path, content);
    if (this.batch.length >= batchSize * 2) this.flush();
  }

  flush(): void {
    if (this.batch.length > 0) this.writer.send({ files: this.batch });
    this.batch = [];
  }
}

/** Removes a folder, its subfolders shared between two threads: the file system's waits overlap. */
async function removeTree(dir: string, writer: FileSystemThread): Promise<void> {
  if (!isFolder({ lstatSync }, dir)) return rm(dir, { force: true });
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(dir, e.name));
  const helper = new FileSystemThread();
  try {
    await Promise.all([writer.ask({ remove: folders.filter((_, i) => i % 2 === 0) }), helper.ask({ remove: folders.filter((_, i) => i % 2 === 1) })]);
  } finally {
    await helper.stop();
  }
  await rm(dir, { recursive: true, force: true });
}

/**
 * Fills a temporary folder through `fill` (which queues every file), then replaces `outDir`
 * with it. When `fill` throws, or a file cannot be written, the temporary folder is removed
 * and `outDir` stays as it was.
 */
export async function writeTreeAtomically<T>(outDir: string, fill: (tree: ArtifactTree) => T | Promise<T>): Promise<T> {
  const out = resolve(outDir);
  const parent = dirname(out);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const temp = join(parent, `.${tag}.syncwright-new`);
  const old = join(parent, `.${tag}.syncwright-old`);
  mkdirSync(temp);
  const writer = new FileSystemThread({ temp, previous: isFolder({ lstatSync }, out) ? out : undefined });
  try {
    const tree = new ArtifactTree(writer);
    const result = await fill(tree);
    tree.flush();
    await writer.ask({ end: true });
    if (existsSync(out)) await rename(out, old);
    try {
      await rename(temp, out);
    } catch (e) {
      if (existsSync(old)) await rename(old, out);
      throw e;
    }
    if (existsSync(old)) await removeTree(old, writer);
    return result;
  } finally {
    await writer.stop();
    await rm(temp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
