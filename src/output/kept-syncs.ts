/**
 * Syncs a recompile takes from the output as they are, neither planned nor emitted again.
 *
 * The output's manifest.json says, for each sync, the hash of its inputs, where it is written
 * and its files; a sync whose hash, file and line are what this compile would write has the
 * same files (the hash covers its definition, everything it references and the compile's
 * options; the compiler is the same, `compilerStamp`). What is not trusted is the output
 * itself: a file edited, replaced or removed since it was written. So the compile that writes
 * an output records each of its files' identity (inode, size, modification and change times,
 * as git's index does) in a file carried to the next compile (a `Carry`, kept beside the output,
 * not in it); the next takes a sync only when the manifest and every file of the sync are
 * still exactly those recorded. Reading the files back instead would cost as much as writing
 * them. A change time cannot be set back, so an edit, even one that restores the modification
 * time, is seen.
 */
import { lstatSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import { hash } from 'node:crypto';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Manifest, ManifestSync } from '../contract/manifest.js';
import { readRegularFile, type Carry } from './kept-output.js';
import { isFolder } from './file-system-thread.js';

/** What a file is, recorded when written: inode, size, modification and change times. */
function identity(path: string): string | undefined {
  let s: Stats;
  try {
    s = lstatSync(path);
  } catch {
    return undefined;
  }
  return s.isFile() ? `${s.ino} ${s.size} ${s.mtimeMs} ${s.ctimeMs}` : undefined;
}

const require = createRequire(import.meta.url);

/**
 * The compiler itself: every file of its code (src/ or dist/), templates, dialects and schemas
 * by name, size and modification time, and the versions of the packages that write its text.
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
      else if (e.isFile()) {
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

/** What a manifest entry's sync folder holds: plan.json and its files, as paths in the output. */
const filesOf = (entry: ManifestSync): string[] => [entry.plan, ...entry.files];

/**
 * The record of an output's files, carried to the next compile; and, while a compile runs,
 * which syncs of the output it replaces it may take as they are (`take`).
 */
export class KeptSyncs implements Carry {
  readonly name = '.syncwright-syncs.json';
  /** The output the loaded record describes, its manifest's entries by name, and each file's identity. */
  private from: { folder: string; entries: Map<string, ManifestSync>; files: Map<string, string> } | undefined;
  /** The new output's manifest. */
  private manifest: Manifest | undefined;

  /** `output`: the folder the output links to now; the record is used only when it describes that very folder and was made by this compiler. */
  load(text: string, output: string | undefined): void {
    if (output === undefined) return;
    try {
      const data = JSON.parse(text) as { compiler?: unknown; output?: unknown; files?: unknown };
      if (data.compiler !== compilerStamp() || data.output !== basename(output) || !Array.isArray(data.files)) return;
      const files = new Map(data.files.filter((e): e is [string, string] => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'string'));
      const manifestFile = join(output, 'manifest.json');
      if (files.get('manifest.json') !== identity(manifestFile)) return;
      const manifest = JSON.parse(readRegularFile(manifestFile) ?? '') as Manifest;
      this.from = { folder: output, entries: new Map(manifest.syncs.map((s) => [s.name, s])), files };
    } catch {
      // Not a record of ours, or not of this output: every sync is emitted.
    }
  }

  /** The entry of a sync the output holds as this compile would write it, every file as it was written; else undefined. */
  take(wanted: Pick<ManifestSync, 'name' | 'inputHash' | 'file' | 'line'>): ManifestSync | undefined {
    const entry = this.from?.entries.get(wanted.name);
    if (!entry || entry.inputHash !== wanted.inputHash || entry.file !== wanted.file || entry.line !== wanted.line) return undefined;
    const { folder, files } = this.from!;
    // Files in a real folder of the output: lstat follows a link on the way.
    if (!isFolder({ lstatSync }, join(folder, entry.name))) return undefined;
    for (const path of filesOf(entry)) {
      const recorded = files.get(path);
      if (recorded === undefined || identity(join(folder, path)) !== recorded) return undefined;
    }
    return entry;
  }

  /** The folder in the output the loaded record describes, which a taken sync's files come from. */
  get folder(): string | undefined {
    return this.from?.folder;
  }

  /** The new output's manifest, whose syncs' files `save` records. */
  written(manifest: Manifest): void {
    this.manifest = manifest;
  }

  /** The record of the new output `output`: its manifest's and every sync's files, as they are now. */
  save(output: string): string {
    const files: [string, string][] = [];
    for (const path of ['manifest.json', ...(this.manifest?.syncs.flatMap(filesOf) ?? [])]) {
      const id = identity(join(output, path));
      if (id !== undefined) files.push([path, id]);
    }
    return JSON.stringify({ compiler: compilerStamp(), output: basename(output), files });
  }
}
