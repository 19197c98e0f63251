import { defineDestination } from '../define.js';
import { settingsSchema } from '../settings.js';
import { awsConnection, awsKeyRules, serviceEndpoint } from '../connection-settings.js';

export const kinesis = defineDestination({
  type: 'kinesis',
  title: 'Amazon Kinesis Data Streams',
  category: 'streaming',
  objectKinds: [{ kind: 'stream', describes: 'a stream name; each row is one record, partitioned by the identifier' }],
  settings: settingsSchema({ ...awsConnection, endpoint: serviceEndpoint }, ['region'], awsKeyRules),
  // PutRecords takes 500 records and 5 MiB per request.
  limits: { maxBatch: 500, defaultBatch: 500, maxPayloadBytes: 5 * 1024 * 1024 },
  docs: 'https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html',
});
