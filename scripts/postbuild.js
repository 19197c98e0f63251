#!/usr/bin/env node
// The build steps after tsc, in order (`npm run build`; the tests' ensureBuilt runs the same):
// precompiled validators, SQL templates and the parser's lookahead paths, read by the CLI
// instead of computing them on every run, then the CLI bundle.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

for (const step of ['precompile-schemas.js', 'precompile-templates.js', 'write-lookahead.js', 'bundle-cli.js']) {
  execFileSync(process.execPath, [fileURLToPath(new URL(step, import.meta.url))], { stdio: 'inherit' });
}
