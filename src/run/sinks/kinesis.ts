/**
 * Amazon Kinesis Data Streams through `@aws-sdk/client-kinesis`: one PutRecords call per
 * stream of a batch (the step keeps it within 500 records and 5 MiB). PutRecords answers per
 * record, in order; a record with an ErrorCode (ProvisionedThroughputExceededException,
 * InternalFailure) was not written and is retryable. A failed call is retried by the SDK
 * (standard mode), then fails its own stream's records: the other streams' calls of the batch
 * answer for theirs.
 */
import { KinesisClient, PutRecordsCommand, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { awsClientConfig, credentialRedaction, redactionStep } from './aws.js';
import type { OutletContext, OutRecord, Producer, RecordFailure } from './outlets.js';

export function kinesisProducer(context: OutletContext): Producer {
  // HTTP/1.1: the client's HTTP/2 default serves SubscribeToShard, which a producer never calls,
  // and Kinesis-compatible servers (kinesalite, proxies) speak HTTP/1.1 only.
  const client = new KinesisClient({ ...awsClientConfig(context), requestHandler: new NodeHttpHandler() });
  client.middlewareStack.add(credentialRedaction(context), redactionStep);
  return {
    async send(records) {
      const results: RecordFailure[] = records.map(() => undefined);
      const byStream = new Map<string, { index: number; record: OutRecord }[]>();
      for (const [index, record] of records.entries()) {
        if (record.key === null || record.key === '') results[index] = { reason: 'a Kinesis record needs a partition key', retryable: false };
        else byStream.set(record.topic, [...(byStream.get(record.topic) ?? []), { index, record }]);
      }
      for (const [stream, items] of byStream) {
        let answers: PutRecordsResultEntry[];
        try {
          const out = await client.send(
            new PutRecordsCommand({
              StreamName: stream,
              Records: items.map(({ record }) => ({ Data: Buffer.from(record.value), PartitionKey: record.key as string })),
            }),
          );
          answers = out.Records ?? [];
          if (answers.length !== items.length) throw new Error(`Kinesis answered ${answers.length} results for ${items.length} records of stream ${stream}`);
        } catch (e) {
          // This stream's call failed after the client's own retries: its records fail, for the next run. The
          // other streams' calls answer for their own records, which a throw would leave written but not accepted.
          for (const { index } of items) results[index] = { reason: (e as Error).message, retryable: true, retried: true };
          continue;
        }
        for (const [i, { index }] of items.entries()) {
          const a = answers[i];
          if (a?.ErrorCode) results[index] = { reason: `${a.ErrorCode}: ${a.ErrorMessage ?? ''}`.trim(), retryable: true };
          // A record written has its sequence number; a result with neither that nor an error says nothing was.
          else if (!a?.SequenceNumber)
            results[index] = { reason: 'Kinesis answered neither a sequence number nor an error code for the record', retryable: true };
        }
      }
      return results;
    },
    close: async () => client.destroy(),
  };
}
