/**
 * The parser's lookahead paths, read from the build (src/syntax/lookahead.ts): the file
 * `npm run build` writes holds exactly what Chevrotain computes for the grammar, and a parser
 * reads it only while its grammar has the fingerprint the file was written for.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parser, lookaheadStrategy } from '../src/syntax/parser.js';
import { CachedLookahead, type LookaheadFile } from '../src/syntax/lookahead.js';
import { allTokens } from '../src/syntax/tokens.js';
import { ensureBuilt } from './support/build.js';

const rules = Object.values(parser.getGAstProductions());

describe('lookahead paths from the build', () => {
  it('are what Chevrotain computes for this grammar, under its fingerprint', () => {
    ensureBuilt();
    const built = JSON.parse(readFileSync(new URL('../dist/syntax/lookahead.json', import.meta.url), 'utf8')) as LookaheadFile;
    // Under test the parser runs from src/, where there is no such file: it computed its paths.
    const computed = lookaheadStrategy.toFile();
    expect(built.grammar).toBe(computed.grammar);
    expect(built.paths).toEqual(computed.paths);
    expect(Object.keys(computed.paths).length).toBeGreaterThan(30);
    expect(computed.paths['definition/Alternation/0']).toEqual([[['Source']], [['Destination']], [['Model']], [['Audience']], [['Sync']]]);
  });

  it('are tied to the grammar and the lookahead depth', () => {
    const fingerprint = (s: CachedLookahead, r = rules) => {
      s.initialize({ rules: r });
      return s.toFile().grammar;
    };
    const same = fingerprint(new CachedLookahead(3, allTokens));
    expect(same).toBe(lookaheadStrategy.toFile().grammar);
    expect(fingerprint(new CachedLookahead(2, allTokens))).not.toBe(same);
    expect(fingerprint(new CachedLookahead(3, allTokens), rules.slice(1))).not.toBe(same);
  });
});
