/**
 * The largest of `values`, or `least` when none is larger. A loop, not `Math.max(...values)`:
 * spreading passes one argument per value, and some 120,000 of them (a block's lines, a
 * project's syncs, the backtick runs of a text) overflow the stack.
 */
export function largest(values: Iterable<number>, least = 0): number {
  let most = least;
  for (const v of values) if (v > most) most = v;
  return most;
}
