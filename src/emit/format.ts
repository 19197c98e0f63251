/**
 * sql-formatter costs milliseconds per statement, so each statement shape (its text with
 * the placeholders of sql-writer.ts) is formatted once and reused; the real names, literals
 * and numbers are put back into the formatted text afterwards.
 */
import { format } from 'sql-formatter';
import type { DialectSpec } from '../dialect/index.js';
import { statementSeparator } from './templates.js';

const formatted = new Map<string, string>();
const placeholder = /["'`]swph(\d+)["'`]|\bswph(\d+)\b/g;

/**
 * Numbers a statement's placeholders from 0 in order of appearance, so a statement has one
 * shape wherever it sits in a script; `back` maps local numbers to the script's.
 */
function localise(statement: string): { local: string; back: string[] } {
  const back: string[] = [];
  const local = statement.replace(placeholder, (m, a: string | undefined, b: string | undefined) => {
    back.push(a ?? b ?? '');
    return m.replace(/swph\d+/, `swph${back.length - 1}`);
  });
  return { local, back };
}

function formatStatement(spec: DialectSpec, statement: string): string {
  const { local, back } = localise(statement);
  const key = `${spec.formatter}\n${local}`;
  let text = formatted.get(key);
  if (text === undefined) {
    text = format(local, { language: spec.formatter, keywordCase: 'upper', tabWidth: 2 });
    formatted.set(key, text);
  }
  return text.replace(placeholder, (m, a: string | undefined, b: string | undefined) => m.replace(/swph\d+/, `swph${back[Number(a ?? b)]}`));
}

/** A rendered script, formatted statement by statement (where the template separated them). */
export function formatScript(spec: DialectSpec, shape: string): string {
  return shape
    .split(statementSeparator)
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((statement) => formatStatement(spec, statement))
    .join('\n\n');
}

const compiled = new Map<string, (string | number)[]>();

/** The formatted shape with each placeholder replaced by its value. */
export function fillPlaceholders(shape: string, values: readonly string[]): string {
  // Split once per shape into text and placeholder numbers, then join per use.
  let parts = compiled.get(shape);
  if (!parts) {
    parts = [];
    let last = 0;
    for (const m of shape.matchAll(placeholder)) {
      parts.push(shape.slice(last, m.index), Number(m[1] ?? m[2]));
      last = m.index + m[0].length;
    }
    parts.push(shape.slice(last));
    compiled.set(shape, parts);
  }
  // Joined in one go: a flat string, where `+=` builds a rope that is copied again when the file goes to the writer thread.
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const v = values[part];
      if (v === undefined) throw new Error(`unfilled placeholder swph${part}`);
      return v;
    })
    .join('');
}

/** A shape formatted (cached), then filled with its values. */
export function formatSql(spec: DialectSpec, shape: string, values: readonly string[]): string {
  return fillPlaceholders(formatScript(spec, shape), values);
}
