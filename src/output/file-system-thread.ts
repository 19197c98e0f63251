/**
 * The two file system threads that fill a build folder (src/output/artifact-tree.ts), and the
 * batches of files they are handed.
 */
import { Worker } from 'node:worker_threads';

/**
 * Folders of the tree, each [folder, recorded, left, name, start, end, name, start, end, ...]
 * (folder '.' is the top of the tree): each file's content is bytes[start, end), or, where start
 * is -1, the file of that name in the current output's folder, as it is (a sync taken from the
 * output unchanged, src/output/kept-syncs.ts), whose identity the record gives as `end`
 * (`identityOf`); `recorded` is the identity the record gives that folder of the current output
 * ('': none), `left` that of the reused folder of that name as the compile that filled it left
 * it, holding the names this folder has ('': not known).
 * Both threads get the same
 * batch, so its memory is shared rather than copied: the files' bytes (a part of the ring the
 * main thread reuses, src/output/artifact-tree.ts), and one slot per folder that the thread
 * taking it sets: `taken`, then `written` once its files are in (that part of the ring may then
 * be reused).
 */
export interface Batch {
  bytes: SharedArrayBuffer;
  claims: SharedArrayBuffer;
  folders: (string | number)[][];
}

/** A folder's slot in `Batch.claims`: free, taken by a thread, its files written. */
export const taken = 1;
export const written = 2;

/**
 * `WorkerData.flow`: [0] counts the folders written (waited on by a main thread that needs its
 * part of the ring back), [1] is set when a thread has failed (nothing more will be written).
 */
export const progressSlot = 0;
export const failedSlot = 1;

/**
 * What a file is, as the compile that wrote it recorded it: inode, size, modification and change
 * times (src/output/kept-syncs.ts). Also part of the file system threads' source.
 */
export function identityOf(s: Pick<import('node:fs').Stats, 'ino' | 'size' | 'mtimeMs' | 'ctimeMs'>): string {
  return `${s.ino} ${s.size} ${s.mtimeMs} ${s.ctimeMs}`;
}

/**
 * Files below this size that a folder being reused or the current output already holds are read
 * back and compared, and kept or linked when the same; bigger ones are written (reading one
 * back costs more than writing it: 21 MB in tmpfs, 120 ms against 5). Also part of the file
 * system threads' source.
 */
export const comparedBelow = 1 << 20;

/** A folder, not a link to one. Also part of the file system threads' source. */
export function isFolder(fs: Pick<typeof import('node:fs'), 'lstatSync'>, path: string): boolean {
  try {
    return fs.lstatSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * What a file system thread is started with: the folder it fills (`reused`: the kept previous
 * output, whose folders, not links, were `keptNames` as the compile started: nothing but these
 * threads changes them), the current output to link unchanged files from,
 * the compile's tag (for names of its own), and the helper's staging folder.
 */
interface WorkerData {
  temp: string;
  previous: string | undefined;
  reused: true | undefined;
  keptNames: string[];
  tag: string;
  flow: SharedArrayBuffer;
  staging?: string;
}

/**
 * The code of the file system threads. It runs from the source text of this function and
 * `isFolder` (so the same code runs from src/ under the tests and from the bundled CLI): it
 * uses nothing else of this module, only its own code, its arguments and globals.
 *
 * Each thread takes the folders of each Batch sent to it as it comes (the helper is sent only
 * batches of taken syncs that way). The helper (workerData.staging set) is then told
 * { help, batches }, the batches the writer had not finished then, and takes their folders
 * from the last one back until it meets one the writer took. Other messages:
 * { end }, answered once every batch before it is written; { remove: [path, ...] }. Answers:
 * { ok, putIn, changed, folders } (each since the last answer: `Done`), or the first error
 * { error, code }.
 *
 * Creating and freeing tens of thousands of inodes is most of a recompile's file system time
 * (on ext4 without a journal, each new inode also scans past every one freed in the last
 * minutes), so a compile makes as few as it can. When `reused` is set, `temp` is the output
 * before last, brought up to date in place: its folders are kept (under their exact names), a
 * file that already holds the new bytes is left as it is, anything else in it is moved aside
 * and removed once every file is in. A file the current output
 * (workerData.previous, absent when there is none) holds byte for byte is hard-linked from it
 * rather than written. A file is kept or linked only when it is a regular file that nothing
 * but the two outputs links to, in real folders: the output never shares a file with
 * anything else, and nothing is written through a symbolic link.
 *
 * A file of a taken sync is put in only when it is as recorded (`identityOf`): the lstat that
 * finds it is the one that verifies it, so the main thread does not look at the output's tens of
 * thousands of files a second time. Where one is not, its folder is left unfinished and named in
 * `changed`: the compile emits that sync again (src/output/artifact-tree.ts). A reused folder is
 * listed for names the sync no longer has, unless it is as the compile that filled it left it
 * (its identity, which an entry made, removed or renamed in it changes) and that compile gave it
 * the names it has now (`left`): a sync taken as it was, a listing less for each.
 */
function fileSystemThread(fs: typeof import('node:fs'), { join }: typeof import('node:path'), threads: typeof import('node:worker_threads')): void {
  const { parentPort } = threads;
  const { temp, previous, staging, reused, keptNames, tag } = threads.workerData as WorkerData;
  const flow = new Int32Array((threads.workerData as WorkerData).flow);
  const keptFolders = new Set(keptNames);
  let failure: { error: string; code?: string } | undefined;
  // Said to the main thread at once: it may be waiting for folders this thread will not write.
  // Slots and states as `failedSlot`, `progressSlot`, `taken` and `written` name them (this code cannot import them).
  const progress = (): void => {
    Atomics.add(flow, 0, 1);
    Atomics.notify(flow, 0);
  };
  const fail = (e: unknown): void => {
    failure ??= e instanceof Error ? { error: e.message, code: (e as NodeJS.ErrnoException).code } : { error: String(e) };
    Atomics.store(flow, 1, 1);
    progress();
  };

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

  /** Hard-links `from` as `to`; false where files cannot be linked (the caller writes or copies it instead). */
  const linked = (from: string, to: string): boolean => {
    try {
      fs.linkSync(from, to);
      return true;
    } catch {
      return false;
    }
  };

  /** `now` is still the file `checked` describes, as it was: a link changes its change time, an edit its modification time. */
  const unedited = (now: import('node:fs').Stats, checked: import('node:fs').Stats): boolean =>
    now.ino === checked.ino && now.dev === checked.dev && now.size === checked.size && now.mtimeMs === checked.mtimeMs;

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
  const discarded = join(temp, `.syncwright-discarded-${tag}-${threads.threadId}`);
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
   * the folder `old` of the current output when that holds it, else written (one of
   * `comparedBelow` bytes or more is not read back to be compared). Returns the file's identity
   * then, which the record keeps: a file kept or linked is also the current output's, which may
   * be edited while the compile runs.
   */
  const put = (dir: string, reuse: boolean, old: string | undefined, name: string, bytes: Buffer): string => {
    const target = join(dir, name);
    const compared = bytes.length < comparedBelow;
    if (reuse) {
      const kept = compared ? holding(target, bytes) : undefined;
      if (kept && (kept.nlink === 1 || (kept.nlink === 2 && old !== undefined && sameFile(join(old, name), kept)))) return identityOf(kept);
      discard(target);
    }
    const same = compared && old !== undefined ? holding(join(old, name), bytes) : undefined;
    if (same?.nlink === 1 && linked(join(old!, name), target)) {
      const now = fs.lstatSync(target);
      // Edited since it was compared: written below instead.
      if (unedited(now, same)) return identityOf(now);
      discard(target);
    }
    fs.writeFileSync(target, bytes, { flag: 'wx' });
    return identityOf(fs.lstatSync(target));
  };

  // The current output's device: a file of the reused folder on it with a file's inode is that file.
  const previousDevice = previous !== undefined && isFolder(fs, previous) ? fs.lstatSync(previous).dev : undefined;

  /**
   * Puts the current output's file `name` of folder `old` into `dir` as it is, when it is still
   * the file the record describes (`recorded`, its `identityOf`): kept when the reused `dir`
   * holds that very file, else linked, or copied where the file has other links. When the current
   * output's folder is as recorded (`unmoved`: no entry of it made, removed or renamed since), its
   * entry `name` is the recorded inode, so the reused folder's file with that inode, on the
   * current output's device, and two links is that very file, and the current output's is not
   * looked at: its times are the file's. 'changed' when the file is not as recorded (edited,
   * replaced, removed): nothing is put in.
   */
  const reuseFile = (
    dir: string,
    reuse: boolean,
    old: () => string | undefined,
    unmoved: () => boolean,
    name: string,
    recorded: string,
  ): 'kept' | 'changed' | { renewed: string } => {
    const target = join(dir, name);
    if (reuse && previousDevice !== undefined && unmoved()) {
      // The recorded identity holds the inode: any other file is looked for in the output.
      const found = fs.lstatSync(target, { throwIfNoEntry: false });
      if (found?.isFile() && found.dev === previousDevice && found.nlink === 2 && identityOf(found) === recorded) return 'kept';
    }
    const from = old();
    const source = from === undefined ? undefined : fs.lstatSync(join(from, name), { throwIfNoEntry: false });
    if (!source?.isFile() || identityOf(source) !== recorded) return 'changed';
    if (reuse) {
      if (source.nlink === 2 && sameFile(target, source)) return 'kept';
      discard(target);
    }
    // Put in as the file verified, or 'changed' when it was edited meanwhile: its identity then is what the record keeps.
    if (source.nlink === 1 && linked(join(from!, name), target)) {
      const now = fs.lstatSync(target);
      return unedited(now, source) ? { renewed: identityOf(now) } : 'changed';
    }
    fs.copyFileSync(join(from!, name), target, fs.constants.COPYFILE_EXCL);
    const after = fs.lstatSync(join(from!, name), { throwIfNoEntry: false });
    return after && identityOf(after) === recorded ? { renewed: identityOf(fs.lstatSync(target)) } : 'changed';
  };

  /** The files this thread put in, by path in the tree, each with its identity then: a taken sync's files only when put in anew (linked or copied), the others being the very files, untouched. */
  let putIn: [string, string][] = [];
  /** The folders of taken syncs left unfinished: a file of theirs was not as recorded. */
  let changed: string[] = [];
  /** The sync folders this thread finished, each with its identity then. */
  let folders: [string, string][] = [];

  /** Writes folder `i` of a batch (a new one made in `base`, then moved into the tree); false when the other thread took it. */
  const take = (batch: Batch, i: number, base: string): boolean => {
    const claims = new Int32Array(batch.claims);
    if (Atomics.compareExchange(claims, i, 0, 1) !== 0) return false;
    const [folder, recordedFolder, left, ...files] = batch.folders[i]! as [string, string, string, ...(string | number)[]];
    const top = folder === '.';
    const inTree = top ? temp : join(temp, folder);
    const reuse = reused === true && (top || keptFolders.has(folder));
    const fresh = !top && !reuse;
    if (fresh && reused) discard(inTree);
    const dir = fresh ? join(base, folder) : inTree;
    if (fresh) fs.mkdirSync(dir);
    // The current output's folder of that name, looked at when first needed (a file put in from the ring needs none): `old`, when it is a
    // folder; `unmoved`, when it is as recorded (a folder moved out of the output and another made in its place is not).
    let oldFolder: import('node:fs').Stats | undefined | null = null;
    const current = () =>
      oldFolder === null ? (oldFolder = previous === undefined ? undefined : fs.lstatSync(join(previous, folder), { throwIfNoEntry: false })) : oldFolder;
    const old = (): string | undefined => (current()?.isDirectory() ? join(previous!, folder) : undefined);
    let asRecorded: boolean | undefined;
    const unmoved = (): boolean => (asRecorded ??= recordedFolder !== '' && current()?.isDirectory() === true && identityOf(current()!) === recordedFolder);
    // The reused folder as the compile that filled it left it, with these names: nothing else in it (no listing), and no change to it but this thread's.
    const before = reuse && !top && left !== '' ? fs.lstatSync(dir, { throwIfNoEntry: false }) : undefined;
    const untouched = before?.isDirectory() === true && identityOf(before) === left;
    let changedHere = false;
    const names = new Set<string>();
    let whole = true;
    for (let f = 0; f < files.length && whole; f += 3) {
      const name = files[f] as string;
      const start = files[f + 1] as number;
      names.add(name);
      const path = top ? name : `${folder}/${name}`;
      if (start === -1) {
        const found = reuseFile(dir, reuse, old, unmoved, name, files[f + 2] as string);
        if (typeof found === 'object') putIn.push([path, found.renewed]);
        whole = found !== 'changed';
        changedHere ||= found !== 'kept';
      } else putIn.push([path, put(dir, reuse, old(), name, Buffer.from(batch.bytes, start, (files[f + 2] as number) - start))]);
    }
    if (!whole) {
      // Emitted again and sent anew: a new folder is not left in the way, a reused one is brought up to date then.
      changed.push(folder);
      if (fresh) remove(dir);
    } else {
      // Files of the reused folder that the sync no longer has (the top is cleared of stale folders once every folder is in).
      if (reuse && !top && !untouched) for (const name of fs.readdirSync(dir)) if (!names.has(name)) discard(join(dir, name));
      if (dir !== inTree) fs.renameSync(dir, inTree);
      // Its identity as this thread left it: recorded, so that one made anew in its place later is not taken for it (untouched: as found).
      if (!top) folders.push([folder, untouched && !changedHere ? left : identityOf(fs.lstatSync(inTree))]);
    }
    // Its bytes are no longer needed: the main thread may reuse that part of the ring.
    Atomics.store(claims, i, 2);
    progress();
    return true;
  };

  /** Takes folders from the last one back, until one the writer took. */
  const takeFromEnd = (batches: Batch[]): void => {
    for (let b = batches.length - 1; b >= 0; b--) {
      for (let i = batches[b]!.folders.length - 1; i >= 0; i--) if (!take(batches[b]!, i, staging!)) return;
    }
  };

  const help = (batches: Batch[]): void => {
    fs.mkdirSync(staging!);
    takeFromEnd(batches);
    fs.rmdirSync(staging!);
  };

  parentPort!.on('message', (m: Partial<Batch> & { end?: true; help?: Batch[]; remove?: string[] }) => {
    try {
      if (!failure && m.folders) for (let i = 0; i < m.folders.length; i++) take(m as Batch, i, temp);
      if (!failure && m.help) help(m.help);
      if (!failure && m.remove) for (const path of m.remove) removeEntry(path);
    } catch (e) {
      fail(e);
    }
    if (!m.folders) {
      parentPort!.postMessage(failure ?? { ok: true, putIn, changed, folders });
      putIn = [];
      changed = [];
      folders = [];
    }
  });
}

/**
 * What a file system thread did since its last answer: the files it put in (an emitted sync's,
 * and a taken sync's put in anew, linked or copied), by path in the tree, the folders of taken
 * syncs it left unfinished (a file of theirs was not as recorded), and the sync folders it
 * finished; each file and folder with its identity (`identityOf`) then.
 */
export interface Done {
  putIn: [string, string][];
  changed: string[];
  folders: [string, string][];
}

/** A file system thread: messages go in order; `ask` waits for the answer to anything but a batch. */
export class FileSystemThread {
  private readonly worker: Worker;
  private answer: ((answer: Error | Done) => void) | undefined;
  /** Set once the thread has failed or stopped: nothing more will be answered. */
  private gone: Error | undefined;

  constructor(data: WorkerData) {
    const source = `const comparedBelow = ${comparedBelow};\n${String(identityOf)}\n${String(isFolder)}\n(${String(fileSystemThread)})(require('node:fs'), require('node:path'), require('node:worker_threads'))`;
    this.worker = new Worker(source, { eval: true, workerData: data });
    this.worker.on('message', (m: (Done & { ok: true }) | { ok?: undefined; error: string; code?: string }) =>
      this.settle(m.ok ? m : Object.assign(new Error(m.error), { code: m.code })),
    );
    this.worker.on('error', (e) => this.settle((this.gone ??= e)));
    this.worker.on('exit', () => this.settle((this.gone ??= new Error('a file system thread stopped before answering'))));
  }

  private settle(answer: Error | Done): void {
    const to = this.answer;
    this.answer = undefined;
    to?.(answer);
  }

  send(batch: Batch): void {
    this.worker.postMessage(batch);
  }

  /** Resolves once the thread has done what it was asked, with what it did since its last answer (`Done`). */
  ask(message: { end: true } | { help: Batch[] } | { remove: string[] }): Promise<Done> {
    return new Promise((resolve, reject) => {
      if (this.gone) return reject(this.gone);
      this.answer = (answer) => (answer instanceof Error ? reject(answer) : resolve(answer));
      this.worker.postMessage(message);
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

/** Removes files and folders, shared among the threads: the file system's waits overlap. */
export async function removeAll(paths: string[], threads: FileSystemThread[]): Promise<void> {
  await Promise.all(threads.map((t, k) => t.ask({ remove: paths.filter((_, i) => i % threads.length === k) })));
}
