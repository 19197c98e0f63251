/** "did you mean" hints: the closest candidate by edit distance, when it is close enough. */

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
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

/** The hints for an unknown name: "did you mean `x`?" and/or the list of what exists. */
export function nameHints(word: string, candidates: string[], what: string): string[] {
  const hints: string[] = [];
  const near = closest(word, candidates);
  if (near !== undefined) hints.push(`did you mean \`${near}\`?`);
  if (candidates.length === 0) hints.push(`there are no ${what} to choose from`);
  else if (candidates.length <= 12) hints.push(`available ${what}: ${[...candidates].sort().join(', ')}`);
  return hints;
}
