/**
 * Random damage to every `.sync` file of the repository: the front end must never throw or
 * stall, must keep every diagnostic's span (and those of its related places and fixes)
 * inside the file, must give a well-formed symbol index, and the formatter must either
 * refuse or print text that parses back to the same AST and formats to itself.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkProject } from '../src/check/check.js';
import type { Diagnostic } from '../src/diagnostics/diagnostic.js';
import type { SymbolIndex } from '../src/check/symbols.js';
import type { Span } from '../src/span.js';
import { formatSource } from '../src/syntax/format.js';
import { nestingLimit, parseFile } from '../src/syntax/parse.js';
import { lex } from '../src/syntax/tokens.js';
import { check, compileContext, emit, parse, plan } from '../src/index.js';
import { commentText, stripSpans, syncFiles } from './fixtures/format/helpers.js';

// Fixed so that runs are reproducible; FUZZ_SEED and FUZZ_RUNS allow a longer hunt by hand.
const seed = Number(process.env.FUZZ_SEED ?? 20_240_617);
const totalRuns = Number(process.env.FUZZ_RUNS ?? 2_400);

const corpus = syncFiles('examples', 'test/fixtures');

/** Text pieces to insert: the lexer's hard cases (unclosed quotes and comments, line breaks), any code point, any byte. */
const insertion = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '(',
    ')',
    '"',
    "'",
    '`',
    '"""',
    '/*',
    '*/',
    '#',
    '//',
    '\n',
    '\r',
    '\r\n',
    '\t',
    '->',
    '?',
    '%',
    ',',
    '.',
    ':',
    '-',
    '<=',
    'not',
    'in',
    'date',
    'model',
    'sync',
    'from',
    'columns',
    '\u00a0',
    '\ufeff',
    '\u2028',
    '\0',
  ),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 4 }),
  fc.uint8Array({ minLength: 1, maxLength: 4 }).map((bytes) => String.fromCharCode(...bytes)),
);

/** Comments that keep a file valid wherever they go between tokens: they stress where the formatter puts comments. */
const comment = fc.constantFrom(
  ' # c\n',
  '\n# own line\n',
  ' /* c */ ',
  '/*c*/',
  '\n/* a\n   b */\n',
  ' // c\n',
  '\n\n# after a blank line\n\n',
  '\n  // x  \r\n',
);

/** Positions are drawn as naturals and taken modulo the size of what they index, so any text fits. */
const position = fc.nat({ max: 1_000_000 });

type Range = [start: number, end: number];

function tokenRanges(text: string): Range[] {
  const lexed = lex(text);
  return [...lexed.tokens, ...(lexed.groups.comments ?? [])].map((t): Range => [t.startOffset, t.startOffset + t.image.length]).sort((a, b) => a[0] - b[0]);
}

/** An edit of the token at `at` (modulo the token count) and the one after it, if any. */
function onToken(edit: (text: string, token: Range, next: Range | undefined, piece: string) => string) {
  return (text: string, at: number, piece: string) => {
    const ranges = tokenRanges(text);
    const i = at % Math.max(1, ranges.length);
    const token = ranges[i];
    return token ? edit(text, token, ranges[i + 1], piece) : text;
  };
}

interface Mutation {
  /** What to insert, for the mutations that insert something. */
  piece: fc.Arbitrary<string>;
  apply(text: string, at: number, piece: string): string;
}

const nothing = fc.constant('');

const mutations: Record<string, Mutation> = {
  'delete a token': { piece: nothing, apply: onToken((text, [s, e]) => text.slice(0, s) + text.slice(e)) },
  'duplicate a token': { piece: nothing, apply: onToken((text, [s, e]) => text.slice(0, e) + text.slice(s, e) + text.slice(e)) },
  'swap adjacent tokens': {
    piece: nothing,
    apply: onToken((text, [s, e], next) =>
      next ? text.slice(0, s) + text.slice(next[0], next[1]) + text.slice(e, next[0]) + text.slice(s, e) + text.slice(next[1]) : text,
    ),
  },
  truncate: { piece: nothing, apply: (text, at) => text.slice(0, at % (text.length + 1)) },
  'insert random text': {
    piece: insertion,
    apply: (text, at, piece) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + piece + text.slice(i);
    },
  },
  'insert a comment between tokens': { piece: comment, apply: onToken((text, [, e], _, piece) => text.slice(0, e) + piece + text.slice(e)) },
  'delete a line': {
    piece: nothing,
    apply: (text, at) => {
      const lines = text.split('\n');
      lines.splice(at % lines.length, 1);
      return lines.join('\n');
    },
  },
};

/** Line starts as the project counts lines (diagnostic rendering, the checker): `\n` ends one, a lone `\r` does not. */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (const m of text.matchAll(/\n/g)) starts.push(m.index + 1);
  return starts;
}

/** 1-based line and column of an offset. */
function lineColumn(starts: number[], offset: number): { line: number; column: number } {
  let line = starts.length;
  while (line > 1 && starts[line - 1]! > offset) line--;
  return { line, column: offset - starts[line - 1]! + 1 };
}

function expectSpanInside(s: Span, path: string, text: string, starts: number[], where: string): void {
  expect(s.file, where).toBe(path);
  expect(0 <= s.offset && s.offset <= s.endOffset && s.endOffset <= text.length, where).toBe(true);
  expect(lineColumn(starts, s.offset), where).toEqual({ line: s.line, column: s.column });
  expect(lineColumn(starts, s.endOffset), where).toEqual({ line: s.endLine, column: s.endColumn });
}

function expectSpansInside(diagnostics: Diagnostic[], path: string, text: string): void {
  const starts = lineStarts(text);
  for (const d of diagnostics) {
    for (const s of [d.span, ...(d.related ?? []).map((r) => r.span), ...(d.fixes ?? []).map((f) => f.span)]) {
      expectSpanInside(s, path, text, starts, `${d.code} ${d.message} at ${JSON.stringify(s)}`);
    }
  }
}

/**
 * The index of any text: every span inside it, each name at its span as written (a quoted one
 * with its quotes), a missing name empty and with no width, every target and scope a definition
 * of the index, of a kind the reference accepts.
 */
function expectIndexHolds(index: SymbolIndex, path: string, text: string): void {
  const starts = lineStarts(text);
  const defined = new Set(index.definitions);
  // A quoted name (closed, or left open by a syntax error) is written with its quotes.
  const written = (s: Span, name: string) => {
    const at = text.slice(s.offset, s.endOffset);
    return at === name || (at.length > 0 && '"`'.includes(at[0]!));
  };
  for (const d of index.definitions) {
    const where = `definition ${d.kind} ${d.name} at ${JSON.stringify(d.span)}`;
    expectSpanInside(d.span, path, text, starts, where);
    expectSpanInside(d.extent, path, text, starts, where);
    expect(d.extent.offset <= d.span.offset && d.span.endOffset <= d.extent.endOffset, where).toBe(true);
    expect(written(d.span, d.name), where).toBe(true);
    expect(d.kind === 'column' ? d.parent !== undefined && defined.has(d.parent) && d.parent.kind === 'model' : d.parent === undefined, where).toBe(true);
  }
  for (const r of index.references) {
    const where = `reference ${JSON.stringify(r.name)} at ${JSON.stringify(r.span)}`;
    expectSpanInside(r.span, path, text, starts, where);
    expect(r.span.offset === r.span.endOffset ? r.name === '' : written(r.span, r.name), where).toBe(true);
    if (r.target) expect(defined.has(r.target) && r.accepts.includes(r.target.kind) && r.name !== '', where).toBe(true);
    if (r.scope) expect(defined.has(r.scope) && r.scope.kind === 'model', where).toBe(true);
  }
}

/** Everything the front end promises about any text at all. */
function expectFrontEndHolds(path: string, text: string): void {
  // The checker parses first, so this also runs the parser on the text.
  const checked = checkProject([{ path, text }]);
  expectSpansInside(checked.diagnostics, path, text);
  expectIndexHolds(checked.index, path, text);
  expect(checked.ok).toBe(!checked.diagnostics.some((d) => d.severity === 'error'));
  const formatted = formatSource(path, text);
  if (formatted.text === undefined) {
    // Refused: these are the syntax diagnostics.
    expect(formatted.diagnostics.length).toBeGreaterThan(0);
    expectSpansInside(formatted.diagnostics, path, text);
  } else {
    const before = parseFile(path, text);
    const after = parseFile(path, formatted.text);
    expect(after.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(stripSpans(after.ast?.definitions)).toEqual(stripSpans(before.ast?.definitions));
    expect(after.ast?.comments.map((c) => c.text)).toEqual(before.ast?.comments.map((c) => commentText(c.text)));
    expect(formatSource(path, formatted.text).text).toBe(formatted.text);
  }
}

describe('fuzz: damaged .sync files', () => {
  it('has files to damage', () => {
    expect(corpus.length).toBeGreaterThan(0);
  });

  const file = fc.constantFrom(...corpus);

  const runs = Math.ceil(totalRuns / Object.keys(mutations).length);
  it.each(Object.entries(mutations))('%s', (_, mutation) => {
    const edits = fc.array(fc.record({ at: position, piece: mutation.piece }), { minLength: 1, maxLength: 3 });
    fc.assert(
      fc.property(file, edits, ({ path, text }, steps) => {
        const damaged = steps.reduce((t, { at, piece }) => mutation.apply(t, at, piece), text);
        try {
          expectFrontEndHolds(path, damaged);
        } catch (e) {
          throw new Error(`${(e as Error).message}\non the damaged text ${JSON.stringify(damaged)}`, { cause: e });
        }
      }),
      { seed, numRuns: runs },
    );
  });
});

describe('fuzz: extreme nesting', () => {
  const audience = (where: string) => `model m { from w columns { a int } }\naudience a { from m where ${where} }\n`;

  it.each([
    ['20,000 nested parentheses', audience(`${'('.repeat(20_000)}a = 1${')'.repeat(20_000)}`)],
    ['20,000 `not`s', audience(`${'not '.repeat(20_000)}a = 1`)],
  ])('%s end as a diagnostic, never a crash', (_, text) => {
    for (const result of [parseFile('deep.sync', text), formatSource('deep.sync', text), checkProject([{ path: 'deep.sync', text }])]) {
      const deep = result.diagnostics.find((d) => d.code === 'SW0013');
      expect(deep?.message).toBe(`this condition nests more than ${nestingLimit} deep (brackets and \`not\`): the file is not read`);
      // At the first bracket or `not` past the limit, not at the file's start.
      expect(text.slice(deep!.span.offset, deep!.span.endOffset)).toMatch(/^(\(|not)$/);
      expect(deep!.span.offset).toBeGreaterThan(text.indexOf('where'));
      expectSpansInside(result.diagnostics, 'deep.sync', text);
    }
  });

  it('a condition nested as deep as the checker takes compiles and formats too, in every dialect', () => {
    const sources = ['postgres { database "a" }', 'snowflake { account "acme-prod" database "A" }', 'bigquery { project "acme-data" }'];
    const project = (source: string, depth: number, open: string, close: string) => `source wh : ${source}
model m { from wh  table t.m  primary key id  columns { id bigint  a int } }
audience x { from m  where ${open.repeat(depth)}a = 1${close.repeat(depth)} }
sync s { from x  to wh table t.members  mode mirror  identifier id -> id  guard deletes <= 5% }
`;
    for (const [open, close] of [
      ['(', ')'],
      ['not ', ''],
      ['(a = 2 or ', ')'],
      ['a = 3 and (a = 2 or ', ')'],
    ]) {
      // The deepest the parser reads, found by halving: the checker reports anything deeper.
      let [ok, tooDeep] = [1, 4_000];
      while (tooDeep - ok > 1) {
        const mid = Math.floor((ok + tooDeep) / 2);
        if (checkProject([{ path: 'deep.sync', text: project(sources[0]!, mid, open!, close!) }]).ok) ok = mid;
        else tooDeep = mid;
      }
      // The same on every machine and caller: the limit is counted, not the stack's.
      expect(ok, `${open}...${close}`).toBe(nestingLimit);
      const deepest = project(sources[0]!, ok, open!, close!);
      expect(formatSource('deep.sync', deepest).diagnostics).toEqual([]);
      for (const source of sources) {
        // The stages one by one, as checkProject reads the file: the depth read depends on the stack its caller leaves.
        const files = [{ path: 'deep.sync', text: project(source, ok, open!, close!) }];
        const checked = check(parse(files));
        expect(checked.ok).toBe(true);
        const context = compileContext(files);
        const [sync] = emit(plan(checked.project, context), context).artifacts;
        expect(sync!.files.find((f) => f.name === 'apply.sql')!.content).toMatch(/["`]a["`] = 1/i);
      }
    }
  });

  it('formats a condition of 10,000 terms, which nests as deep as it is long', () => {
    const terms = Array.from({ length: 10_000 }, (_, i) => `a = ${i}`);
    const out = formatSource('long.sync', audience(terms.join('\n and '))).text ?? '';
    expect(out).toContain(`where ${terms.join('\n    and ')}\n`);
    expect(formatSource('long.sync', out).text).toBe(out);
  });
});
