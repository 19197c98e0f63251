import { defineDestination } from '../define.js';
import { flag, oneOfValues, pattern, secret, settingsSchema, text } from '../settings.js';

export const kafka = defineDestination({
  type: 'kafka',
  title: 'Apache Kafka',
  category: 'streaming',
  objectKinds: [{ kind: 'topic', describes: 'a topic name; each row is one message keyed by the identifier' }],
  settings: settingsSchema(
    {
      // Settings are scalars, so the bootstrap servers are one comma-separated string.
      brokers: pattern('^[^,\\s]+:[0-9]+(,[^,\\s]+:[0-9]+)*$', 'bootstrap servers as host:port[,host:port...]'),
      client_id: text('the client id the producer reports'),
      ssl: flag(false),
      sasl_mechanism: oneOfValues(['plain', 'scram-sha-256', 'scram-sha-512']),
      sasl_username: text('the SASL username'),
      sasl_password: secret('the SASL password'),
      // What the executor's producer writes (kafkajs carries gzip; snappy, lz4 and zstd need codecs this build does not ship).
      compression: oneOfValues(['none', 'gzip'], 'none'),
    },
    ['brokers'],
    {
      dependentRequired: {
        sasl_mechanism: ['sasl_username', 'sasl_password'],
        sasl_username: ['sasl_mechanism', 'sasl_password'],
        sasl_password: ['sasl_mechanism', 'sasl_username'],
      },
    },
  ),
  // message.max.bytes, 1,048,588 by default: "The largest record batch size allowed by Kafka
  // (after compression if compression is enabled)"; a larger one the broker refuses whole.
  limits: { maxBatch: 10_000, defaultBatch: 500, maxPayloadBytes: 1_048_588 },
  docs: 'https://kafka.apache.org/documentation/#producerconfigs',
});
