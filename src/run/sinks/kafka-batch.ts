/**
 * The bytes of a Kafka record batch (magic 2) as the producer of kafka.ts encodes it, so that a
 * batch is cut before the broker refuses it: `message.max.bytes` bounds the record batch, the
 * whole of it as it is written to the log (after compression, when compressed). A produce
 * request carries one batch per partition; counting a group of messages as if all went to one
 * partition bounds each of those batches.
 */
import type { OutRecord } from './outlets.js';

/**
 * Before the first record: base offset (8), length (4), partition leader epoch (4), magic (1),
 * CRC (4), attributes (2), last offset delta (4), first and max timestamps (8 + 8), producer id
 * (8) and epoch (2), base sequence (4), record count (4).
 */
export const recordBatchOverhead = 61;

/** The bytes of a zigzag varint (record lengths and deltas). */
function varintBytes(n: number): number {
  let z = n >= 0 ? n * 2 : -n * 2 - 1;
  let bytes = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    bytes++;
  }
  return bytes;
}

/** A length-prefixed field: -1 for null. */
const fieldBytes = (text: string | null): number => {
  if (text === null) return varintBytes(-1);
  const n = Buffer.byteLength(text);
  return varintBytes(n) + n;
};

/**
 * One record at `offsetDelta` (its place in the batch): its length, then attributes (1), the
 * timestamp delta (1: the producer stamps every message of a batch alike), the offset delta,
 * key, value and no headers (1).
 */
export function recordBytes(record: Pick<OutRecord, 'key' | 'value'>, offsetDelta: number): number {
  const body = 1 + 1 + varintBytes(offsetDelta) + fieldBytes(record.key) + fieldBytes(record.value) + 1;
  return varintBytes(body) + body;
}

/**
 * What a batch is kept to of the broker's limit: 1/64 of it (16 KiB of the default) is left
 * for what this count does not see, as gzip's frame and the stored blocks of data it cannot
 * shrink (about 100 bytes a MiB).
 */
export function usableBatchBytes(maxBytes: number): number {
  return maxBytes - Math.ceil(maxBytes / 64);
}
