// How the test harness decides between skipping loudly (a laptop) and failing (CI).

/** CI=true (or any value but '', 0 and false): missing tools are failures, not skips. */
export function inCi(): boolean {
  const v = (process.env.CI ?? '').trim().toLowerCase();
  return v !== '' && v !== '0' && v !== 'false';
}

const warned = new Set<string>();

/** A warning that stands out in vitest's output, printed once per test file. */
export function warnOnce(message: string): void {
  if (warned.has(message)) return;
  warned.add(message);
  const bar = '!'.repeat(78);
  console.warn(`\n${bar}\n${message}\n${bar}\n`);
}
