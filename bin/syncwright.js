#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bin/ by `npm run build`, which `npm ci` runs via `prepare`.
import { setFlagsFromString } from 'node:v8';

// V8 optimises a function once it has run about 66 KB of bytecode (V8 11's budget). A compile
// runs hundreds of functions that far and little further (set-up, the first syncs of each kind),
// and optimising them took V8's own threads as much CPU as the compile's main thread (1,012
// syncs: 1.7-2.4 s against 1.8-2.7 s). With four times the budget they stay with the baseline
// code; what a compile spends its time in is still optimised. Set before the CLI is loaded, so
// that every function has it; it changes nothing but when code is optimised. Only for the
// commands that read a project through once, where it was measured (`run` and the language
// server run long enough for V8's own), and only on V8 11 (Node 20): another V8 may size its
// budget otherwise or not know the flag, and V8 prints an error for a flag it does not know. A
// budget given to node itself (`node --interrupt-budget=... bin/syncwright.js`) is left as it is.
const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
const given = process.execArgv.some((a) => /^--interrupt[-_]budget\b/.test(a));
if (process.versions.v8.startsWith('11.') && (command === 'check' || command === 'compile') && !given) setFlagsFromString('--interrupt-budget=270336');

const { main } = await import('../dist/bin/main.js');

process.exitCode = await main(process.argv.slice(2));
