/**
 * The build folder, written atomically: a temporary folder beside the output is filled, then
 * renamed into place, so a failed compile leaves the previous output whole and files of
 * removed syncs disappear. Every plan is validated against schemas/plan.schema.json (and the
 * manifest against its schema) before it is queued, so a plan the schema rejects (a compiler
 * bug) stops the compile before the output is touched.
 *
 * The folder is filled by a thread of its own while the main thread is still planning: on a
 * project of thousands of syncs, creating the files costs about as much as planning them.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { SyncArtifacts } from '../plan/plan.js';
import { validateManifest, type Manifest } from './manifest.js';
import { validatePlan } from './plan-schema.js';

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

/**
 * The writer thread, as plain JavaScript run with `eval` (so the same code runs from src/
 * under the tests and from the bundled CLI). It takes batches of [path, content, path,
 * content, ...], then null once everything is queued, and answers { done } or { error }.
 *
 * A file the previous output already holds, byte for byte, is hard-linked from it rather than
 * written: creating and later freeing tens of thousands of inodes is most of a recompile's
 * file system time, and an unchanged file then needs neither. Only a regular file nothing
 * else links to is reused, so the new output never shares a file with anything but the old.
 */
const writerThread = `
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { dirname, join } = require('node:path');
const { temp, previous } = workerData;
const folders = new Set(['.']);
let failed = false;

function unchanged(path, bytes) {
  let fd;
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
}

function place(path, content) {
  const folder = dirname(path);
  if (!folders.has(folder)) {
    fs.mkdirSync(join(temp, folder), { recursive: true });
    folders.add(folder);
  }
  const bytes = Buffer.from(content);
  const old = join(previous, path);
  const target = join(temp, path);
  if (unchanged(old, bytes)) {
    try {
      return fs.linkSync(old, target);
    } catch {
      // No hard links here: written below.
    }
  }
  fs.writeFileSync(target, bytes);
}

parentPort.on('message', (batch) => {
  if (failed) return;
  try {
    if (batch === null) {
      parentPort.postMessage({ done: true });
      parentPort.close();
      return;
    }
    for (let i = 0; i < batch.length; i += 2) place(batch[i], batch[i + 1]);
  } catch (e) {
    failed = true;
    parentPort.postMessage({ error: e.message, code: e.code });
  }
});
`;

// Files per message to the writer thread: few messages, and the thread starts early.
const batchSize = 64;

/** What a compile puts in the build folder, handed to the writer thread as it comes. */
export class ArtifactTree {
  private batch: string[] = [];
  private readonly thread: Worker;
  /** Settles once the thread has written everything queued before `end()`. */
  private readonly written: Promise<void>;

  constructor(temp: string, previous: string) {
    this.thread = new Worker(writerThread, { eval: true, workerData: { temp, previous } });
    this.written = new Promise<void>((resolve, reject) => {
      this.thread.on('message', (m: { done?: true; error?: string; code?: string }) => {
        if (m.done) resolve();
        else reject(Object.assign(new Error(m.error), { code: m.code }));
      });
      this.thread.on('error', reject);
      this.thread.on('exit', () => reject(new Error('the writer thread stopped before writing everything')));
    });
    // Awaited in end(); until then a failure must not count as unhandled.
    this.written.catch(() => {});
  }

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

  private flush(): void {
    if (this.batch.length > 0) this.thread.postMessage(this.batch);
    this.batch = [];
  }

  /** Waits until everything queued is on disk. */
  async end(): Promise<void> {
    this.flush();
    this.thread.postMessage(null);
    await this.written;
  }

  /** Stops the thread where it is. */
  async stop(): Promise<void> {
    await this.thread.terminate();
  }
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
  try {
    const tree = new ArtifactTree(temp, out);
    let result: T;
    try {
      result = await fill(tree);
      await tree.end();
    } finally {
      await tree.stop();
    }
    if (existsSync(out)) await rename(out, old);
    try {
      await rename(temp, out);
    } catch (e) {
      if (existsSync(old)) await rename(old, out);
      throw e;
    }
    return result;
  } finally {
    await rm(temp, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}
