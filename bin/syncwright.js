#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/bin/ by `npm run build`, which `npm ci` runs via `prepare`.
import { main } from '../dist/bin/main.js';

process.exitCode = await main(process.argv.slice(2));
