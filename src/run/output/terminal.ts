/**
 * Text from servers and warehouses is data: before it reaches a terminal, every character that
 * could move the cursor, recolour, retitle or rewrite what is shown (C0 controls but the line
 * break and the tab, DEL, C1 controls, bidirectional overrides) is written as an escape.
 */
const unsafe = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const hex = (c: string, width: number) => c.charCodeAt(0).toString(16).padStart(width, '0');

/** For the terminal: `\x1b`, `\r`, `\u009b`, ... instead of the characters. */
export function terminalText(text: string): string {
  return text.replace(unsafe, (c) => (c === '\r' ? '\\r' : c.charCodeAt(0) < 0x80 ? `\\x${hex(c, 2)}` : `\\u${hex(c, 4)}`));
}

/**
 * For a JSON file that may be printed with `cat`: JSON.stringify leaves DEL, C1 controls and
 * bidirectional overrides as they are; written as `\uXXXX` they parse back to the same text.
 */
export function jsonText(json: string): string {
  return json.replace(unsafe, (c) => `\\u${hex(c, 4)}`);
}
