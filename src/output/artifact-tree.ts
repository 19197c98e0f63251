/**
 * The build folder, written atomically: a new folder is filled, then the output (a link to the
 * folder that holds it) is switched to it by one rename, so the output is whole at every
 * instant, a failed compile leaves the previous output as it was, and files of removed syncs
 * disappear. Every plan is validated against schemas/plan.schema.json (and the
 * manifest against its schema) before it is queued, so a plan the schema rejects (a compiler
 * bug) stops the compile before the output is touched.
 *
 * The folder filled is the output before last when it was kept (src/output/kept-output.ts),
 * brought up to date in place, else an empty one. On a project of thousands of syncs the file
 * system costs about as much as planning, so two threads do it (src/output/file-system-thread.ts):
 * the writer fills the folder while the main thread is still planning; once planning is done,
 * the helper takes folders from the far end of what is left. A recompile's unchanged syncs,
 * which the threads only verify, go to the two threads in turn as they come (`flush`). The
 * bytes they are handed go through a ring of fixed size (`Ring`): the main thread waits when the
 * threads are that far behind.
 */
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writevSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { SyncArtifacts } from '../contract/plan.js';
import { manifestText, validateManifest } from '../emit/manifest.js';
import { isKeptBytes, type KeptBytes, type KeptEntry, type Manifest } from '../contract/manifest.js';
import type { Reuse } from '../emit/index.js';
import { PlanWriter } from '../emit/plan-schema.js';
import { comparedBelow, failedSlot, FileSystemThread, progressSlot, removeAll, written, type Batch } from './file-system-thread.js';
import { KeptSyncs, type BuildInputs } from './kept-syncs.js';
import {
  assertReplaceable,
  claimPrevious,
  closeHome,
  currentOutput,
  keepPrevious,
  leftovers,
  lockHome,
  newOutput,
  readRegularFile,
  swapIn,
  type Carry,
} from './kept-output.js';

export { OutputRefused, type Carry } from './kept-output.js';

/** A file's content: text, or its bytes in parts (text and bytes). */
type Content = string | readonly (string | Uint8Array)[];

function byteSize(content: Content): number {
  if (typeof content === 'string') return Buffer.byteLength(content);
  let size = 0;
  for (const part of content) size += typeof part === 'string' ? Buffer.byteLength(part) : part.length;
  return size;
}

// Folders per batch: few messages, and the writer starts early.
const batchSize = 32;
// The bytes handed to the file system threads and not yet written: a compile plans faster than
// a file system makes tens of thousands of files, and what is queued would otherwise be the
// whole output in memory (227 MB for 10,000 syncs). 4 MB rather than 16: its memory is touched
// anew by each compile, and where that is slow, a first compile of 1,012 syncs took 3% longer
// (two series of 4 and 5 interleaved runs); 10,001 syncs compile in the same time with either.
const ringSize = 4 << 20;

/**
 * The memory the files' bytes are copied into, reused: a batch's part is free again once the
 * file system threads have written every folder of it. Where there is no room, the main thread
 * waits for them.
 */
class Ring {
  readonly bytes = new SharedArrayBuffer(ringSize);
  /** Batches sent and not known to be written, with the part of `bytes` each holds. */
  private queued: { claims: Int32Array; start: number; end: number }[] = [];

  /** `stallMs`: how long to wait for a folder to be written before not relying on the threads. */
  constructor(
    private readonly flow: Int32Array,
    private readonly stallMs: number,
  ) {}

  /** Once a file system thread has failed, nothing more is written, and nothing is waited for. */
  get failed(): boolean {
    return Atomics.load(this.flow, failedSlot) !== 0;
  }

  /**
   * Waits until bytes [start, end) are free: 'free'; 'failed' when a thread has failed;
   * 'stalled' when no folder was written for a while. A thread that died without saying so
   * (it never started, or was aborted) cannot be heard while this thread waits: rather than
   * wait for ever, the folder then gets memory of its own, and the compile fails at its end
   * with the thread's error.
   */
  room(start: number, end: number): 'free' | 'failed' | 'stalled' {
    const blocks = (q: { start: number; end: number }) => q.start < end && start < q.end;
    const done = (q: { claims: Int32Array }) => q.claims.every((_, i, claims) => Atomics.load(claims, i) === written);
    for (;;) {
      const seen = Atomics.load(this.flow, progressSlot);
      if (this.failed) return 'failed';
      this.queued = this.queued.filter((q) => !(blocks(q) && done(q)));
      if (!this.queued.some(blocks)) return 'free';
      if (Atomics.wait(this.flow, progressSlot, seen, this.stallMs) === 'timed-out') return 'stalled';
    }
  }

  /** The bytes of a batch sent. */
  queue(claims: Int32Array, start: number, end: number): void {
    if (end > start) this.queued.push({ claims, start, end });
  }

  /**
   * Memory of its own for a folder bigger than the ring (a sync of huge files),
   * not waited for; it is freed once the writer has written it.
   */
  own(size: number): SharedArrayBuffer | undefined {
    return this.failed ? undefined : new SharedArrayBuffer(size);
  }
}

/**
 * What a compile puts in the build folder, handed to the file system threads as it comes. Each
 * folder's files are copied into the ring at once (text handed on is not kept: short-lived, it
 * never reaches V8's old space), and sent in batches.
 */
export class ArtifactTree {
  /** Folders copied and not sent yet, as `Batch` has them. */
  private batch: (string | number)[][] = [];
  /** Whether every folder of the batch is a taken sync's (`link`): none of it is in the ring. */
  private taken = true;
  /** Whether the last batch of taken syncs only went to the helper (`flush`). */
  private helped = false;
  /** The part of the ring the batch holds. */
  private start = 0;
  private at = 0;
  /** What the top of the tree holds: sync folders and manifest.json. */
  readonly names = new Set<string>();
  private readonly folded = new Set<string>();
  private readonly plans = new PlanWriter();
  private readonly ring: Ring;
  private readonly buffer: Buffer;
  /**
   * The batches in the ring sent and not known to be finished, each with its folders' slots:
   * what the helper may take (`unfinished`). Kept here, not posted to the helper as they are
   * sent: one copy of each batch's folders per message, and the writer finishes most of them.
   */
  private sent: { batch: Batch; claims: Int32Array }[] = [];

  constructor(
    private readonly folder: string,
    private readonly writer: FileSystemThread,
    private readonly helper: FileSystemThread | undefined,
    private readonly kept: KeptSyncs,
    flow: SharedArrayBuffer,
    stallMs = 30_000,
  ) {
    this.ring = new Ring(new Int32Array(flow), stallMs);
    this.buffer = Buffer.from(this.ring.bytes);
  }

  /**
   * Takes a sync from the current output as it is, when it holds it as this compile would
   * write it (src/output/kept-syncs.ts): its folder is then linked from there, and its entry
   * is what the manifest says of it.
   */
  readonly reuse: Reuse = (wanted) => this.link(this.kept.take(wanted));

  /** Takes sync `name` as it is when a check resumed from the record whose digest is `digest` found it unchanged (`KeptSyncs.takeUnchanged`). */
  readonly keep = (name: string, digest: string): KeptEntry | undefined => this.link(this.kept.takeUnchanged(name, digest));

  private link(entry: KeptEntry | undefined): KeptEntry | undefined {
    if (entry) {
      const { name } = entry.sync;
      this.named(name);
      // Nothing of it goes through the ring: its batch entry is made straight from the record (10,001 of them a recompile).
      if (this.ring.failed) return entry;
      this.batch.push(this.kept.takenFolder(name));
      if (this.batch.length >= batchSize) this.flush();
    }
    return entry;
  }

  /** Queues a sync's plan.json and files; throws, naming every schema error, when the plan does not match its schema. */
  addSync(a: SyncArtifacts): void {
    this.add(a.plan.sync.name, [
      ['plan.json', this.plans.text(a.plan, `${a.plan.sync.name}/plan.json`)],
      ...a.files.map((f): [string, string] => [f.name, f.content]),
    ]);
  }

  /**
   * Queues manifest.json, once its own entries match its schema (those `kept`, taken from the
   * output, did when they were written). One too big to be compared (`comparedBelow`) is written
   * here, part by part: the entries taken are the output's manifest's bytes, read a window at a
   * time into memory reused (`KeptBytes`), and copying 21 MB of them into memory for a thread cost
   * more than writing them (fresh memory is slow to touch on some machines: 3-5 ms a megabyte on
   * this one). The output's manifest must be as it was when its entries were taken: else the
   * compile fails, the output left as it is.
   */
  addManifest(manifest: Manifest, kept: readonly KeptEntry[]): void {
    validateManifest(manifest);
    const { parts, placed } = manifestText(manifest, kept);
    this.kept.written(placed);
    // The output's manifest, where entries taken are read from: as verified when they were taken, or the compile fails.
    const sources = new Set(parts.flatMap((p) => (isKeptBytes(p) ? [p.from] : [])));
    // Where its last entry ends: all but its last few bytes.
    if (placed.length === 0 || placed.at(-1)!.at[1] < comparedBelow) {
      // Copied: each read reuses the memory of the one before.
      const bytes = parts.map((p) => (isKeptBytes(p) ? Buffer.from(p.from.bytes(p.start, p.end)) : p));
      for (const source of sources) source.unchanged();
      return this.add('.', [['manifest.json', bytes]]);
    }
    this.names.add('manifest.json');
    const path = join(this.folder, 'manifest.json');
    // A name of its own: the reused folder may hold anything (what it does not name goes once every folder is in).
    const temp = join(this.folder, `.manifest-${randomBytes(8).toString('hex')}.json`);
    const fd = openSync(temp, 'wx');
    try {
      writeAll(fd, parts);
    } finally {
      closeSync(fd);
    }
    for (const source of sources) source.unchanged();
    // Whatever the reused folder has by that name (a file, a link, a folder) goes.
    rmSync(path, { recursive: true, force: true });
    renameSync(temp, path);
  }

  private add(folder: string, files: [string, Content][]): void {
    if (folder === '.') for (const [name] of files) this.names.add(name);
    else this.named(folder);
    let size = 0;
    for (const [, content] of files) size += byteSize(content);
    if (size <= ringSize) {
      // A batch's part of the ring is in one piece: one that would pass the end starts again at 0.
      if (this.at + size > ringSize) {
        this.flush();
        this.start = this.at = 0;
      }
      const room = this.ring.room(this.at, this.at + size);
      // A thread has failed: the compile fails with its error (`end`), and nothing more is sent.
      if (room === 'failed') return;
      if (room === 'free') {
        this.batch.push(this.copy(folder, files, this.buffer, this.at));
        this.taken = false;
        this.at += size;
        // A batch stays a small part of the ring, so that the threads write one while the next is made.
        if (this.batch.length >= batchSize || this.at - this.start >= ringSize / 8) this.flush();
        return;
      }
    }
    // Bigger than the ring, or the threads stalled: memory of its own, for the writer alone (the
    // helper holds what it is sent until planning ends).
    this.flush();
    const bytes = this.ring.own(size);
    if (bytes) this.send(bytes, [this.copy(folder, files, Buffer.from(bytes), 0)], false);
  }

  /** Sync folder `folder` is in the tree. */
  private named(folder: string): void {
    // The checker's rules for sync names, asserted where a clash would lose files (a reused folder is written in place).
    if (!/^[^./\\][^/\\]*$/.test(folder)) throw new Error(`\`${folder}\` cannot be a folder of the build`);
    if (this.folded.has(folder.toLowerCase())) throw new Error(`two sync folders are named \`${folder}\` but for case`);
    this.folded.add(folder.toLowerCase());
    this.names.add(folder);
  }

  /** A folder's entry in a batch, its files' text copied into `buffer` from `at` on. */
  private copy(folder: string, files: [string, Content][], buffer: Buffer, at: number): (string | number)[] {
    const put = (part: string | Uint8Array): void => {
      if (typeof part === 'string') at += buffer.write(part, at);
      else {
        buffer.set(part, at);
        at += part.length;
      }
    };
    return [
      folder,
      // No recorded identities: not a taken sync's folder.
      '',
      '',
      ...files.flatMap(([name, content]) => {
        const start = at;
        if (typeof content === 'string') put(content);
        else for (const part of content) put(part);
        return [name, start, at];
      }),
    ];
  }

  /**
   * Sends the batch. One of taken syncs only (a recompile's unchanged syncs: a few lstats each,
   * which verify its files) goes to the writer and the helper in turn: the main thread takes them
   * several times faster than one thread on the file system verifies them, and the output would
   * be waited for after planning. The helper does not take the others until planning is done
   * (`unfinished`): the main thread needs the cores while it plans.
   */
  flush(): void {
    if (this.batch.length === 0) return;
    const helper = this.taken && !this.helped ? this.helper : undefined;
    this.helped = helper !== undefined;
    const claims = this.send(this.ring.bytes, this.batch, !this.helped, helper ?? this.writer);
    this.ring.queue(claims, this.start, this.at);
    this.batch = [];
    this.taken = true;
    this.start = this.at;
  }

  /** `shared`: the helper may take what the writer (`to`) has not when planning is done (`unfinished`). */
  private send(bytes: SharedArrayBuffer, folders: (string | number)[][], shared = true, to = this.writer): Int32Array {
    const batch: Batch = { bytes, claims: new SharedArrayBuffer(4 * folders.length), folders };
    const claims = new Int32Array(batch.claims);
    to.send(batch);
    if (shared) {
      // The writer takes folders in order: the batches whose last folder it took are behind it.
      const done = this.sent.findIndex((s) => Atomics.load(s.claims, s.claims.length - 1) === 0);
      this.sent = done < 0 ? [] : this.sent.slice(done);
      this.sent.push({ batch, claims });
    }
    return claims;
  }

  /** The batches in the ring whose last folder no thread has taken yet, for the helper to take from the end. */
  unfinished(): Batch[] {
    return this.sent.filter((s) => Atomics.load(s.claims, s.claims.length - 1) === 0).map((s) => s.batch);
  }
}

/** The separators between entries, as bytes once. */
const encoded = new Map<string, Buffer>();

/**
 * Writes `parts` at the end of file `fd`, a thousand at a time (what one writev takes), and the
 * rest of any it wrote in part. The bytes of an entry taken are the window of the output's
 * manifest that holds them: what is queued is written before another window is read.
 */
function writeAll(fd: number, parts: readonly (string | Uint8Array | KeptBytes)[]): void {
  let chunk: Uint8Array[] = [];
  const flush = (): void => {
    let left = writevSync(fd, chunk);
    for (const b of chunk) {
      if (left >= b.length) left -= b.length;
      else {
        for (let at = left; at < b.length; ) at += writevSync(fd, [b.subarray(at)]);
        left = 0;
      }
    }
    chunk = [];
  };
  for (const part of parts) {
    if (typeof part === 'string') {
      let bytes = encoded.get(part);
      if (bytes === undefined) {
        bytes = Buffer.from(part);
        // Only the short ones recur (the separators); an entry's text is written once.
        if (part.length < 16) encoded.set(part, bytes);
      }
      chunk.push(bytes);
    } else if (part instanceof Uint8Array) chunk.push(part);
    else {
      if (!part.from.holds(part.start, part.end) && chunk.length > 0) flush();
      chunk.push(part.from.bytes(part.start, part.end));
    }
    if (chunk.length >= 1024) flush();
  }
  if (chunk.length > 0) flush();
}

/**
 * Fills a new output folder through `fill` (which queues every file), then puts it in place:
 * `outDir` becomes a link to it, replaced by one rename (src/output/kept-output.ts), so `outDir`
 * is the whole old output or the whole new one at every instant. When `fill` throws, or a file
 * cannot be written, the new folder is removed and `outDir` stays as it was.
 *
 * The replaced output is kept, as `.<name>.syncwright/previous`, and the next compile fills that
 * folder rather than an empty one: a recompile then makes and frees only the files that
 * changed. A compile that finds no such folder starts from an empty one.
 */
export async function writeTreeAtomically<T>(outDir: string, fill: (tree: ArtifactTree) => T | Promise<T>, carry?: Carry, inputs?: BuildInputs): Promise<T> {
  const out = resolve(outDir);
  assertReplaceable(out);
  const { home, unlock } = lockHome(out);
  try {
    // What an interrupted compile left (the finally below does not run on a kill or Ctrl-C).
    for (const path of leftovers(out, home)) rmSync(path, { recursive: true, force: true });
    return await replaceOutput(out, home, fill, [new KeptSyncs(inputs), ...(carry ? [carry] : [])]);
  } finally {
    unlock();
    closeHome(out, home);
  }
}

async function replaceOutput<T>(out: string, home: string, fill: (tree: ArtifactTree) => T | Promise<T>, carries: [KeptSyncs, ...Carry[]]): Promise<T> {
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
  const part = (name: string) => join(home, `${tag}-${name}`);
  const [staging, link, aside, first] = [part('staging'), part('link'), part('aside'), part('first')];
  const folder = newOutput(home, tag);
  // The output now, whose unchanged files the new one links to.
  const previous = currentOutput(out, home);
  const reused = claimPrevious(home, folder) || undefined;
  // The kept folders (not links) by their exact names: on a file system that ignores case, `Users` is not reused as `users`.
  const keptNames = reused
    ? readdirSync(folder, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    : [];
  for (const carry of reused ? carries : []) {
    const carried = readRegularFile(join(folder, carry.name));
    if (carried !== undefined) carry.load(carried, previous);
  }
  const flow = new SharedArrayBuffer(8);
  const writer = new FileSystemThread({ temp: folder, previous, reused, keptNames, tag, flow });
  const helper = new FileSystemThread({ temp: folder, previous, reused, keptNames, tag, flow, staging });
  let placed = false;
  /** Fills the folder; the folders of taken syncs the threads found otherwise than recorded (`KeptSyncs`). */
  const pass = async (): Promise<{ tree: ArtifactTree; result: T; changed: string[] }> => {
    const tree = new ArtifactTree(folder, writer, helper, carries[0], flow);
    const result = await fill(tree);
    tree.flush();
    const done = await Promise.all([writer.ask({ end: true }), helper.ask({ help: tree.unfinished() })]);
    for (const { putIn, folders } of done) carries[0].putIn(putIn, folders);
    return { tree, result, changed: done.flatMap((d) => d.changed) };
  };
  try {
    let { tree, result, changed } = await pass();
    if (changed.length > 0) {
      // A file of the output was edited, replaced or removed since it was written: once more, each
      // sync's files verified before it is taken, so that those syncs are emitted (and their folders
      // brought up to date). Found again, it is being changed while this compile runs.
      carries[0].again();
      ({ tree, result, changed } = await pass());
      if (changed.length > 0) throw new Error(`the output changed while it was being compiled: ${changed.slice(0, 3).join(', ')}`);
    }
    if (reused) {
      const stale = readdirSync(folder).filter((name) => !tree.names.has(name));
      await removeAll(
        stale.map((name) => join(folder, name)),
        [writer, helper],
      );
    }
    // Its manifest and top folder as this compile leaves them, before anyone else can see them.
    carries[0].sealed(folder);
    const replaced = await swapIn(out, folder, { link, aside });
    placed = true;
    if (replaced !== undefined) await keepPrevious(replaced, home, carries, folder);
    else {
      // No output to keep yet: the kept folder starts with the carried files alone.
      mkdirSync(first);
      await keepPrevious(first, home, carries, folder);
    }
    return result;
  } finally {
    carries[0].close();
    await Promise.all([writer.stop(), helper.stop()]);
    for (const leftover of [...(placed ? [] : [folder]), staging, link, aside, first]) await rm(leftover, { recursive: true, force: true });
  }
}
