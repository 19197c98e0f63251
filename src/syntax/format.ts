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
 *   `guard deletes <= 5%`; in a `where` condition, single spaces around operators and
 *   parentheses only where written.
 * - A `where` condition stays on the `where` line when it fits within 100 columns (comments
 *   aside) and holds no comment that needs a line of its own. Otherwise it is broken like
 *   this, each part again kept on one line when it fits:
 *   - the terms of the condition's `or` chain (or its `and` chain, when it has no `or`) sit
 *     one level (2 spaces) deeper than `where`, the first on the `where` line, each other on
 *     a line of its own that starts with its operator. Since `where` is the longest key of an
 *     audience, `and ` brings a term into the condition's column: `where a` / `    and b`;
 *   - an `and` chain inside an `or` chain that does not fit breaks the same way, one level
 *     deeper than the `or`s;
 *   - `(` and `x in (` that do not fit end their line; what is inside goes one level deeper
 *     than the term (a list one item per line, with its comma) and `)` comes back to the
 *     term's level on a line of its own. `not` stays with what it negates.
 * - Strings, numbers and quoted names exactly as written (never re-escaped or re-quoted);
 *   the inside of a """string""" is untouched, trailing spaces included.
 * - Comments stay. An own-line comment stays on its own line, before the next thing and at
 *   its indentation, or at the end of its block or file. A trailing comment stays at the end
 *   of its printed line; inside a block, the trailing comments of the block's lines (broken
 *   condition lines included) start in one column, one space after the longest of those
 *   lines. Inside a condition, an own-line comment, or a `#`/`//` comment where the condition
 *   can break (after a term, a `(` or an item's comma), breaks the condition so that it keeps
 *   its place: on its own line before the term that follows it, or at the end of the line
 *   before. Other comments inside a printed line (`a = # x` / `1`) go to the end of that line,
 *   or before it when that cannot hold them.
 * - Inside a block, one blank line stays wherever the source had at least one; none after
 *   `{`, before `}` or inside a condition.
 * - No trailing whitespace (outside """strings"""); `\n` line breaks; the text ends with
 *   exactly one newline, or is empty when the file holds nothing.
 *
 * Formatting is idempotent and keeps the meaning: the output parses to the same AST.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { parseFile, type SyntaxWords } from './parse.js';
import { layoutFile } from './format-layout.js';
import { placeComments } from './format-comments.js';
import { renderFile } from './format-render.js';
import { CodeScanner } from './format-scan.js';

export interface FormatResult {
  /** Absent when the file has syntax errors: those are in `diagnostics`. */
  text?: string;
  diagnostics: Diagnostic[];
}

/** `words`: the catalog's, named by the hints of syntax errors (src/catalog's `syntaxWords`). */
export function formatSource(file: string, text: string, words?: SyntaxWords): FormatResult {
  const { ast, diagnostics, ok } = parseFile(file, text, words);
  if (!ok) return { diagnostics };
  const scanner = new CodeScanner(text, ast.comments);
  const definitions = layoutFile(ast, text, scanner);
  const placement = placeComments(definitions, ast.comments, scanner);
  // Only what stops formatting is reported here: a file's warnings are `check`'s to report.
  return { text: renderFile(definitions, placement, text), diagnostics: [] };
}
