/**
 * sql-formatter costs milliseconds per script, so a script is formatted once per shape (its
 * text with placeholders, see sql-writer.ts) and the real names, literals and numbers are
 * put back into the formatted shape.
 */
import { format } from 'sql-formatter';
import type { DialectSpec } from '../dialect/index.js';

const formatted = new Map<string, string>();
const placeholder = /["'`]swph(\d+)["'`]|\bswph(\d+)\b/g;

export function formatSql(spec: DialectSpec, shape: string, values: readonly string[]): string {
  const key = `${spec.formatter}\n${shape}`;
  let text = formatted.get(key);
  if (text === undefined) {
    text = format(shape, { language: spec.formatter, keywordCase: 'upper', tabWidth: 2 });
    formatted.set(key, text);
  }
  return text.replace(placeholder, (_, a: string | undefined, b: string | undefined) => {
    const v = values[Number(a ?? b)];
    if (v === undefined) throw new Error(`unfilled placeholder swph${a ?? b}`);
    return v;
  });
}
