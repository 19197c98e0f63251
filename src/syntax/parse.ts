/** text -> AST of one file, or the syntax diagnostics that stop it. */
import type { IRecognitionException, IToken } from 'chevrotain';
import { parser } from './parser.js';
import { lex } from './tokens.js';
import { buildAst, tokenSpan } from './build.js';
import type { SyncFile, Comment } from './ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnostic } from '../diagnostics/codes.js';
import { fileStart, type Span } from './span.js';

export interface ParseResult {
  ast?: SyncFile;
  diagnostics: Diagnostic[];
}

/** Readable name of what the parser wanted: `}` rather than RBrace. */
function describe(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'the end of the file';
  const image = t.image.length > 30 ? `${t.image.slice(0, 27)}...` : t.image;
  return `\`${image}\``;
}

const definitionHint = 'a file holds `source`, `model`, `audience`, `destination` and `sync` definitions';

const ruleHints: Record<string, string> = {
  project: definitionHint,
  definition: definitionHint,
  modelItem: 'a model takes `from`, `table`, `sql`, `primary key`, `order by` and `columns { ... }`',
  syncItem:
    'a sync takes `from`, `to`, `mode`, `identifier`, `map { ... }`, `batch`, `guard`, `schedule`, `message` and `format`',
  setting: 'a setting is a name and a value: `database "acme"`, `token env("TOKEN")`',
  value: 'a value is a string, a number, true/false, env("VAR") or a dotted name',
  columnDef: 'a column is a name, a type and an optional `?`: `email string?`',
  typeRef: 'types: string, int, bigint, float, bool, date, timestamp, json, decimal(p, s)',
  notExpr: 'a condition compares a column: `ltv >= 1000`, `country in (\'US\')`, `email is not null`',
  predicate: 'a condition compares a column: `ltv >= 1000`, `country in (\'US\')`, `email is not null`',
  guardItem: '`guard deletes <= 100`, `guard deletes <= 5%` or `guard allow empty`',
  mapping: 'a mapping is `column -> field`, optionally followed by `hashed`',
};

/** Recovery may insert tokens with no position: fall back to the token before them. */
function errorSpan(file: string, e: IRecognitionException, tokens: IToken[], text: string): Span {
  const t = e.token;
  if (!Number.isNaN(t.startOffset) && t.tokenType.name !== 'EOF') return tokenSpan(file, t);
  const prev = (e as { previousToken?: IToken }).previousToken;
  const last = prev && !Number.isNaN(prev.startOffset) ? prev : tokens[tokens.length - 1];
  if (last) {
    const s = tokenSpan(file, last);
    return { ...s, line: s.endLine, column: s.endColumn, offset: s.endOffset };
  }
  const lines = text.split('\n');
  const line = lines.length;
  const column = (lines[line - 1] ?? '').length + 1;
  return { file, line, column, offset: text.length, endLine: line, endColumn: column, endOffset: text.length };
}

function syntaxMessage(e: IRecognitionException): string {
  const found = describe(e.token);
  switch (e.name) {
    case 'MismatchedTokenException': {
      const wanted = /-->\s*(.*?)\s*<--/.exec(e.message)?.[1];
      return `expected ${wanted === 'EOF' ? 'a definition' : (wanted ?? 'something else')}, found ${found}`;
    }
    case 'NotAllInputParsedException':
      return `expected a definition, found ${found}`;
    case 'EarlyExitException':
      return `expected at least one item here, found ${found}`;
    default:
      return `unexpected ${found}`;
  }
}

function parseText(file: string, text: string): ParseResult {
  const lexed = lex(text);
  const diagnostics: Diagnostic[] = lexed.errors.map((e) => {
    const span: Span = {
      file,
      line: e.line ?? 1,
      column: e.column ?? 1,
      offset: e.offset,
      endLine: e.line ?? 1,
      endColumn: (e.column ?? 1) + Math.max(1, e.length),
      endOffset: e.offset + Math.max(1, e.length),
    };
    const ch = text.slice(e.offset, e.offset + Math.max(1, e.length));
    const hint = ch.startsWith('"') || ch.startsWith("'")
      ? ['a string must close on the line it opens on; use """ for text that spans lines']
      : ch.startsWith('`')
        ? ['a quoted name must close with a backtick on the same line']
        : ['remove it, or put it in a string'];
    return diagnostic('unexpected-character', span, { text: ch.replace(/\n/g, '\\n') }, hint);
  });
  parser.input = lexed.tokens;
  const cst = parser.project();
  for (const e of parser.errors) {
    const rule = e.context.ruleStack[e.context.ruleStack.length - 1] ?? 'project';
    const hint = ruleHints[rule];
    diagnostics.push(diagnostic('syntax-error', errorSpan(file, e, lexed.tokens, text), { detail: syntaxMessage(e) }, hint ? [hint] : []));
  }
  if (diagnostics.length > 0) return { diagnostics };
  const comments: Comment[] = (lexed.groups.comments ?? []).map((t) => ({ text: t.image, span: tokenSpan(file, t) }));
  return { ast: buildAst(file, cst, comments, text), diagnostics };
}

/**
 * The parser and the builder recurse once per level of nesting: input nested thousands deep
 * (generated or corrupted) ends as a diagnostic, never as a crash.
 */
export function parseFile(file: string, text: string): ParseResult {
  try {
    return parseText(file, text);
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    return {
      diagnostics: [
        diagnostic('syntax-error', fileStart(file), { detail: 'this file nests too deeply to be read' }, [
          'split deeply nested conditions into several audiences or a model `sql`',
        ]),
      ],
    };
  }
}
