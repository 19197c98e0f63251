/**
 * V8's old-space growth, set in one place: the CLI while it plans a compile (src/cli/heap.ts)
 * and the embedded database while it delivers (src/run/engines/pglite-session.ts) each ask for
 * less than V8's own, at different times of one process. V8 reads the flag each time it sizes
 * its heap after a full collection, so it holds from the next one on.
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
