/**
 * A version of a project to compare: the `.sync` files of a folder as `check` reads them, or
 * those of the same folder in a git revision (read with `git ls-tree` and `git cat-file`,
 * without touching the working tree). Files are named from the project's folder in both, so
 * that a sync keeps its place from one version to the other.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import type { SourceText } from '../check/check.js';
import { findSyncFiles, readSources, UsageError, withoutMark } from '../files.js';

export interface LoadedVersion {
  /** How the version is shown: the revision as given, or the folder. */
  label: string;
  files: SourceText[];
  /**
   * The folder on disk the files' paths start from, where a dbt project a source names is read:
   * dbt's artifacts (target/) are build outputs, rarely in git, so a revision reads them from
   * its project folder in the working tree.
   */
  dir: string;
}

const isFolder = (p: string) => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

/** Folders `check` never reads (a package manager's, hidden ones, git's among them), applied to a revision's paths too; a compile's output holds no `.sync` file. */
const skipped = (path: string) => path.split('/').some((part) => part.startsWith('.') || part === 'node_modules');

function git(cwd: string, args: string[], input?: string): Buffer {
  try {
    return execFileSync('git', args, { cwd, input, maxBuffer: 1 << 30, stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer };
    if (err.code === 'ENOENT') throw new UsageError('git is not installed: name folders to compare instead of revisions');
    throw new UsageError(`git ${args[0]}: ${(err.stderr?.toString() ?? String(e)).trim().split('\n')[0]}`);
  }
}

/**
 * `spec`: a folder, or else a git revision; `project`: the project's folder (in the working
 * tree, and at the same path in a revision); `cwd`: where the command runs.
 */
export function loadVersion(spec: string, project: string, cwd: string): LoadedVersion {
  const folder = resolve(cwd, spec);
  if (isFolder(folder)) {
    const files = readSources(findSyncFiles([folder], folder).files, folder).map((f) => ({ path: f.name, text: f.text }));
    return { label: spec, files, dir: folder };
  }
  return { label: spec, files: atRevision(spec, resolve(cwd, project)), dir: resolve(cwd, project) };
}

/** The project's `.sync` files in a revision. */
function atRevision(revision: string, folder: string): SourceText[] {
  if (!isFolder(folder)) throw new UsageError(`no such folder: ${folder}`);
  const top = git(folder, ['rev-parse', '--show-toplevel']).toString().trim();
  const commit = (() => {
    try {
      return git(folder, ['rev-parse', '--verify', '--quiet', `${revision}^{commit}`])
        .toString()
        .trim();
    } catch {
      throw new UsageError(`${revision} is neither a folder nor a git revision`);
    }
  })();
  const prefix = relative(top, folder).split(sep).join('/');
  const listing = git(top, ['ls-tree', '-r', '-z', '--full-tree', commit, '--', prefix || '.']).toString('utf8');
  const blobs: { path: string; id: string }[] = [];
  for (const entry of listing.split('\0')) {
    // Files only (100644, 100755): `check` does not follow links (120000).
    const m = /^100(?:644|755) blob ([0-9a-f]+)\t(.+)$/s.exec(entry);
    if (!m) continue;
    const path = prefix ? m[2]!.slice(prefix.length + 1) : m[2]!;
    if (path.endsWith('.sync') && !skipped(path)) blobs.push({ path, id: m[1]! });
  }
  blobs.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (blobs.length === 0) return [];
  // One `git cat-file` for all: `<id> blob <size>\n<content>\n` per file.
  const out = git(top, ['cat-file', '--batch'], `${blobs.map((b) => b.id).join('\n')}\n`);
  const files: SourceText[] = [];
  let at = 0;
  for (const b of blobs) {
    const eol = out.indexOf(0x0a, at);
    const size = Number(/ (\d+)$/.exec(out.toString('utf8', at, eol))?.[1]);
    files.push({ path: b.path, text: withoutMark(out.toString('utf8', eol + 1, eol + 1 + size)) });
    at = eol + 1 + size + 1;
  }
  return files;
}
