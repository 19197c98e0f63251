/**
 * A project held between checks: every `.sync` file of a folder, checked as `syncwright check`
 * checks it, and after an edit checked again only as far as the edit reaches. The editor's
 * language server keeps one; a compile resumes one from the outline the last compile recorded
 * (`Project.resume`), reading the trees only of the files the change reaches.
 *
 * What an edit of a file reaches: its own definitions; every definition elsewhere that reads
 * a name it defines, defined or may define (the words a broken file's text may define), and,
 * in turn, what reads those; and the definitions elsewhere of the same names (one of them may
 * now be the second, a duplicate). Those are checked again, with what they read: checkProject
 * runs on a slice of the project, given the trees it already has rather than parsing again.
 * A name that would be reported unknown brings every definition but the syncs into the
 * slice, since its "did you mean" hints are chosen among all of them. When the slice would
 * hold most of the project, the whole project is checked.
 *
 * The diagnostics are those of a check of the whole project: `test/lsp-project.test.ts`
 * compares them after random edits.
 */
import { checkParsed, sortDiagnostics } from './check.js';
import { destinationTypes, getDestinationType, syntaxWords } from '../catalog/index.js';
import { resolveValue } from './settings.js';
import { warehouseIdentity } from '../catalog/connection-settings.js';
import type { DbtProjects } from './models.js';
import { indexProject, type SymbolIndex } from './symbols.js';
import { parseFile, parseProject, type ParseResult, type ParsedFile, type SourceText } from '../syntax/parse.js';
import type { Definition, SyncFile } from '../syntax/ast.js';
import { isDiagnostic, type Diagnostic } from '../diagnostics/diagnostic.js';
import type { CheckedSync } from './model.js';
import { textHash } from '../hash.js';
import type { Span } from '../span.js';

type Kind = Definition['kind'];

interface Reference {
  name: string;
  /** The kinds of definition the checker takes there. */
  accepts: readonly Kind[];
}

interface Entry {
  kind: Kind;
  name: string;
  /** Where the definition is in its file: which of two of a name is first, and which diagnostics are its own. */
  span: { offset: number; endOffset: number };
  file: FileState;
  reads: Reference[];
  /** What a sync writes where another may undo it (`writesOf`); '' for none. */
  writes: string;
  /** The tree of the definition: absent until its file's tree is read (`#tree`). */
  def?: Definition;
}

interface FileState {
  path: string;
  /** Undefined for a file known only from an outline whose text has changed since (it is about to be replaced). */
  text: string | undefined;
  /** Absent for a file that is not text (the checker reports it), and until its tree is read (`treeRead`). */
  parsed?: ParseResult;
  /** False for a file known from an outline, whose tree is read when a check first needs it. */
  treeRead: boolean;
  entries: Entry[];
  /** The words a broken file's text may define (`namesInText`). */
  words: string[];
  diagnostics: Diagnostic[];
}

/**
 * What a project knows of its files besides their trees, to be kept between processes: a
 * compile records it with its output, and the next one resumes from it (`Project.resume`),
 * reading the trees only of the files a change reaches. Each file: its path, the hash of its
 * text, its definitions (kind, name, offsets, and the names each reads, with the kinds it takes
 * there as an index into `acceptsTable`), the words a broken file may define, its diagnostics,
 * and of those a definition's check reported from outside the definition they point into, which
 * definition that was (`reportedBy`: the diagnostic's index, the definition's file and offset).
 */
export interface Outline {
  files: {
    path: string;
    hash: string;
    /** Kind, name, offsets, the names it reads, and for a sync what it writes (`writesOf`; '' for none). */
    entries: [Kind, string, number, number, [string, number][], string][];
    words: string[];
    diagnostics: Diagnostic[];
    reportedBy: [number, string, number][];
  }[];
}

/** Where a diagnostic was reported from: the start of the definition whose check reported it, or, for one reported by no definition's check, the diagnostic's own place. */
type ReportedFrom = Pick<Span, 'file' | 'offset'>;

/** What one update changed: the files whose diagnostics differ, and what the check took. */
export interface UpdateReport {
  changed: string[];
  /** The files whose text the update replaced (added and removed ones too). */
  edited: string[];
  /** Definitions checked, and the project's count: the reach of the edit. */
  checked: number;
  total: number;
  whole: boolean;
}

const readsModel = ['model'] as const;
const readsSource = ['source'] as const;
const syncFrom = ['model', 'audience'] as const;
const syncTo = ['destination', 'source'] as const;
/** Every list of kinds a reference takes, by its place in an `Outline`. */
const acceptsTable: readonly (readonly Kind[])[] = [readsModel, readsSource, syncFrom, syncTo];

/** What the checker refuses to read (binary, not UTF-8) it does not parse: neither is it parsed here. */
const isText = (text: string): boolean => !text.includes('\u0000') && !text.includes('\uFFFD');

/**
 * The sources and destinations of a warehouse or bucket that an edit of a file left as they were:
 * in both the old and the new file, of the same kind and name, with the same text (so the same
 * place, `writesOf`), each old one paired with one new one. Owning one does not bring in every
 * sync of its place (`Project.#reach`): only a place that changed can bring syncs of its
 * destinations together or apart. None where the old text is not known (an outline's file).
 */
function keptPlaces(old: FileState | undefined, now: FileState | undefined): Entry[] {
  if (old?.text === undefined || now?.text === undefined) return [];
  const textOf = (f: FileState, e: Entry) => (f.text as string).slice(e.span.offset, e.span.endOffset);
  const signature = (f: FileState, e: Entry) => `${e.kind}\u0000${e.name}\u0000${e.writes}\u0000${textOf(f, e)}`;
  const places = (f: FileState) => f.entries.filter((e) => e.writes.startsWith('place:'));
  const unpaired = new Map<string, Entry[]>();
  for (const e of places(old)) {
    const key = signature(old, e);
    unpaired.set(key, [...(unpaired.get(key) ?? []), e]);
  }
  const kept: Entry[] = [];
  for (const e of places(now)) {
    const twin = unpaired.get(signature(now, e))?.shift();
    if (twin) kept.push(twin, e);
  }
  return kept;
}

/** The names a definition reads: each check of a definition needs only these (and what they read). */
function readsOf(def: Definition): Reference[] {
  const reads: Reference[] = [];
  switch (def.kind) {
    case 'model':
      for (const i of def.items) if (i.kind === 'from' && !i.name.missing) reads.push({ name: i.name.text, accepts: readsSource });
      break;
    case 'audience':
      for (const i of def.items) if (i.kind === 'from' && !i.name.missing) reads.push({ name: i.name.text, accepts: readsModel });
      break;
    case 'sync':
      for (const i of def.items) {
        if (i.kind === 'from' && !i.name.missing) reads.push({ name: i.name.text, accepts: syncFrom });
        else if (i.kind === 'to' && !i.destination.missing) reads.push({ name: i.destination.text, accepts: syncTo });
      }
      break;
    default:
      break;
  }
  return reads;
}

/**
 * What a definition writes where another may undo it (src/check/targets.ts, SW0124), for the
 * incremental check to check together what may collide.
 * - A sync writing a table or an object: `write:` its destination's name and the table's last
 *   part or the path's last segment up to its first dot, in lower case: any two syncs of one
 *   destination that may write one target share it (`people`, `"People"`, `crm.people`;
 *   `people.csv`, and `exports/people.csv` as `people.csv` under a prefix `exports/`).
 * - A source or destination of a warehouse or bucket: `place:` its type and the setting that
 *   names its database, project or bucket (the last of `warehouseIdentity`, or `bucket`), in lower
 *   case, '?' where it is not written. Coarser than SW0124's place, which compares every
 *   identifying setting: two destinations of one place always share it. Syncs of two destinations
 *   of one place are checked together (`ownWriters`), and a destination's syncs with those of
 *   its old place when it is edited.
 * - A sync writing a list or audience of an API (an object kind audience syncs take, with a
 *   name): `write:` its destination's name, the kind and the name.
 * '' for anything else (a sync writing records of an API, which it shares).
 */
/** The object kinds of the catalog that audience syncs write (`list`, `audience`): their members, which two syncs may share (SW0124). */
const audienceKinds = new Set(
  [...destinationTypes.values()].flatMap((t) =>
    t.category === 'warehouse' || t.category === 'storage' ? [] : t.objectKinds.filter((k) => k.audience).map((k) => k.kind),
  ),
);

function writesOf(def: Definition): string {
  if (def.kind === 'source' || def.kind === 'destination') {
    const type = (def.kind === 'source' ? def.dialect : def.type).text;
    const storage = getDestinationType(type)?.category === 'storage';
    const named = type in warehouseIdentity ? warehouseIdentity[type as keyof typeof warehouseIdentity].at(-1) : storage ? 'bucket' : undefined;
    if (named === undefined) return '';
    const v = def.settings.find((s) => s.name.text === named)?.value;
    const value = v && resolveValue(v);
    const text = value === undefined ? '?' : typeof value === 'object' ? JSON.stringify(value) : String(value);
    return `place:${type}\u0000${text.toLowerCase()}`;
  }
  if (def.kind !== 'sync') return '';
  const to = def.items.find((i) => i.kind === 'to');
  if (!to || to.destination.missing) return '';
  const kind = to.objectKind?.text;
  // A list or audience of an API: its name as written, which the members' owner among its syncs compares exactly.
  if (kind !== undefined && audienceKinds.has(kind) && to.ref?.kind === 'string') return `write:${to.destination.text}\u0000${kind} ${to.ref.value.value}`;
  if (kind !== undefined && kind !== 'table' && kind !== 'path') return '';
  const parts = !to.ref ? [def.name.text] : to.ref.kind === 'path' ? to.ref.path.parts.map((p) => p.text) : [to.ref.value.value];
  // An object's last segment is its path's, whatever the prefix: the prefix is joined with a `/`, the extension added after a dot.
  const name = kind === 'table' ? (parts.at(-1) ?? '') : parts.join('.').split('/').at(-1)!.split('.')[0]!;
  return `write:${to.destination.text}\u0000${name.toLowerCase()}`;
}

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface ProjectOptions {
  /** A slice holding more than this share of the definitions is checked as the whole project (default 0.4). */
  wholeShare?: number;
  /** The dbt projects that sources name, as `check` reads them (src/dbt/load.ts). */
  dbtProjects?: DbtProjects;
  /** Keep the syncs each check checked clean (`checkedSyncs`), which a compile plans; an editor has no use for them. */
  keepSyncs?: boolean;
}

export class Project {
  readonly #files = new Map<string, FileState>();
  #order: string[] = [];
  readonly #named = new Map<string, Set<Entry>>();
  readonly #readers = new Map<string, Set<Entry>>();
  readonly #syncsByFolder = new Map<string, Set<Entry>>();
  /** Syncs by what they write (`writesOf`): those of one key are checked together. */
  readonly #writers = new Map<string, Set<Entry>>();
  /** Words broken files may define, with the number of files that may. */
  readonly #maybeNamed = new Map<string, number>();
  /** Definitions that read a name defined nowhere as the kind they need: their hints list the whole project's. */
  readonly #unresolved = new Set<Entry>();
  #entryCount = 0;
  #index: SymbolIndex | undefined;
  readonly #wholeShare: number;
  /** The syncs the last check checked clean (the whole project's, or its slice's), with the checker's reading of them. */
  #checked: CheckedSync[] = [];
  /** The names of the syncs the last check checked, whether they checked clean or not. */
  #checkedNames = new Set<string>();
  /** The diagnostics a definition's check reported outside that definition, with the definition (`CheckResult.reportedBy`). */
  #reportedBy = new WeakMap<Diagnostic, ReportedFrom>();
  readonly #dbtProjects: DbtProjects | undefined;
  readonly #keepSyncs: boolean;

  constructor(files: readonly SourceText[] = [], options: ProjectOptions = {}) {
    this.#wholeShare = options.wholeShare ?? 0.4;
    this.#dbtProjects = options.dbtProjects;
    this.#keepSyncs = options.keepSyncs === true;
    for (const f of files) this.#add(f.path, f.text);
    this.#sort();
    for (const f of this.#files.values()) for (const e of f.entries) this.#resolve(e);
    this.#checkWhole();
  }

  #dbt(): { dbtProjects?: DbtProjects } {
    return this.#dbtProjects ? { dbtProjects: this.#dbtProjects } : {};
  }

  /** The files, in the order `check` reads them. */
  get paths(): readonly string[] {
    return this.#order;
  }

  text(path: string): string | undefined {
    return this.#files.get(path)?.text;
  }

  /** The file's tree as the parser recovered it; undefined for a file not in the project or not text. */
  parsed(path: string): ParseResult | undefined {
    const file = this.#files.get(path);
    return file && this.#tree(file);
  }

  diagnostics(path: string): readonly Diagnostic[] {
    return this.#files.get(path)?.diagnostics ?? [];
  }

  /** Every diagnostic, in the order `check` prints them. */
  allDiagnostics(): Diagnostic[] {
    return this.#order.flatMap((p) => this.#files.get(p)!.diagnostics);
  }

  /** The symbol index of every file (symbols.ts), made when first asked for after a change. */
  index(): SymbolIndex {
    return (this.#index ??= indexProject(this.#order.flatMap((p) => this.#tree(this.#files.get(p)!)?.ast ?? [])));
  }

  /**
   * With `keepSyncs`, the syncs the last check (construction, or the last `update` that changed
   * something) checked clean: every sync of the project after a check of the whole, else those of
   * the slice, among them every sync the change may have changed. Each as a check of the whole
   * project reads it. Empty without `keepSyncs`.
   */
  get checkedSyncs(): readonly CheckedSync[] {
    return this.#checked;
  }

  /**
   * The syncs the last check did not check, which no change since reaches: a compile takes them
   * from its output as they are. A sync the check found an error in is never one of them.
   */
  uncheckedSyncs(): string[] {
    return this.syncNames().filter((name) => !this.#checkedNames.has(name));
  }

  /** Every sync's name, in no particular order. */
  syncNames(): string[] {
    return [...this.#files.values()].flatMap((f) => f.entries.filter((e) => e.kind === 'sync').map((e) => e.name));
  }

  /** What the project knows of its files, but their trees: what `resume` starts from. */
  outline(): Outline {
    return {
      files: this.#order.map((path) => {
        const f = this.#files.get(path)!;
        return {
          path,
          hash: textHash(f.text ?? ''),
          entries: f.entries.map((e): Outline['files'][number]['entries'][number] => [
            e.kind,
            e.name,
            e.span.offset,
            e.span.endOffset,
            e.reads.map((r): [string, number] => [r.name, acceptsTable.indexOf(r.accepts)]),
            e.writes,
          ]),
          words: f.words,
          diagnostics: f.diagnostics,
          reportedBy: f.diagnostics.flatMap((d, i): [number, string, number][] => {
            const by = this.#reportedBy.get(d);
            return by ? [[i, by.file, by.offset]] : [];
          }),
        };
      }),
    };
  }

  /**
   * The project of `files` as an update of the one `outline` describes: the files whose text
   * the outline describes are not parsed until a check needs their trees, and only what the
   * difference reaches is checked again (as `update` does). The diagnostics are those of a
   * check of the whole of `files`, provided the outline is what this checker made of the files
   * it names (nothing else but the text of each is compared).
   */
  static resume(outline: Outline, files: readonly SourceText[], options: ProjectOptions = {}): { project: Project; report: UpdateReport } {
    if (!isOutline(outline)) throw new OutlineMismatch('not an outline of this checker');
    const project = new Project([], options);
    const now = new Map(files.map((f) => [f.path, f.text]));
    const changes: { path: string; text: string | undefined }[] = [];
    for (const o of outline.files) {
      const text = now.get(o.path);
      const same = text !== undefined && textHash(text) === o.hash;
      project.#addOutlined(o, same ? text : undefined);
      if (!same) changes.push({ path: o.path, text });
    }
    const known = new Set(outline.files.map((o) => o.path));
    for (const f of files) if (!known.has(f.path)) changes.push({ path: f.path, text: f.text });
    project.#sort();
    for (const f of project.#files.values()) for (const e of f.entries) project.#resolve(e);
    return { project, report: project.update(changes) };
  }

  /** Replace files' text (`undefined` removes a file), then check what the change reaches. */
  update(changes: readonly { path: string; text: string | undefined }[]): UpdateReport {
    const edited = new Map<string, FileState | undefined>();
    const touched = new Set<string>();
    const folders = new Set<string>();
    const targets = new Set<string>();
    const before = new Map<string, readonly Diagnostic[]>();
    // Sources and destinations the edit left as they were, which keep their place (`kept`).
    const kept = new Set<Entry>();
    let definitions = false;
    const mark = (f: FileState | undefined) => {
      for (const e of f?.entries ?? []) {
        if (e.kind !== 'sync') definitions = true;
        touched.add(e.name);
        if (e.kind === 'sync') folders.add(e.name.toLowerCase());
        if (e.writes !== '' && !kept.has(e)) targets.add(e.writes);
      }
      for (const w of f?.words ?? []) touched.add(w);
    };
    for (const { path, text } of changes) {
      const old = this.#files.get(path);
      // A file known from an outline with another text has none here: it is replaced.
      if (old ? old.text !== undefined && old.text === text : text === undefined) continue;
      if (old) {
        before.set(path, old.diagnostics);
        this.#remove(old);
      }
      const now = text === undefined ? undefined : this.#add(path, text);
      for (const e of keptPlaces(old, now)) kept.add(e);
      mark(old);
      mark(now);
      edited.set(path, now);
    }
    if (edited.size === 0) return { changed: [], edited: [], checked: 0, total: this.#entryCount, whole: false };
    this.#sort();
    // Whether a name resolves changes only where a name was touched.
    for (const f of edited.values()) for (const e of f?.entries ?? []) this.#resolve(e);
    for (const name of touched) for (const e of this.#readers.get(name) ?? []) this.#resolve(e);
    this.#index = undefined;
    for (const f of this.#files.values()) if (!edited.has(f.path)) before.set(f.path, f.diagnostics);

    const owners = this.#reach(edited, touched, folders, targets, definitions, kept);
    const slice = this.#context(owners);
    let checked: number;
    const whole = slice.size > this.#entryCount * this.#wholeShare;
    if (whole) {
      this.#checkWhole();
      checked = this.#entryCount;
    } else {
      this.#checkSlice(edited, owners, slice);
      checked = slice.size;
    }
    const changed: string[] = [];
    for (const [path, old] of before) {
      const now = this.#files.get(path)?.diagnostics ?? [];
      if (!sameDiagnostics(old, now)) changed.push(path);
    }
    for (const path of edited.keys()) if (!before.has(path) && (this.#files.get(path)?.diagnostics.length ?? 0) > 0) changed.push(path);
    return { changed: changed.sort(byPath), edited: [...edited.keys()].sort(byPath), checked, total: this.#entryCount, whole };
  }

  #add(path: string, text: string): FileState {
    const file: FileState = { path, text, treeRead: true, entries: [], words: [], diagnostics: [] };
    if (isText(text)) file.parsed = parseFile(path, text, syntaxWords);
    for (const def of file.parsed?.ast.definitions ?? []) {
      if (def.name.missing) continue;
      file.entries.push({ kind: def.kind, name: def.name.text, span: def.span, file, reads: readsOf(def), writes: writesOf(def), def });
    }
    file.words = file.parsed?.namesInText ?? [];
    return this.#enter(file);
  }

  /** A file as an outline knows it: `text` is its text now when that is the text the outline describes, else undefined. */
  #addOutlined(o: Outline['files'][number], text: string | undefined): FileState {
    const file: FileState = { path: o.path, text, treeRead: false, entries: [], words: o.words, diagnostics: o.diagnostics };
    for (const [kind, name, offset, endOffset, reads, writes] of o.entries) {
      file.entries.push({ kind, name, span: { offset, endOffset }, file, reads: reads.map(([n, a]) => ({ name: n, accepts: acceptsTable[a] ?? [] })), writes });
    }
    for (const [i, by, offset] of o.reportedBy) this.#reportedBy.set(o.diagnostics[i]!, { file: by, offset });
    return this.#enter(file);
  }

  #enter(file: FileState): FileState {
    for (const entry of file.entries) {
      add(this.#named, entry.name, entry);
      for (const r of entry.reads) add(this.#readers, r.name, entry);
      if (entry.kind === 'sync') add(this.#syncsByFolder, entry.name.toLowerCase(), entry);
      if (entry.writes !== '') add(this.#writers, entry.writes, entry);
    }
    for (const w of new Set(file.words)) this.#maybeNamed.set(w, (this.#maybeNamed.get(w) ?? 0) + 1);
    this.#entryCount += file.entries.length;
    this.#files.set(file.path, file);
    return file;
  }

  /**
   * The file's tree, read when first needed for a file known from an outline: its text is the
   * one the outline describes, so its definitions are the outline's, in order.
   */
  #tree(file: FileState): ParseResult | undefined {
    if (file.treeRead) return file.parsed;
    file.treeRead = true;
    if (file.text === undefined || !isText(file.text)) return undefined;
    file.parsed = parseFile(file.path, file.text, syntaxWords);
    const defs = file.parsed.ast.definitions.filter((d) => !d.name.missing);
    const same = (d: Definition, e: Entry) =>
      d.name.text === e.name &&
      d.kind === e.kind &&
      d.span.offset === e.span.offset &&
      d.span.endOffset === e.span.endOffset &&
      JSON.stringify(readsOf(d)) === JSON.stringify(e.reads) &&
      writesOf(d) === e.writes;
    if (defs.length !== file.entries.length || defs.some((d, i) => !same(d, file.entries[i]!)))
      throw new OutlineMismatch(`${file.path} does not hold the definitions its outline says`);
    defs.forEach((d, i) => (file.entries[i]!.def = d));
    return file.parsed;
  }

  #remove(file: FileState): void {
    for (const entry of file.entries) {
      this.#unresolved.delete(entry);
      drop(this.#named, entry.name, entry);
      for (const r of entry.reads) drop(this.#readers, r.name, entry);
      if (entry.kind === 'sync') drop(this.#syncsByFolder, entry.name.toLowerCase(), entry);
      if (entry.writes !== '') drop(this.#writers, entry.writes, entry);
    }
    for (const w of new Set(file.words)) {
      const n = (this.#maybeNamed.get(w) ?? 1) - 1;
      if (n > 0) this.#maybeNamed.set(w, n);
      else this.#maybeNamed.delete(w);
    }
    this.#entryCount -= file.entries.length;
    this.#files.delete(file.path);
  }

  #sort(): void {
    this.#order = [...this.#files.keys()].sort(byPath);
  }

  /**
   * The definitions whose diagnostics the edit may change: those of the edited files, those
   * of the names it touched elsewhere, and, repeatedly, the readers of each; and when a
   * definition other than a sync was edited, removed or reached, those that read an unknown
   * name. `definitions`: the edited files held one, before or after. `kept`: sources and
   * destinations of the edited files that are as they were (`keptPlaces`), whose place's syncs
   * the edit cannot have brought together or apart.
   */
  #reach(
    edited: ReadonlyMap<string, FileState | undefined>,
    touched: Set<string>,
    folders: Set<string>,
    targets: Set<string>,
    definitions: boolean,
    kept: ReadonlySet<Entry>,
  ): Set<Entry> {
    const owners = new Set<Entry>();
    const names = [...touched];
    let unresolved = false;
    // Syncs that may write one table or object: whether two of them undo each other is checked among them (src/check/targets.ts).
    // Not the sources and destinations of a place themselves: owning one would take every sync that reads it.
    const ownWriters = (key: string) => {
      if (key.startsWith('place:')) {
        for (const d of this.#writers.get(key) ?? []) for (const r of this.#readers.get(d.name) ?? []) if (r.kind === 'sync') own(r);
        return;
      }
      for (const w of this.#writers.get(key) ?? []) own(w);
      // The same target on the other destinations of the sync's destination's place.
      const [destination, part] = key.slice('write:'.length).split('\u0000') as [string, string];
      for (const d of this.#named.get(destination) ?? []) {
        if (d.writes === '' || (d.kind !== 'source' && d.kind !== 'destination')) continue;
        for (const other of this.#writers.get(d.writes) ?? []) {
          if (other.name !== destination) for (const w of this.#writers.get(`write:${other.name}\u0000${part}`) ?? []) own(w);
        }
      }
    };
    const own = (e: Entry) => {
      if (owners.has(e)) return;
      owners.add(e);
      if (e.writes !== '' && !kept.has(e)) ownWriters(e.writes);
      if (!touched.has(e.name)) {
        touched.add(e.name);
        names.push(e.name);
      }
      // What checks clean among the models, audiences, destinations and sources may change: the hints of unknown names list them.
      if (e.kind !== 'sync') ownUnresolved();
    };
    const ownUnresolved = () => {
      if (unresolved) return;
      unresolved = true;
      for (const u of this.#unresolved) own(u);
    };
    if (definitions) ownUnresolved();
    for (const f of edited.values()) for (const e of f?.entries ?? []) own(e);
    for (const folder of folders) for (const e of this.#syncsByFolder.get(folder) ?? []) own(e);
    for (const t of targets) ownWriters(t);
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!;
      for (const e of this.#named.get(name) ?? []) own(e);
      for (const e of this.#readers.get(name) ?? []) own(e);
    }
    return owners;
  }

  /** The definition a name resolves to as the checker resolves it: the first of the name in file order. */
  #resolve(e: Entry): void {
    const unknown = e.reads.some((r) => {
      const defs = this.#named.get(r.name);
      const first = defs && this.#first(defs);
      return !(first && r.accepts.includes(first.kind)) && !this.#maybeNamed.has(r.name);
    });
    if (unknown) this.#unresolved.add(e);
    else this.#unresolved.delete(e);
  }

  /**
   * The owners and what their check reads: the definitions of every name they read, of their
   * own names, and syncs whose folders collide with theirs. When a name read is defined
   * nowhere (as the kind it must be), also every definition but the syncs: its hints are
   * chosen among them.
   */
  #context(owners: ReadonlySet<Entry>): Set<Entry> {
    const slice = new Set<Entry>();
    const stack = [...owners];
    let unknown = false;
    while (stack.length > 0) {
      const e = stack.pop()!;
      if (slice.has(e)) continue;
      slice.add(e);
      if (this.#unresolved.has(e)) unknown = true;
      for (const same of this.#named.get(e.name) ?? []) stack.push(same);
      if (e.kind === 'sync') for (const twin of this.#syncsByFolder.get(e.name.toLowerCase()) ?? []) stack.push(twin);
      for (const r of e.reads) for (const d of this.#named.get(r.name) ?? []) stack.push(d);
    }
    if (!unknown) return slice;
    // An unknown name's hints list the models, audiences, destinations and sources that check clean.
    for (const f of this.#files.values()) for (const e of f.entries) if (e.kind !== 'sync') slice.add(e);
    return slice;
  }

  /** The definition of a name the checker uses: the first in file order. */
  #first(defs: Iterable<Entry>): Entry | undefined {
    let first: Entry | undefined;
    for (const d of defs) {
      if (!first || byPath(d.file.path, first.file.path) < 0 || (d.file.path === first.file.path && d.span.offset < first.span.offset)) first = d;
    }
    return first;
  }

  #checkWhole(): void {
    const files = this.#order.map((p) => this.#files.get(p)!);
    const result = checkParsed(
      files.map((f) => parsedFile(f, this.#tree(f))),
      this.#dbt(),
    );
    if (this.#keepSyncs) this.#checked = result.project.syncs;
    this.#checkedNames = new Set(this.syncNames());
    for (const [d, by] of result.reportedBy) this.#reportedBy.set(d, by);
    const byFile = groupByFile(result.diagnostics);
    for (const f of files) f.diagnostics = byFile.get(f.path) ?? [];
  }

  /** What a check of `slice` reads: each file that holds a definition of it, with those alone; an edited file whole. */
  #sliceFiles(edited: ReadonlyMap<string, FileState | undefined>, slice: ReadonlySet<Entry>): ParsedFile[] {
    const files: ParsedFile[] = [];
    for (const path of this.#order) {
      const f = this.#files.get(path)!;
      if (edited.has(path)) {
        // All of an edited file, its syntax diagnostics too.
        files.push(parsedFile(f, f.parsed));
        continue;
      }
      const kept = f.entries.filter((e) => slice.has(e));
      // A broken file's words count as defined (no "unknown" for them) whether or not its definitions are in the slice.
      if (kept.length === 0 && f.words.length === 0) continue;
      const parsed = this.#tree(f);
      // A file that is not text defines nothing, and has no words: an outline that says otherwise is not this checker's.
      if (!parsed) throw new OutlineMismatch(`${f.path} is not text, yet its outline says it defines names`);
      // Its syntax diagnostics come back with the checker's, to be taken where its definitions are the owners'.
      const ast: SyncFile = { ...parsed.ast, definitions: kept.map((e) => e.def!) };
      files.push(parsedFile(f, { ...parsed, ast }));
    }
    return files;
  }

  /**
   * The syncs of these names, each as a check of the whole project reads it (as `checkedSyncs`
   * has them after one), from a check of them and what they read alone: a run of a few syncs
   * of a project resumed from an outline reads no other file. Their diagnostics are not changed.
   */
  syncsNamed(names: readonly string[]): CheckedSync[] {
    const wanted = new Set(names);
    const owners = new Set<Entry>();
    for (const name of wanted) for (const e of this.#named.get(name) ?? []) if (e.kind === 'sync') owners.add(e);
    return checkParsed(this.#sliceFiles(new Map(), this.#context(owners)), this.#dbt()).project.syncs.filter((s) => wanted.has(s.name));
  }

  /**
   * The diagnostics of the definitions checked again (the owners, and every definition of an
   * edited file) are replaced by the slice's, wherever they point: a sync's check reports at a
   * column of the model it reads, in another file. The others' are kept: the slice checks
   * them only as what the owners read.
   */
  #checkSlice(edited: ReadonlyMap<string, FileState | undefined>, owners: ReadonlySet<Entry>, slice: ReadonlySet<Entry>): void {
    const result = checkParsed(this.#sliceFiles(edited, slice), this.#dbt());
    if (this.#keepSyncs) this.#checked = result.project.syncs;
    this.#checkedNames = new Set([...slice].filter((e) => e.kind === 'sync').map((e) => e.name));
    for (const [d, by] of result.reportedBy) this.#reportedBy.set(d, by);
    const extents = new Map<string, { offset: number; endOffset: number }[]>();
    for (const e of owners) {
      if (edited.has(e.file.path)) continue;
      const list = extents.get(e.file.path) ?? [];
      list.push(e.span);
      extents.set(e.file.path, list);
    }
    const checkedAgain = (d: Diagnostic) => {
      const by = this.#reportedBy.get(d) ?? d.span;
      return edited.has(by.file) || (extents.get(by.file)?.some((s) => by.offset >= s.offset && by.offset <= s.endOffset) ?? false);
    };
    const byFile = groupByFile(result.diagnostics);
    for (const f of this.#files.values()) {
      const fresh = byFile.get(f.path) ?? [];
      if (edited.has(f.path)) {
        // All of an edited file is checked again: what points into it is the slice's.
        f.diagnostics = fresh;
        continue;
      }
      if (f.diagnostics.length === 0 && fresh.length === 0) continue;
      const kept = f.diagnostics.filter((d) => !checkedAgain(d));
      const taken = fresh.filter(checkedAgain);
      f.diagnostics = taken.length === 0 ? kept : kept.length === 0 ? taken : sortDiagnostics([...kept, ...taken]);
    }
  }
}

/** An outline that is not what this checker makes of the files it names (a record edited by hand): a caller checks the whole project instead. */
export class OutlineMismatch extends Error {}

const kinds: readonly string[] = ['source', 'destination', 'model', 'audience', 'sync'];
const isString = (v: unknown): v is string => typeof v === 'string';
const isOffset = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** Whether `value` has the shape `outline()` gives, each file once: one read from a file may have been edited by hand. */
function isOutline(value: unknown): value is Outline {
  const files = (value as Outline | null)?.files;
  if (!Array.isArray(files)) return false;
  const paths = new Set<string>();
  for (const f of files as unknown[]) {
    const { path, hash, entries, words, diagnostics, reportedBy } = (f ?? {}) as Partial<Outline['files'][number]>;
    if (!isString(path) || paths.has(path) || !isString(hash) || !Array.isArray(entries) || !Array.isArray(words) || !Array.isArray(diagnostics)) return false;
    paths.add(path);
    if (!words.every(isString) || !diagnostics.every((d) => isDiagnostic(d) && d.span.file === path)) return false;
    // An outline without it (an older checker's) could not say which diagnostics a definition elsewhere reported.
    if (!Array.isArray(reportedBy)) return false;
    const index = (i: unknown) => Number.isInteger(i) && (i as number) >= 0 && (i as number) < diagnostics.length;
    if (!reportedBy.every((r) => Array.isArray(r) && r.length === 3 && index(r[0]) && isString(r[1]) && isOffset(r[2]))) return false;
    for (const e of entries as unknown[]) {
      if (!Array.isArray(e) || e.length !== 6) return false;
      const [kind, name, offset, endOffset, reads, writes] = e as unknown[];
      if (
        !isString(kind) ||
        !kinds.includes(kind) ||
        !isString(name) ||
        !isOffset(offset) ||
        !isOffset(endOffset) ||
        !Array.isArray(reads) ||
        !isString(writes)
      )
        return false;
      // An index of the table, not any key that finds something on an array (`length`).
      if (!reads.every((r) => Array.isArray(r) && r.length === 2 && isString(r[0]) && Number.isInteger(r[1]) && r[1] >= 0 && r[1] < acceptsTable.length))
        return false;
    }
  }
  return true;
}

function add<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (set) set.add(value);
  else map.set(key, new Set([value]));
}

function drop<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

function groupByFile(ds: readonly Diagnostic[]): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  for (const d of ds) {
    const list = out.get(d.span.file);
    if (list) list.push(d);
    else out.set(d.span.file, [d]);
  }
  return out;
}

/** Whether two lists say the same, so that an editor is sent only what changed. */
function sameDiagnostics(a: readonly Diagnostic[], b: readonly Diagnostic[]): boolean {
  return a === b || (a.length === b.length && a.every((d, i) => JSON.stringify(d) === JSON.stringify(b[i])));
}

/**
 * A file as the checker takes it: its tree (or a part of it) as kept here, or, for what is not
 * text (never parsed here), the one diagnostic that says so.
 */
function parsedFile(f: FileState, parsed: ParseResult | undefined): ParsedFile {
  const text = f.text ?? '';
  return parsed ? { path: f.path, text, ...parsed } : (parseProject([{ path: f.path, text }], syntaxWords)[0] as ParsedFile);
}
