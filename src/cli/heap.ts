/**
 * The heap of the CLI's process while it plans a compile. The check's own structures (its
 * symbol index, what the parse left) die when it ends, and what planning keeps is little beside
 * the project's trees; but V8 last sized its old space during the parse and lets it grow to
 * about four times what was then live before collecting again, so planning's objects that
 * outlive two young collections piled up to that limit (10,000 mixed syncs: from 66 MB live to
 * 344 MB before the next collection). So once the check is done the heap is collected, and
 * while planning it may grow by half of what is live. Only the CLI's own process does this
 * (`processIo`): a library's caller keeps its heap as it likes.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { heapGrowth } from '../heap.js';

/** Collects the heap and keeps it tight; the function returned sets the growth back (a `run` delivers after compiling). */
export function collectAfterCheck(): () => void {
  const restore = heapGrowth(50);
  // `gc` is given only to contexts made after the flag is set; where a runtime ignores the flag,
  // there is none, and the compile goes on without the collection (it only saves memory).
  setFlagsFromString('--expose-gc');
  (runInNewContext("typeof gc === 'function' ? gc : undefined") as (() => void) | undefined)?.();
  return restore;
}
