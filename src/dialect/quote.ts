/**
 * The one quoting function and the one literal function of every dialect, driven by the
 * dialect's data: each character with an escape is replaced, everything else kept.
 */
import type { DialectSpec, Quoting } from './index.js';

function enclose(q: Quoting, text: string): string {
  let out = q.quote[0];
  for (const ch of text) out += q.escapes[ch] ?? ch;
  return out + q.quote[1];
}

/** An exact (already folded) name as a quoted identifier. */
export function quoteIdent(spec: DialectSpec, name: string): string {
  if (name.length === 0) throw new Error('an identifier cannot be empty');
  return enclose(spec.identifiers, name);
}

/** A string as a SQL string literal. */
export function quoteLiteral(spec: DialectSpec, value: string): string {
  return enclose(spec.literals, value);
}
