/**
 * Apache Kafka through `kafkajs`: an idempotent producer (the broker drops a retried batch it
 * already wrote, by producer id and sequence number), acks from all in-sync replicas, one
 * message per row keyed by the identifier. Each partition's messages go in a Produce request of
 * their own, so that each partition's answer decides its own rows: a Produce answers per
 * partition, but the client throws for the whole request on the first partition's error, while
 * the broker wrote the others (whose rows, not accepted, would be written again by the next
 * run). A partition the client could not write after its own retries fails its rows, and the
 * producer is replaced: the client rolled back that partition's sequence numbers whether the
 * broker wrote the batch or not, and the next batch at those numbers would be refused, or
 * taken as a duplicate and silently dropped. A partition's batch the broker finds too large
 * (its own max.message.bytes) is split until a message too large alone is refused alone.
 * Messages go without headers or timestamps of their own: kafka-batch.ts counts the record
 * batches this writes on that basis, to keep them under the broker's message.max.bytes.
 */
import { type Admin, CompressionTypes, Kafka, logLevel, type PartitionMetadata, Partitioners, type Producer as KafkaProducer, type SASLOptions } from 'kafkajs';
import type { Connection, OutletContext, OutRecord, Producer, RecordFailure } from './outlets.js';

/** kafkajs writes gzip itself, the only codec the catalog offers; a value from env() is checked here. */
function compressionOf(c: Connection): CompressionTypes {
  const name = c.compression ?? 'none';
  if (name === 'none') return CompressionTypes.None;
  if (name === 'gzip') return CompressionTypes.GZIP;
  throw new Error(`kafka compression ${String(name)} is not available in this executor; use gzip or none`);
}

/** `ssl`: true or false, or its text from env(); other text is an error, never a plaintext connection. */
function sslOf(c: Connection): boolean {
  const v = c.ssl ?? false;
  if (typeof v === 'boolean') return v;
  const said = String(v).trim().toLowerCase();
  if (said === 'true' || said === 'false') return said === 'true';
  throw new Error(`kafka ssl ${JSON.stringify(v)} is neither true nor false`);
}

function saslOf(c: Connection): SASLOptions | undefined {
  if (typeof c.sasl_mechanism !== 'string') return undefined;
  return { mechanism: c.sasl_mechanism, username: String(c.sasl_username ?? ''), password: String(c.sasl_password ?? '') } as SASLOptions;
}

/** Errors that say the broker's record of this producer's sequence numbers is not the client's (a duplicate is read apart: written). */
const producerState = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH']);

/** The messages of a batch bound for one partition, each with its place in the batch. */
type Items = { index: number; record: OutRecord }[];

/** A partition's key among a run's: its number and topic. */
const partitionKey = (topic: string, partition: number): string => `${partition}\u0000${topic}`;

export function kafkaProducer(context: OutletContext): Producer {
  const c = context.connection;
  const compression = compressionOf(c);
  const ssl = sslOf(c);
  const sasl = saslOf(c);
  const brokers = String(c.brokers ?? '')
    .split(',')
    .filter(Boolean);
  const kafka = new Kafka({
    clientId: typeof c.client_id === 'string' ? c.client_id : 'syncwright',
    brokers,
    ssl,
    ...(sasl ? { sasl } : {}),
    // What the client would log goes nowhere: a failure reaches the report as the error it throws.
    logLevel: logLevel.NOTHING,
  });
  /** A client connected, or closed again when it could not connect (its sockets half open). */
  const connected = async (client: KafkaProducer | Admin): Promise<void> => {
    try {
      await client.connect();
    } catch (e) {
      await client.disconnect().catch(() => undefined);
      throw e;
    }
  };
  let producer: KafkaProducer | undefined;
  let admin: Admin | undefined;
  // The client's own partitioner (murmur2 of the key, as Java clients), applied here to know each message's partition.
  const partitioner = Partitioners.DefaultPartitioner();
  const partitions = new Map<string, PartitionMetadata[]>();

  const open = async (): Promise<KafkaProducer> => {
    if (!producer) {
      const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
      await connected(p);
      producer = p;
    }
    return producer;
  };

  /** The topics' partitions, read once per producer. */
  const partitionsOf = async (topics: readonly string[]): Promise<void> => {
    const missing = topics.filter((t) => !partitions.has(t));
    if (!missing.length) return;
    if (!admin) {
      const a = kafka.admin();
      await connected(a);
      admin = a;
    }
    for (const t of (await admin.fetchTopicMetadata({ topics: missing })).topics) if (t.partitions.length) partitions.set(t.name, t.partitions);
    const unknown = missing.filter((t) => !partitions.has(t));
    if (unknown.length) throw new Error(`kafka has no partitions of the topic ${unknown.join(', ')}`);
  };

  /** Drops the producer: the next batch gets a new one, with sequence numbers of its own. */
  const replace = async (p: KafkaProducer | undefined): Promise<void> => {
    if (producer === p) producer = undefined;
    // Read again with the new producer: the partitions may have moved or grown.
    partitions.clear();
    await p?.disconnect().catch(() => undefined);
  };

  /**
   * Partitions of this run a batch may or may not have reached: the rest of their rows wait for
   * the next run, which sends them after that batch's, so that the messages of a key keep their order.
   */
  const unsure = new Set<string>();

  /** One partition's messages; the failure of each, where the partition's batch was not written. */
  async function sendPartition(topic: string, partition: number, items: Items, results: RecordFailure[]): Promise<void> {
    const at = partitionKey(topic, partition);
    const fail = (reason: string, refused: boolean) => {
      for (const { index } of items) results[index] = refused ? { reason, retryable: false } : { reason, retryable: true, retried: true };
    };
    if (unsure.has(at))
      return fail(`an earlier batch of this run to partition ${partition} of ${topic} may not have been written: sent by the next run, after it`, false);
    let p: KafkaProducer | undefined;
    try {
      p = await open();
      // acks -1: every in-sync replica has the batch (an idempotent producer requires it).
      const answers = await p.sendBatch({
        acks: -1,
        compression,
        topicMessages: [{ topic, messages: items.map(({ record }) => ({ key: record.key, value: record.value, partition })) }],
      });
      // Given a partition its own metadata does not have yet, the client sends nothing to it and answers without it.
      if (!answers.some((a) => a.topicName === topic && a.partition === partition && a.errorCode === 0))
        throw new Error(`kafka did not answer for partition ${partition} of ${topic}`);
    } catch (e) {
      type Failure = { type?: string; retriable?: boolean; message?: string; cause?: Failure };
      const err = e as Failure;
      // The broker's error code, thrown as it is or inside the client's own (its retries ran out, or it does not retry it).
      const said = err.type !== undefined ? err : err.cause;
      const type = said?.type;
      // Whatever failed, the client rolled back the batch's sequence numbers, and a try before an answer
      // may have written it: the next batch at those numbers would be refused, or taken for it and dropped.
      await replace(p);
      if ((type === 'MESSAGE_TOO_LARGE' || type === 'RECORD_LIST_TOO_LARGE') && items.length > 1) {
        const half = Math.ceil(items.length / 2);
        await sendPartition(topic, partition, items.slice(0, half), results);
        await sendPartition(topic, partition, items.slice(half), results);
        return;
      }
      // The broker has this batch already, from one of the client's tries of it: written.
      if (type === 'DUPLICATE_SEQUENCE_NUMBER') return;
      // A refusal the client does not retry is the broker's word on the batch; the producer's own state errors are not.
      const refused = type !== undefined && said?.retriable === false && !producerState.has(type);
      if (!refused) unsure.add(at);
      fail(String(err.message ?? e), refused);
    }
  }

  return {
    async send(records) {
      await open();
      await partitionsOf([...new Set(records.map((r) => r.topic))]);
      const byPartition = new Map<string, { topic: string; partition: number; items: Items }>();
      for (const [index, record] of records.entries()) {
        const partition = partitioner({
          topic: record.topic,
          partitionMetadata: partitions.get(record.topic) ?? [],
          message: { key: record.key, value: record.value },
        });
        const id = partitionKey(record.topic, partition);
        const group = byPartition.get(id) ?? { topic: record.topic, partition, items: [] };
        group.items.push({ index, record });
        byPartition.set(id, group);
      }
      const results: RecordFailure[] = records.map(() => undefined);
      for (const { topic, partition, items } of byPartition.values()) await sendPartition(topic, partition, items, results);
      return results;
    },
    close: async () => {
      try {
        await producer?.disconnect();
      } finally {
        await admin?.disconnect();
      }
    },
  };
}
