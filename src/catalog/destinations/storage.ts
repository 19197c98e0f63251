/** Object storage: files of the model's rows, csv, jsonl or Parquet. */
import { defineDestination, type DestinationSpec } from '../define.js';
import { oneOfValues, pattern, settingsSchema, text } from '../settings.js';
import { awsConnection, awsKeyRules, gcpCredentials, serviceEndpoint } from '../connection-settings.js';

const common = {
  category: 'storage',
  objectKinds: [
    {
      kind: 'path',
      describes: 'an object path under the prefix, e.g. exports/users; absent = the sync name',
      target: 'optional',
    },
  ],
  // One object part per 100,000 rows by default keeps parts easy to load elsewhere.
  limits: { maxBatch: 1_000_000, defaultBatch: 100_000 },
  formats: ['csv', 'jsonl', 'parquet'],
} satisfies Partial<DestinationSpec>;

// S3 and GCS share the bucket naming rule: 3-63 lower-case letters, digits, dots and hyphens.
const bucket = pattern('^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', 'the bucket name');
const prefix = text('a key prefix every object is written under');

export const s3 = defineDestination({
  ...common,
  type: 's3',
  title: 'Amazon S3',
  settings: settingsSchema(
    {
      bucket,
      prefix,
      ...awsConnection,
      endpoint: serviceEndpoint,
      // Server-side encryption of every object written: S3-managed keys, KMS, or dual-layer KMS.
      server_side_encryption: oneOfValues(['AES256', 'aws:kms', 'aws:kms:dsse']),
      kms_key_id: text("the KMS key (id, ARN or alias) for aws:kms encryption; absent = the bucket's default key"),
    },
    ['bucket', 'region'],
    { ...awsKeyRules, dependentRequired: { ...(awsKeyRules.dependentRequired as object), kms_key_id: ['server_side_encryption'] } },
  ),
  docs: 'https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html',
});

export const gcs = defineDestination({
  ...common,
  type: 'gcs',
  title: 'Google Cloud Storage',
  settings: settingsSchema({ bucket, prefix, credentials: gcpCredentials, endpoint: serviceEndpoint }, ['bucket']),
  docs: 'https://cloud.google.com/storage/docs/uploading-objects',
});
