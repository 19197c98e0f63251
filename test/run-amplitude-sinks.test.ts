// Amplitude HTTP V2 end to end against a local fake, and storage and streaming syncs
// written to the local sink, on the embedded database.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startAmplitude, type FakeAmplitude } from './servers/amplitude.js';
import { compileFixture, compileText, runSync, sql } from './servers/run-harness.js';
import { scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';
import type { Outlets, Producer } from '../src/run/sinks/outlets.js';
import { folderStore } from '../src/run/sinks/folder.js';

const build = await compileFixture('test/fixtures/run/project');
const env = { AMPLITUDE_KEY: 'amp-key' };
let db: ScratchDb;
let amplitude: FakeAmplitude;
const sink = scratchFolder('syncwright-sink-');

const run = (sync: string, options = {}) => runSync(db, build, sync, { env, sink: sink.dir, endpoints: { analytics: amplitude.api.url }, ...options });

beforeAll(async () => {
  db = scratchPglite();
  await sql(
    db,
    `CREATE SCHEMA crm;
     CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
     INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END, g FROM generate_series(1, 120) g;
     UPDATE crm.people SET email = 'quote"and,comma@example.com' WHERE id = 3;`,
  );
  amplitude = await startAmplitude({ apiKey: env.AMPLITUDE_KEY });
});
afterAll(async () => {
  await amplitude.api.close();
  await db.drop();
  sink.remove();
});

describe('Amplitude HTTP V2', () => {
  it('sends every row as one event with its insert_id; a second run sends nothing; one change sends one event', async () => {
    const r = await run('people_to_amplitude');
    expect(r).toMatchObject({ status: 'ok', operations: { track: 120 } });
    // Largest first: the batches go out concurrently, in no promised order.
    expect(amplitude.api.requests.map((q) => (q.body as { events: unknown[] }).events.length).sort((a, b) => b - a)).toEqual([100, 20]);
    expect(amplitude.events.find((e) => e.user_id === '42')).toEqual({
      user_id: '42',
      event_type: 'Person Updated',
      insert_id: expect.stringMatching(/^[0-9a-f]{64}$/),
      event_properties: { plan: 'free', score: 42 },
    });
    expect(new Set(amplitude.events.map((e) => e.insert_id)).size).toBe(120);

    await run('people_to_amplitude');
    expect(amplitude.api.requests).toHaveLength(2);
    await sql(db, 'UPDATE crm.people SET score = 0 WHERE id = 42');
    expect((await run('people_to_amplitude')).operations).toEqual({ track: 1 });
    expect((amplitude.api.requests[2]!.body as { events: unknown[] }).events).toHaveLength(1);
  });

  it("a value changed back reaches Amplitude each time: no event carries an earlier one's insert_id, which Amplitude would drop", async () => {
    const dropped = amplitude.duplicatesDropped;
    const plans: string[] = [];
    for (const plan of ['team', 'pro', 'team', 'pro']) {
      await sql(db, `UPDATE crm.people SET plan = '${plan}' WHERE id = 41`);
      expect((await run('people_to_amplitude')).operations).toEqual({ track: 1 });
      plans.push(String(amplitude.events.filter((e) => e.user_id === '41').at(-1)?.event_properties?.plan));
    }
    expect(plans).toEqual(['team', 'pro', 'team', 'pro']);
    expect(amplitude.duplicatesDropped).toBe(dropped);
  });

  it('an event Amplitude refuses (400 naming its index) is isolated and reported; the rest arrive; it is sent next run', async () => {
    amplitude.options.reject = (e) => (e.user_id === '77' ? { field: 'event_properties', reason: 'bad' } : undefined);
    await sql(db, 'UPDATE crm.people SET score = score + 1 WHERE id BETWEEN 70 AND 79');
    const before = amplitude.events.length;
    const r = await run('people_to_amplitude');
    expect(r.status).toBe('rejected');
    expect(r.operations).toEqual({ track: 9 });
    expect(r.rejected).toEqual([
      { key: '77', change: 'changed', operation: 'track', fate: 'rejected', reason: expect.stringContaining('events_with_invalid_fields') },
    ]);
    expect(amplitude.events.length - before).toBe(9);

    amplitude.options.reject = undefined;
    amplitude.api.failNext(fault.tooMany('1', { code: 429, error: 'Too many requests for some devices and users' }));
    const again = await run('people_to_amplitude');
    expect(again).toMatchObject({ status: 'ok', operations: { track: 1 } });
    expect(again.steps[0]?.retries).toBe(1);
    expect(amplitude.events.at(-1)).toMatchObject({ user_id: '77', event_properties: { score: 78 } });
  });
});

describe('storage and streams to the local sink', () => {
  const files = (dir: string): string[] =>
    readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));

  it('mirror overwrites one csv object with every current row (RFC 4180); removed rows leave it', async () => {
    const r = await run('people_to_lake');
    expect(r).toMatchObject({ status: 'ok', operations: { s3: 120 } });
    const path = join(sink.dir, 's3', 'acme-lake', 'exports', 'people.csv');
    const text = readFileSync(path, 'utf8');
    expect(text.split('\r\n').slice(0, 4)).toEqual(['id,email,plan', '1,user1@example.com,pro', '10,user10@example.com,pro', '100,user100@example.com,pro']);
    expect(text).toContain('3,"quote""and,comma@example.com",free\r\n');
    await sql(db, 'DELETE FROM crm.people WHERE id IN (1, 2)');
    const again = await run('people_to_lake');
    expect(again).toMatchObject({ status: 'ok', changes: { removed: 2 }, operations: { s3: 118, accept: 2 } });
    const lines = readFileSync(path, 'utf8').trimEnd().split('\r\n');
    expect(lines).toHaveLength(119);
    expect(lines).not.toContain('1,user1@example.com,pro');
    // No temporary file is left (they are written in the sink's `.partial` folder).
    expect(files(sink.dir).filter((f) => f.startsWith(join(sink.dir, '.partial')) || f.endsWith('.partial'))).toEqual([]);
  });

  it('the sink folder writes an object under a name of its own until it is complete: an object named as the temporary name was is left as it is', async () => {
    const folder = scratchFolder('syncwright-sink-names-');
    try {
      const store = folderStore(folder.dir, 's3');
      async function* body(...parts: string[]) {
        for (const p of parts) yield Buffer.from(p);
      }
      await store.put('b', 'report.csv.partial', body('kept\n'), 'text/csv');
      await store.put('b', 'report.csv', body('a,b\n', '1,2\n'), 'text/csv');
      expect(readFileSync(join(folder.dir, 's3', 'b', 'report.csv.partial'), 'utf8')).toBe('kept\n');
      expect(readFileSync(join(folder.dir, 's3', 'b', 'report.csv'), 'utf8')).toBe('a,b\n1,2\n');
      // A body that fails, at once or midway, leaves neither the object nor a temporary file. Many
      // times over: the temporary file was left behind now and then (the stream opened it after
      // the clean-up had run): 11 of these 40 before.
      async function* failing(midway: boolean) {
        if (midway) yield Buffer.from('half');
        throw new Error('the read broke');
      }
      for (let i = 0; i < 40; i++) await expect(store.put('b', 'broken.csv', failing(i % 2 === 0), 'text/csv')).rejects.toThrow('the read broke');
      expect(
        files(folder.dir)
          .map((f) => f.slice(folder.dir.length + 1))
          .sort(),
      ).toEqual([join('s3', 'b', 'report.csv'), join('s3', 'b', 'report.csv.partial')]);
    } finally {
      folder.remove();
    }
  });

  it('mirror: a second run on unchanged data writes no object; one changed row rewrites the whole object once', async () => {
    const path = join(sink.dir, 's3', 'acme-lake', 'exports', 'people.csv');
    const written = statSync(path).mtimeMs;
    const text = readFileSync(path, 'utf8');
    const same = await run('people_to_lake');
    expect(same).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 118 }, operations: { s3: 0, accept: 0 }, committed: 0 });
    expect(same.steps[0]).toMatchObject({ kind: 'write_object', rows: 0, skipped: 'no row was added, changed or removed' });
    expect(same.steps[0]?.wrote).toBeUndefined();
    expect(statSync(path).mtimeMs).toBe(written);
    expect(readFileSync(path, 'utf8')).toBe(text);

    await sql(db, `UPDATE crm.people SET email = 'renamed20@example.com' WHERE id = 20`);
    const r = await run('people_to_lake');
    expect(r).toMatchObject({ status: 'ok', changes: { added: 0, changed: 1, removed: 0 }, operations: { s3: 118, accept: 0 }, committed: 118 });
    expect(r.steps[0]?.wrote).toEqual([path]);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\r\n');
    expect(lines).toHaveLength(119);
    expect(lines).toContain('20,renamed20@example.com,pro');
    expect(lines).not.toContain('20,user20@example.com,pro');

    const again = await run('people_to_lake');
    expect(again).toMatchObject({ changes: { added: 0, changed: 0, removed: 0 }, operations: { s3: 0 } });
    expect(again.steps[0]?.wrote).toBeUndefined();
  });

  it('insert writes new jsonl objects of 25 rows per run, only the new rows', async () => {
    const r = await run('people_to_lake_log');
    expect(r).toMatchObject({ status: 'ok', operations: { s3: 118 } });
    const dir = join(sink.dir, 's3', 'acme-lake', 'log', 'people');
    const parts = files(dir);
    expect(parts).toHaveLength(5);
    const rows = parts.flatMap((p) =>
      readFileSync(p, 'utf8')
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as { id: string }),
    );
    expect(rows).toHaveLength(118);
    expect(rows[0]).toEqual({ id: '10', email: 'user10@example.com' });
    await sql(db, `INSERT INTO crm.people VALUES (500, 'new@example.com', NULL, 'pro', 1)`);
    expect((await run('people_to_lake_log')).operations).toEqual({ s3: 1 });
    expect(files(dir)).toHaveLength(6);
  });

  it('kafka: one message per new row keyed by the identifier, to the topic file or stdout', async () => {
    const r = await run('people_to_bus');
    expect(r).toMatchObject({ status: 'ok', operations: { kafka: 119 } });
    const lines = readFileSync(join(sink.dir, 'kafka', 'people.jsonl'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toHaveLength(119);
    expect(lines).toContainEqual({ key: '42', value: { id: '42', email: 'user42@example.com', plan: 'free' } });

    await sql(db, `INSERT INTO crm.people VALUES (501, 'stdout@example.com', NULL, 'pro', 1)`);
    const out: string[] = [];
    expect((await run('people_to_bus', { sink: '-', out: (t: string) => out.push(t) })).operations).toEqual({ kafka: 1 });
    expect(out.map((l) => JSON.parse(l) as unknown)).toEqual([{ topic: 'people', key: '501', value: { id: '501', email: 'stdout@example.com', plan: 'pro' } }]);
  });

  it('a producer passed to the run answers per record: a refused record is rejected, a batch that fails is failed; both are sent again next run', async () => {
    await sql(db, `INSERT INTO crm.people SELECT g, 'p' || g || '@example.com', NULL, 'pro', 1 FROM generate_series(700, 703) g`);
    const sent: string[] = [];
    const producer = (send: Producer['send']): Outlets => ({
      store: () => Promise.reject(new Error('no store')),
      producer: async () => ({ send, close: async () => undefined }),
    });
    const refusing = producer(async (records) =>
      records.map((r) => (sent.push(r.key as string), r.key === '701' ? { reason: 'MessageSizeTooLarge', retryable: false } : undefined)),
    );
    const a = await run('people_to_bus', { outlets: refusing });
    expect(a).toMatchObject({ status: 'rejected', operations: { kafka: 3 }, committed: 3 });
    expect(a.rejected).toEqual([{ key: '701', change: 'added', operation: 'kafka', fate: 'rejected', reason: 'MessageSizeTooLarge' }]);
    expect(sent).toEqual(['700', '701', '702', '703']);

    const down = producer(async () => Promise.reject(new Error('the broker is gone')));
    const b = await run('people_to_bus', { outlets: down });
    expect(b).toMatchObject({ operations: { kafka: 0 }, committed: 0 });
    expect(b.rejected).toEqual([{ key: '701', change: 'added', operation: 'kafka', fate: 'failed', reason: 'the broker is gone' }]);

    const c = await run('people_to_bus');
    expect(c).toMatchObject({ status: 'ok', operations: { kafka: 1 }, committed: 1 });
    await sql(db, 'DELETE FROM crm.people WHERE id BETWEEN 700 AND 703');
  });

  it('kinesis: a row whose partition key is over 256 characters is refused, the others published', async () => {
    const stream = await compileText(`source warehouse : postgres { database "app" version 15 }
destination risk : kinesis { region "us-east-1" }
model people { from warehouse  table crm.people  primary key id  columns { id bigint  email string  plan string } }
sync people_to_stream { from people  to risk stream people  mode insert  identifier email }`);
    const long = `${'k'.repeat(300)}@example.com`;
    await sql(db, `INSERT INTO crm.people VALUES (600, '${long}', NULL, 'pro', 1)`);
    const r = await runSync(db, stream, 'people_to_stream', { sink: sink.dir });
    expect(r.rejected).toEqual([
      expect.objectContaining({ key: long, reason: 'the key is 312 UTF-16 units, above the 256 characters a kinesis partition key takes' }),
    ]);
    expect(r.operations.kinesis).toBe(r.changes!.added! - 1);
    await sql(db, 'DELETE FROM crm.people WHERE id = 600');
  });

  it('a dry run shows counts and rendered payloads, sends and commits nothing', async () => {
    await sql(db, 'UPDATE crm.people SET score = -1 WHERE id IN (10, 11)');
    const before = amplitude.api.requests.length;
    const r = await run('people_to_amplitude', { dryRun: true });
    // Rows 500 and 501 came in for the sink tests; the sample shows the first three rows.
    expect(r).toMatchObject({ status: 'ok', dryRun: true, changes: { changed: 2, added: 2 }, committed: 0 });
    expect(r.steps[0]).toMatchObject({ operation: 'track', rows: 4, requests: 0 });
    const event = (id: string, plan: string, score: number) => ({
      user_id: id,
      event_type: 'Person Updated',
      insert_id: expect.any(String),
      event_properties: { plan, score },
    });
    expect(r.steps[0]?.samples).toEqual([
      { api_key: '<env AMPLITUDE_KEY>', events: [event('10', 'pro', -1), event('11', 'pro', -1), event('500', 'pro', 1)], options: { min_id_length: 1 } },
    ]);
    expect(amplitude.api.requests.length).toBe(before);
    // Nothing was committed: the real run still sends both.
    expect((await run('people_to_amplitude')).operations).toEqual({ track: 4 });
  });
});
