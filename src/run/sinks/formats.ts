/**
 * Object formats: the bytes of one object from its records, as they come. csv (RFC 4180,
 * UTF-8, a header of the step's columns) and jsonl (one JSON object per line).
 */
import type { WriteObjectStep } from '../../plan/api-steps.js';
import { asText, type Json } from '../template.js';
import type { ObjectBody } from './outlets.js';

/** One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. */
export function csvField(v: Json | undefined): string {
  const text = v === undefined ? '' : asText(v);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: (Json | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export const contentTypes: Record<WriteObjectStep['format'], string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson',
};

const asObject = (record: Json): Record<string, Json> => (record !== null && typeof record === 'object' && !Array.isArray(record) ? record : {});

/** Lines are gathered into chunks of about this many bytes: fewer, larger writes and parts. */
const chunkBytes = 256 * 1024;

/** The object's bytes: `records` is read once, as the consumer (an upload, a file) takes the chunks. */
export async function* encodeObject(format: WriteObjectStep['format'], columns: readonly string[], records: AsyncIterable<Json>): ObjectBody {
  const encoder = new TextEncoder();
  let text = format === 'csv' ? csvLine([...columns]) : '';
  for await (const record of records) {
    text += format === 'jsonl' ? `${JSON.stringify(record)}\n` : csvLine(columns.map((c) => asObject(record)[c]));
    if (text.length >= chunkBytes) {
      yield encoder.encode(text);
      text = '';
    }
  }
  if (text) yield encoder.encode(text);
}
