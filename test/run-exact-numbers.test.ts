// Numbers a double cannot hold (a bigint above 2^53, a decimal(30, 2), numbers deep in a json
// column) delivered with every digit, on the embedded database: to the sink folder as csv and
// json lines, as stream messages, and to webhooks as JSON bodies and as a message template.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileText, runSync, sql } from './servers/run-harness.js';
import { scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';
import { startSlack, type FakeSlack } from './servers/slack.js';
import { startWebhook, type FakeWebhook } from './servers/webhook.js';

const build = await compileText(`
source warehouse : postgres { database "app" version 15 }
model accounts {
  from warehouse  table crm.accounts  primary key id
  columns { id bigint  ext_id bigint  amount decimal(30, 2)  attrs json }
}
destination lake : s3 { bucket "acme-lake"  region "us-east-1" }
destination bus : kafka { brokers "b-1.bus.internal:9092" }
destination hook : webhook { url "https://hooks.example.com/v1"  batch true }
destination notes : webhook { url "https://notes.example.com/v1" }
destination chat : slack { token env("SLACK_TOKEN")  default_channel "#accounts" }
sync accounts_csv { from accounts  to lake path "exports/accounts"  mode mirror  identifier id -> id  map { ext_id -> ext_id  amount -> amount  attrs -> attrs }  format csv  guard deletes <= 50% }
sync accounts_jsonl { from accounts  to lake path "log/accounts"  mode insert  identifier id -> id  map { ext_id -> ext_id  amount -> amount  attrs -> attrs }  format jsonl }
sync accounts_bus { from accounts  to bus topic accounts  mode insert  identifier id  map { ext_id -> ext_id  amount -> amount } }
sync accounts_hook { from accounts  to hook path "/accounts"  mode insert  identifier id -> id  map { ext_id -> ext_id  amount -> amount  attrs -> attrs } }
sync accounts_note {
  from accounts  to notes  mode insert  identifier id
  message """{ "ext": {{json ext_id}}, "amount": {{json amount}}, "parent": {{json attrs.parent}} }"""
}
sync accounts_chat { from accounts  to chat  mode insert  identifier id  message "account {{ext_id}} owes {{amount}} (parent {{attrs.parent}})" }
`);

let db: ScratchDb;
let hook: FakeWebhook;
let notes: FakeWebhook;
let slack: FakeSlack;
const sink = scratchFolder('syncwright-sink-');
const run = (sync: string) =>
  runSync(db, build, sync, { env: { SLACK_TOKEN: 'xoxb-test' }, sink: sink.dir, endpoints: { hook: hook.api.url, notes: notes.api.url, chat: slack.api.url } });

beforeAll(async () => {
  db = scratchPglite();
  await sql(
    db,
    `CREATE SCHEMA crm;
     CREATE TABLE crm.accounts (id bigint PRIMARY KEY, ext_id bigint NOT NULL, amount numeric(30, 2) NOT NULL, attrs jsonb NOT NULL);
     INSERT INTO crm.accounts VALUES
       (1, 9007199254740993, 12345678901234567.89, '{"parent": 18446744073709551615, "ratios": [-9007199254740993, 0.1, 1e400, 1E-5]}'),
       (2, 42, -0.5, '{"parent": 7}');`,
  );
  [hook, notes, slack] = await Promise.all([startWebhook(), startWebhook(), startSlack({ token: 'xoxb-test' })]);
});
afterAll(async () => {
  await Promise.all([hook.api.close(), notes.api.close(), slack.api.close()]);
  await db.drop();
  sink.remove();
});

// jsonb writes 1e400 in full and 1E-5 as 0.00001.
const big = `1${'0'.repeat(400)}`;
const attrs = `{"parent":18446744073709551615,"ratios":[-9007199254740993,0.1,${big},0.00001]}`;

describe('numbers a double cannot hold', () => {
  it('reach the sink folder as csv and json lines, and the stream, with every digit; an unchanged rerun writes nothing', async () => {
    expect(await run('accounts_csv')).toMatchObject({ status: 'ok', operations: { s3: 2 }, committed: 2 });
    const csv = readFileSync(join(sink.dir, 's3', 'acme-lake', 'exports', 'accounts.csv'), 'utf8');
    expect(csv.split('\r\n')).toEqual([
      'id,ext_id,amount,attrs',
      `1,9007199254740993,12345678901234567.89,"${attrs.replaceAll('"', '""')}"`,
      '2,42,-0.5,"{""parent"":7}"',
      '',
    ]);

    expect(await run('accounts_jsonl')).toMatchObject({ status: 'ok', operations: { s3: 2 } });
    const dir = join(sink.dir, 's3', 'acme-lake', 'log', 'accounts');
    const parts = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    expect(parts).toHaveLength(1);
    expect(readFileSync(join(parts[0]!.parentPath, parts[0]!.name), 'utf8').split('\n')).toEqual([
      `{"id":"1","attrs":${attrs},"amount":12345678901234567.89,"ext_id":9007199254740993}`,
      '{"id":"2","attrs":{"parent":7},"amount":-0.5,"ext_id":42}',
      '',
    ]);

    expect(await run('accounts_bus')).toMatchObject({ status: 'ok', operations: { kafka: 2 } });
    expect(readFileSync(join(sink.dir, 'kafka', 'accounts.jsonl'), 'utf8')).toContain(
      '{"key":"1","value":{"id":"1","amount":12345678901234567.89,"ext_id":9007199254740993}}',
    );

    // The payload hash was taken on the true values: nothing changed, nothing is written again.
    expect(await run('accounts_csv')).toMatchObject({ status: 'ok', changes: { unchanged: 2 }, operations: { s3: 0 } });
  });

  it('reach a JSON webhook in its body, through a JSON message and a text message, with every digit', async () => {
    expect(await run('accounts_hook')).toMatchObject({ status: 'ok', operations: { post: 2 } });
    expect(hook.api.served.map((q) => q.raw)).toEqual([
      `[{"sync":"accounts_hook","key":"1","record":{"id":"1","attrs":${attrs},"amount":12345678901234567.89,"ext_id":9007199254740993}},` +
        '{"sync":"accounts_hook","key":"2","record":{"id":"2","attrs":{"parent":7},"amount":-0.5,"ext_id":42}}]',
    ]);

    expect(await run('accounts_note')).toMatchObject({ status: 'ok', operations: { post: 2 } });
    expect(notes.api.served.map((q) => q.raw).sort()).toEqual([
      '{"ext":42,"amount":-0.5,"parent":7}',
      '{"ext":9007199254740993,"amount":12345678901234567.89,"parent":18446744073709551615}',
    ]);

    expect(await run('accounts_chat')).toMatchObject({ status: 'ok', operations: { post_message: 2 } });
    expect(slack.messages.map((m) => m.text).sort()).toEqual([
      'account 42 owes -0.5 (parent 7)',
      'account 9007199254740993 owes 12345678901234567.89 (parent 18446744073709551615)',
    ]);
  });
});
