/** Re-cutting a stream of pages (cursor fetches) into request batches, knowing which is last. */

export interface Batch<R> {
  rows: R[];
  /** 1-based position in the stream. */
  seq: number;
  /** No batch follows; sessions that must be closed by their last request need this. */
  last: boolean;
}

/** Batches of exactly `size` rows (the last may be smaller), one batch of lookahead, never the whole stream. */
export async function* batches<R>(pages: AsyncIterable<readonly R[]>, size: number): AsyncGenerator<Batch<R>> {
  if (!(size >= 1)) throw new Error(`batch size must be at least 1 (got ${size})`);
  let seq = 0;
  let held: R[] | undefined;
  let current: R[] = [];
  for await (const page of pages) {
    for (const row of page) {
      current.push(row);
      if (current.length === size) {
        if (held) yield { rows: held, seq: ++seq, last: false };
        held = current;
        current = [];
      }
    }
  }
  if (held) yield { rows: held, seq: ++seq, last: current.length === 0 };
  if (current.length) yield { rows: current, seq: ++seq, last: true };
}
