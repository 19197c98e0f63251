/** Kafka and Kinesis: one message per new row, keyed by the identifier. */
import type { ApiContext, DestinationApi } from '../types.js';
import type { PublishStep } from '../../../contract/api-steps.js';
import { record, row, settingsOf, standardRetry } from '../http.js';

// Kinesis records take at most 1 MiB of data and partition key together, and a key of 1 to 256 characters.
const kinesisRecordBytes = 1024 * 1024;
const kinesisKeyChars = 256;

function publish(ctx: ApiContext, transport: 'kafka' | 'kinesis', names: string[]): PublishStep {
  const kafka = transport === 'kafka';
  return {
    kind: 'publish',
    description: kafka ? 'produce one message per new row' : 'PutRecords: one record per new row',
    changes: ['added'],
    transport,
    destination: ctx.target ?? ctx.sync,
    // Kinesis needs a partition key on every record; without an identifier the row key spreads them.
    key: ctx.identifierField || !kafka ? row.key : null,
    value: record(ctx),
    // Kinesis: the bytes of one PutRecords call; Kafka: of one record batch, which is also what bounds a message alone.
    batch: { size: ctx.batch, ...(ctx.maxPayloadBytes ? { maxBytes: ctx.maxPayloadBytes } : {}) },
    maxMessageBytes: kafka ? (ctx.maxPayloadBytes ?? kinesisRecordBytes) : kinesisRecordBytes,
    ...(kafka ? {} : { maxKeyChars: kinesisKeyChars }),
    connection: settingsOf(ctx, names),
    retry: standardRetry,
  };
}

export const kafkaApi: DestinationApi = {
  setup: () => [],
  modes: {
    'record:insert': (ctx) => ({
      reads: ['added'],
      steps: [publish(ctx, 'kafka', ['brokers', 'client_id', 'ssl', 'sasl_mechanism', 'sasl_username', 'sasl_password', 'compression'])],
    }),
  },
};

export const kinesisApi: DestinationApi = {
  setup: () => [],
  modes: {
    'record:insert': (ctx) => ({
      reads: ['added'],
      steps: [publish(ctx, 'kinesis', ['region', 'access_key_id', 'secret_access_key', 'session_token', 'endpoint'])],
    }),
  },
};
