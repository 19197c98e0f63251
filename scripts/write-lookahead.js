#!/usr/bin/env node
// Part of `npm run build` (scripts/postbuild.js): writes the parser's lookahead paths, stamped with a
// fingerprint of its grammar, so that a CLI run reads them instead of computing them
// (src/syntax/lookahead.ts).
import { writeFileSync } from 'node:fs';
import { lookaheadStrategy } from '../dist/syntax/parser.js';
import { lookaheadFile } from '../dist/syntax/lookahead.js';

writeFileSync(lookaheadFile, `${JSON.stringify(lookaheadStrategy.toFile())}\n`);
