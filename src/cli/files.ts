/** Finding and reading the project's `.sync` files. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export class UsageError extends Error {}

const skipped = new Set(['node_modules', '.git', 'build', 'dist']);

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || skipped.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (entry.isFile() && entry.name.endsWith('.sync')) out.push(full);
  }
}

/** Every `.sync` file under the given paths, sorted, as paths relative to the working folder. */
export function findSyncFiles(paths: readonly string[], cwd = process.cwd()): string[] {
  const found: string[] = [];
  for (const p of paths.length ? paths : ['.']) {
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new UsageError(`no such file or folder: ${p}`);
    }
    if (st.isDirectory()) walk(p, found);
    else found.push(p);
  }
  const rel = [...new Set(found.map((f) => relative(cwd, f) || f))].map((f) => f.split(sep).join('/'));
  return rel.sort();
}

export function readSources(files: readonly string[]): { path: string; text: string }[] {
  return files.map((path) => {
    try {
      return { path, text: readFileSync(path, 'utf8') };
    } catch (e) {
      throw new UsageError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  });
}
