/**
 * One call of `node:fs` made to stand for another process's step at that moment: `act` runs
 * with `fs[name]` hooked, and the first call that `when` matches puts the original back and
 * runs `instead` (given the original). The ESM bindings are synced both ways, so modules that
 * import the function by name see the hook too.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export type AnyFn = (...args: unknown[]) => unknown;

export async function hooked<T>(
  name: 'linkSync' | 'mkdirSync' | 'readdirSync' | 'renameSync' | 'symlinkSync' | 'writeFileSync' | 'writevSync',
  when: (...args: unknown[]) => boolean,
  instead: (original: AnyFn, ...args: unknown[]) => unknown,
  act: () => T | Promise<T>,
): Promise<T> {
  const functions = fs as unknown as Record<typeof name, AnyFn>;
  const original = functions[name];
  const restore = () => {
    functions[name] = original;
    syncBuiltinESMExports();
  };
  functions[name] = (...args) => {
    if (!when(...args)) return original(...args);
    restore();
    return instead(original, ...args);
  };
  syncBuiltinESMExports();
  try {
    return await act();
  } finally {
    restore();
  }
}
