/**
 * Text from files, servers and warehouses is data: before it reaches a terminal, every character
 * that could move the cursor, recolour, retitle or rewrite what is shown is written as an escape.
 * The one place for that, for the compiler's messages and the executor's alike.
 */

/**
 * Control characters (C0 but the tab and the line break, DEL, and C1, which terminals read as
 * ESC + a letter: U+009B is CSI), and the bidirectional ones, which would reorder the line shown around them.
 */
const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, and half of a surrogate pair (a `\ud800` escape in a name), which UTF-8 output would turn into U+FFFD. */
const unprintable = new RegExp(`${controls.source}|[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]`, 'g');

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');
const escaped = (c: string) => (c === '\r' ? '\\r' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c.charCodeAt(0) < 0x80 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`);

/** Text for the terminal: `\x1b`, `\r`, `\u009b`, ... instead of the characters; a message quoting one shows it escaped, never raw. */
export function printable(s: string): string {
  return s.replace(unprintable, escaped);
}

/** Text for the terminal on one line (a file name, a name, a value): its tabs and line breaks escaped too, so it cannot forge a line. */
export function printableLine(s: string): string {
  return printable(s).replace(/[\t\n]/g, escaped);
}

/** `s` with each control character replaced by `by` (a code frame's U+FFFD, which keeps the caret's column). */
export function replaceControls(s: string, by: string): string {
  return s.replace(controls, by);
}

/**
 * For a JSON file that may be printed with `cat`: JSON.stringify leaves DEL, C1 controls and
 * bidirectional overrides as they are; written as `\uXXXX` they parse back to the same text.
 */
export function jsonText(json: string): string {
  return json.replace(controls, (c) => `\\u${hex(c, 4)}`);
}
