/**
 * Amazon Kinesis Data Streams through `@aws-sdk/client-kinesis`: one PutRecords call per
 * stream of a batch (the step keeps it within 500 records and 5 MiB). PutRecords answers per
 * record, in order; a record with an ErrorCode (ProvisionedThroughputExceededException,
 * InternalFailure) was not written and is retryable. A failed call is retried by the SDK
 * (standard mode), then fails its own stream's records: the other streams' calls of the batch
 * answer for theirs. An answer that is not one result per record (Records of another length)
 * says nothing of any record: the call's records fail, for the next run, and no later call of
 * the run goes to that stream (each would be written and failed alike, then sent again).
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
  /** Streams whose answer could not be read: whether its records were written is unknown, so nothing more is sent to them in this run. */
  const unsure = new Map<string, string>();
  return {
    async send(records) {
      const results: RecordFailure[] = records.map(() => undefined);
      const byStream = new Map<string, { index: number; record: OutRecord }[]>();
      for (const [index, record] of records.entries()) {
        if (record.key === null || record.key === '') results[index] = { reason: 'a Kinesis record needs a partition key', retryable: false };
        else byStream.set(record.topic, [...(byStream.get(record.topic) ?? []), { index, record }]);
      }
      for (const [stream, items] of byStream) {
        const fail = (reason: string) => {
          for (const { index } of items) results[index] = { reason, retryable: true, retried: true };
        };
        const earlier = unsure.get(stream);
        if (earlier !== undefined) {
          fail(`not sent: ${earlier}`);
          continue;
        }
        let answers: PutRecordsResultEntry[];
        try {
          const out = await client.send(
            new PutRecordsCommand({
              StreamName: stream,
              Records: items.map(({ record }) => ({ Data: Buffer.from(record.value), PartitionKey: record.key as string })),
            }),
          );
          answers = out.Records ?? [];
        } catch (e) {
          // This stream's call failed after the client's own retries: its records fail, for the next run. The
          // other streams' calls answer for their own records, which a throw would leave written but not accepted.
          fail((e as Error).message);
          continue;
        }
        // Results are one per record, in order: of another count, none can be matched to its record. Sent again now, the
        // written ones would be written twice; taken, the others lost. They fail, sent again by the next run, once.
        if (answers.length !== items.length) {
          const reason = `Kinesis answered ${answers.length} results for ${items.length} records of stream ${stream}, so whether each was written is unknown: sent again by the next run`;
          unsure.set(stream, `an earlier call of this run to stream ${stream} got an answer of ${answers.length} results for ${items.length} records`);
          fail(reason);
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
