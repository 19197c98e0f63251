/** Tests that spawn bin/syncwright.js need dist/ current with src/. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds dist/ (what bin/syncwright.js runs) as `npm run build` does, when a source file is newer than its build. */
export function ensureBuilt(): void {
  const src = join(repoRoot, 'src');
  const stale = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((e) => {
      const full = join(dir, e.name);
      if (e.isDirectory()) return stale(full);
      if (!e.name.endsWith('.ts')) return false;
      const built = join(repoRoot, 'dist', full.slice(src.length + 1).replace(/\.ts$/, '.js'));
      return !existsSync(built) || statSync(built).mtimeMs < statSync(full).mtimeMs;
    });
  if (!stale(src)) return;
  try {
    execFileSync(process.execPath, [join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', repoRoot], { stdio: 'pipe' });
  } catch {
    // Type errors elsewhere still emit JavaScript; a test fails if the command does not run.
  }
  execFileSync(process.execPath, [join(repoRoot, 'scripts', 'postbuild.js')], { stdio: 'pipe' });
}
