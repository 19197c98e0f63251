/**
 * V8's heap sizes, set in one place: the CLI while it plans a compile (src/cli/heap.ts) and the
 * embedded database while it is open (src/run/engines/pglite-session.ts) each ask for less than
 * V8's own, at different times of one process. V8 reads the flags each time it sizes its heap
 * after a collection, so they hold from the next one on.
 */
import { setFlagsFromString } from 'node:v8';

let growth = 0;

/** The old space may grow by `percent` of what is live (0: V8's own factor); the function returned sets back what was set before. */
export function heapGrowth(percent: number): () => void {
  const before = growth;
  growth = percent;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return () => {
    heapGrowth(before);
  };
}

let holds = 0;
let releaseGrowth: (() => void) | undefined;

/**
 * Keeps the heap small while something that lives in this process's memory is open (the
 * embedded database): the new space at its first size (V8 otherwise doubles it up to 32 MB and
 * more), the old space growing to 1.2 times what is live after a full collection (instead of up
 * to four times). The function returned lets go; the last to let go sets V8's own sizes back, so
 * a library's caller keeps its heap as it likes once its sessions are closed.
 */
export function smallHeap(): () => void {
  if (holds++ === 0) {
    setFlagsFromString('--semi-space-growth-factor=1');
    releaseGrowth = heapGrowth(20);
  }
  let held = true;
  return () => {
    if (!held) return;
    held = false;
    if (--holds > 0) return;
    setFlagsFromString('--semi-space-growth-factor=2'); // V8's default
    releaseGrowth?.();
  };
}

/** What this module has set: the old space's growth (0: V8's own) and whether the heap is held small. */
export function heapSettings(): { growth: number; small: boolean } {
  return { growth, small: holds > 0 };
}
