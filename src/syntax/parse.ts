/**
 * text -> AST of one file, or the syntax diagnostics that stop it (syntax-errors.ts).
 */
import { parser, syntaxErrorLimit, TooManySyntaxErrors } from './parser.js';
import * as T from './tokens.js';
import { buildAst, tokenSpan } from './build.js';
import type { SyncFile, Comment } from './ast.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { diagnostic } from '../diagnostics/codes.js';
import { fileStart } from './span.js';
import { syntaxDiagnostics, withSlips } from './syntax-errors.js';

export interface ParseResult {
  ast?: SyncFile;
  diagnostics: Diagnostic[];
}

function parseText(file: string, text: string): ParseResult {
  const lexed = T.lex(text);
  const slips = lexed.groups.slips ?? [];
  const tokens = slips.length > 0 ? withSlips(lexed.tokens, slips) : lexed.tokens;
  parser.input = tokens;
  let cst;
  try {
    cst = parser.project();
  } catch (e) {
    if (!(e instanceof TooManySyntaxErrors)) throw e;
    const stop = diagnostic('too-many-syntax-errors', tokenSpan(file, e.token), { limit: syntaxErrorLimit }, [
      'fix these first: one mistake often causes the errors after it',
    ]);
    // What the parser made of the token it stopped at is no error of the file's.
    return { diagnostics: [...syntaxDiagnostics(file, text, lexed, tokens).filter((d) => d.span.offset < stop.span.offset), stop] };
  }
  if (lexed.errors.length > 0 || slips.length > 0 || parser.errors.length > 0) return { diagnostics: syntaxDiagnostics(file, text, lexed, tokens) };
  const comments: Comment[] = (lexed.groups.comments ?? []).map((t) => ({ text: t.image, span: tokenSpan(file, t) }));
  return { ast: buildAst(file, cst, comments, text), diagnostics: [] };
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
        diagnostic('nesting-too-deep', fileStart(file), {}, [
          'split deeply nested conditions into several audiences or a model `sql`',
        ]),
      ],
    };
  }
}
