/**
 * Quoting as the dialect records (dialects/<d>.json) describe it: the one function that writes
 * a name or a string into SQL. It lives in the contract because both sides need it: the
 * compiler quotes every name it writes (src/dialect/quote.ts), and an executor quotes the names
 * it is given at run time (`env()` in a table path: names.ts), from the rule the plan carries.
 */

export interface Quoting {
  quote: [string, string];
  /** Character -> how it is written between the quotes. */
  escapes: Record<string, string>;
  /** A text holding one of these characters is written with the prefix, and these escapes too (Postgres `E'...'`). */
  escaped?: { prefix: string; escapes: Record<string, string>; why: string };
  /** Character -> why the warehouse cannot take it; the checker reports it. */
  rejects?: Record<string, string>;
}

/** What a name names, for its length limit: a part of a table's path, or a column. */
export type NameKind = 'table' | 'column';

/** How a warehouse reads names: its quoting, what it does to a bare name, and how long one may be. */
export type IdentifierRule = Quoting & {
  fold: 'lower' | 'upper' | 'insensitive';
  why: string;
  maxLength: Record<NameKind, number> & { unit: 'bytes' | 'characters'; why: string };
};

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

/** A text between the quoting's quotes, each character with an escape replaced; one the quoting rejects throws. */
export function enclose(q: Quoting, text: string): string {
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

/**
 * Why a text cannot be written in SQL as a name or a string, with the index of the first
 * character at fault: one the dialect rejects (Postgres: U+0000), or half of a UTF-16
 * surrogate pair, which no UTF-8 query text can carry (it would arrive as U+FFFD).
 */
export function textProblem(q: Quoting, text: string): { index: number; why: string } | undefined {
  const rejected = compiled(q).rejected?.exec(text);
  const lone = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text);
  if (rejected && (!lone || rejected.index < lone.index)) return { index: rejected.index, why: q.rejects![rejected[0]]! };
  if (lone)
    return {
      index: lone.index,
      why: `\\u${lone[0].charCodeAt(0).toString(16).toUpperCase()} is half of a surrogate pair, not a character: SQL text is UTF-8, which cannot carry it`,
    };
  return undefined;
}

const utf8 = new TextEncoder();

/** The length of a name in the unit of the dialect's limit. */
export function nameLength(rule: Pick<IdentifierRule, 'maxLength'>, name: string): number {
  return rule.maxLength.unit === 'bytes' ? utf8.encode(name).length : [...name].length;
}

/** The exact name the warehouse stores for a name written bare: folded by its rule. */
export function foldName(rule: Pick<IdentifierRule, 'fold'>, name: string): string {
  return rule.fold === 'lower' ? name.toLowerCase() : rule.fold === 'upper' ? name.toUpperCase() : name;
}
