/**
 * Storage (S3, GCS) and streaming (Kinesis, Kafka): `syncwright run` writes them to a local
 * sink, so what is held to the services' rules is each object's name and each message batch:
 * the naming and size rules the services document.
 */
import type { Cite } from '../types.js';

const naming: Cite = { source: 'storage/naming-docs', at: 'S3 object keys; Cloud Storage object names' };
const kinesisSpec: Cite = {
  source: 'aws/kinesis-service-2',
  at: 'PutRecords: PutRecordsRequestEntryList max 500; PartitionKey min 1 max 256; Data max 10485760; StreamName [a-zA-Z0-9_.-]+, 1-128',
};
const kafkaDocs: Cite = { source: 'kafka/broker-configs', at: 'message.max.bytes, default 1048588' };

export const storageCites = { naming, kinesisSpec, kafkaDocs };

/** An object name: S3 "a maximum length of 1,024 bytes" (UTF-8); GCS 1-1,024 bytes, no CR or LF, not . or .., not under .well-known/acme-challenge/. */
export function objectKeyProblems(service: 's3' | 'gcs', key: string, format: 'csv' | 'jsonl' | 'parquet'): string[] {
  const problems: string[] = [];
  const bytes = Buffer.byteLength(key);
  if (bytes < 1 || bytes > 1024) problems.push(`${service} object key of ${bytes} bytes: 1 to 1,024 bytes`);
  if (service === 'gcs') {
    if (/[\r\n]/.test(key)) problems.push('a GCS object name holds no carriage return or line feed');
    if (key === '.' || key === '..') problems.push('a GCS object name is not . or ..');
    if (key.startsWith('.well-known/acme-challenge/')) problems.push('a GCS object name does not start with .well-known/acme-challenge/');
  }
  // The project's own rule (docs/run.md): an object is named by its path, with the format's extension once.
  if (!key.endsWith(`.${format}`)) problems.push(`the object key ${key} does not end with .${format}`);
  if (key.endsWith(`.${format}.${format}`)) problems.push(`the object key ${key} repeats its extension`);
  return problems;
}

export interface Message {
  key: unknown;
  value: unknown;
}

/** One PutRecords call (Kinesis) or one producer batch (Kafka), as the publish step would send it. */
export function publishProblems(transport: 'kafka' | 'kinesis', destination: string, messages: Message[]): string[] {
  const problems: string[] = [];
  const size = (v: unknown) => Buffer.byteLength(JSON.stringify(v));
  if (transport === 'kinesis') {
    if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(destination)) problems.push(`stream name ${destination}: [a-zA-Z0-9_.-], 1 to 128 characters`);
    if (messages.length > 500) problems.push(`${messages.length} records in one PutRecords call; at most 500`);
    messages.forEach((m, i) => {
      const key = typeof m.key === 'string' ? m.key : '';
      if (key.length < 1 || key.length > 256) problems.push(`record ${i}: partition key of ${key.length} characters; 1 to 256`);
      if (size(m.value) > 10_485_760) problems.push(`record ${i}: ${size(m.value)} bytes of data; at most 10,485,760`);
    });
  } else {
    messages.forEach((m, i) => {
      if (size(m.value) > 1_048_588) problems.push(`message ${i}: ${size(m.value)} bytes, above message.max.bytes 1,048,588`);
    });
  }
  return problems;
}
