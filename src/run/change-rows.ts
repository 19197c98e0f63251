/** Change rows as read.sql returns them. */
import type { ChangeKind } from '../contract/api-steps.js';
import { parseJson } from './exact-json.js';
import type { Json } from './template.js';

/** A change row as templates see it (`row.key`, `row.payload`, ...). */
export interface ChangeRow {
  [field: string]: unknown;
  seq: number;
  change: ChangeKind;
  key: string | null;
  payload: Json;
  payload_hash: string | null;
  idempotency_key: string | null;
  /** The record id the destination gave the row, kept in the snapshot; set by a capture while sending. */
  destination_id: string | null;
  columns: Json;
}

/**
 * JSON columns arrive as text (read.sql casts them so that every driver returns the same),
 * read with every digit of their numbers: the payload hash was taken on them in the warehouse.
 */
function json(v: unknown): Json {
  if (typeof v !== 'string') return (v ?? null) as Json;
  try {
    return parseJson(v) as Json;
  } catch {
    return v;
  }
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function changeRow(raw: Record<string, unknown>): ChangeRow {
  return {
    seq: Number(raw.seq),
    change: raw.change as ChangeKind,
    key: text(raw.row_key),
    payload: json(raw.payload),
    payload_hash: text(raw.payload_hash),
    idempotency_key: text(raw.idempotency_key),
    destination_id: text(raw.destination_id),
    columns: json(raw.columns),
  };
}

/** Pages of parsed change rows. */
export async function* changePages(pages: AsyncIterable<Record<string, unknown>[]>): AsyncGenerator<ChangeRow[]> {
  for await (const page of pages) yield page.map(changeRow);
}
