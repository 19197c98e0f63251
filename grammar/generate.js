/**
 * `npm run grammar`: writes grammar/diagrams.html from the compiled parser. It reads dist/,
 * so it refuses to run on a missing or older build rather than draw a stale grammar.
 */
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { renderDiagrams } from './diagrams.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const srcDir = join(root, 'src', 'syntax');
const distDir = join(root, 'dist', 'syntax');

function fail(message) {
  console.error(`npm run grammar: ${message}`);
  process.exit(1);
}

// The diagrams depend on these two files only: the parser and the tokens it imports.
for (const file of ['parser.ts', 'tokens.ts']) {
  const built = join(distDir, file.replace(/\.ts$/, '.js'));
  if (!existsSync(built)) fail(`${built} is missing; run \`npm run build\` first`);
  if (statSync(built).mtimeMs < statSync(join(srcDir, file)).mtimeMs) {
    fail(`dist/ is older than src/syntax/${file}; run \`npm run build\` first`);
  }
}

const { parser } = await import(pathToFileURL(join(distDir, 'parser.js')).href);
const out = join(root, 'grammar', 'diagrams.html');
writeFileSync(out, renderDiagrams(parser.getSerializedGastProductions()));
console.log(`wrote ${out}`);
