/**
 * The canonical layout of a `.sync` file, printed from its AST. One layout, no options:
 *
 * - 2-space indentation; `{` ends the head line (`source name : dialect {`), `}` stands alone;
 *   a block with nothing inside prints as `name {}`.
 * - Definitions in source order, separated by exactly one blank line.
 * - One setting, item, column or mapping per line. In each block, the values of its one-line
 *   entries start in one column, one space after the longest key (`primary key`, a setting
 *   name, a column name, the column before `->`); `columns {`, `map {` and a value over
 *   several lines (`sql """`) are not aligned.
 * - `?` right after the type; `decimal(12, 2)`; `order by a desc, b`; `env("X")`;
 *   `guard deletes <= 5%`; a `where` condition on one line, single spaces around operators,
 *   parentheses only where written.
 * - Strings, numbers and quoted names exactly as written (never re-escaped or re-quoted);
 *   the inside of a """string""" is untouched, trailing spaces included.
 * - Comments stay. An own-line comment stays on its own line, before the next thing and at
 *   its indentation, or at the end of its block or file. A trailing comment stays at the end
 *   of its printed line; inside a block, the trailing comments of the block's lines start in
 *   one column, one space after the longest of those lines. Comments inside an entry that is printed on one
 *   line (a `where` over several lines) go to its end, or before it when that cannot hold them.
 * - Inside a block, one blank line stays wherever the source had at least one; none after
 *   `{` or before `}`.
 * - No trailing whitespace (outside """strings"""); `\n` line breaks; the text ends with
 *   exactly one newline, or is empty when the file holds nothing.
 *
 * Formatting is idempotent and keeps the meaning: the output parses to the same AST.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { parseFile } from './parse.js';
import { layoutFile } from './format-layout.js';
import { placeComments } from './format-comments.js';
import { renderFile } from './format-render.js';

export interface FormatResult {
  /** Absent when the file has syntax errors: those are in `diagnostics`. */
  text?: string;
  diagnostics: Diagnostic[];
}

export function formatSource(file: string, text: string): FormatResult {
  const { ast, diagnostics } = parseFile(file, text);
  if (!ast) return { diagnostics };
  const definitions = layoutFile(ast, text);
  const placement = placeComments(definitions, ast.comments, text);
  return { text: renderFile(definitions, placement, text), diagnostics };
}
