/**
 * Object formats: the bytes of one object from its records, as they come. csv (RFC 4180,
 * UTF-8, a header of the step's columns), jsonl (one JSON object per line) and Parquet
 * (hyparquet-writer: pure JavaScript, one small dependency, actively maintained; written a
 * row group at a time, snappy-compressed).
 */
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement } from 'hyparquet-writer';
import type { WriteObjectStep } from '../../contract/api-steps.js';
import { ExactNumber, stringifyJson } from '../exact-json.js';
import { asText, type Json } from '../template.js';
import type { ObjectBody } from './outlets.js';

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break. NULL is an
 * empty field and an empty string `""`, as COPY, Snowflake and BigQuery load them: written
 * alike, a loader made both NULL.
 */
export function csvField(v: Json | undefined): string {
  if (v === undefined || v === null) return '';
  const text = asText(v);
  return text === '' || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvLine(values: (Json | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export const contentTypes: Record<WriteObjectStep['format'], string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
};

const asObject = (record: Json): Record<string, Json> =>
  record !== null && typeof record === 'object' && !Array.isArray(record) && !(record instanceof ExactNumber) ? record : {};

/** Lines are gathered into chunks of about this many bytes: fewer, larger writes and parts. */
const chunkBytes = 256 * 1024;

/** The object's bytes: `records` is read once, as the consumer (an upload, a file) takes the chunks. */
export async function* encodeObject(format: WriteObjectStep['format'], columns: readonly string[], records: AsyncIterable<Json>): ObjectBody {
  if (format === 'parquet') {
    yield* encodeParquet(columns, records);
    return;
  }
  const encoder = new TextEncoder();
  let text = format === 'csv' ? csvLine([...columns]) : '';
  for await (const record of records) {
    text += format === 'jsonl' ? `${stringifyJson(record)}\n` : csvLine(columns.map((c) => asObject(record)[c]));
    if (text.length >= chunkBytes) {
      yield encoder.encode(text);
      text = '';
    }
  }
  if (text) yield encoder.encode(text);
}

/** Rows per Parquet row group: what is held in memory while a group is encoded. */
export const parquetRowGroup = 10_000;

type ParquetKind = 'DOUBLE' | 'BOOLEAN' | 'JSON' | 'STRING';

/**
 * A float's values JSON cannot write, as the payload carries them (a DOUBLE holds them all).
 */
const notFinite: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const isNotFinite = (v: Json | undefined): v is string => typeof v === 'string' && Object.hasOwn(notFinite, v);

/**
 * A column's Parquet type, from its values in the first row group (the plan carries no
 * column types): numbers DOUBLE, booleans BOOLEAN, objects and arrays JSON, strings and
 * columns of nulls only UTF-8 strings. Every column may hold nulls. Numbers of which one is
 * beyond a double (an ExactNumber) are written as their text: a DOUBLE would change it.
 * A float's NaN and infinities (the strings `NaN`, `Infinity`, `-Infinity`) count as numbers
 * beside numbers: typed by its first value, such a column failed every object.
 */
function kindOf(values: readonly (Json | undefined)[]): ParquetKind {
  const v = values.find((x) => x !== null && x !== undefined && !isNotFinite(x)) ?? values.find((x) => x !== null && x !== undefined);
  if (typeof v === 'number' || v instanceof ExactNumber) return values.some((x) => x instanceof ExactNumber) ? 'STRING' : 'DOUBLE';
  if (typeof v === 'boolean') return 'BOOLEAN';
  if (v !== undefined && v !== null && typeof v === 'object') return 'JSON';
  return 'STRING';
}

function schemaOf(columns: readonly string[], kinds: readonly ParquetKind[]): SchemaElement[] {
  const element = (name: string, kind: ParquetKind): SchemaElement => {
    if (kind === 'DOUBLE') return { name, type: 'DOUBLE', repetition_type: 'OPTIONAL' };
    if (kind === 'BOOLEAN') return { name, type: 'BOOLEAN', repetition_type: 'OPTIONAL' };
    return { name, type: 'BYTE_ARRAY', converted_type: kind === 'JSON' ? 'JSON' : 'UTF8', repetition_type: 'OPTIONAL' };
  };
  return [{ name: 'root', num_children: columns.length }, ...columns.map((c, i) => element(c, kinds[i] as ParquetKind))];
}

/** A value as its column's type takes it; a value of another kind in a typed column is an error naming both. */
function cell(column: string, kind: ParquetKind, v: Json | undefined): unknown {
  if (v === null || v === undefined) return null;
  if (kind === 'STRING') return asText(v);
  if (kind === 'JSON') return stringifyJson(v);
  if ((kind === 'DOUBLE' && typeof v === 'number') || (kind === 'BOOLEAN' && typeof v === 'boolean')) return v;
  if (kind === 'DOUBLE' && isNotFinite(v)) return notFinite[v];
  throw new Error(
    `Parquet column ${column} holds ${kind === 'DOUBLE' ? 'numbers' : 'booleans'} in its first rows, then ${stringifyJson(v)}${
      v instanceof ExactNumber && kind === 'DOUBLE' ? ', which a double cannot hold without changing it' : ''
    }`,
  );
}

async function* encodeParquet(columns: readonly string[], records: AsyncIterable<Json>): ObjectBody {
  const writer = new ByteWriter();
  let parquet: ParquetWriter | undefined;
  let kinds: ParquetKind[] = [];
  let group: Record<string, Json>[] = [];
  // The bytes written so far leave with each row group: the writer's buffer is reused.
  const drain = (): Uint8Array => {
    const bytes = writer.getBytes().slice();
    writer.index = 0;
    return bytes;
  };
  const flush = async () => {
    if (!parquet) {
      kinds = columns.map((c) => kindOf(group.map((r) => r[c])));
      parquet = new ParquetWriter({ writer, schema: schemaOf(columns, kinds), createdBy: 'syncwright' });
    }
    const columnData: ColumnSource[] = columns.map((name, i) => ({
      name,
      data: group.map((r) => cell(name, kinds[i] as ParquetKind, r[name])) as ColumnSource['data'],
    }));
    await parquet.write({ columnData, rowGroupSize: group.length || 1 });
    group = [];
  };
  for await (const record of records) {
    group.push(asObject(record));
    if (group.length >= parquetRowGroup) {
      await flush();
      yield drain();
    }
  }
  if (group.length || !parquet) await flush();
  await (parquet as ParquetWriter).finish();
  yield drain();
}
