/**
 * sql-formatter's tokenizer finds reserved words with one regular expression per kind: an
 * alternation of every word of the dialect, longest first (650 function names on Postgres).
 * V8 compiles each on its first use, 30-70 ms apiece, and then tries the alternatives one by
 * one at every word of the text. `reservedWords` finds the same match by looking words up in
 * sets. It stands in for such an expression only where the expression's source is exactly what
 * sql-formatter 15's `reservedWord` builds from the word list (`replacesExpression`); any other
 * is kept.
 */

/** What the tokenizer calls on a rule's expression (sql-formatter's own NestedComment is such an object too). */
export interface StickyMatcher {
  lastIndex: number;
  exec(input: string): [string] | null;
}

/** A dialect's characters that may continue an identifier (sql-formatter's `identChars`). */
export interface IdentChars {
  rest?: string;
  dashes?: boolean;
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
const avoidIdentChars = ({ rest, dashes }: IdentChars) => (rest || dashes ? `(?![${rest ?? ''}${dashes ? '-' : ''}])` : '');

/**
 * The source and flags sql-formatter 15's `reservedWord` (lexer/regexFactory.ts) gives its
 * expression of `words`. It sorts the list it is given in place, longest first, so a list it
 * made an expression of is in the expression's order; were it not, the sources would differ,
 * and the expression would be kept.
 */
function expressionOf(words: readonly string[], identChars: IdentChars): { source: string; flags: string } {
  const alternatives = words.map(escapeRegExp).join('|').replace(/ /gu, '\\s+');
  return { source: `(?:${alternatives})${avoidIdentChars(identChars)}\\b`, flags: 'iuy' };
}

/** Whether `regex` is the expression sql-formatter builds of `words` (so `reservedWords` may stand in for it). */
export function replacesExpression(regex: unknown, words: readonly string[], identChars: IdentChars): boolean {
  // Parts apart by one space (a space at the end too: Snowflake has three such names), and no
  // letter but ASCII ones (`fold` folds those alone).
  const caseless = (c: string) => c.toUpperCase() === c && c.toLowerCase() === c;
  const plain = (w: string) => w === w.trimStart() && !w.includes('  ') && !/[^\S ]/u.test(w) && (w.match(/\P{ASCII}/gu) ?? []).every(caseless);
  if (words.length === 0 || !words.every(plain)) return false;
  const expected = expressionOf(words, identChars);
  return regex instanceof RegExp && regex.source === expected.source && regex.flags === expected.flags;
}

/**
 * Case as the `iu` flags compare it (Unicode simple case folding): a letter matches its other
 * case, and k and s also match the Kelvin sign and the long s. Only ASCII letters are folded:
 * the words are ASCII but for punctuation, which has no case.
 */
function fold(text: string): string {
  if (!/\P{ASCII}/u.test(text)) return text.toUpperCase();
  // The long s upper-cases to S; the Kelvin sign is upper case already.
  return text.replace(/[a-z\u017f\u212a]/gu, (c) => (c === '\u212a' ? 'K' : c.toUpperCase()));
}

/**
 * A matcher of `words` with the same results as their sql-formatter expression at every
 * position of every text: of the words that match there and end where an identifier ends, the
 * one first in length order. Words of several parts (phrases) take any run of white space
 * between their parts, and a word ending in a space a run of white space after it. Requires
 * `replacesExpression` to hold.
 */
export function reservedWords(words: readonly string[], identChars: IdentChars): StickyMatcher {
  /** Single words by length, folded; phrases by their folded first part, as parts. */
  const single = new Map<number, Set<string>>();
  const phrases = new Map<string, { length: number; parts: string[] }[]>();
  for (const word of words) {
    const parts = fold(word).split(' ');
    const first = parts[0] ?? '';
    if (parts.length === 1) {
      let set = single.get(word.length);
      if (!set) single.set(word.length, (set = new Set()));
      set.add(first);
    } else {
      let list = phrases.get(first);
      if (!list) phrases.set(first, (list = []));
      list.push({ length: word.length, parts });
    }
  }
  const lengths = [...new Set([...single.keys(), ...[...phrases.values()].flat().map((p) => p.length)])].sort((a, b) => b - a);
  /** No word is longer, nor a phrase's first part. */
  const longest = lengths[0] ?? 0;
  /** Where no word starts with the character there (most tokens but words), nothing is matched: the first characters' codes, in both cases. */
  const firsts = new Set<number>();
  for (const w of words) {
    const c = fold(w.charAt(0));
    for (const variant of [c, c.toLowerCase(), c === 'S' ? '\u017f' : c === 'K' ? '\u212a' : c]) firsts.add(variant.charCodeAt(0));
  }
  const boundary = new RegExp(`${avoidIdentChars(identChars)}\\b`, 'iuy');
  // No further than one past the longest word: a longer run is no word, and reading it at each token would be quadratic in a long run.
  const head = new RegExp(`\\S{0,${longest + 1}}`, 'uy');
  const space = /\s+/uy;
  const endsWord = (input: string, end: number) => {
    boundary.lastIndex = end;
    return boundary.test(input);
  };
  /** Where the phrase's match at `start` ends, or -1. */
  const phraseEnd = (input: string, start: number, parts: readonly string[]): number => {
    let at = start;
    for (const [k, part] of parts.entries()) {
      if (k > 0) {
        space.lastIndex = at;
        if (!space.test(input)) return -1;
        at = space.lastIndex;
      }
      if (fold(input.slice(at, at + part.length)) !== part) return -1;
      at += part.length;
    }
    return at;
  };

  return {
    lastIndex: 0,
    exec(input: string): [string] | null {
      const start = this.lastIndex;
      if (!firsts.has(input.charCodeAt(start))) return null;
      head.lastIndex = start;
      const word = head.exec(input)?.[0] ?? '';
      // Folding keeps lengths, so a prefix of the folded word is the folded prefix.
      const folded = fold(word.length > longest ? word.slice(0, longest) : word);
      const candidates = word.length > longest ? [] : (phrases.get(folded) ?? []);
      for (const length of lengths) {
        if (length > word.length && candidates.length === 0) continue;
        if (single.get(length)?.has(folded.slice(0, length)) && endsWord(input, start + length)) {
          return [input.slice(start, start + length)];
        }
        for (const phrase of candidates) {
          if (phrase.length !== length) continue;
          const end = phraseEnd(input, start, phrase.parts);
          if (end >= 0 && endsWord(input, end)) return [input.slice(start, end)];
        }
      }
      return null;
    },
  };
}
