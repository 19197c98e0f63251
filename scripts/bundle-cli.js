#!/usr/bin/env node
// Part of `npm run build` (scripts/postbuild.js): bundles the CLI (dist/cli/main.js and what it imports,
// yargs included) into a few files in dist/bin/, which bin/syncwright.js runs. Resolving and
// loading a hundred small ES modules costs a CLI run more start-up time than checking the
// bundled examples. Each command stays its own chunk, loaded when it runs.
//
// Left out, and loaded from node_modules as before: the embedded database and the Postgres
// client (files of their own beside their code), Ajv (required only when a schema has no
// precompiled validator), Handlebars (required only when a template is met, src/handlebars.ts)
// and Chevrotain (already one file, imported by its path); the clients of S3, GCS, Kinesis and
// Kafka and the Parquet writer (loaded by a storage or streaming step only, and some read
// files of their own packages).
// The language server's protocol library (`syncwright lsp` only) is loaded from node_modules too: it is
// CommonJS, and no other command needs it.
import { build } from 'esbuild';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A plugin that bundles a package's file with `patch` made to its source: `patch` returns the
 * new source, or undefined when the file does not read as expected (a new version), which is
 * then bundled as it is.
 */
const patched = (name, file, patch) => ({
  name,
  setup(b) {
    b.onLoad({ filter: file }, ({ path }) => {
      const contents = patch(readFileSync(path, 'utf8'));
      return contents === undefined ? undefined : { contents, loader: 'js' };
    });
  },
});

// string-width (used by yargs only to lay out help text) builds an Intl.Segmenter when it is
// loaded, which costs a twentieth of a `check` run; here it is built on first use instead.
// And yargs lays out a command's help text on every run of it (after its handler), measuring
// each line by grapheme, with a new emoji regex per character: 40 ms of every `check`. A line
// of printable ASCII is as wide as it is long (string-width says so for each such character),
// so it is measured by its length. Should a new version read differently, it is bundled as
// it is, and only slower.
const eagerSegmenter = 'const segmenter = new Intl.Segmenter();';
const widthStart = 'export default function stringWidth(string, options = {}) {';
const asciiWidth = `${widthStart}\n\tif (typeof string === 'string' && /^[\\x20-\\x7E]*$/.test(string)) {\n\t\treturn string.length;\n\t}\n`;
const quickStringWidth = patched('quick-string-width', /[\\/]node_modules[\\/]string-width[\\/]index\.js$/, (source) =>
  source.includes(eagerSegmenter) && source.includes(widthStart)
    ? source
        .replace(eagerSegmenter, 'let segmenter;')
        .replaceAll('segmenter.segment(', '(segmenter ??= new Intl.Segmenter()).segment(')
        .replace(widthStart, asciiWidth)
    : undefined,
);

// yargs' factory sets a default version, guessed from the nearest package.json: a walk up from
// the CLI's folder reading each folder's entries and the package file, a twentieth of a `check`
// of an example project. The CLI sets its version itself (src/cli/main.ts), so the factory's
// guess is left out. Should a new version read differently, it is bundled as it is.
const factoryVersion = '        yargs.help();\n        yargs.version();\n';
const noGuessedVersion = patched('no-guessed-version', /[\\/]node_modules[\\/]yargs[\\/]build[\\/]lib[\\/]yargs-factory\.js$/, (source) =>
  source.includes(factoryVersion) ? source.replace(factoryVersion, '        yargs.help();\n') : undefined,
);

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
// dist/bin/ is as deep as every dist/<folder>/, so paths relative to a module (../../templates) still hold.
const outdir = `${dist}bin`;
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [`${dist}cli/main.js`],
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: [
    '@electric-sql/pglite',
    '@electric-sql/pglite/*',
    'pg',
    'ajv',
    'ajv/*',
    'chevrotain',
    'handlebars',
    '@aws-sdk/*',
    '@smithy/*',
    '@google-cloud/storage',
    '@google-cloud/bigquery',
    'kafkajs',
    'hyparquet-writer',
    'vscode-languageserver',
    'vscode-languageserver/*',
    'vscode-languageserver-textdocument',
  ],
  plugins: [quickStringWidth, noGuessedVersion],
  chunkNames: 'chunk-[hash]',
  legalComments: 'none',
  logLevel: 'warning',
});
