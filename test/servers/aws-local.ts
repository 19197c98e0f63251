/**
 * Real local implementations of AWS services, started by the tests on 127.0.0.1 on free ports:
 * S3 through s3rver (npm), Kinesis through kinesalite (npm). A thin proxy in front of Kinesis
 * fails chosen records of PutRecords as Kinesis documents (ErrorCode per record, the record not
 * written), since kinesalite never does.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { CreateStreamCommand, DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { scratchFolder } from './scratch-db.js';

const require = createRequire(import.meta.url);

/** s3rver's built-in credentials (it checks signatures against them). */
export const s3rverKeys = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

export interface LocalService {
  url: string;
  close(): Promise<void>;
}

export async function startS3(buckets: string[]): Promise<LocalService> {
  const S3rver = require('s3rver') as new (o: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };
  const folder = scratchFolder('syncwright-s3-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: folder.dir, configureBuckets: buckets.map((name) => ({ name })) });
  const { port } = await server.run();
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await server.close();
      folder.remove();
    },
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const closing = (server: Server) => () =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

export async function startKinesis(): Promise<LocalService> {
  const kinesalite = require('kinesalite') as (o: object) => Server;
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 });
  return { url: await listen(server), close: closing(server) };
}

/**
 * A stream of one shard on the local Kinesis at `url`, made and waited for until ACTIVE, with a
 * client (HTTP/1.1, as kinesalite speaks) and `records`: every record from the start, its key and JSON value.
 */
export async function kinesisStream(url: string, name: string) {
  const client = new KinesisClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'local' },
    requestHandler: new NodeHttpHandler(),
  });
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: 1 }));
  for (let i = 0; i < 600; i++) {
    const d = await client.send(new DescribeStreamCommand({ StreamName: name }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const records = async () => {
    const shard = (await client.send(new DescribeStreamCommand({ StreamName: name }))).StreamDescription?.Shards?.[0]?.ShardId;
    const it = await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard, ShardIteratorType: 'TRIM_HORIZON' }));
    const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 10_000 }));
    return (got.Records ?? []).map((r) => ({
      key: r.PartitionKey,
      value: JSON.parse(Buffer.from(r.Data as Uint8Array).toString()) as Record<string, unknown>,
    }));
  };
  return { client, records };
}

/**
 * A proxy that forwards every request unchanged and records its method, path and headers.
 * `lose(method, path)`: a request it says so of is carried out, but its answer never arrives
 * (the connection is dropped once the service answered), as when a connection breaks or times
 * out after the service did the work.
 */
export async function startRecorder(
  target: string,
  lose: (method: string, path: string) => boolean = () => false,
): Promise<LocalService & { seen: { method: string; path: string; headers: Record<string, unknown> }[] }> {
  const seen: { method: string; path: string; headers: Record<string, unknown> }[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method ?? '', path: req.url ?? '', headers: { ...req.headers } });
    const lost = lose(req.method ?? '', req.url ?? '/');
    const out = request(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
      if (lost) {
        answer.resume();
        answer.on('end', () => res.destroy());
        return;
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  return { url: await listen(server), close: closing(server), seen };
}

interface PutRecords {
  StreamName: string;
  Records: { Data: string; PartitionKey: string }[];
}

/** A throttled record's result in a PutRecords answer. */
const throttled = { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'Rate exceeded for shard shardId-000000000000' };

/**
 * A proxy to Kinesis that fails a record of PutRecords while `fail(partitionKey)` says so:
 * the record is not forwarded, and its result is `failed` (ProvisionedThroughputExceededException,
 * as a throttled record's is, unless a test gives another). Other requests pass unchanged. `seen` counts records per key.
 * `answer`: the results as the proxy answers them, from those of the records in order (a broken answer: one missing).
 */
export async function startKinesisFaults(
  target: string,
  fail: (key: string, tries: number) => boolean,
  failed: Record<string, unknown> = throttled,
  answer: (results: unknown[]) => unknown[] = (results) => results,
): Promise<LocalService & { seen: Map<string, number> }> {
  const seen = new Map<string, number>();
  const forward = (headers: Record<string, unknown>, body: string): Promise<{ status: number; headers: Record<string, unknown>; text: string }> =>
    new Promise((resolve, reject) => {
      const req = request(target, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 500, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      void (async () => {
        const headers = { ...req.headers };
        delete headers['content-length'];
        if (req.headers['x-amz-target'] !== 'Kinesis_20131202.PutRecords') {
          const r = await forward(headers, body);
          res.writeHead(r.status, r.headers as Record<string, string>).end(r.text);
          return;
        }
        const put = JSON.parse(body) as PutRecords;
        const failing = put.Records.map((r) => {
          const tries = (seen.get(r.PartitionKey) ?? 0) + 1;
          seen.set(r.PartitionKey, tries);
          return fail(r.PartitionKey, tries);
        });
        const passing = put.Records.filter((_, i) => !failing[i]);
        let results: Record<string, unknown>[] = [];
        if (passing.length) {
          const r = await forward(headers, JSON.stringify({ ...put, Records: passing }));
          if (r.status !== 200) {
            res.writeHead(r.status, r.headers as Record<string, string>).end(r.text);
            return;
          }
          results = (JSON.parse(r.text) as { Records: Record<string, unknown>[] }).Records;
        }
        const merged = failing.map((f) => (f ? failed : results.shift()));
        const text = JSON.stringify({ FailedRecordCount: failing.filter(Boolean).length, Records: answer(merged) });
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text) }).end(text);
      })().catch((e: Error) => res.writeHead(500).end(e.message));
    });
  });
  return { url: await listen(server), close: closing(server), seen };
}
