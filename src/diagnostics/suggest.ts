/** "did you mean" hints: the closest candidate by edit distance, when it is close enough. */

export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      const cost = a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1;
      prev[j] = Math.min(up + 1, prev[j - 1]! + 1, diag + cost);
      diag = up;
    }
  }
  return prev[b.length]!;
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
  if (candidates.length === 0) hints.push(`no ${what} is defined`);
  else if (candidates.length <= 12) hints.push(`available ${what}: ${[...candidates].sort().join(', ')}`);
  return hints;
}
