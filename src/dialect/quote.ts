/**
 * The one quoting function and the one literal function of every dialect, driven by the
 * dialect's data: each character with an escape is replaced, everything else kept.
 */
import type { DialectSpec, Quoting } from './index.js';

const needsEscape = new WeakMap<Quoting, RegExp>();

function enclose(q: Quoting, text: string): string {
  let re = needsEscape.get(q);
  if (!re) {
    re = new RegExp(`[${Object.keys(q.escapes).map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('')}]`);
    needsEscape.set(q, re);
  }
  // Most names and strings have nothing to escape.
  if (!re.test(text)) return q.quote[0] + text + q.quote[1];
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
