/**
 * The quoting function and the literal function of every dialect, over the dialect's data
 * (`enclose` in src/contract/quoting.ts, which executors use too): each character with an
 * escape is replaced, everything else kept. A text holding a character of `escaped` takes the
 * dialect's prefixed form (Postgres `E'...'`); a character the dialect `rejects` never reaches
 * SQL (the checker reports it first, with `textProblem`).
 */
import { createHash } from 'node:crypto';
import type { DialectSpec, NameKind } from './index.js';
import { enclose, nameLength as lengthOf } from '../contract/quoting.js';

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
  const tail = `_${createHash('sha256').update(full).digest('hex').slice(0, 8)}${suffix}`;
  const kept = [...base];
  while (kept.length > 0 && nameLength(spec, kept.join('') + tail) > limit) kept.pop();
  return kept.join('') + tail;
}
