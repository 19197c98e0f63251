/**
 * The one quoting function and the one literal function of every dialect, driven by the
 * dialect's data: each character with an escape is replaced, everything else kept. A text
 * holding a character of `escaped` takes the dialect's prefixed form (Postgres `E'...'`);
 * a character the dialect `rejects` never reaches SQL (the checker reports it first, with
 * `textProblem`).
 */
import { createHash } from 'node:crypto';
import type { DialectSpec, NameKind, Quoting } from './index.js';

interface Compiled {
  /** Any character that is escaped, prefixed or rejected, and surrogates (checked by textProblem). */
  special: RegExp;
  prefixed?: RegExp;
  rejected?: RegExp;
  escapes: Record<string, string>;
  prefixedEscapes: Record<string, string>;
}

const compiledQuoting = new WeakMap<Quoting, Compiled>();

const charClass = (chars: string[], also = ''): RegExp | undefined =>
  chars.length === 0 && !also ? undefined : new RegExp(`[${chars.map((c) => c.replace(/[\\\]^-]/g, '\\$&')).join('')}${also}]`);

function compiled(q: Quoting): Compiled {
  let c = compiledQuoting.get(q);
  if (!c) {
    const prefixed = Object.keys(q.escaped?.escapes ?? {});
    const rejected = Object.keys(q.rejects ?? {});
    c = {
      special: charClass([...Object.keys(q.escapes), ...prefixed, ...rejected], '\\uD800-\\uDFFF')!,
      prefixed: charClass(prefixed),
      rejected: charClass(rejected),
      escapes: q.escapes,
      prefixedEscapes: { ...q.escapes, ...q.escaped?.escapes },
    };
    compiledQuoting.set(q, c);
  }
  return c;
}

function enclose(q: Quoting, text: string): string {
  const c = compiled(q);
  // Most names and strings have nothing to escape.
  if (!c.special.test(text)) return q.quote[0] + text + q.quote[1];
  const problem = textProblem(q, text);
  if (problem) throw new Error(`cannot quote ${JSON.stringify(text)}: ${problem.why}`);
  const prefixed = c.prefixed?.test(text) === true;
  const escapes = prefixed ? c.prefixedEscapes : c.escapes;
  let out = (prefixed ? q.escaped!.prefix : '') + q.quote[0];
  for (const ch of text) out += escapes[ch] ?? ch;
  return out + q.quote[1];
}

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
 * Why a text cannot be written in SQL as a name or a string, with the index of the first
 * character at fault: one the dialect rejects (Postgres: U+0000), or half of a UTF-16
 * surrogate pair, which no UTF-8 query text can carry (it would arrive as U+FFFD).
 */
export function textProblem(q: Quoting, text: string): { index: number; why: string } | undefined {
  const rejected = compiled(q).rejected?.exec(text);
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text);
  if (rejected && (!lone || rejected.index < lone.index)) return { index: rejected.index, why: q.rejects![rejected[0]]! };
  if (lone) return { index: lone.index, why: `\\u${lone[0].charCodeAt(0).toString(16).toUpperCase()} is half of a surrogate pair, not a character: SQL text is UTF-8, which cannot carry it` };
  return undefined;
}

/** The length of a name in the unit of the dialect's limit. */
export function nameLength(spec: DialectSpec, name: string): number {
  return spec.identifiers.maxLength.unit === 'bytes' ? Buffer.byteLength(name) : [...name].length;
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
