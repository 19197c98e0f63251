// Storage and streaming syncs through `syncwright run` into real local services: S3 (s3rver),
// Kinesis (kinesalite, and a proxy that fails records as Kinesis does), GCS (a local server
// following the JSON API upload contract) and Kafka (a local broker speaking the producer's
// part of the protocol). Each: a first run, an unchanged rerun that sends nothing, a changed rerun.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, compileText, sql } from './servers/run-harness.js';
import { scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';
import { FakeGcs } from './servers/gcs.js';
import { FakeKafka } from './servers/kafka.js';
import { recordBatchOverhead, recordBytes } from '../src/run/sinks/kafka-batch.js';
import { fault } from './servers/fake-api.js';
import { kinesisStream, s3rverKeys, startKinesis, startKinesisFaults, startRecorder, startS3, type LocalService } from './servers/aws-local.js';

let db: ScratchDb;
const work = scratchFolder('syncwright-cloud-');

/** A Kinesis destination whose secret key comes from RISK_SECRET. */
const riskStream = `destination risk : kinesis { region "us-east-1"  access_key_id "AKIAIOSFODNN7EXAMPLE"  secret_access_key env("RISK_SECRET") }`;
const project = (destinations: string, syncs: string) => `source warehouse : postgres { database "app" version 15 }
${destinations}
model people { from warehouse  table crm.people  primary key id  columns { id bigint  email string  plan string } }
${syncs}`;

/** crm.routed (seeded below): 12 rows, each of tier `odd` or `even`, which routeByTier sends to a stream of its own. */
const routedModel = `model routed { from warehouse  table crm.routed  primary key id  columns { id bigint  tier string } }`;

/** A plan (its file) whose publish step sends each row to the stream of its tier, `routed-<tier>`: a batch then spans two streams. */
function routeByTier(planPath: string): void {
  const plan = JSON.parse(readFileSync(planPath, 'utf8')) as { steps: { kind: string; destination?: unknown }[] };
  const publish = plan.steps.find((s) => s.kind === 'publish');
  if (!publish) throw new Error('no publish step');
  publish.destination = { $concat: ['routed-', { $ref: 'row.payload.tier' }] };
  writeFileSync(planPath, JSON.stringify(plan));
}

/** `syncwright run` of one sync on the scratch database, its JSON report read back. */
async function run(build: string, sync: string, args: string[], env: Record<string, string> = {}) {
  const report = join(work.dir, `${sync}-report.json`);
  const r = await cli(['run', '--plan', join(build, sync, 'plan.json'), '--db', db.folder as string, '--report', report, ...args], env);
  const plan = (JSON.parse(readFileSync(report, 'utf8')) as { plans: Record<string, unknown>[] }).plans[0] as Record<string, unknown>;
  return { ...r, plan };
}

// Kinesis's limits: 150 emoji are 150 code points, 300 UTF-16 units, which Kinesis counts (the whole
// request was refused, every run). Data just under 1 MiB, its key taking the record past it:
// `{"k":"…","v":"…"}` is 15 bytes besides the two.
const emoji = '\u{1F600}'.repeat(150);
const longKey = 'k'.repeat(200);
const filler = 'x'.repeat(1024 * 1024 - 100 - 15 - longKey.length);

/**
 * crm.people's rows, counted in the session of the last change to them: only this file's
 * tests change them, each through changePeople (a session of its own cost as much again).
 */
let people = 0;
async function changePeople(script: string): Promise<void> {
  people = Number((await sql(db, `${script}; SELECT count(*) AS n FROM crm.people`)).at(-1)?.[0]?.n);
}

beforeAll(async () => {
  db = scratchPglite();
  // Every table the tests read, made in one session: each open of the embedded database costs a
  // large part of a second, and each test's syncs read only their own table (crm.people's rows
  // are changed by the tests, in their order; the others are never changed).
  await changePeople(
    `CREATE SCHEMA crm;
     CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
     INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END FROM generate_series(1, 120) g;
     UPDATE crm.people SET email = 'quote"and,comma@example.com' WHERE id = 3;
     -- S3, an upload whose answer is lost: 100 rows of 96 KB, one multipart object.
     CREATE TABLE crm.big (id bigint PRIMARY KEY, body text NOT NULL);
     INSERT INTO crm.big SELECT g, repeat(md5(g::text), 3000) FROM generate_series(1, 100) g;
     -- Kinesis, keys and records over its limits.
     CREATE TABLE crm.keyed (k text PRIMARY KEY, v text NOT NULL);
     INSERT INTO crm.keyed VALUES ('plain', 'v'), ('${emoji}', 'emoji key'), ('${longKey}', '${filler}');
     -- Kinesis, rows routed to a stream by their tier: odd rows to a stream that exists, even rows to one that does not (yet).
     CREATE TABLE crm.routed (id bigint PRIMARY KEY, tier text NOT NULL);
     INSERT INTO crm.routed SELECT g, CASE WHEN g % 2 = 1 THEN 'odd' ELSE 'even' END FROM generate_series(1, 12) g;
     -- Kafka, batches cut to message.max.bytes: 600 messages of about 3 KB to one partition, and one of 1.1 MB.
     CREATE TABLE crm.notes (id bigint PRIMARY KEY, body text NOT NULL);
     INSERT INTO crm.notes SELECT g, repeat(md5(g::text), 94) FROM generate_series(1, 600) g;
     INSERT INTO crm.notes VALUES (601, repeat('x', 1100000));
     -- Kafka, a partition the broker refuses (a topic's max.message.bytes of 2,000): row 1 is over it.
     CREATE TABLE crm.mixed (id bigint PRIMARY KEY, body text NOT NULL);
     INSERT INTO crm.mixed SELECT g, CASE WHEN g = 1 THEN repeat('x', 3000) ELSE 'small ' || g END FROM generate_series(1, 24) g;
     CREATE TABLE crm.ordered (id bigint PRIMARY KEY, n bigint NOT NULL);
     INSERT INTO crm.ordered SELECT g, g FROM generate_series(1, 32) g;
     CREATE TABLE crm.grown (id bigint PRIMARY KEY, n bigint NOT NULL);
     INSERT INTO crm.grown SELECT g, g FROM generate_series(1, 32) g;
     -- Object formats: NULL beside an empty string, NaN and the infinities.
     CREATE TABLE crm.measures (id bigint PRIMARY KEY, score double precision, note text);
     INSERT INTO crm.measures VALUES (1, 0.5, 'a'), (2, 'NaN', ''), (3, 'Infinity', NULL), (4, '-Infinity', 'x'), (5, NULL, 'y')`,
  );
});
afterAll(async () => {
  await db.drop();
  work.remove();
});

describe('S3 (s3rver)', () => {
  let s3: LocalService;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let client: S3Client;
  let build: string;
  beforeAll(async () => {
    s3 = await startS3(['acme-lake']);
    // The runs go through a recorder: s3rver ignores server-side encryption headers.
    recorder = await startRecorder(s3.url);
    client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    build = await compileText(
      project(
        `destination lake : s3 { bucket "acme-lake"  region "us-east-1"  server_side_encryption "AES256" }`,
        `sync people_to_lake { from people  to lake path "exports/people.csv"  mode mirror  identifier id -> id  map { email -> email  plan -> plan }  format csv }
sync people_log { from people  to lake path "log/people"  mode insert  identifier id -> id  map { email -> email }  format jsonl  batch 50 }
sync people_parquet { from people  to lake path "parquet/people"  mode mirror  identifier id -> id  map { email -> email  plan -> plan }  format parquet }`,
      ),
    );
  });
  afterAll(async () => {
    client.destroy();
    await recorder.close();
    await s3.close();
  });
  const keys = async (prefix: string) =>
    ((await client.send(new ListObjectsV2Command({ Bucket: 'acme-lake', Prefix: prefix }))).Contents ?? []).map((o) => ({
      key: o.Key as string,
      etag: o.ETag,
    }));
  const text = async (key: string) => (await client.send(new GetObjectCommand({ Bucket: 'acme-lake', Key: key }))).Body?.transformToString() ?? '';
  const args = () => ['--endpoint', `lake=${recorder.url}`];

  it('mirror replaces one csv object; insert writes new jsonl objects per run; unchanged sends nothing; a change rewrites', async () => {
    const first = await run(build, 'people_to_lake', args(), s3rverKeys);
    expect(first.code, first.err).toBe(0);
    expect(first.plan).toMatchObject({ status: 'ok', operations: { s3: 120 }, committed: 120 });
    const csv = await text('exports/people.csv');
    expect(csv.split('\r\n').slice(0, 3)).toEqual(['id,email,plan', '1,user1@example.com,pro', '10,user10@example.com,pro']);
    expect(csv).toContain('3,"quote""and,comma@example.com",free\r\n');
    expect(csv.trimEnd().split('\r\n')).toHaveLength(121);
    const put = recorder.seen.find((r) => r.method === 'PUT' && r.path.startsWith('/acme-lake/exports/people.csv'));
    expect(put?.headers).toMatchObject({
      'x-amz-server-side-encryption': 'AES256',
      'content-type': 'text/csv; charset=utf-8',
      authorization: expect.stringMatching(/^AWS4-HMAC-SHA256 Credential=S3RVER\//),
    });

    const log = await run(build, 'people_log', args(), s3rverKeys);
    expect(log.plan).toMatchObject({ status: 'ok', operations: { s3: 120 } });
    const parts = await keys('log/people/');
    expect(parts.map((p) => p.key)).toEqual(expect.arrayContaining([expect.stringMatching(/^log\/people\/run-[0-9a-f-]{36}\/part-1\.jsonl$/)]));
    expect(parts).toHaveLength(3);
    const rows = (await Promise.all(parts.map((p) => text(p.key)))).flatMap((t) =>
      t
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string }),
    );
    expect(rows.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));

    // Unchanged: no object written, none replaced.
    const mirrorBefore = await keys('exports/');
    expect((await run(build, 'people_to_lake', args(), s3rverKeys)).plan).toMatchObject({ status: 'ok', operations: { s3: 0 }, committed: 0 });
    expect((await run(build, 'people_log', args(), s3rverKeys)).plan).toMatchObject({ status: 'ok', operations: { s3: 0 } });
    expect(await keys('exports/')).toEqual(mirrorBefore);
    expect(await keys('log/people/')).toHaveLength(3);

    await changePeople(
      `UPDATE crm.people SET email = 'renamed20@example.com' WHERE id = 20; DELETE FROM crm.people WHERE id = 1; INSERT INTO crm.people VALUES (121, 'new@example.com', 'pro')`,
    );
    const changed = await run(build, 'people_to_lake', args(), s3rverKeys);
    expect(changed.plan).toMatchObject({ status: 'ok', changes: { added: 1, changed: 1, removed: 1 }, operations: { s3: 120, accept: 1 } });
    const lines = (await text('exports/people.csv')).trimEnd().split('\r\n');
    expect(lines).toHaveLength(121);
    expect(lines).toContain('20,renamed20@example.com,pro');
    expect(lines).toContain('121,new@example.com,pro');
    expect(lines).not.toContain('1,user1@example.com,pro');
    expect((await run(build, 'people_log', args(), s3rverKeys)).plan).toMatchObject({ status: 'ok', operations: { s3: 1 } });
    expect(await keys('log/people/')).toHaveLength(4);
  });

  it('Parquet: one column per field, read back by a Parquet reader', async () => {
    const r = await run(build, 'people_parquet', args(), s3rverKeys);
    expect(r.code, r.err).toBe(0);
    const bytes = await (await client.send(new GetObjectCommand({ Bucket: 'acme-lake', Key: 'parquet/people.parquet' }))).Body?.transformToByteArray();
    const rows = await parquetReadObjects({ file: (bytes as Uint8Array).slice().buffer });
    expect(rows).toHaveLength(120);
    expect(rows).toContainEqual({ id: '20', email: 'renamed20@example.com', plan: 'pro' });
    expect(rows).toContainEqual({ id: '3', email: 'quote"and,comma@example.com', plan: 'free' });
  });
});

describe('S3: an encryption key the destination names', () => {
  it('empty (a variable set to "") stops the step: no object is written under another key than the one named', async () => {
    const s3 = await startS3(['acme-kms']);
    const recorder = await startRecorder(s3.url);
    try {
      const build = await compileText(
        project(
          `destination lake : s3 { bucket "acme-kms"  region "us-east-1"  server_side_encryption "aws:kms"  kms_key_id env("LAKE_KMS_KEY") }`,
          `sync people_kms { from people  to lake path "kms/people"  mode mirror  identifier id -> id  map { email -> email }  format jsonl }`,
        ),
      );
      const r = await run(build, 'people_kms', ['--endpoint', `lake=${recorder.url}`], { ...s3rverKeys, LAKE_KMS_KEY: '' });
      expect(recorder.seen.filter((q) => q.method === 'PUT' || q.method === 'POST')).toEqual([]);
      expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('kms_key_id') });
    } finally {
      await recorder.close();
      await s3.close();
    }
  });
});

describe('S3: a prefix from the environment', () => {
  it('ending in / makes the same keys as without it: prefix/path, never prefix//path', async () => {
    const s3 = await startS3(['acme-prefix']);
    const recorder = await startRecorder(s3.url);
    const client = new S3Client({
      endpoint: s3.url,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    try {
      const build = await compileText(
        project(
          `destination lake : s3 { bucket "acme-prefix"  region "us-east-1"  prefix env("LAKE_PREFIX") }`,
          `sync people_prefixed { from people  to lake path "people"  mode mirror  identifier id -> id  map { email -> email }  format jsonl }
sync people_prefixed_log { from people  to lake path "/log"  mode insert  identifier id -> id  map { email -> email }  format jsonl  batch 500 }`,
        ),
      );
      const runs = [];
      for (const sync of ['people_prefixed', 'people_prefixed_log'])
        runs.push(await run(build, sync, ['--endpoint', `lake=${recorder.url}`], { ...s3rverKeys, LAKE_PREFIX: 'exports/' }));
      // The keys asked for, as the readers of exports/people.jsonl and exports/log/ look for them.
      expect(recorder.seen.filter((q) => q.method === 'PUT').map((q) => q.path.split('?')[0])).toEqual([
        '/acme-prefix/exports/people.jsonl',
        expect.stringMatching(/^\/acme-prefix\/exports\/log\/run-[0-9a-f-]{36}\/part-1\.jsonl$/),
      ]);
      for (const r of runs) expect(r.plan, r.err).toMatchObject({ status: 'ok', committed: people });
      const keys = ((await client.send(new ListObjectsV2Command({ Bucket: 'acme-prefix' }))).Contents ?? []).map((o) => o.Key as string);
      expect(keys).toEqual([expect.stringMatching(/^exports\/log\/run-[0-9a-f-]{36}\/part-1\.jsonl$/), 'exports/people.jsonl']);
    } finally {
      client.destroy();
      await recorder.close();
      await s3.close();
    }
  });
});

describe('S3: an upload whose answer is lost', () => {
  // CompleteMultipartUpload "could fail after the initial 200 OK response has been sent" and
  // a retry of one that completed finds no upload (NoSuchUpload: "the upload ID might be
  // invalid, or the multipart upload might have been aborted or completed"),
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_CompleteMultipartUpload.html.
  // s3rver answers that retry with an InternalError, where S3 says NoSuchUpload: the SDK fails
  // the upload either way, after retrying the 500.
  let s3: LocalService;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let client: S3Client;
  let lost = 0;
  let dropped = 0;
  beforeAll(async () => {
    s3 = await startS3(['acme-big']);
    recorder = await startRecorder(s3.url, (method, path) => {
      if (method !== 'POST' || !/[?&]uploadId=/.test(path) || lost === 0) return false;
      lost--;
      dropped++;
      return true;
    });
    client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  });
  afterAll(async () => {
    client.destroy();
    await recorder.close();
    await s3.close();
  });

  it('a multipart object completed whose answer was lost counts as written: its rows are accepted, not written again by the next run', async () => {
    const build = await compileText(`source warehouse : postgres { database "app" version 15 }
destination lake : s3 { bucket "acme-big"  region "us-east-1" }
model big { from warehouse  table crm.big  primary key id  columns { id bigint  body string } }
sync big_log { from big  to lake path "big"  mode insert  identifier id  map { body -> body }  format jsonl  batch 1000 }`);
    const objects = async () =>
      ((await client.send(new ListObjectsV2Command({ Bucket: 'acme-big', Prefix: 'big/' }))).Contents ?? []).map((o) => o.Key as string);
    lost = 1;
    const first = await run(build, 'big_log', ['--endpoint', `lake=${recorder.url}`], s3rverKeys);
    // The CompleteMultipartUpload's answer was lost indeed.
    expect(dropped).toBe(1);
    expect(await objects()).toHaveLength(1);
    expect(first.plan, first.err).toMatchObject({ status: 'ok', operations: { s3: 100 }, committed: 100 });
    const again = await run(build, 'big_log', ['--endpoint', `lake=${recorder.url}`], s3rverKeys);
    expect(again.plan).toMatchObject({ status: 'ok', operations: { s3: 0 } });
    expect(await objects()).toHaveLength(1);
  });
});

describe('Kinesis (kinesalite)', () => {
  let kinesis: LocalService;
  let faults: Awaited<ReturnType<typeof startKinesisFaults>>;
  let stream: Awaited<ReturnType<typeof kinesisStream>>;
  let build: string;
  const env = { RISK_SECRET: 'local-secret-key' };
  beforeAll(async () => {
    kinesis = await startKinesis();
    // Keys 7 and 8 are throttled on their first two tries, as a hot shard's records are.
    faults = await startKinesisFaults(kinesis.url, (key, tries) => (key === '7' || key === '8') && tries <= 2);
    stream = await kinesisStream(kinesis.url, 'people');
    build = await compileText(
      project(riskStream, `sync people_to_stream { from people  to risk stream people  mode insert  identifier id  map { email -> email } }`),
    );
  });
  afterAll(async () => {
    stream.client.destroy();
    await faults.close();
    await kinesis.close();
  });
  const records = () => stream.records();
  /**
   * A stream of its own for `use`, with a build of `syncs` into it (the Kinesis destination
   * `risk`); its client, and the servers `use` is given to go through, closed after, however it ends.
   */
  async function withStream(
    name: string,
    syncs: string,
    use: (stream: Awaited<ReturnType<typeof kinesisStream>>, build: string) => Promise<void>,
    ...servers: { close(): Promise<void> }[]
  ): Promise<void> {
    const own = await kinesisStream(kinesis.url, name);
    try {
      await use(own, await compileText(project(riskStream, syncs)));
    } finally {
      own.client.destroy();
      for (const server of servers) await server.close();
    }
  }

  it('PutRecords of every new row keyed by the identifier; throttled records retried alone; unchanged sends nothing; new rows sent', async () => {
    const n = people;
    const first = await run(build, 'people_to_stream', ['--endpoint', `risk=${faults.url}`], env);
    expect(first.code, first.err).toBe(0);
    const steps = first.plan.steps as { retries: number; requests: number }[];
    expect(first.plan).toMatchObject({ status: 'ok', operations: { kinesis: n }, committed: n });
    // Two retries, each of the two throttled records only.
    expect(steps[0]).toMatchObject({ retries: 2, requests: 3 });
    expect(faults.seen.get('7')).toBe(3);
    expect(faults.seen.get('9')).toBe(1);
    const got = await records();
    expect(got).toHaveLength(n);
    expect(new Set(got.map((r) => r.key)).size).toBe(n);
    expect(got).toContainEqual({ key: '42', value: { id: '42', email: 'user42@example.com' } });

    expect((await run(build, 'people_to_stream', ['--endpoint', `risk=${faults.url}`], env)).plan).toMatchObject({ status: 'ok', operations: { kinesis: 0 } });
    expect(await records()).toHaveLength(n);
    await changePeople(`INSERT INTO crm.people VALUES (122, 'stream@example.com', 'pro')`);
    expect((await run(build, 'people_to_stream', ['--endpoint', `risk=${faults.url}`], env)).plan).toMatchObject({ status: 'ok', operations: { kinesis: 1 } });
    expect((await records()).at(-1)).toEqual({ key: '122', value: { id: '122', email: 'stream@example.com' } });
  });

  it('a key over 256 UTF-16 units, and a record whose key and data pass 1 MiB together, are refused alone; the rest of the batch is delivered', async () => {
    // crm.keyed (the seed above): a plain key, a key of 150 emoji, and a long key whose record passes 1 MiB.
    await withStream(
      'keyed',
      `model keyed { from warehouse  table crm.keyed  primary key k  columns { k string  v string } }
       sync keyed_to_stream { from keyed  to risk stream keyed  mode insert  identifier k  map { v -> v } }`,
      async (keyed, keyedBuild) => {
        const r = await run(keyedBuild, 'keyed_to_stream', ['--endpoint', `risk=${kinesis.url}`], env);
        expect(r.plan).toMatchObject({ status: 'rejected', operations: { kinesis: 1 }, committed: 1 });
        expect((r.plan.rejected as { reason: string }[]).map((x) => x.reason).sort()).toEqual([
          expect.stringMatching(/^the key is 300 UTF-16 units, above the 256 characters a kinesis partition key takes$/),
          expect.stringMatching(/^the message is 1048676 bytes, above the 1048576 the kinesis destination takes$/),
        ]);
        expect(await keyed.records()).toEqual([{ key: 'plain', value: { k: 'plain', v: 'v' } }]);
      },
    );
  });
  it('a record whose result has neither a sequence number nor an error code was not written: it is sent again, not taken', async () => {
    // The result of key 5's first try is empty, and the record never reaches the stream (FailedRecordCount counts it).
    const silent = await startKinesisFaults(kinesis.url, (key, tries) => key === '5' && tries === 1, {});
    await withStream(
      'quiet',
      `sync people_to_quiet { from people  to risk stream quiet  mode insert  identifier id  map { email -> email } }`,
      async (quiet, quietBuild) => {
        const n = people;
        const r = await run(quietBuild, 'people_to_quiet', ['--endpoint', `risk=${silent.url}`], env);
        expect(r.code, r.err).toBe(0);
        expect(r.plan).toMatchObject({ status: 'ok', operations: { kinesis: n }, committed: n });
        expect(silent.seen.get('5')).toBe(2);
        const got = await quiet.records();
        expect(got).toHaveLength(n);
        expect(got.map((x) => x.key)).toContain('5');
      },
      silent,
    );
  });
  it('a PutRecords answer with fewer results than records is not read: its rows are not committed, and no later call goes to the stream in that run', async () => {
    let breaking = true;
    // Every record forwarded to the stream, and the answer one result short, while `breaking`.
    const proxy = await startKinesisFaults(
      kinesis.url,
      () => false,
      undefined,
      (results) => (breaking ? results.slice(0, -1) : results),
    );
    await withStream(
      'broken',
      `sync people_to_broken { from people  to risk stream broken  mode insert  identifier id  map { email -> email }  batch 50 }`,
      async (broken, brokenBuild) => {
        const n = people;
        const args = ['--endpoint', `risk=${proxy.url}`];
        const first = await run(brokenBuild, 'people_to_broken', args, env);
        expect(first.plan, first.err).toMatchObject({ committed: 0, rejectedTotal: n });
        expect((first.plan.rejected as { fate: string; reason: string }[])[0]).toMatchObject({
          fate: 'failed',
          reason: expect.stringContaining('49 results for 50 records'),
        });
        // One call was sent: its 50 records may be in the stream; the others were kept for the next run.
        expect([...proxy.seen.values()].reduce((a, b) => a + b, 0)).toBe(50);
        expect(await broken.records()).toHaveLength(50);

        breaking = false;
        const again = await run(brokenBuild, 'people_to_broken', args, env);
        expect(again.plan, again.err).toMatchObject({ status: 'ok', committed: n });
        // No row lost; the rows of the call whose answer was broken alone are in the stream twice.
        const got = await broken.records();
        expect(new Set(got.map((r) => r.key)).size).toBe(n);
        expect(got).toHaveLength(n + 50);
      },
      proxy,
    );
  });
  it('a batch spanning two streams: a call that throws fails its own rows only, the rows another call wrote are committed and not sent again', async () => {
    const odd = await kinesisStream(kinesis.url, 'routed-odd');
    let even: Awaited<ReturnType<typeof kinesisStream>> | undefined;
    try {
      const routedBuild = await compileText(
        project(
          riskStream,
          `${routedModel}
           sync routed_to_streams { from routed  to risk stream routed  mode insert  identifier id  map { tier -> tier } }`,
        ),
      );
      // One batch of 12 rows, two PutRecords calls.
      routeByTier(join(routedBuild, 'routed_to_streams', 'plan.json'));
      const args = ['--endpoint', `risk=${kinesis.url}`];
      const ids = (got: { value: Record<string, unknown> }[]) => got.map((r) => Number(r.value.id)).sort((a, b) => a - b);

      // routed-odd's call writes rows 1, 3, ..., 11; routed-even's throws (the stream does not exist).
      const first = await run(routedBuild, 'routed_to_streams', args, env);
      expect(first.plan, first.err).toMatchObject({ status: 'rejected', operations: { kinesis: 6 }, committed: 6, rejectedTotal: 6 });
      const refused = first.plan.rejected as { key: string; fate: string; reason: string }[];
      expect(refused.map((f) => Number(f.key)).sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12]);
      expect(refused[0]).toMatchObject({ fate: 'failed', reason: expect.stringContaining('routed-even') });
      expect(ids(await odd.records())).toEqual([1, 3, 5, 7, 9, 11]);

      // The next run sends the even rows only: routed-odd keeps one copy of each of its rows.
      even = await kinesisStream(kinesis.url, 'routed-even');
      const again = await run(routedBuild, 'routed_to_streams', args, env);
      expect(again.plan, again.err).toMatchObject({ status: 'ok', operations: { kinesis: 6 }, committed: 6 });
      expect(ids(await odd.records())).toEqual([1, 3, 5, 7, 9, 11]);
      expect(ids(await even.records())).toEqual([2, 4, 6, 8, 10, 12]);
    } finally {
      odd.client.destroy();
      even?.client.destroy();
    }
  });
  it('keys the destination names but whose secret is empty stop the step: the SDK never signs with credentials of its own finding', async () => {
    const recorder = await startRecorder(kinesis.url);
    await withStream(
      'ambient',
      `sync people_to_ambient { from people  to risk stream ambient  mode insert  identifier id  map { email -> email } }`,
      async (ambient, ambientBuild) => {
        // RISK_SECRET is set but empty (a CI secret that was never filled in); the machine has keys of another account.
        const env = { RISK_SECRET: '', AWS_ACCESS_KEY_ID: 'AKIAOTHERACCOUNT0001', AWS_SECRET_ACCESS_KEY: 'other-account-secret' };
        const r = await run(ambientBuild, 'people_to_ambient', ['--endpoint', `risk=${recorder.url}`], env);
        expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('secret_access_key') });
        expect(recorder.seen.filter((q) => String(q.headers.authorization).includes('AKIAOTHERACCOUNT0001'))).toEqual([]);
        expect(await ambient.records()).toEqual([]);
      },
      recorder,
    );
  });
  it('an endpoint the destination names whose value is empty stops the step: the rows do not go to the service the SDK would find', async () => {
    const elsewhere = await kinesisStream(kinesis.url, 'elsewhere');
    // Where the SDK would send them without the setting: here its own AWS_ENDPOINT_URL_KINESIS, a recorder in front of the local Kinesis.
    const wrong = await startRecorder(kinesis.url);
    try {
      const env = { RISK_SECRET: 'local-secret-key', RISK_ENDPOINT: '', AWS_ENDPOINT_URL_KINESIS: wrong.url };
      const elsewhereBuild = await compileText(
        project(
          `destination risk : kinesis { region "us-east-1"  access_key_id "AKIAIOSFODNN7EXAMPLE"  secret_access_key env("RISK_SECRET")  endpoint env("RISK_ENDPOINT") }`,
          `sync people_elsewhere { from people  to risk stream elsewhere  mode insert  identifier id  map { email -> email } }`,
        ),
      );
      const r = await run(elsewhereBuild, 'people_elsewhere', [], env);
      expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('endpoint') });
      expect(wrong.seen).toEqual([]);
      expect(await elsewhere.records()).toEqual([]);
      // Under --sink no address is used (the folder stands in for the service): the empty setting stops nothing.
      const folder = await run(elsewhereBuild, 'people_elsewhere', ['--sink', join(work.dir, 'elsewhere-sink')], env);
      expect(folder.plan).toMatchObject({ status: 'ok', committed: people });
    } finally {
      elsewhere.client.destroy();
      await wrong.close();
    }
  });
});

describe('GCS (a local JSON API server)', () => {
  let gcs: FakeGcs;
  let build: string;
  beforeAll(async () => {
    gcs = await new FakeGcs(['acme-gcs']).start();
    build = await compileText(
      project(
        `destination store : gcs { bucket "acme-gcs"  prefix "exports" }`,
        `sync people_to_gcs { from people  to store path "people.jsonl"  mode mirror  identifier id -> id  map { email -> email } format jsonl }`,
      ),
    );
  });
  afterAll(() => gcs.api.close());
  const args = () => ['--endpoint', `store=${gcs.api.url}`];
  const ids = () =>
    (gcs.text('acme-gcs', 'exports/people.jsonl') ?? '')
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);

  it('mirror by resumable upload; unchanged sends nothing; a changed rerun whose answer is lost is resumed, not repeated', async () => {
    const n = people;
    const first = await run(build, 'people_to_gcs', args());
    expect(first.code, first.err).toBe(0);
    expect(first.plan).toMatchObject({ status: 'ok', operations: { gcs: n } });
    expect(ids()).toHaveLength(n);
    expect(gcs.api.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{32}/, 'ID')}`)).toEqual([
      'POST /upload/storage/v1/b/acme-gcs/o',
      'PUT /upload/sessions/ID',
    ]);

    const before = gcs.api.requests.length;
    expect((await run(build, 'people_to_gcs', args())).plan).toMatchObject({ status: 'ok', operations: { gcs: 0 } });
    expect(gcs.api.requests).toHaveLength(before);

    await changePeople(`INSERT INTO crm.people VALUES (123, 'gcs@example.com', 'pro')`);
    // The service stores the upload, but its answer never arrives.
    let lost = false;
    gcs.api.failWhen((req) => {
      if (req.method !== 'PUT' || req.bytes.length === 0 || lost) return undefined;
      lost = true;
      return fault.lost();
    });
    const changed = await run(build, 'people_to_gcs', args());
    expect(changed.code, changed.err).toBe(0);
    expect(changed.plan).toMatchObject({ status: 'ok', operations: { gcs: n + 1 } });
    expect(ids()).toHaveLength(n + 1);
    expect(ids()).toContain('123');
    // The client asked where the upload stood (finalised); a chunk sent again to a finalised
    // session gets the object back and changes nothing: one object, written once.
    const after = gcs.api.requests.slice(before).map((r) => `${r.method} ${String(r.headers['content-range'] ?? '')}`);
    expect(after.slice(0, 3)).toEqual(['POST ', expect.stringMatching(/^PUT bytes 0-\d+\/\d+$/), 'PUT bytes */*']);
    expect(gcs.objects.get('acme-gcs/exports/people.jsonl')?.generation).toBe(2);
    expect(gcs.refused).toEqual([]);
  });

  it('an upload finalised whose answer was lost, and every status query after it, counts as written: the next run writes no second object', async () => {
    const logBuild = await compileText(
      project(
        `destination store : gcs { bucket "acme-gcs"  prefix "exports" }`,
        `sync people_gcs_log { from people  to store path "log"  mode insert  identifier id -> id  map { email -> email }  format jsonl  batch 1000 }`,
      ),
    );
    const objects = () => [...gcs.objects.values()].filter((o) => o.name.startsWith('exports/log/'));
    // The service finalises the object, but the answer never arrives, nor any to the client's status queries after it.
    let finalised = false;
    gcs.api.failWhen((req) => {
      if (req.method !== 'PUT') return undefined;
      if (finalised) return fault.reset();
      finalised = true;
      return fault.lost();
    });
    const n = people;
    try {
      const first = await run(logBuild, 'people_gcs_log', args());
      expect(objects()).toHaveLength(1);
      expect(first.plan, first.err).toMatchObject({ status: 'ok', committed: n });
    } finally {
      gcs.api.failWhen(undefined);
    }
    const again = await run(logBuild, 'people_gcs_log', args());
    expect(again.plan).toMatchObject({ status: 'ok', operations: { gcs: 0 } });
    expect(objects()).toHaveLength(1);
    expect(objects()[0]?.data.toString('utf8').trimEnd().split('\n')).toHaveLength(n);
  });

  it('a session URI, the credential of an upload, is redacted from the message of an upload that failed', async () => {
    // Every chunk's connection is reset: the client's retries run out, and its error names the session URI.
    const resetBuild = await compileText(
      project(
        `destination store : gcs { bucket "acme-gcs"  prefix "exports" }`,
        `sync people_reset { from people  to store path "reset.jsonl"  mode mirror  identifier id -> id  map { email -> email } format jsonl }`,
      ),
    );
    const before = gcs.api.requests.length;
    gcs.api.failWhen((req) => (req.method === 'PUT' ? fault.reset() : undefined));
    try {
      const r = await run(resetBuild, 'people_reset', args());
      const report = readFileSync(join(work.dir, 'people_reset-report.json'), 'utf8');
      expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('[redacted]') });
      const sessions = new Set(gcs.api.requests.slice(before).flatMap((q) => /\/upload\/sessions\/(\w+)/.exec(q.path)?.[1] ?? []));
      expect(sessions.size).toBeGreaterThan(0);
      for (const id of sessions) for (const text of [r.out, r.err, report]) expect(text).not.toContain(id);
    } finally {
      gcs.api.failWhen(undefined);
    }
  });

  it('an upload the service refuses fails the sync: nothing is accepted, and the next run sends every row', async () => {
    const lost = await compileText(
      project(
        `destination store : gcs { bucket "no-such-bucket" }`,
        `sync people_nowhere { from people  to store path "people.jsonl"  mode mirror  identifier id -> id  map { email -> email } format jsonl }`,
      ),
    );
    const r = await run(lost, 'people_nowhere', args());
    expect(r.code).toBe(6);
    expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('The specified bucket does not exist') });
    gcs.buckets.push('no-such-bucket');
    const n = people;
    expect((await run(lost, 'people_nowhere', args())).plan).toMatchObject({ status: 'ok', operations: { gcs: n }, committed: n });
  });
});

describe('Kafka (a local server speaking the producer part of the protocol)', () => {
  let kafka: FakeKafka;
  let build: string;
  beforeAll(async () => {
    kafka = await new FakeKafka({ people: 2, notes: 1, duplicates: 2 }).start();
    build = await compileText(
      project(
        `destination bus : kafka { brokers "${kafka.brokers}"  client_id "syncwright-test" }`,
        `sync people_to_kafka { from people  to bus topic people  mode insert  identifier id  map { email -> email } }
sync people_to_duplicates { from people  to bus topic duplicates  mode insert  identifier id  map { email -> email } }`,
      ),
    );
  });
  afterAll(() => kafka.close());

  it('an idempotent producer, acks=all, keyed by the identifier; a Produce whose answer is lost is retried and written once', async () => {
    const n = people;
    // The first Produce is written, but its answer never arrives: the producer sends the batch
    // again with the same sequence numbers, and the broker keeps one copy.
    kafka.loseAnswers = 1;
    const first = await run(build, 'people_to_kafka', []);
    expect(first.code, first.err).toBe(0);
    expect(first.plan).toMatchObject({ status: 'ok', operations: { kafka: n } });
    const messages = kafka.messages('people');
    expect(messages).toHaveLength(n);
    expect(new Set(messages.map((m) => m.key)).size).toBe(n);
    expect(messages.find((m) => m.key === '42')).toMatchObject({ value: JSON.stringify({ id: '42', email: 'user42@example.com' }) });
    // Keys spread over both partitions; every request asked for acks from all replicas.
    expect(new Set(messages.map((m) => m.partition))).toEqual(new Set([0, 1]));
    expect(new Set(kafka.acks)).toEqual(new Set([-1]));
    // A Produce per partition, and the one whose answer was lost once more.
    expect(kafka.requests.filter((r) => r.api === 0)).toHaveLength(3);
    expect(kafka.requests.some((r) => r.api === 22)).toBe(true);
    expect(kafka.requests.every((r) => r.clientId === 'syncwright-test')).toBe(true);

    expect((await run(build, 'people_to_kafka', [])).plan).toMatchObject({ status: 'ok', operations: { kafka: 0 } });
    await changePeople(`INSERT INTO crm.people VALUES (124, 'kafka@example.com', 'pro')`);
    expect((await run(build, 'people_to_kafka', [])).plan).toMatchObject({ status: 'ok', operations: { kafka: 1 } });
    expect(kafka.messages('people')).toHaveLength(n + 1);
    expect(kafka.violations).toEqual([]);
  });

  it('a retried Produce answered DUPLICATE_SEQUENCE_NUMBER (a broker of Kafka 0.11) was written: its rows are accepted, not sent again', async () => {
    const n = people;
    // The first Produce is written and its answer lost; the client's retry is answered as the broker's duplicate.
    kafka.duplicateError = true;
    kafka.loseAnswers = 1;
    const first = await run(build, 'people_to_duplicates', []);
    kafka.duplicateError = false;
    expect(first.code, first.err).toBe(0);
    expect(first.plan).toMatchObject({ status: 'ok', operations: { kafka: n }, committed: n });
    expect(kafka.loseAnswers).toBe(0);
    const keys = () => kafka.messages('duplicates').map((m) => m.key);
    expect(keys()).toHaveLength(n);
    expect(new Set(keys()).size).toBe(n);
    // Before: the duplicate's rows were refused, and the next run wrote them a second time.
    expect((await run(build, 'people_to_duplicates', [])).plan).toMatchObject({ status: 'ok', operations: { kafka: 0 } });
    expect(keys()).toHaveLength(n);
    expect(kafka.violations).toEqual([]);
  });

  it("batches cut to the broker's message.max.bytes deliver every row; a message too large for a batch of its own is refused alone", async () => {
    // 600 messages of about 3 KB to one partition: the default batch of 500 would be one record
    // batch of 1.5 MB, which the broker refuses whole. One message of 1.1 MB fits no batch.
    const notes = await compileText(`source warehouse : postgres { database "app" version 15 }
destination bus : kafka { brokers "${kafka.brokers}" }
model notes { from warehouse  table crm.notes  primary key id  columns { id bigint  body string } }
sync notes_to_kafka { from notes  to bus topic notes  mode insert  identifier id  map { body -> body } }`);
    const r = await run(notes, 'notes_to_kafka', ['--max-refused', '1']);
    expect(r.code, r.err).toBe(0);
    expect(r.plan).toMatchObject({ status: 'rejected', refusedWithinLimit: true, operations: { kafka: 600 }, committed: 600 });
    expect(r.plan.rejected).toEqual([
      expect.objectContaining({
        key: '601',
        fate: 'rejected',
        reason: expect.stringMatching(
          /^the message alone makes a record batch of 1100\d{3} bytes, above the \d+ a batch is kept to \(the broker's message.max.bytes, 1048588, less a margin\)$/,
        ),
      }),
    ]);
    const messages = kafka.messages('notes');
    expect(messages).toHaveLength(600);
    expect(new Set(messages.map((m) => m.key)).size).toBe(600);
    expect(kafka.tooLarge).toEqual([]);
    // Each record batch is as large as the executor counted it, and under the broker's limit.
    const batches = kafka.batches.filter((b) => b.topic === 'notes');
    let first = 0;
    for (const b of batches) {
      const counted =
        recordBatchOverhead + messages.slice(first, first + b.records).reduce((n, m, i) => n + recordBytes({ key: m.key, value: m.value ?? '' }, i), 0);
      expect(b.bytes).toBe(counted);
      expect(b.bytes).toBeLessThanOrEqual(kafka.maxMessageBytes);
      first += b.records;
    }
    expect(batches.length).toBeGreaterThan(2);
    expect(kafka.violations).toEqual([]);
    // The refused message stays out of the snapshot, and is the only one the next run tries again.
    const again = await run(notes, 'notes_to_kafka', ['--max-refused', '1']);
    expect(again.plan).toMatchObject({ status: 'rejected', refusedWithinLimit: true, operations: { kafka: 0 }, rejectedTotal: 1 });
    expect(kafka.messages('notes')).toHaveLength(600);
  });
});

describe('Kafka: ssl from the environment', () => {
  let plain: FakeKafka;
  let build: string;
  beforeAll(async () => {
    plain = await new FakeKafka({ secure: 1 }).start();
    build = await compileText(
      project(
        `destination bus : kafka { brokers "${plain.brokers}"  ssl env("KAFKA_SSL") }`,
        `sync people_secure { from people  to bus topic secure  mode insert  identifier id  map { email -> email } }`,
      ),
    );
  });
  afterAll(() => plain.close());
  // Read from the output, not the report: a plan's variables are the run's secrets, and their values here are words the report holds.
  const go = (value: string) => cli(['run', '--plan', join(build, 'people_secure', 'plan.json'), '--db', db.folder as string], { KAFKA_SSL: value });

  it('ssl env("...") set to "true" connects over TLS: a plaintext broker gets no message', async () => {
    const r = await go('true');
    expect(plain.messages('secure')).toEqual([]);
    // What reached the broker was a TLS handshake, which it refused as a request too large.
    expect(plain.oversized.length).toBeGreaterThan(0);
    expect(plain.oversized.every((c) => c.tls)).toBe(true);
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('committed 0 rows');
  });

  it('ssl from the environment that is neither true nor false stops the step; false connects in plaintext', async () => {
    const r = await go('yes');
    expect(r.code).not.toBe(0);
    expect(r.out).toContain('kafka ssl "yes" is neither true nor false');
    expect(plain.messages('secure')).toEqual([]);
    const off = await go('false');
    expect(off.code, off.out).toBe(0);
    expect(plain.messages('secure')).toHaveLength(people);
  });
});

describe('Kafka: a partition the broker refuses', () => {
  // A topic's own max.message.bytes (2,000 here) can be below the broker default the plan
  // counts with: the broker refuses that partition's record batch with MESSAGE_TOO_LARGE and
  // writes the other partitions of the same Produce request (kafka.apache.org/protocol: each
  // partition_responses entry has its own error_code).
  let kafka: FakeKafka;
  beforeAll(async () => {
    kafka = await new FakeKafka({ mixed: 2, ordered: 2, ordered_clean: 2, grown: 3 }, 2000).start();
  });
  afterAll(() => kafka.close());

  it('the rows of the partitions written are accepted, the refused ones alone go again, and none is written twice or lost', async () => {
    const build = await compileText(`source warehouse : postgres { database "app" version 15 }
destination bus : kafka { brokers "${kafka.brokers}" }
model mixed { from warehouse  table crm.mixed  primary key id  columns { id bigint  body string } }
sync mixed_to_kafka { from mixed  to bus topic mixed  mode insert  identifier id  map { body -> body }  batch 6 }`);
    const written = () => kafka.messages('mixed').map((m) => m.key as string);
    const first = await run(build, 'mixed_to_kafka', ['--max-refused', '1']);
    expect(first.code, first.err).toBe(0);
    expect(first.plan).toMatchObject({ status: 'rejected', refusedWithinLimit: true, operations: { kafka: 23 }, committed: 23 });
    expect(first.plan.rejected).toEqual([
      expect.objectContaining({ key: '1', fate: 'rejected', reason: expect.stringMatching(/larger than the max message size the server will accept/) }),
    ]);
    // Every row the run committed is in the topic once, and nothing else is.
    expect(written().sort()).toEqual(Array.from({ length: 23 }, (_, i) => String(i + 2)).sort());
    expect(kafka.violations).toEqual([]);
    const again = await run(build, 'mixed_to_kafka', ['--max-refused', '1']);
    expect(again.plan).toMatchObject({ status: 'rejected', operations: { kafka: 0 }, rejectedTotal: 1 });
    expect(written()).toHaveLength(23);
    expect(kafka.violations).toEqual([]);
  });

  it("after a partition's batch failed, no later row of that partition is sent in the run: the next run sends them in their order", async () => {
    const sync = (topic: string) => `sync to_${topic} { from ordered  to bus topic ${topic}  mode insert  identifier id  map { n -> n }  batch 4 }`;
    const build = await compileText(`source warehouse : postgres { database "app" version 15 }
destination bus : kafka { brokers "${kafka.brokers}" }
model ordered { from warehouse  table crm.ordered  primary key id  columns { id bigint  n bigint } }
${sync('ordered')}
${sync('ordered_clean')}`);
    const keys = (topic: string, partition: number) => kafka.partitionMessages(topic, partition).map((m) => m.key as string);
    // The same rows with no fault: the order each partition gets them in.
    expect((await run(build, 'to_ordered_clean', [])).plan).toMatchObject({ status: 'ok', committed: 32 });
    expect(keys('ordered_clean', 1).length).toBeGreaterThan(4);
    // Partition 1's first batch fails on each of the client's tries (NOT_ENOUGH_REPLICAS, retriable); its later batches would be written.
    kafka.failingKeys.set(keys('ordered_clean', 1)[0]!, 19);
    const first = await run(build, 'to_ordered', []);
    kafka.failingKeys.clear();
    // Partition 0's rows are taken; partition 1's failed batch and every later row of it fail (the client retried them), for the next run.
    const written = keys('ordered', 0).length;
    expect(first.plan).toMatchObject({ status: 'rejected', operations: { kafka: written }, committed: written, rejectedTotal: 32 - written });
    expect(new Set((first.plan.rejected as { fate: string }[]).map((r) => r.fate))).toEqual(new Set(['failed']));
    // Before: a new producer wrote partition 1's later batches, ahead of the failed one's rows.
    expect(keys('ordered', 1)).toEqual([]);
    expect((await run(build, 'to_ordered', [])).plan).toMatchObject({ status: 'ok', operations: { kafka: 32 - written } });
    for (const partition of [0, 1]) expect(keys('ordered', partition)).toEqual(keys('ordered_clean', partition));
    expect(kafka.violations).toEqual([]);
  });

  it("rows of a partition the producer's metadata does not know yet are not sent, and not taken as written: the next run sends them", async () => {
    const build = await compileText(`source warehouse : postgres { database "app" version 15 }
destination bus : kafka { brokers "${kafka.brokers}" }
model grown { from warehouse  table crm.grown  primary key id  columns { id bigint  n bigint } }
sync to_grown { from grown  to bus topic grown  mode insert  identifier id  map { n -> n }  batch 4 }`);
    // The run's partitioner reads 3 partitions; the producer, asking after it, is told of 2 (and so is the
    // partitioner once the failure replaced the producer: the run's later rows go to partitions 0 and 1).
    kafka.lagging.set('grown', { known: 2, partitions: 2 });
    const first = await run(build, 'to_grown', []);
    kafka.lagging.clear();
    const keys = (p: number) => kafka.partitionMessages('grown', p).map((m) => m.key as string);
    const written = keys(0).length + keys(1).length;
    expect(keys(2)).toEqual([]);
    expect(written).toBeLessThan(32);
    // Before: the client answered without partition 2, and its rows were committed, never sent.
    expect(first.plan).toMatchObject({ status: 'rejected', operations: { kafka: written }, committed: written, rejectedTotal: 32 - written });
    expect((first.plan.rejected as { reason: string }[])[0]?.reason).toMatch(/did not answer for partition 2 of grown/);
    expect((await run(build, 'to_grown', [])).plan).toMatchObject({ status: 'ok', operations: { kafka: 32 - written } });
    expect([0, 1, 2].flatMap(keys).sort()).toEqual(Array.from({ length: 32 }, (_, i) => String(i + 1)).sort());
    expect(kafka.violations).toEqual([]);
  });
});

describe('credentials the AWS SDK finds itself', () => {
  // A hostile S3 and Kinesis: every request answered with an error echoing its credential headers.
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const echo = JSON.stringify({ token: req.headers['x-amz-security-token'], authorization: req.headers.authorization }).replace(/[<>&]/g, ' ');
        if (req.headers['x-amz-target']) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ __type: 'InvalidArgumentException', message: `echo ${echo}` }));
        } else {
          res.writeHead(403, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>echo ${echo}</Message><RequestId>1</RequestId></Error>`);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a session token and key id the SDK resolved, echoed by the server, are redacted in the output and the report', async () => {
    // The destinations name no keys, as with a task role: the SDK takes them from its own variables.
    const env = { AWS_ACCESS_KEY_ID: 'AKIAECHOEDKEYID00001', AWS_SECRET_ACCESS_KEY: 'echoed-secret-key', AWS_SESSION_TOKEN: 'ECHOED-SESSION-TOKEN-0123456789' };
    const build = await compileText(
      project(
        `destination lake : s3 { bucket "bkt"  region "us-east-1" }\ndestination ks : kinesis { region "us-east-1" }`,
        `sync to_s3 { from people  to lake path "people.jsonl"  mode insert  identifier id  map { email -> email }  format jsonl }
         sync to_kinesis { from people  to ks stream people  mode insert  identifier id  map { email -> email } }`,
      ),
    );
    for (const sync of ['to_s3', 'to_kinesis']) {
      const r = await run(build, sync, ['--endpoint', `lake=${url}`, '--endpoint', `ks=${url}`], env);
      const report = readFileSync(join(work.dir, `${sync}-report.json`), 'utf8');
      expect(r.plan.status, sync).not.toBe('ok');
      for (const text of [r.out, r.err, report]) {
        expect(text).not.toContain(env.AWS_SESSION_TOKEN);
        expect(text).not.toContain(env.AWS_ACCESS_KEY_ID);
      }
      expect(report, sync).toContain('[redacted]');
    }
  });
});

describe('messages to the folder sink', () => {
  /** A build of `syncs` from crm.routed (routedModel) into the Kinesis destination `risk`, which the folder stands in for. */
  const routedBuild = (syncs: string) => compileText(project(`destination risk : kinesis { region "us-east-1" }`, `${routedModel}\n${syncs}`));

  it('a batch spanning two topics: a file that cannot be written fails its own rows only, the lines appended to the other are committed and not written again', async () => {
    const build = await routedBuild(`sync routed_to_files { from routed  to risk stream routed  mode insert  identifier id  map { tier -> tier } }`);
    // One batch of 12 rows, two files.
    routeByTier(join(build, 'routed_to_files', 'plan.json'));
    const sink = join(work.dir, 'routed-sink');
    // routed-even.jsonl is a folder: appending to it fails.
    const blocked = join(sink, 'kinesis', 'routed-even.jsonl');
    mkdirSync(blocked, { recursive: true });
    const ids = (name: string) =>
      readFileSync(join(sink, 'kinesis', name), 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => Number((JSON.parse(l) as { key: string }).key))
        .sort((a, b) => a - b);

    const first = await run(build, 'routed_to_files', ['--sink', sink]);
    expect(first.plan, first.err).toMatchObject({ status: 'rejected', operations: { kinesis: 6 }, committed: 6, rejectedTotal: 6 });
    expect((first.plan.rejected as { key: string }[]).map((f) => Number(f.key)).sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(ids('routed-odd.jsonl')).toEqual([1, 3, 5, 7, 9, 11]);

    rmSync(blocked, { recursive: true });
    const again = await run(build, 'routed_to_files', ['--sink', sink]);
    expect(again.plan, again.err).toMatchObject({ status: 'ok', operations: { kinesis: 6 }, committed: 6 });
    expect(ids('routed-odd.jsonl')).toEqual([1, 3, 5, 7, 9, 11]);
    expect(ids('routed-even.jsonl')).toEqual([2, 4, 6, 8, 10, 12]);
  });
  it("a topic file whose last line was cut short (a run that died mid-append) does not swallow the next run's first line", async () => {
    const build = await routedBuild(`sync routed_torn { from routed  to risk stream torn  mode insert  identifier id  map { tier -> tier } }`);
    const sink = join(work.dir, 'torn-sink');
    const file = join(sink, 'kinesis', 'torn.jsonl');
    mkdirSync(join(sink, 'kinesis'), { recursive: true });
    // A whole line, then the start of a line whose write never finished (its rows were never committed).
    writeFileSync(file, '{"key":"99","value":{"id":"99","tier":"odd"}}\n{"key":"1","value":{"id":"1","ti');
    const r = await run(build, 'routed_torn', ['--sink', sink]);
    expect(r.plan, r.err).toMatchObject({ status: 'ok', operations: { kinesis: 12 }, committed: 12 });
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    const parsed = lines.flatMap((l) => {
      try {
        return [Number((JSON.parse(l) as { key: string }).key)];
      } catch {
        return [];
      }
    });
    // Every row of the run is on a line of its own, readable; only the cut line is not.
    expect(parsed.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 99]);
    expect(lines).toHaveLength(14);
  });
  it('a stream name holding a path is refused, not appended to a file elsewhere in the sink (an object of another destination)', async () => {
    const build = await routedBuild(
      `sync routed_climbing { from routed  to risk stream \`../s3/bkt/people\`  mode insert  identifier id  map { tier -> tier } }`,
    );
    const sink = join(work.dir, 'climbing-sink');
    const r = await run(build, 'routed_climbing', ['--sink', sink]);
    expect(existsSync(join(sink, 's3'))).toBe(false);
    expect(r.plan, r.err).toMatchObject({ status: 'rejected', committed: 0, rejectedTotal: 12 });
    expect((r.plan.rejected as { fate: string; reason: string }[])[0]).toMatchObject({ fate: 'rejected', reason: expect.stringContaining('../s3/bkt/people') });
  });
  it("an object key with a .. segment is refused, not written over a file elsewhere in the sink (another destination's messages)", async () => {
    const build = await compileText(
      project(
        `destination risk : kinesis { region "us-east-1" }\ndestination lake : s3 { bucket "bkt"  region "us-east-1" }`,
        `${routedModel}
         sync routed_victim { from routed  to risk stream victim  mode insert  identifier id  map { tier -> tier } }
         sync routed_climbing_object { from routed  to lake path "../../kinesis/victim"  mode mirror  identifier id  map { tier -> tier }  format jsonl  guard deletes <= 50% }`,
      ),
    );
    const sink = join(work.dir, 'climbing-object-sink');
    expect((await run(build, 'routed_victim', ['--sink', sink])).plan).toMatchObject({ status: 'ok', committed: 12 });
    const victim = readFileSync(join(sink, 'kinesis', 'victim.jsonl'), 'utf8');
    // S3 takes the key ../../kinesis/victim.jsonl as it is, in bucket bkt; the folder has no such name.
    const r = await run(build, 'routed_climbing_object', ['--sink', sink]);
    expect(readFileSync(join(sink, 'kinesis', 'victim.jsonl'), 'utf8')).toBe(victim);
    expect(r.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('../../kinesis/victim.jsonl') });
  });
  it('object keys S3 keeps apart (a//b, a/b) are never one file: a key with an empty segment is refused, not written over another', async () => {
    const build = await compileText(
      project(
        `destination lake : s3 { bucket "bkt"  region "us-east-1" }`,
        `${routedModel}
         sync routed_doubled { from routed  to lake path "tiers//all"  mode mirror  identifier id  map { tier -> tier }  format jsonl }
         sync routed_single { from routed  to lake path "tiers/all"  mode mirror  identifier id  map { tier -> level }  format jsonl }`,
      ),
    );
    const sink = join(work.dir, 'doubled-sink');
    const single = await run(build, 'routed_single', ['--sink', sink]);
    expect(single.plan, single.err).toMatchObject({ status: 'ok', committed: 12 });
    const file = join(sink, 's3', 'bkt', 'tiers', 'all.jsonl');
    const written = readFileSync(file, 'utf8');
    const doubled = await run(build, 'routed_doubled', ['--sink', sink]);
    // S3 takes tiers//all.jsonl as a key of its own: routed_single's object is still there, with its rows.
    expect(readFileSync(file, 'utf8')).toBe(written);
    expect(doubled.plan).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining('tiers//all.jsonl') });
  });
});

describe('object formats keep values (the folder sink)', () => {
  it('CSV tells NULL from an empty string; Parquet writes a float column holding NaN and infinities as DOUBLE', async () => {
    const build = await compileText(
      project(
        `destination lake : s3 { bucket "bkt"  region "us-east-1" }`,
        `model measures { from warehouse  table crm.measures  primary key id  columns { id bigint  score float?  note string? } }
         sync measures_csv { from measures  to lake path "measures"  mode mirror  identifier id  map { score -> score  note -> note }  format csv  guard deletes <= 50% }
         sync measures_parquet { from measures  to lake path "measures"  mode mirror  identifier id  map { score -> score  note -> note }  format parquet  guard deletes <= 50% }`,
      ),
    );
    const sink = join(work.dir, 'formats-sink');
    for (const sync of ['measures_csv', 'measures_parquet']) {
      const r = await run(build, sync, ['--sink', sink]);
      expect(r.plan.status, `${sync}: ${r.out}`).toBe('ok');
    }
    const csv = readFileSync(join(sink, 's3', 'bkt', 'measures.csv'), 'utf8')
      .trimEnd()
      .split('\r\n');
    expect(csv).toEqual(['id,score,note', '1,0.5,a', '2,NaN,""', '3,Infinity,', '4,-Infinity,x', '5,,y']);
    const bytes = readFileSync(join(sink, 's3', 'bkt', 'measures.parquet'));
    const rows = (await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) })) as {
      id: string;
      score: number | null;
      note: string | null;
    }[];
    expect(rows.sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: '1', score: 0.5, note: 'a' },
      { id: '2', score: Number.NaN, note: '' },
      { id: '3', score: Number.POSITIVE_INFINITY, note: null },
      { id: '4', score: Number.NEGATIVE_INFINITY, note: 'x' },
      { id: '5', score: null, note: 'y' },
    ]);
  });
});
