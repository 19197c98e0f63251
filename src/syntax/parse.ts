/**
 * text -> the AST of one file and its syntax diagnostics (syntax-errors.ts). A file with
 * errors has a tree too: what the parser's recovery read, with placeholders where text is
 * missing and its damaged definitions marked `partial` (see ast.ts).
 */
import type { ILexingResult, IToken } from 'chevrotain';
import { parser, syntaxErrorLimit } from './parser.js';
import * as T from './tokens.js';
import { tokenMatcher } from './chevrotain.js';
import { Builder, tokenSpan } from './build.js';
import type { SyncFile, Comment } from './ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnostic } from '../diagnostics/codes.js';
import { fileStart, Lines } from '../span.js';
import { noWords, syntaxDiagnostics, withSlips, type SyntaxWords } from './syntax-errors.js';

export type { SyntaxWords } from './syntax-errors.js';

export interface ParseResult {
  ast: SyncFile;
  diagnostics: Diagnostic[];
  /** No syntax error: the tree is exactly what the text says. Only such a file is formatted or compiled. */
  ok: boolean;
  /**
   * When the file has errors, the words that may name a definition its tree lacks: every word
   * after `source`, `model`, `audience`, `destination` or `sync` in the text (comments and
   * strings left open included), and every word of the text the parser skipped (the head of
   * a definition whose keyword is lost, `crm : hubspot {`). A generous reading is the point:
   * such a name is only kept from being reported as unknown. Empty when `ok`.
   */
  namesInText: string[];
}

function namesAfterKeywords(text: string): string[] {
  return [...text.matchAll(/\b(?:source|model|audience|destination|sync)\s+(?=([A-Za-z_][A-Za-z0-9_$]*))/g)].map((m) => m[1]!);
}

/** Tokens the parser may skip without losing anything a check reads: separators, and a `}` left over (each is reported as a mistake of its own). */
const harmless = [T.Comma, T.Colon, T.Eq, T.RBrace];

/** Strings left open: they take in the text after them, to the end of their line or of the file. */
const openStrings = [T.OpenTripleString, T.OpenDqString, T.OpenSqString];

/**
 * The offsets, in order, of the text the tree may not hold as written: tokens recovery
 * skipped (but harmless ones), characters the lexer could not read (but `;`), strings left
 * open; and the words of the tokens skipped.
 */
function unread(tokens: readonly IToken[], lexed: ILexingResult, text: string): { offsets: number[]; words: string[] } {
  const inTree = new Set<number>();
  tokens.forEach((t, i) => parser.consumed[i] === 1 && inTree.add(t.startOffset));
  const lost = tokens.filter((t) => !inTree.has(t.startOffset) && !harmless.some((s) => tokenMatcher(t, s)));
  const characters = lexed.errors.filter((e) => text.slice(e.offset, e.offset + e.length) !== ';').map((e) => e.offset);
  const open = (lexed.groups.slips ?? []).filter((t) => openStrings.includes(t.tokenType)).map((t) => t.startOffset);
  return {
    offsets: [...lost.map((t) => t.startOffset), ...characters, ...open].sort((a, b) => a - b),
    words: lost.filter((t) => tokenMatcher(t, T.Name)).map((t) => t.image),
  };
}

/**
 * How deep brackets and `not` may nest: far beyond what anyone writes, and well within what
 * every stage that walks a condition (parser, checker, emitters, formatter) reads on the
 * default stack. A fixed number, so that a file reads the same on every machine and caller.
 */
export const nestingLimit = 256;

/** The token types `tooDeep` counts, by index (it runs once per token of every file). */
const nesting = {
  lParen: T.LParen.tokenTypeIdx!,
  rParen: T.RParen.tokenTypeIdx!,
  not: T.Not.tokenTypeIdx!,
  and: T.And.tokenTypeIdx!,
  or: T.Or.tokenTypeIdx!,
  lBrace: T.LBrace.tokenTypeIdx!,
  rBrace: T.RBrace.tokenTypeIdx!,
};

/**
 * The first token nested deeper than `nestingLimit`, counted on the tokens, so that nothing
 * recurses that deep. A `not` nests until the `and`/`or` or `)` that ends its term; a `not` of
 * `is not null` or `not in` is counted too, which only ever over-counts by one.
 */
function tooDeep(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  // Per open bracket (the first entry: outside any), the `not`s of the term being read.
  const nots = [0];
  // By index: none of these types is a category, so a token matches one only by its own type.
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const k = t.tokenTypeIdx;
    if (k === nesting.lParen) {
      depth++;
      nots.push(0);
    } else if (k === nesting.rParen) {
      if (nots.length > 1) depth -= (nots.pop() as number) + 1;
    } else if (k === nesting.not) {
      depth++;
      nots[nots.length - 1]!++;
    } else if (k === nesting.and || k === nesting.or) {
      depth -= nots[nots.length - 1]!;
      nots[nots.length - 1] = 0;
    } else if (k === nesting.lBrace || k === nesting.rBrace) {
      // A block starts or ends: whatever condition was open has ended (its error is the parser's to report).
      depth = 0;
      nots.length = 1;
      nots[0] = 0;
    }
    if (depth > nestingLimit) return t;
  }
  return undefined;
}

/** A tree with nothing in it, for a file that was not read: every word of it may name a definition. */
function unreadFile(file: string, text: string, d: Diagnostic): ParseResult {
  return {
    ast: new Builder(file, text).tree([], []),
    diagnostics: [d],
    ok: false,
    namesInText: [...text.matchAll(/[A-Za-z_][A-Za-z0-9_$]*/g)].map((m) => m[0]),
  };
}

const nestingHint = 'split deeply nested conditions into several audiences or a model `sql`';

function parseText(file: string, text: string, words: SyntaxWords): ParseResult {
  const lexed = T.lex(text);
  const slips = lexed.groups.slips ?? [];
  const tokens = slips.length > 0 ? withSlips(lexed.tokens, slips) : lexed.tokens;
  const builder = new Builder(file, text);
  const lines = builder.lines;
  const deep = tooDeep(tokens);
  if (deep) return unreadFile(file, text, diagnostic('nesting-too-deep', tokenSpan(lines, deep), { limit: nestingLimit }, [nestingHint]));
  const definitions = parser.read(builder, tokens);
  const comments: Comment[] = (lexed.groups.comments ?? []).map((t) => ({ text: t.image, span: tokenSpan(lines, t) }));
  if (lexed.errors.length === 0 && slips.length === 0 && parser.errors.length === 0) {
    return { ast: builder.tree(definitions, comments), diagnostics: bidiControls(lines), ok: true, namesInText: [] };
  }
  const syntax = syntaxDiagnostics(lines, lexed, tokens, words);
  let diagnostics = syntax.diagnostics;
  if (parser.stoppedAt) {
    const stop = diagnostic('too-many-syntax-errors', tokenSpan(lines, parser.stoppedAt), { limit: syntaxErrorLimit }, [
      'fix these first: one mistake often causes the errors after it',
    ]);
    // What the parser made of the text after the limit is no error of the file's.
    diagnostics = [...diagnostics.filter((d) => d.span.offset < stop.span.offset), stop];
  }
  const skipped = unread(tokens, lexed, text);
  const unsure = [...skipped.offsets, ...syntax.unsure].sort((a, b) => a - b);
  return {
    ast: builder.tree(definitions, comments, unsure),
    diagnostics: [...diagnostics, ...bidiControls(lines)].sort((a, b) => a.span.offset - b.span.offset),
    ok: false,
    namesInText: [...namesAfterKeywords(text), ...skipped.words],
  };
}

/** The characters that reorder how a line displays (Trojan Source, CVE-2021-42574), by name. */
const bidiNames: Record<string, string> = {
  '\u202a': 'U+202A LEFT-TO-RIGHT EMBEDDING',
  '\u202b': 'U+202B RIGHT-TO-LEFT EMBEDDING',
  '\u202c': 'U+202C POP DIRECTIONAL FORMATTING',
  '\u202d': 'U+202D LEFT-TO-RIGHT OVERRIDE',
  '\u202e': 'U+202E RIGHT-TO-LEFT OVERRIDE',
  '\u2066': 'U+2066 LEFT-TO-RIGHT ISOLATE',
  '\u2067': 'U+2067 RIGHT-TO-LEFT ISOLATE',
  '\u2068': 'U+2068 FIRST STRONG ISOLATE',
  '\u2069': 'U+2069 POP DIRECTIONAL ISOLATE',
};

/**
 * A warning at each bidirectional control character: in a comment or a string (a model's SQL)
 * one can make a reviewer read the line in another order than the compiler does. Names are
 * ASCII, so nowhere else holds one. Only a warning: right-to-left text may need them.
 */
function bidiControls(lines: Lines): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const m of lines.text.matchAll(/[\u202a-\u202e\u2066-\u2069]/g)) {
    const hex = m[0].charCodeAt(0).toString(16).toUpperCase();
    found.push(
      diagnostic('bidi-control', lines.span(m.index, m.index + 1), { name: bidiNames[m[0]]! }, [
        `remove it; where a value needs it, write it as the escape \\u${hex} in a "string", which shows as written`,
      ]),
    );
  }
  return found;
}

/**
 * The parser and the builder recurse once per level of nesting, which `nestingLimit` bounds
 * before they start. Should some other input still exhaust the stack, it ends as the same
 * diagnostic (at the file's start) and an empty tree, never as a crash.
 */
export function parseFile(file: string, text: string, words: SyntaxWords = noWords): ParseResult {
  try {
    return parseText(file, text, words);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return unreadFile(file, text, diagnostic('nesting-too-deep', fileStart(file), { limit: nestingLimit }, [nestingHint]));
  }
}

/** A file of a project: its name and its text. */
export interface SourceText {
  path: string;
  text: string;
}

/** A file of a project, parsed: no tree when it is not text (its one diagnostic says so). */
export interface ParsedFile {
  path: string;
  text: string;
  ast?: SyncFile;
  diagnostics: Diagnostic[];
  namesInText: string[];
}

/**
 * Every file parsed, in order; a file that is not text gets one diagnostic instead of a tree.
 * `words`: the catalog's, which syntax errors' hints name (`syntaxWords` of src/catalog).
 */
export function parseProject(files: readonly SourceText[], words: SyntaxWords = noWords): ParsedFile[] {
  return files.map((f) => {
    const d = notText(f);
    if (d) return { path: f.path, text: f.text, diagnostics: [d], namesInText: [] };
    const { ast, diagnostics, namesInText } = parseFile(f.path, f.text, words);
    return { path: f.path, text: f.text, ast, diagnostics, namesInText };
  });
}

/**
 * A file that is not UTF-8 text: a NUL character (binary data) or a byte sequence that
 * decoding replaced with U+FFFD. One diagnostic at the first such character, rather than one
 * syntax error per stray byte.
 */
export function notText(f: SourceText): Diagnostic | undefined {
  const nul = f.text.indexOf('\u0000');
  const bad = nul >= 0 ? nul : f.text.indexOf('\uFFFD');
  if (bad < 0) return undefined;
  const span = new Lines(f.path, f.text).span(bad, bad + 1);
  const reason = nul >= 0 ? 'it is a binary file, not text' : `it is not UTF-8 text (an invalid byte at line ${span.line}, column ${span.column})`;
  return diagnostic('unreadable-file', span, { path: f.path, reason }, [
    'a project reads every .sync file under its folders: move other files out, or rename them',
  ]);
}
