/**
 * Text for Markdown (a pull-request comment, an editor's hover): names, files and values of the
 * files under review are data, so none of them can write markup, links or mentions.
 */
import { largest } from '../numbers.js';

/**
 * The text on one line of Markdown: every line break a renderer may honour (`\r` alone ends a
 * line in CommonMark, and so a table row) and every other control character a space; the
 * bidirectional controls, which reorder what a reader sees, U+FFFD.
 */
function oneLine(s: string): string {
  return s.replace(/\r\n|[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').replace(/[\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/**
 * Text in a table cell: no markup, no line break, no `|`, no @mention. An entity for `@` is
 * decoded before GitHub links mentions, so a zero-width space follows it instead.
 */
export function escapeMarkdown(s: string): string {
  return oneLine(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]|~])/g, '\\$1')
    .replace(/@/g, '@&#8203;');
}

/**
 * A code span holding any text: a fence longer than the text's longest run of backticks; in a
 * table (`table`), `|` escaped, as GitHub's tables split on it even in code.
 */
export function code(s: string, table = true): string {
  const flat = oneLine(s);
  const run = largest([...flat.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(run + 1);
  const padded = /^`|`$/.test(flat) ? ` ${flat} ` : flat;
  return `${fence}${table ? padded.replace(/\|/g, '\\|') : padded}${fence}`;
}
