/**
 * Where storage and streaming steps deliver: an `ObjectStore` (S3, GCS, a local folder,
 * stdout) and a `Producer` (Kinesis, Kafka, a folder, stdout). A run is given an `Outlets`
 * (as deliver.ts is given `send`, a clock and a random source), so the steps know nothing of
 * any service and tests can pass their own.
 */
import type { PublishStep, WriteObjectStep } from '../../contract/api-steps.js';

/** An object's bytes, produced as the rows are read: never the whole object in memory. */
export type ObjectBody = AsyncIterable<Uint8Array>;

export interface ObjectStore {
  /** Where `bucket`/`key` is, for the report and messages (`s3://bucket/key`, a path). */
  location(bucket: string, key: string): string;
  /**
   * Writes the object, replacing any under `key` as one step: until `put` resolves, readers
   * see the old object or none, never part of the new one. Large bodies go in parts
   * (multipart or resumable upload). A rejection means the object was not written.
   */
  put(bucket: string, key: string, body: ObjectBody, contentType: string): Promise<void>;
  close(): Promise<void>;
}

/** One message: the topic (Kafka) or stream (Kinesis), its key, and its value (JSON text). */
export interface OutRecord {
  topic: string;
  key: string | null;
  value: string;
}

/**
 * What became of one record of a batch: accepted (undefined), or why not and whether a retry may
 * succeed; `retried`: the client retried it already, as for a batch it throws on (the record
 * fails, for the next run, and is not sent again now).
 */
export type RecordFailure = { reason: string; retryable: boolean; retried?: boolean } | undefined;

export interface Producer {
  /**
   * Sends a batch (within the step's count and byte limits) and answers per record, in
   * order. Throws when the batch as a whole could not be sent after the client's own
   * retries: its records count as not delivered. Where a request writes some of its records
   * and not others, each answers alone: a throw would leave the written ones unaccepted, and
   * written again by the next run.
   */
  send(records: readonly OutRecord[]): Promise<RecordFailure[]>;
  close(): Promise<void>;
}

/** Settings of the destination block, rendered (`$env` resolved); by the catalog's names. */
export type Connection = Readonly<Record<string, string | number | boolean | null>>;

/**
 * What a step gets to open its store or producer: the rendered settings, an endpoint override
 * (`--endpoint NAME=URL`), and where a client registers the credentials it sends that the run
 * did not give it (resolved by the client itself: roles, SSO, the SDK's own variables), so that
 * a server echoing them back is redacted as the plan's own secrets are.
 */
export interface OutletContext {
  connection: Connection;
  endpoint: string | undefined;
  secret(value: string): void;
}

export interface Outlets {
  store(service: WriteObjectStep['service'], context: OutletContext): Promise<ObjectStore>;
  producer(transport: PublishStep['transport'], context: OutletContext): Promise<Producer>;
}

/**
 * A setting the destination block names, as text. Named but empty (an `env()` variable set to
 * ""), it stops the step: left out, the SDK would take what it finds itself (the machine's keys,
 * AWS_REGION, Application Default Credentials) and write to a stream or bucket of that name in
 * another account or region, or S3 would encrypt with another key than the one named.
 */
export function named(c: Connection, name: string): string | undefined {
  if (!Object.hasOwn(c, name)) return undefined;
  const value = c[name];
  if (typeof value !== 'string' || value === '')
    throw new Error(`the destination's ${name} is empty: the step does not run without a setting its destination names`);
  return value;
}

/**
 * The custom metadata an object store's write leaves on its object: a random id of the write, by
 * which an upload whose answer was lost is found written, or not (S3, GCS; S3 lowercases
 * metadata names, and this one is lower case).
 */
export const writeMark = 'syncwright-write';
