/**
 * Apache Kafka through `kafkajs`: an idempotent producer (the broker drops a retried batch it
 * already wrote, by producer id and sequence number), acks from all in-sync replicas, one
 * message per row keyed by the identifier. A batch the client could not write after its own
 * retries throws: its rows count as not delivered and are sent again by the next run.
 * Messages go without headers or timestamps of their own: kafka-batch.ts counts the record
 * batches this writes on that basis, to keep them under the broker's message.max.bytes.
 */
import { CompressionTypes, Kafka, logLevel, type Producer as KafkaProducer, type SASLOptions } from 'kafkajs';
import type { Connection, OutletContext, Producer } from './outlets.js';

/** kafkajs writes gzip itself, the only codec the catalog offers; a value from env() is checked here. */
function compressionOf(c: Connection): CompressionTypes {
  const name = c.compression ?? 'none';
  if (name === 'none') return CompressionTypes.None;
  if (name === 'gzip') return CompressionTypes.GZIP;
  throw new Error(`kafka compression ${String(name)} is not available in this executor; use gzip or none`);
}

function saslOf(c: Connection): SASLOptions | undefined {
  if (typeof c.sasl_mechanism !== 'string') return undefined;
  return { mechanism: c.sasl_mechanism, username: String(c.sasl_username ?? ''), password: String(c.sasl_password ?? '') } as SASLOptions;
}

export function kafkaProducer(context: OutletContext): Producer {
  const c = context.connection;
  const compression = compressionOf(c);
  const sasl = saslOf(c);
  const brokers = String(c.brokers ?? '')
    .split(',')
    .filter(Boolean);
  const kafka = new Kafka({
    clientId: typeof c.client_id === 'string' ? c.client_id : 'syncwright',
    brokers,
    ssl: c.ssl === true,
    ...(sasl ? { sasl } : {}),
    // What the client would log goes nowhere: a failure reaches the report as the error it throws.
    logLevel: logLevel.NOTHING,
  });
  let producer: KafkaProducer | undefined;
  return {
    async send(records) {
      if (!producer) {
        const p = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
        await p.connect();
        producer = p;
      }
      const byTopic = new Map<string, { key: string | null; value: string }[]>();
      for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), { key: r.key, value: r.value }]);
      // acks -1: every in-sync replica has the batch (an idempotent producer requires it).
      await producer.sendBatch({ acks: -1, compression, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) });
      return records.map(() => undefined);
    },
    close: async () => {
      await producer?.disconnect();
    },
  };
}
