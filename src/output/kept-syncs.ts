/**
 * Syncs a recompile takes from the output as they are, neither planned nor emitted again.
 *
 * The output's record says, for each sync of its manifest.json, the hash of its inputs, where it
 * is written, its files and where its entry is in manifest.json (a recompile takes the entry's
 * text as it is); a sync whose hash, file and line are what this compile would write has the
 * same files (the hash covers its definition, everything it references and the compile's
 * options; the compiler is the same, `compilerStamp`). What is not trusted is the output
 * itself: a file edited, replaced or removed since it was written. So the compile that writes
 * an output records each of its files' identity (inode, size, modification and change times,
 * as git's index does) in a file carried to the next compile (a `Carry`, kept beside the output,
 * not in it); the next takes a sync only when the manifest and every file of the sync are
 * still exactly those recorded. Reading the files back instead would cost as much as writing
 * them. A change time cannot be set back, so an edit, even one that restores the modification
 * time, is seen. The files are verified by the file system threads as they put them in the new
 * output (src/output/file-system-thread.ts), with the lstat they make anyway; a sync one of whose
 * files they find otherwise is emitted again, in a second pass that verifies here (`again`).
 *
 * The record also says what the output was compiled from (`BuildInputs`): a compile of the
 * very same inputs finds its output already there (`unchanged`) and does nothing but verify it.
 */
import { closeSync, fstatSync, lstatSync, readdirSync, readFileSync, readSync, statSync, type Dirent, type Stats } from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { textHash } from '../hash.js';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KeptEntry, KeptSummary, ManifestSource, ManifestSync, SyncSummary } from '../contract/manifest.js';
import type { PlacedEntry } from '../emit/manifest.js';
import { isDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { Outline } from '../check/project.js';
import { currentOutput, existingHome, lockOutput, openRegularFile, readRegularFile, type Carry } from './kept-output.js';
import { comparedBelow, identityOf } from './file-system-thread.js';

/**
 * What a file (or with `folder`, a folder) is, recorded when written: inode, size, modification
 * and change times; undefined when it is not one. A folder's times change when an entry is
 * made, removed or renamed in it.
 */
function identity(path: string, folder = false): string | undefined {
  let s: Stats;
  try {
    s = lstatSync(path);
  } catch {
    return undefined;
  }
  return (folder ? s.isDirectory() : s.isFile()) ? identityOf(s) : undefined;
}

export { textHash };

/**
 * What a compile's output was made from, besides the compiler: `key` hashes the project's
 * files (each one's name, where it is on disk, and `textHash` of its text) and the compile's
 * options, as the caller reads them; `dbt` is every dbt artifact the check read, by path, with
 * its `textHash` (null: it could not be read), which `key` cannot hold since the files decide
 * which are read; `diagnostics` are the check's (its warnings), shown again by a compile that
 * finds the output unchanged.
 */
export interface BuildInputs {
  key: string;
  dbt: [string, string | null][];
  diagnostics: Diagnostic[];
  /** What the check knew of the project's files but their trees, and the options it compiled with: where the next compile's check resumes (src/check/project.ts). */
  outline?: { options: string; files: Outline };
}

/** The key of `BuildInputs`: the project's files (name, path on disk, text) and the options that change what a compile writes. */
export function inputsKey(files: readonly { name: string; path: string; text: string }[], options: object): string {
  return hash('sha256', JSON.stringify([options, files.map((f) => [f.name, f.path, textHash(f.text)])]));
}

/** The entries of `folder` that are folders, not links to one; none when it cannot be listed. */
function realFolders(folder: string): Set<string> {
  try {
    return new Set(
      readdirSync(folder, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name),
    );
  } catch {
    return new Set();
  }
}

/** The text of a file as a dbt artifact is read, or undefined. */
function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const require = createRequire(import.meta.url);

/**
 * The compiler itself: every file of its code (src/ or dist/; not types nor source maps),
 * templates, dialects and schemas by name, size and modification time, and the versions of the
 * packages that write its text.
 * The package's version alone does not change when its code does (a checkout, a local build).
 */
function stampOf(): string {
  const root = new URL('../../', import.meta.url);
  const lines: string[] = [];
  const walk = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      // Types and source maps change nothing the compiler does.
      else if (e.isFile() && !e.name.endsWith('.d.ts') && !e.name.endsWith('.map')) {
        const s = statSync(path);
        lines.push(`${path} ${s.size} ${s.mtimeMs}`);
      }
    }
  };
  // This module's folder's parent: src/ under the tests, dist/ built (the bundled CLI's chunks are in dist/bin/).
  walk(fileURLToPath(new URL('../', import.meta.url)));
  for (const folder of ['templates', 'dialects', 'schemas']) walk(fileURLToPath(new URL(folder, root)));
  for (const pkg of ['sql-formatter', 'handlebars']) lines.push(`${pkg} ${(require(`${pkg}/package.json`) as { version: string }).version}`);
  return hash('sha256', lines.join('\n'));
}

let stamp: string | undefined;
export const compilerStamp = (): string => (stamp ??= stampOf());

/** The record last loaded: its text, digest and parse (never changed once parsed). */
let lastRead: { text: string; digest: string; data: unknown } | undefined;
/** Records read by this process: a record's digest is its number (a check and the takes it permits are of one process). */
let reads = 0;

/** How an entry of manifest.json's `syncs` ends, and nothing else in the manifest does (`JSON.stringify(manifest, null, 2)`). */
const entryClose = '\n    }';

/** A key's line of an entry as `JSON.stringify(manifest, null, 2)` writes it, after the line break that ends the line before. */
const entryLine = (key: string, value: string | number): string => `      ${JSON.stringify(key)}: ${JSON.stringify(value)},\n`;

const closeBytes = Buffer.from(entryClose);

/** Where the needles `isEntryOf` looks for are encoded, reused (UTF-8 takes at most 3 bytes a UTF-16 unit). */
let scratch = Buffer.allocUnsafe(1 << 16);

/** `text` encoded as UTF-8 at the start of `scratch`; where it ends there. */
function encode(text: string): number {
  if (text.length * 3 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(2 * scratch.length, text.length * 3));
  return scratch.write(text, 0);
}

/**
 * Whether `entry`, the bytes of the manifest the record places, are one whole entry
 * of manifest.json and this sync's, saying what the record says of its files, input hash, file
 * and line: the record is trusted no further than the manifest it describes, whose identity is
 * checked. Each line as `JSON.stringify(manifest, null, 2)` writes an entry's own (6 spaces in:
 * what it nests is deeper): its name first, and its one closing line (JSON strings hold no line
 * break) last, so a range that ends inside the entry or runs on over the next is none. Only
 * UTF-8 is an entry (a range that cuts a character is none); then the bytes hold a text as the
 * text's UTF-8 holds another's (the needles are JSON, with no lone surrogate), so they are
 * compared as bytes, not decoded: a recompile checks every entry it takes, and decoding 21 MB
 * of them took most of that.
 */
export function isEntryOf(entry: Uint8Array, sync: KeptSummary): boolean {
  const bytes = Buffer.from(entry.buffer, entry.byteOffset, entry.byteLength);
  if (!isUtf8(bytes)) return false;
  const head = encode(`{\n${entryLine('name', sync.name)}`);
  if (bytes.length < head || bytes.compare(scratch, 0, head, 0, head) !== 0) return false;
  if (bytes.indexOf(closeBytes) !== bytes.length - closeBytes.length) return false;
  const files = sync.files.length === 0 ? '[]' : `[\n${sync.files.map((f) => `        ${JSON.stringify(f)}`).join(',\n')}\n      ]`;
  // After the line break that ends the name's line.
  const from = head - 1;
  const where = encode(`\n${entryLine('file', sync.file)}${entryLine('line', sync.line)}`);
  if (bytes.indexOf(scratch.subarray(0, where), from) === -1) return false;
  const what = encode(`\n      "files": ${files},\n${entryLine('inputHash', sync.inputHash)}`);
  return bytes.indexOf(scratch.subarray(0, what), from) !== -1;
}

/** How much of the output's manifest is read at a time. */
const windowSize = 1 << 20;

/**
 * The output's manifest.json, open while a compile runs, read a window at a time into memory
 * reused: its entries are verified as they are taken, in its order, and read again as the new
 * manifest is written (`KeptBytes`). Reading 21 MB whole into new memory cost more than
 * everything else done with it (memory is slow to touch anew on some machines). Taken out of
 * order (syncs not taken by name order), it is read whole after a few windows.
 */
class ManifestWindow implements ManifestSource {
  private window: Buffer;
  /** The part of the file the window holds: [start, end). */
  private start = 0;
  private end = 0;
  /** Windows read before the last one: out of order. */
  private backwards = 0;

  private constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly recorded: string,
  ) {
    this.window = Buffer.allocUnsafe(Math.min(size, windowSize));
  }

  /** The manifest at `path` when it is a regular file (not a link) with the recorded identity; else undefined. */
  static open(path: string, recorded: string): ManifestWindow | undefined {
    const file = openRegularFile(path);
    if (file && identityOf(file.stat) === recorded) return new ManifestWindow(file.fd, file.stat.size, recorded);
    if (file) closeSync(file.fd);
    return undefined;
  }

  /** Whether it is small enough to be held whole: then its entries are handed on as bytes. */
  get small(): boolean {
    return this.size < comparedBelow;
  }

  holds(start: number, end: number): boolean {
    return start >= this.start && end <= this.end;
  }

  bytes(start: number, end: number): Buffer {
    // A small file is read whole, once: the bytes handed on are never overwritten.
    if (!this.holds(start, end) && !(this.small && this.end > 0)) {
      // Read from `start` on; the whole file once it was read back more than a few times (out of order, a window each sync would thrash).
      if (start < this.start) this.backwards++;
      const whole = this.small || this.backwards > 8;
      const from = whole ? 0 : start;
      const length = whole ? this.size : Math.max(end - from, Math.min(this.size - from, windowSize));
      if (this.window.length < length) this.window = Buffer.allocUnsafe(length);
      let read = 0;
      while (read < length) {
        const n = readSync(this.fd, this.window, read, length - read, from + read);
        if (n === 0) break;
        read += n;
      }
      [this.start, this.end] = [from, from + read];
    }
    // A range past the end of the file: none of it is an entry.
    if (!this.holds(start, end)) return Buffer.alloc(0);
    return this.window.subarray(start - this.start, end - this.start);
  }

  unchanged(): void {
    let now: string | undefined;
    try {
      now = identityOf(fstatSync(this.fd));
    } catch {
      // Not known: changed.
    }
    if (now !== this.recorded) throw new Error('the output changed while it was being compiled: manifest.json');
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A file's name in a sync's own folder: neither `.`, `..` nor a path. */
const isFileName = (file: unknown): boolean =>
  typeof file === 'string' && file !== '' && file !== '.' && file !== '..' && !file.includes('/') && !file.includes('\\');

/**
 * A sync of the record, flat (a record of 10,001 syncs parses in a fifth of the time it takes as
 * objects): its name, kind, mode, destination's name and type, input hash, file and line; where
 * its entry is in manifest.json (bytes [start, end)); the identities (`identityOf`) of its folder,
 * of its folder in the output before (`left`: the folder the next compile fills) as the compile
 * that filled it left it, when the sync was taken as it was since (its files the same names), and
 * of its plan.json; then each other file of its folder (the manifest's `files`), by its name
 * there, and its identity. An identity is '' where there was none to record.
 */
export type RecordedSync = [
  name: string,
  kind: string,
  mode: string,
  destination: string,
  type: string,
  inputHash: string,
  file: string,
  line: number,
  start: number,
  end: number,
  folder: string,
  left: string,
  plan: string,
  ...files: string[],
];

/** Where `RecordedSync` holds each part: the files' names and identities follow `files`. */
export const slot = { name: 0, inputHash: 5, file: 6, line: 7, start: 8, end: 9, folder: 10, left: 11, plan: 12, files: 13 } as const;

const isRecordedSync = (r: unknown): r is RecordedSync =>
  Array.isArray(r) &&
  r.length >= slot.files &&
  (r.length - slot.files) % 2 === 0 &&
  r.every((v, i) => (i === slot.line || i === slot.start || i === slot.end ? Number.isInteger(v) : typeof v === 'string')) &&
  (r[slot.start] as number) < (r[slot.end] as number) &&
  r.every((v, i) => i < slot.files || (i - slot.files) % 2 === 1 || isFileName(v));

/** A recorded sync in brief, its files as paths in the output (the manifest's `files`). */
function summaryOf(r: RecordedSync): KeptSummary {
  const [name, kind, mode, destination, type, inputHash, file, line] = r;
  const files: string[] = [];
  for (let i = slot.files; i < r.length; i += 2) files.push(`${name}/${r[i]}`);
  return { name, kind, mode, destination: { name: destination, type }, files, inputHash, file, line } as KeptSummary;
}

/** The files of a recorded sync's folder, plan.json first, each by its name there with its recorded identity. */
function filesOf(r: RecordedSync): [string, string][] {
  const files: [string, string][] = [['plan.json', r[slot.plan]]];
  for (let i = slot.files; i < r.length; i += 2) files.push([r[i] as string, r[i + 1] as string]);
  return files;
}

/** A sync emitted anew as the record holds it (no `left`), from its summary, where its entry is, and its folder's and files' identities (plan.json's first): what `summaryOf` and `filesOf` read. */
function recordedSyncOf(sync: KeptSummary, [start, end]: readonly [number, number], folder: string, files: readonly [string, string][]): RecordedSync {
  const [[, plan], ...rest] = files as [[string, string], ...[string, string][]];
  const { name, kind, mode, destination, inputHash, file, line } = sync;
  return [name, kind, mode, destination.name, destination.type, inputHash, file, line, start, end, folder, '', plan, ...rest.flat()];
}

/**
 * The record of an output's files, carried to the next compile; and, while a compile runs,
 * which syncs of the output it replaces it may take as they are (`take`).
 */
export class KeptSyncs implements Carry {
  readonly name = '.syncwright-syncs.json';
  /** The output the loaded record describes: its folder, the identities of its manifest and top folder, what it was compiled from, its syncs. */
  private from:
    | {
        folder: string;
        manifest: string;
        top: string;
        inputs: BuildInputs | undefined;
        syncs: RecordedSync[];
        /** By name, made when a sync is first looked for. */
        byName?: Map<string, RecordedSync>;
      }
    | undefined;
  /** The loaded record's digest: a sync is taken by name only from the record a check resumed from (the same text, read once). */
  private digest: string | undefined;
  /** The output's manifest.json, opened when a sync is first taken (null: it is not as recorded). */
  private manifest: ManifestWindow | null | undefined;
  /** The new output's manifest's entries, in order, and where each is in it. */
  private placed: readonly PlacedEntry[] = [];
  /** The names of the real folders (not links) at the top of the output the record describes, listed when a sync is first taken. */
  private realFolders: Set<string> | undefined;
  /** The syncs taken from the output as they are. */
  private taken = new Set<string>();
  /** The files the file system threads put in the new output, by path in it, each with its identity then (`putIn`): any other of a taken sync is the very file recorded. */
  private readonly put = new Map<string, string>();
  /** The sync folders a file system thread put a file into (`putIn`). */
  private readonly putInto = new Set<string>();
  /** The sync folders of the new output as the file system threads left them, by name (`putIn`). */
  private readonly folders = new Map<string, string>();
  /** The new output's manifest and top folder as the compile left them (`sealed`). */
  private seal: { manifest: string; top: string } | undefined;
  /** Whether `take` verifies a sync's files itself, rather than leaving it to the file system threads (`again`). */
  private verifyFiles = false;

  /** `inputs`: what the new output is compiled from, recorded with it (none: a compile of the same inputs is not recognised). */
  constructor(private readonly inputs?: BuildInputs) {}

  /** `output`: the folder the output links to now; the record is used only when it describes that very folder and was made by this compiler. */
  load(text: string, output: string | undefined): void {
    if (output === undefined) return;
    try {
      // A recompile loads the record twice, before its check and under the output's lock: the second time it is mostly the very same text (`readRegularFile`).
      const again = lastRead?.text === text ? lastRead : undefined;
      const digest = again?.digest ?? `record ${++reads}`;
      const data = (again?.data ?? JSON.parse(text.slice(text.indexOf('\n') + 1))) as {
        compiler?: unknown;
        output?: unknown;
        manifest?: unknown;
        top?: unknown;
        inputs?: BuildInputs;
        syncs?: unknown;
      };
      if (data.compiler !== compilerStamp() || data.output !== basename(output) || typeof data.top !== 'string') return;
      if (typeof data.manifest !== 'string' || data.manifest !== identity(join(output, 'manifest.json'))) return;
      // What is shown again (the summary, the diagnostics) is used only when it has the shape this compiler writes.
      const inputs =
        typeof data.inputs?.key === 'string' &&
        Array.isArray(data.inputs.dbt) &&
        Array.isArray(data.inputs.diagnostics) &&
        data.inputs.diagnostics.every(isDiagnostic)
          ? data.inputs
          : undefined;
      if (!Array.isArray(data.syncs) || !data.syncs.every(isRecordedSync)) return;
      this.from = { folder: output, manifest: data.manifest, top: data.top, inputs, syncs: data.syncs };
      this.digest = digest;
      lastRead = { text, digest, data };
    } catch {
      // Not a record of ours, or not of this output: every sync is emitted.
    }
  }

  /** The entry of a sync the output holds as this compile would write it, every file as it was written; else undefined. */
  take(wanted: Pick<ManifestSync, 'name' | 'inputHash' | 'file' | 'line'>): KeptEntry | undefined {
    const r = this.recordedSync(wanted.name);
    if (!r || r[slot.inputHash] !== wanted.inputHash || r[slot.file] !== wanted.file || r[slot.line] !== wanted.line) return undefined;
    return this.whole(r);
  }

  /**
   * The entry of sync `name` as the output holds it, every file as it was written, when the
   * record loaded is the one whose digest is `digest`: the record a check resumed from, which
   * found the sync unchanged (src/check/project.ts). Else undefined.
   */
  takeUnchanged(name: string, digest: string): KeptEntry | undefined {
    const sync = this.digest === digest ? this.recordedSync(name) : undefined;
    return sync && this.whole(sync);
  }

  private recordedSync(name: string): RecordedSync | undefined {
    if (!this.from) return undefined;
    this.from.byName ??= new Map(this.from.syncs.map((r) => [r[slot.name], r]));
    return this.from.byName.get(name);
  }

  /** The sync with its manifest entry's text when its folder and every file of it are as they were written; then it is taken. */
  private whole(r: RecordedSync): KeptEntry | undefined {
    const { folder, manifest } = this.from!;
    // The manifest as the record says it was written (`load` found it so; opened once, under the output's lock).
    if (this.manifest === undefined) this.manifest = ManifestWindow.open(join(folder, 'manifest.json'), manifest) ?? null;
    if (!this.manifest) return undefined;
    const [start, end] = [r[slot.start], r[slot.end]];
    const sync = summaryOf(r);
    const text = this.manifest.bytes(start, end);
    if (!isEntryOf(text, sync)) return undefined;
    // Files in a real folder of the output: lstat follows a link on the way. One listing tells every folder of the output (not one lstat each).
    this.realFolders ??= realFolders(folder);
    if (!this.realFolders.has(sync.name)) return undefined;
    if (this.verifyFiles) for (const [file, recorded] of filesOf(r)) if (identity(join(folder, sync.name, file)) !== recorded) return undefined;
    this.taken.add(sync.name);
    // A small manifest is held whole, in memory never reused: its bytes. A large one is read again as the new one is written.
    return { sync, text: this.manifest.small ? text : { start, end, from: this.manifest } };
  }

  /** Closes the output's manifest, once the new one is written. */
  close(): void {
    this.manifest?.close();
    this.manifest = undefined;
  }

  /**
   * For the second pass of a compile whose file system threads found a taken sync's file
   * otherwise than recorded: nothing is taken yet, and each sync's files are verified here
   * before it is, so that one found otherwise is emitted (src/output/artifact-tree.ts). A file a
   * thread put in anew has another change time since, and its sync is emitted too.
   */
  again(): void {
    this.taken = new Set();
    this.verifyFiles = true;
  }

  /**
   * The files the file system threads put into the new output (an emitted sync's, and a taken
   * sync's linked or copied anew), with their identities then: the other files of a taken sync
   * are the very files found as recorded, so their identity is the recorded one (`save`). And the
   * sync folders they finished, with their identities then. Recorded rather than read once the
   * output is in place: a file kept or linked is also the replaced output's, which may be edited
   * while the compile runs, and a folder made anew in the meantime would be recorded with the
   * files of the one it replaced.
   */
  putIn(files: Iterable<[string, string]>, folders: Iterable<[string, string]>): void {
    for (const [path, id] of files) {
      this.put.set(path, id);
      // A sync's file (`<sync>/<file>`), not the manifest.
      const slash = path.indexOf('/');
      if (slash > 0) this.putInto.add(path.slice(0, slash));
    }
    for (const [name, id] of folders) this.folders.set(name, id);
  }

  /**
   * The identities of the new output `output`'s manifest and top folder, taken before it is
   * swapped in: what is recorded is what this compile wrote, not an edit made after.
   */
  sealed(output: string): void {
    // A manifest a thread put in (kept or linked, it may be the replaced output's too) as the thread found it; one the main thread wrote anew, now.
    this.seal = { manifest: this.put.get('manifest.json') ?? identity(join(output, 'manifest.json')) ?? '', top: identity(output, true) ?? '' };
  }

  /**
   * The output's syncs in brief and the check's diagnostics when the output is what a compile
   * of inputs `key` writes: it was compiled from the same inputs (the dbt artifacts read are
   * read again), and its manifest and every file and folder of it are as they were written (a
   * folder's identity changes when an entry is made, removed or renamed in it). Else undefined.
   */
  unchanged(key: string): { syncs: SyncSummary[]; diagnostics: Diagnostic[] } | undefined {
    const from = this.from;
    if (from?.inputs?.key !== key) return undefined;
    for (const [path, recorded] of from.inputs.dbt) {
      const text = readText(path);
      if ((text === undefined ? null : textHash(text)) !== recorded) return undefined;
    }
    // The record has every folder and file of the output (`save`): one made, removed or renamed changes the identity of the folder it is in.
    if (identity(join(from.folder, 'manifest.json')) !== from.manifest || identity(from.folder, true) !== from.top) return undefined;
    // And its syncs are the output's folders, one listing tells (a record with one left out would leave that folder unverified).
    const folders = realFolders(from.folder);
    if (folders.size !== from.syncs.length || !from.syncs.every((r) => folders.has(r[slot.name]))) return undefined;
    for (const r of from.syncs) {
      const name = r[slot.name];
      if (identity(join(from.folder, name), true) !== r[slot.folder]) return undefined;
      for (const [file, recorded] of filesOf(r)) if (identity(join(from.folder, name, file)) !== recorded) return undefined;
    }
    return { syncs: from.syncs.map(summaryOf), diagnostics: from.inputs.diagnostics };
  }

  /** What the loaded record's output was compiled from, when the record is of this output and this compiler. */
  get recorded(): BuildInputs | undefined {
    return this.from?.inputs;
  }

  /**
   * A taken sync's folder as a batch of the file system threads has it (`Batch`): its name, its
   * identity as the record has it, and that of the folder of that name the compile fills (the
   * output before) as the compile that filled it left it, holding these very names, when known;
   * then each file, plan.json first, by its name there, with -1 and its identity as the record
   * has it (`identityOf`), which the threads verify.
   */
  takenFolder(name: string): (string | number)[] {
    const r = this.recordedSync(name);
    if (!r) throw new Error(`${name} was taken but is not recorded`);
    const entry: (string | number)[] = [name, r[slot.folder], r[slot.left], 'plan.json', -1, r[slot.plan]];
    for (let i = slot.files; i < r.length; i += 2) entry.push(r[i] as string, -1, r[i + 1] as string);
    return entry;
  }

  /** The loaded record's digest, when it is a record of this output and this compiler (`takeUnchanged`). */
  get recordDigest(): string | undefined {
    return this.from && this.digest;
  }

  /** The new output's manifest's entries, in order, each with where it is in the manifest's text: its syncs' files, and what the next compile takes, are recorded (`save`). */
  written(placed: readonly PlacedEntry[]): void {
    this.placed = placed;
  }

  /** The record of the new output `output`: its manifest's and every sync's files and folders as the compile put them in (`putIn`, `sealed`), its syncs, and what it was compiled from. */
  save(output: string): string {
    const syncs = this.placed.map(({ sync, at }): RecordedSync => {
      const { name } = sync;
      // A taken sync's summary is the record's (`summaryOf`), its files the recorded ones: each still that very file unless a thread put it in anew.
      const was = this.taken.has(name) ? this.recordedSync(name) : undefined;
      if (was) {
        // What `recordedSyncOf` makes of it, made from the recorded sync in place (10,001 of them a recompile). The replaced
        // output's folder of a sync taken as it was holds the names it holds here, as the compile that filled it left it: the
        // next compile fills it (`takenFolder`).
        const r = was.slice() as RecordedSync;
        [r[slot.start], r[slot.end], r[slot.folder], r[slot.left]] = [at[0], at[1], this.folders.get(name) ?? '', was[slot.folder]];
        if (this.putInto.has(name)) {
          r[slot.plan] = this.put.get(`${name}/plan.json`) ?? r[slot.plan];
          for (let i = slot.files; i < r.length; i += 2) r[i + 1] = this.put.get(`${name}/${r[i]}`) ?? (r[i + 1] as string);
        }
        return r;
      }
      const files = ['plan.json', ...sync.files.map((path) => path.slice(name.length + 1))];
      return recordedSyncOf(
        sync,
        at,
        this.folders.get(name) ?? '',
        // A file not put in by a thread is recorded as none: the next compile writes it.
        files.map((file) => [file, this.put.get(`${name}/${file}`) ?? '']),
      );
    });
    const record = {
      compiler: compilerStamp(),
      output: basename(output),
      manifest: this.seal?.manifest ?? '',
      top: this.seal?.top ?? '',
      syncs,
    };
    // The first line holds the inputs' key alone: a compile of other inputs reads no further (`unchangedBuild`).
    return `${JSON.stringify(this.inputs?.key ?? null)}\n${JSON.stringify({ ...record, ...(this.inputs ? { inputs: this.inputs } : {}) })}`;
  }
}

/**
 * The syncs of the build folder `outDir` in brief, and the diagnostics of the check that made it,
 * when the folder is what a compile of inputs `key` (`BuildInputs`) writes: the last compile
 * into it was of the same inputs, by the same compiler, and every file and folder of it is
 * as that compile wrote it (src/output/kept-syncs.ts). Then a compile has nothing to do.
 * Undefined otherwise, and while another compile is writing the folder. Nothing is written.
 */
export function unchangedBuild(outDir: string, key: string): { syncs: SyncSummary[]; diagnostics: Diagnostic[] } | undefined {
  return withRecord(outDir, (kept) => kept.unchanged(key), `${JSON.stringify(key)}\n`);
}

/**
 * What the output of `outDir` was compiled from (`BuildInputs`), and the hash of the record
 * that says so (`KeptSyncs.takeUnchanged`), when the output is there as the compile that
 * recorded it left it (its manifest unchanged). Nothing is written.
 */
export function previousInputs(outDir: string): { inputs: BuildInputs; digest: string } | undefined {
  return withRecord(outDir, (kept) => {
    const { recorded: inputs, recordDigest: digest } = kept;
    return inputs && digest !== undefined ? { inputs, digest } : undefined;
  });
}

/**
 * `read` given the record of the output `outDir`, loaded, under the output's lock; undefined when
 * there is none, or when it does not start with `head` (then only that many bytes of it are
 * read: a record is megabytes).
 */
function withRecord<T>(outDir: string, read: (kept: KeptSyncs) => T | undefined, head = ''): T | undefined {
  const out = resolve(outDir);
  const home = existingHome(out);
  if (home === undefined) return undefined;
  let unlock: () => void;
  try {
    unlock = lockOutput(home, basename(out));
  } catch {
    return undefined;
  }
  try {
    const output = currentOutput(out, home);
    const kept = new KeptSyncs();
    const path = join(home, 'previous', kept.name);
    if (output === undefined || (head !== '' && readRegularFile(path, Buffer.byteLength(head)) !== head)) return undefined;
    const record = readRegularFile(path);
    if (record === undefined || !record.startsWith(head)) return undefined;
    kept.load(record, output);
    return read(kept);
  } finally {
    unlock();
  }
}
