/**
 * The quoting function and the literal function of every dialect, over the dialect's data
 * (`enclose` in src/contract/quoting.ts, which executors use too): each character with an
 * escape is replaced, everything else kept. A text holding a character of `escaped` takes the
 * dialect's prefixed form (Postgres `E'...'`); a character the dialect `rejects` never reaches
 * SQL (the checker reports it first, with `textProblem`).
 */
import { textMark } from '../hash.js';
import type { DialectSpec, NameKind } from './index.js';
import { enclose, nameLength as lengthOf } from '../contract/quoting.js';
import { fillSnippet } from './snippet.js';

export { textProblem } from '../contract/quoting.js';

/** An exact (already folded) name as a quoted identifier. */
export function quoteIdent(spec: DialectSpec, name: string): string {
  if (name.length === 0) throw new Error('an identifier cannot be empty');
  return enclose(spec.identifiers, name);
}

/** A string as a SQL string literal: it means the same on every setting of the server. */
export function quoteLiteral(spec: DialectSpec, value: string): string {
  return enclose(spec.literals, value);
}

/**
 * A number as written in a `.sync` file (`-12.50`, `1e3`) in plain decimal, without leading or
 * trailing zeros, with its digits before and after the point; undefined past any warehouse's reach.
 */
export function plainDecimal(raw: string): { text: string; integerDigits: number; scale: number } | undefined {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(raw);
  if (!m) return undefined;
  const exponent = Number(m[4] ?? 0);
  // Postgres's NUMERIC, the longest, holds 131072 digits before the point and 16383 after.
  if (Math.abs(exponent) > 200_000) return undefined;
  const digits = m[2]! + (m[3] ?? '');
  const point = m[2]!.length + exponent;
  const padded = point <= 0 ? '0'.repeat(1 - point) + digits : point > digits.length ? digits + '0'.repeat(point - digits.length) : digits;
  const at = Math.max(point, 1);
  const whole = padded.slice(0, at).replace(/^0+(?=\d)/, '');
  const fraction = padded.slice(at).replace(/0+$/, '');
  const zero = /^0$/.test(whole) && fraction === '';
  const text = `${m[1] && !zero ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
  return { text, integerDigits: whole === '0' ? 0 : whole.length, scale: fraction.length };
}

/**
 * A number as an exact literal of the dialect (as Postgres reads a number: NUMERIC, never a
 * float), in the first of its forms that holds it; undefined when none does.
 */
export function exactNumberLiteral(spec: DialectSpec, raw: string): string | undefined {
  const n = plainDecimal(raw);
  if (!n) return undefined;
  const form = spec.conditions.exactNumbers.find(
    (f) => n.integerDigits <= (f.integerDigits ?? Infinity) && n.scale <= (f.scale ?? Infinity) && n.integerDigits + n.scale <= (f.digits ?? Infinity),
  );
  return form && fillSnippet(form.literal, { v: n.text });
}

/** The length of a name in the unit of the dialect's limit. */
export function nameLength(spec: DialectSpec, name: string): number {
  return lengthOf(spec.identifiers, name);
}

/**
 * A name the compiler makes (a state table: `<sync>_snapshot`), within the dialect's limit.
 * When `base` + `suffix` is longer, `base` is cut and the first 8 hex digits of the whole
 * name's SHA-256 keep names that share their start apart: `<cut base>_<hash><suffix>`.
 */
export function generatedName(spec: DialectSpec, kind: NameKind, base: string, suffix = ''): string {
  const full = base + suffix;
  const limit = spec.identifiers.maxLength[kind];
  if (nameLength(spec, full) <= limit) return full;
  const tail = `_${textMark(full)}${suffix}`;
  const kept = [...base];
  while (kept.length > 0 && nameLength(spec, kept.join('') + tail) > limit) kept.pop();
  return kept.join('') + tail;
}
