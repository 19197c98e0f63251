/** "did you mean" hints: the closest candidate by edit distance when it is close enough, else the one that keeps the name as whole words. */
import { replaceWith, type Advice } from './diagnostic.js';
import type { Span } from '../span.js';

/**
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two adjacent
 * characters as one edit (optimal string alignment), ignoring case: `usres` is one edit from `users`.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let before: number[] = [];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = prev;
    prev = row;
  }
  return prev[y.length]!;
}

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word, candidate);
    if (d < bestDistance || (d === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(word.length / 3));
  if (best !== undefined && bestDistance <= limit) return best;
  // A rename that added or dropped words (`email` -> `email_address`) is far by edits: the one candidate that keeps the name whole.
  const kept = [...candidates].filter((c) => keepsWhole(word, c));
  return kept.length === 1 ? kept[0] : undefined;
}

/**
 * Whether one name is the other with `_`-separated words added before or after it, ignoring
 * case: `email` and `email_address`, `customer_email`, `primary_email_address`. The shorter
 * must have 3 characters or more (`id` is a word of too many names to point at one).
 */
function keepsWhole(a: string, b: string): boolean {
  const [short, long] = a.length <= b.length ? [a.toLowerCase(), b.toLowerCase()] : [b.toLowerCase(), a.toLowerCase()];
  if (short.length < 3 || short.length === long.length) return false;
  return long.startsWith(`${short}_`) || long.endsWith(`_${short}`) || long.includes(`_${short}_`);
}

/** A candidate as a bare name: a word the lexer reads as one name, or nothing where it would need quotes. */
export const bareName = (candidate: string): string | undefined => (/^[A-Za-z_][A-Za-z0-9_$]*$/.test(candidate) ? candidate : undefined);

/** The most names a hint lists. */
const listedAtMost = 40;

/**
 * The advice for an unknown name: "did you mean `x`?" and/or the list of what exists, and the
 * "did you mean" as a fix where the name has a place in the file. `spell`: how a candidate is
 * written in its place, or undefined where it cannot be.
 */
export function nameHints(
  name: { text: string; span?: Span },
  candidates: string[],
  what: string,
  spell: (candidate: string) => string | undefined = bareName,
): Advice {
  const hints: string[] = [];
  const fixes = [];
  const near = closest(name.text, candidates);
  if (near !== undefined) {
    hints.push(`did you mean \`${near}\`?`);
    const written = spell(near);
    if (name.span && written !== undefined) fixes.push(replaceWith(name.span, written));
  }
  if (candidates.length === 0) hints.push(`there are no ${what} to choose from`);
  // A long list only where no name is near: every diagnostic has a hint.
  else if (candidates.length <= 12 || near === undefined) {
    const sorted = [...candidates].sort();
    const shown = sorted.length > listedAtMost ? `${sorted.slice(0, listedAtMost).join(', ')} and ${sorted.length - listedAtMost} more` : sorted.join(', ');
    hints.push(`available ${what}: ${shown}`);
  }
  return { hints, fixes };
}
