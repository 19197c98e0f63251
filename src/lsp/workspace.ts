/**
 * The projects of an editor's workspace: each project folder (a workspace folder, or the
 * folders the `projects` setting names) is one project, all its `.sync` files read as
 * `syncwright check` run in that folder reads them. A file belongs to the deepest project
 * folder that holds it. The text of a file is the editor's while it is open, the disk's
 * otherwise.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { findSyncFiles, isSyncFile, TooManyFolders, withoutMark } from '../files.js';
import { dbtProjectsFrom } from '../dbt/load.js';
import { Project, type ProjectOptions } from '../check/project.js';

export interface ProjectRoot {
  /** Absolute. */
  dir: string;
  project: Project;
  /** Why the project is not the folder's every `.sync` file, for the editor to show: a folder of it cannot be read, or it holds too many (`loneFolders`). */
  note?: string;
  /** Its files are those directly in `dir` (it held too many folders): a file of a folder below belongs to a project of its own. */
  shallow?: true;
  /** The dbt artifact files its project read, or looked for (absolute): when dbt writes one again, the project reads them anew. */
  dbtFiles: Set<string>;
}

/**
 * How many folders the folder of a file opened without a workspace may hold to be walked whole,
 * as `check` there would: the walk blocks the server, and a lone `~/x.sync` would otherwise walk
 * the home folder. A project holds a few; a home folder, tens of thousands.
 */
export const loneFolders = 1000;

/** A file's place: its project, and its path there (relative to the project's folder, with `/`). */
export interface Place {
  root: ProjectRoot;
  path: string;
}

/**
 * The project folders named by `patterns` (relative to `folder`; a `*` segment stands for
 * every sub-folder, `examples/*`), or the folder itself when there are none.
 */
export function projectFolders(folder: string, patterns: readonly string[] = []): string[] {
  if (patterns.length === 0) return [resolve(folder)];
  const found = new Set<string>();
  for (const pattern of patterns) {
    let dirs = [resolve(folder)];
    for (const part of pattern.split(/[\\/]+/).filter((p) => p !== '' && p !== '.')) {
      dirs = dirs.flatMap((d) => (part === '*' ? subfolders(d) : [join(d, part)]));
    }
    for (const d of dirs) if (isFolder(d)) found.add(d);
  }
  return [...found].sort();
}

function subfolders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules')
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** The `.sync` files directly in `dir`, by name, sorted. */
function ownSyncFiles(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter(isSyncFile)
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

const inside = (dir: string, file: string) => {
  const r = relative(dir, file);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
};

/**
 * The text of a file on disk as an editor holds it, or undefined when it cannot be read
 * (removed). Editors leave a byte order mark out of a document's text: kept, it would move every
 * position of the file's first line by one (a rename would edit beside the name).
 */
export function readText(file: string): string | undefined {
  try {
    return withoutMark(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export class Workspace {
  /** Deepest folder first, so the first that holds a file is its project. */
  readonly roots: ProjectRoot[];
  readonly #text: (file: string) => string | undefined;
  readonly #options: ProjectOptions;

  /** `dirs`: the project folders, absolute. `text`: a file's text (the editor's, where it has one). */
  constructor(dirs: readonly string[], text: (file: string) => string | undefined = readText, options: ProjectOptions = {}) {
    this.#text = text;
    this.#options = options;
    const sorted = [...new Set(dirs)].sort((a, b) => b.length - a.length);
    this.roots = sorted.map((dir) => this.#rootOf(dir, sorted));
  }

  /**
   * The project of one more folder (the folder of a file opened without a workspace), made
   * unless there is one. The projects there are keep their files.
   */
  add(dir: string): ProjectRoot {
    const known = this.roots.find((r) => r.dir === dir);
    if (known) return known;
    const root = this.#rootOf(
      dir,
      this.roots.map((r) => r.dir),
      loneFolders,
    );
    const at = this.roots.findIndex((r) => r.dir.length < dir.length);
    this.roots.splice(at < 0 ? this.roots.length : at, 0, root);
    return root;
  }

  /** `check` run in the folder: the same files, named the same way; files of a project folder inside this one (of `dirs`) are its. */
  #rootOf(dir: string, dirs: readonly string[], maxFolders?: number): ProjectRoot {
    const nested = dirs.filter((d) => inside(dir, d));
    let files: string[] = [];
    let note: string | undefined;
    let shallow = false;
    try {
      // A folder below that cannot be read is left out, and said: its files cannot be opened here either, where check refuses the project.
      const found = findSyncFiles([dir], dir, { maxFolders, skipUnreadable: true });
      files = found.files.map((f) => f.path);
      const unread = found.skipped.filter((s) => s.why.startsWith('cannot be read'));
      if (unread[0]) {
        const more = unread.length > 1 ? ` (and ${unread.length - 1} more)` : '';
        note = `syncwright: folder ${unread[0].path}${more} ${unread[0].why}; its .sync files are left out of the project of ${dir} (check there refuses the project until it can be read)`;
      }
    } catch (e) {
      if (e instanceof TooManyFolders) {
        files = ownSyncFiles(dir);
        shallow = true;
        note = `${dir} holds more than ${maxFolders} folders, too many to read as the project of a file opened without a workspace: only the .sync files directly in it are. Open the project's folder as a workspace folder to check the project whole.`;
      }
      // A folder that cannot be read (removed, or never on disk) is a project of the files opened in it.
    }
    const texts = files
      .filter((p) => !nested.some((n) => inside(n, join(dir, p))))
      .flatMap((path) => {
        const t = this.#text(join(dir, path));
        return t === undefined ? [] : [{ path, text: t }];
      });
    const dbtFiles = new Set<string>();
    const project = this.#project(dir, texts, dbtFiles);
    return { dir, project, dbtFiles, ...(note === undefined ? {} : { note }), ...(shallow ? { shallow } : {}) };
  }

  /** A project of texts: dbt artifacts are read from disk, relative to each file, as `check` in this folder reads them; each one read is added to `dbtFiles`. */
  #project(dir: string, texts: { path: string; text: string }[], dbtFiles: Set<string>): Project {
    const dbtProjects = dbtProjectsFrom(
      (name) => join(dir, name),
      undefined,
      (path) => dbtFiles.add(resolve(path)),
    );
    return new Project(texts, { dbtProjects, ...this.#options });
  }

  /**
   * The projects that read a dbt artifact file (dbt wrote it again: `dbt compile`), each made
   * again from its files' present texts, so that it reads the artifacts anew: a project reads
   * each dbt project once.
   */
  rereadDbt(file: string): ProjectRoot[] {
    const roots = this.roots.filter((r) => r.dbtFiles.has(resolve(file)));
    for (const root of roots) {
      const texts = root.project.paths.flatMap((path) => {
        const text = root.project.text(path);
        return text === undefined ? [] : [{ path, text }];
      });
      root.dbtFiles.clear();
      root.project = this.#project(root.dir, texts, root.dbtFiles);
    }
    return roots;
  }

  /** The project and path of a file, or undefined for a file outside every project folder. */
  locate(file: string): Place | undefined {
    const root = this.roots.find((r) => (r.shallow ? dirname(file) === r.dir : inside(r.dir, file)));
    return root ? { root, path: relative(root.dir, file).split(sep).join('/') } : undefined;
  }

  /** A project file's absolute path. */
  fileOf(root: ProjectRoot, path: string): string {
    return join(root.dir, ...path.split('/'));
  }

  uriOf(root: ProjectRoot, path: string): string {
    return pathToFileURL(this.fileOf(root, path)).href;
  }
}

/** The folder of a file opened outside every workspace folder: its project is the folder's. */
export const folderOf = (file: string): string => dirname(file);
