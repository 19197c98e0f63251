#!/usr/bin/env node
// Builds the VS Code extension in this folder (`npm run vscode` from the repository root):
// the client (src/extension.ts with vscode-languageclient) bundled into dist/extension.js,
// the grammar copied from grammar/ (its one source), then, unless --no-package, the package
// syncwright-<version>.vsix written by vsce (--out FILE to choose where). Nothing is fetched.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const args = process.argv.slice(2);
const { version } = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? resolve(args[outAt + 1]) : join(here, `syncwright-${version}.vsix`);

rmSync(join(here, 'dist'), { recursive: true, force: true });
await build({
  entryPoints: [join(here, 'src', 'extension.ts')],
  outfile: join(here, 'dist', 'extension.js'),
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // VS Code gives the extension its API at run time.
  external: ['vscode'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
mkdirSync(join(here, 'syntaxes'), { recursive: true });
copyFileSync(join(repo, 'grammar', 'syncwright.tmLanguage.json'), join(here, 'syntaxes', 'syncwright.tmLanguage.json'));

if (!args.includes('--no-package')) {
  // The bundle holds the dependencies; the package declares no repository or license file of its own (license: MIT in package.json).
  execFileSync(process.execPath, [join(repo, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package', '--no-dependencies', '--skip-license', '--allow-missing-repository', '--out', out], { cwd: here, stdio: 'inherit' });
}
