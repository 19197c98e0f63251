/** Finding and reading the project's `.sync` files. */
import { readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, type Dirent, type Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isCompileOutput } from './output/kept-output.js';
import { notReadable } from './whole-file.js';

export class UsageError extends Error {}

/** A `.sync` file: where the user sees it, and its name in the project. */
export interface ProjectFile {
  /** As the user reaches it: relative to the working folder (diagnostics show this). */
  path: string;
  /**
   * Relative to the project's root, with `/`: what artifacts say (headers, plan.json,
   * manifest.json) and hash, so that they do not depend on where the compile runs.
   */
  name: string;
}

export interface ProjectFiles {
  files: ProjectFile[];
  /** Folders not read, with why, for a message when no file was found. */
  skipped: { path: string; why: string }[];
}

/** Folders never read: what package managers and git keep. Hidden folders (`.x`) neither. */
const skippedNames = new Map([
  ['node_modules', 'packages'],
  ['.git', 'git'],
]);

const slashes = (p: string) => p.split(sep).join('/');

/** A `.sync` file of a folder's listing (a link to one is not: it is skipped, and said). */
export const isSyncFile = (entry: Dirent): boolean => entry.isFile() && entry.name.endsWith('.sync');

/** A walk's findings, and how many more folders it may enter (`findSyncFiles`'s `maxFolders`). */
interface Walk {
  out: string[];
  skipped: ProjectFiles['skipped'];
  cwd: string;
  foldersLeft: number;
  skipUnreadable: boolean;
}

/** Thrown by `findSyncFiles` when the paths hold more folders than `maxFolders`. */
export class TooManyFolders extends Error {}

function walk(dir: string, w: Walk): void {
  const { out, skipped, cwd } = w;
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    if (w.skipUnreadable) {
      skipped.push({ path: dir, why: `cannot be read: ${why}` });
      return;
    }
    // Not skipped unless asked: a .sync file in it would be left out, and a compile would drop its syncs from the output.
    throw new UsageError(
      `cannot read folder ${slashes(relative(cwd, dir) || dir)}: ${why}; a .sync file in it would be left out of the project: make it readable, or name the project's folders or files instead of a folder that holds it`,
    );
  }
  for (const entry of entries) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      const why = skippedNames.get(entry.name) ?? (entry.name.startsWith('.') ? 'hidden' : isCompileOutput(full) ? "a compile's output" : undefined);
      if (why) skipped.push({ path: full, why });
      else if (w.foldersLeft-- <= 0) throw new TooManyFolders(full);
      else walk(full, w);
    } else if (entry.isSymbolicLink()) {
      // A compile's output is a link to the folder that holds it.
      skipped.push({ path: full, why: isCompileOutput(full) ? "a compile's output" : 'a link' });
    } else if (isSyncFile(entry)) out.push(full);
  }
}

/** The deepest folder that holds both folders. */
function common(a: string, b: string): string {
  let c = a;
  for (let r = relative(c, b); (r.startsWith('..') || isAbsolute(r)) && dirname(c) !== c; r = relative(c, b)) c = dirname(c);
  return c;
}

/**
 * Every `.sync` file under the given paths, sorted, named from the project's root: the deepest
 * folder holding every path given (a file's own folder for a file). `TooManyFolders` when the
 * paths hold more than `maxFolders` folders below them (those it skips not counted). A folder
 * below that cannot be listed is a usage error, or, with `skipUnreadable`, one of `skipped`.
 */
export function findSyncFiles(
  paths: readonly string[],
  cwd = process.cwd(),
  { maxFolders = Number.POSITIVE_INFINITY, skipUnreadable = false }: { maxFolders?: number; skipUnreadable?: boolean } = {},
): ProjectFiles {
  const found: string[] = [];
  const skipped: ProjectFiles['skipped'] = [];
  const w: Walk = { out: found, skipped, cwd, foldersLeft: maxFolders, skipUnreadable };
  let root: string | undefined;
  for (const p of paths.length ? paths : ['.']) {
    const full = resolve(cwd, p);
    let st: Stats;
    try {
      st = statSync(full);
    } catch (e) {
      // A link in a loop (ELOOP), a folder on the way that cannot be searched (EACCES): not missing.
      const code = (e as NodeJS.ErrnoException).code;
      throw new UsageError(code === 'ENOENT' || code === 'ENOTDIR' ? `no such file or folder: ${p}` : `cannot read ${p}: ${code ?? (e as Error).message}`);
    }
    const refused = notReadable(st);
    if (refused !== undefined) throw new UsageError(`not a file or folder: ${p} (${refused})`);
    const folder = st.isDirectory() ? full : dirname(full);
    root = root === undefined ? folder : common(root, folder);
    if (st.isDirectory()) walk(full, w);
    else found.push(full);
  }
  const files = [...new Set(found)]
    .map((f) => ({ path: slashes(relative(cwd, f) || f), name: slashes(relative(root!, f)) }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { files, skipped: skipped.map((s) => ({ path: slashes(relative(cwd, s.path) || s.path), why: s.why })) };
}

/** What to say when no `.sync` file was found: where it looked, and what it left out. */
export function nothingFound(paths: readonly string[], skipped: ProjectFiles['skipped']): string {
  const where = paths.length ? paths.join(', ') : 'the current folder';
  const left = skipped.filter((s) => s.why !== 'hidden');
  const shown = left.slice(0, 10).map((s) => `${s.path} (${s.why})`);
  if (left.length > shown.length) shown.push(`${left.length - shown.length} more`);
  return `no .sync file under ${where}${shown.length ? `; not read: ${shown.join(', ')}` : ''}`;
}

/**
 * A file's text as an editor holds it: without a leading byte order mark. Editors do not count
 * the mark in the first line's columns; kept, it would move every position on that line by one.
 */
export const withoutMark = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);

/**
 * The files with their text (without a byte order mark: `mark` says the file starts with one);
 * `cwd` is the folder their paths are relative to.
 */
export function readSources(files: readonly ProjectFile[], cwd: string): Sources {
  return files.map(({ path, name }) => {
    try {
      const read = readFileSync(resolve(cwd, path), 'utf8');
      const text = withoutMark(read);
      return text === read ? { path, name, text } : { path, name, text, mark: true };
    } catch (e) {
      throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}

/** The project's files, found and read: each as the user reaches it (`path`), by its name in the project, with its text. */
export type Sources = (ProjectFile & { text: string; mark?: true })[];

/** Finds and reads the project's .sync files; says so when there is none. */
export function loadSources(opts: { paths: readonly string[]; format: string }, io: { cwd: string; err(text: string): void }): Sources {
  const found = findSyncFiles(opts.paths, io.cwd);
  if (found.files.length === 0 && opts.format === 'text') io.err(nothingFound(opts.paths, found.skipped));
  return readSources(found.files, io.cwd);
}

/**
 * A file's text replaced as one piece: written beside it under a name of this process, then
 * renamed over it, so a reader meanwhile (dbt, a scheduler), a full disk or a kill leaves the
 * old text, never part of the new. An existing file keeps its permissions. Throws the file
 * system's error; the new text's file is removed then.
 */
export function replaceFile(path: string, text: string): void {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let mode: number | undefined;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch {
    // A new file: the process's default permissions.
  }
  let made = false;
  try {
    writeFileSync(temp, text, { flag: 'wx', ...(mode === undefined ? {} : { mode }) });
    made = true;
    renameSync(temp, path);
  } catch (e) {
    // Only what this write made is removed: something already there is not ours.
    if (made) rmSync(temp, { force: true });
    throw e;
  }
}
