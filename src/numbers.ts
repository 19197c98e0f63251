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

/**
 * Whether a number as written (`-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?`) is a whole number,
 * decided on its digits: read as a double, `1e-400` is 0 and `1.0000000000000001` is 1, and
 * a bound or a size compiled from them would be another number than the one written.
 */
export function writtenWhole(raw: string): boolean {
  const m = /^-?([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/.exec(raw);
  if (!m) return false;
  const digits = m[1]!.replace(/^0+/, '');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  // A long exponent is past any range checked here; only its sign matters.
  const exponent = Math.max(-1e6, Math.min(1e6, Number(m[3] ?? 0)));
  if (digits === '' && fraction === '') return true;
  if (exponent >= 0) return fraction.length <= exponent;
  // A negative exponent moves the point left: the digits it passes over must all be zeros.
  return fraction === '' && /0*$/.exec(digits)![0].length >= -exponent;
}
