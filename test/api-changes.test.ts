/**
 * changes.sql and commit.sql of an API sync, executed: a snapshot and a model with added,
 * changed, unchanged, removed, NULL-key and duplicate-key rows give exactly the right change
 * set, and a commit after a partial acceptance leaves exactly the rest for the next run.
 */
import { createHash } from 'node:crypto';
import { beforeAll, expect, it } from 'vitest';
import { describeEngines, type Engine } from './support/engines.js';
import { compileSync, file } from './fixtures/api/compile.js';
import type { CommitStep } from '../src/contract/api-steps.js';

const project = `
source wh : postgres { database "app" state_schema "sw_state" }
model users {
  from wh
  table app.users
  primary key user_id
  order by updated_at desc
  columns { user_id bigint? email string plan string? updated_at timestamp }
}
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync users_crm {
  from users
  to crm object contacts
  mode mirror
  identifier user_id -> external_id
  map { email -> email plan -> plan_tier }
  guard allow empty
}
`;

const artifacts = compileSync(project, 'users_crm');
const changesSql = file(artifacts, 'changes.sql');
const readSql = file(artifacts, 'read.sql');
const commitSql = file(artifacts, 'commit.sql');
const commitStep = artifacts.plan.steps.find((s): s is CommitStep => s.kind === 'commit')!;
const summarySql = changesSql.slice(changesSql.indexOf("-- The run's summary"));

interface ChangeRow {
  change: string;
  row_key: string;
  payload: string | null;
  payload_hash: string;
  idempotency_key: string;
  destination_id: string | null;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

async function run(engine: Engine) {
  await engine.exec(changesSql);
  const [summary] = await engine.query<Record<string, number>>(summarySql);
  const rows = await engine.query<ChangeRow>(readSql);
  return { summary: Object.fromEntries(Object.entries(summary!).map(([k, v]) => [k, Number(v)])), rows };
}

const byKey = (rows: ChangeRow[]) => Object.fromEntries(rows.map((r) => [r.row_key, r.change]));

async function accept(engine: Engine, rows: Pick<ChangeRow, 'row_key' | 'change' | 'payload_hash' | 'destination_id'>[]) {
  for (const r of rows) await engine.query(commitStep.acceptedInsert.statement, [r.row_key, r.change, r.payload_hash, r.destination_id]);
  await engine.exec(commitSql);
}

describeEngines('API change set', (engine) => {
  beforeAll(async () => {
    await engine.exec(`
      CREATE SCHEMA app;
      CREATE TABLE app.users (user_id bigint, email text, plan text, updated_at timestamp);
      INSERT INTO app.users VALUES
        (1, 'one@example.com', 'free', '2024-01-01'),
        (2, 'two@example.com', 'free', '2024-01-01'),
        (3, 'three@example.com', 'pro', '2024-01-01'),
        (4, 'four@example.com', 'pro', '2024-01-01');
    `);
  });

  it('sends every row on the first run, and nothing once all were accepted', async () => {
    const first = await run(engine);
    expect(first.summary).toEqual({ model_rows: 4, null_keys: 0, duplicate_keys: 0, added: 4, changed: 0, removed: 0, unchanged: 0, synced: 0 });
    expect(byKey(first.rows)).toEqual({ 1: 'added', 2: 'added', 3: 'added', 4: 'added' });
    expect(JSON.parse(first.rows[0]!.payload!)).toEqual({ email: 'one@example.com', plan_tier: 'free' });
    await accept(
      engine,
      first.rows.map((r) => ({ ...r, destination_id: `hs-${r.row_key}` })),
    );

    const again = await run(engine);
    expect(again.summary).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 4 });
  });

  it('classifies added, changed, unchanged, removed, NULL-key and duplicate-key rows', async () => {
    await engine.exec(`
      UPDATE app.users SET plan = 'pro' WHERE user_id = 2;
      DELETE FROM app.users WHERE user_id = 3;
      INSERT INTO app.users VALUES
        (5, 'five-new@example.com', 'free', '2024-03-01'),
        (5, 'five-old@example.com', 'free', '2024-02-01'),
        (6, 'six@example.com', NULL, '2024-01-01'),
        (NULL, 'nobody@example.com', 'free', '2024-01-01');
    `);
    const { summary, rows } = await run(engine);
    expect(summary).toEqual({ model_rows: 7, null_keys: 1, duplicate_keys: 1, added: 2, changed: 1, removed: 1, unchanged: 2, synced: 4 });
    expect(byKey(rows)).toEqual({ 2: 'changed', 3: 'removed', 5: 'added', 6: 'added' });
    const row = (k: string) => rows.find((r) => r.row_key === k)!;
    // The latest row wins the duplicate key (order by updated_at desc).
    expect(JSON.parse(row('5').payload!)).toEqual({ email: 'five-new@example.com', plan_tier: 'free' });
    // HubSpot property values are strings, and "" clears one: a NULL plan is sent as "".
    expect(JSON.parse(row('6').payload!)).toEqual({ email: 'six@example.com', plan_tier: '' });
    // Removed rows carry what deletes need: the destination's id from the snapshot.
    expect(row('3')).toMatchObject({ payload: null, destination_id: 'hs-3' });
    expect(row('2').destination_id).toBe('hs-2');
    // The idempotency key is the hash of sync, operation, identifier and payload hash.
    for (const r of rows) expect(r.idempotency_key).toBe(sha256(`users_crm:${r.change}:${r.row_key}:${r.payload_hash}`));
  });

  it('commits only the accepted rows, so the next run holds exactly the rest', async () => {
    const before = await run(engine);
    const accepted = before.rows.filter((r) => ['2', '3', '5'].includes(r.row_key));
    await accept(
      engine,
      accepted.map((r) => ({ ...r, destination_id: r.row_key === '5' ? 'hs-5' : null })),
    );

    const after = await run(engine);
    expect(byKey(after.rows)).toEqual({ 6: 'added' });
    expect(after.summary).toMatchObject({ added: 1, changed: 0, removed: 0, unchanged: 4 });
    const snapshot = await engine.query<{ row_key: string; destination_id: string | null }>(
      'SELECT row_key, destination_id FROM sw_state.users_crm_snapshot ORDER BY row_key',
    );
    // A changed row accepted without a new id keeps the one it had.
    expect(snapshot).toEqual([
      { row_key: '1', destination_id: 'hs-1' },
      { row_key: '2', destination_id: 'hs-2' },
      { row_key: '4', destination_id: 'hs-4' },
      { row_key: '5', destination_id: 'hs-5' },
    ]);
    const [left] = await engine.query<{ n: number }>('SELECT count(*)::int AS n FROM sw_state.users_crm_accepted_rows');
    expect(left!.n).toBe(0);
  });

  it('records what was accepted, even after the change set was built again with other data', async () => {
    await engine.exec(`UPDATE app.users SET plan = 'p1' WHERE user_id = 1`);
    const sent = (await run(engine)).rows.filter((r) => r.row_key === '1');
    expect(sent.map((r) => r.change)).toEqual(['changed']);
    await accept(engine, sent);
    // Before the commit, the row changes again and a change set is built again (another run,
    // a dry run, or this one after a crash): the commit must record p1, which was delivered.
    await engine.exec(`UPDATE app.users SET plan = 'p2' WHERE user_id = 1`);
    await run(engine);
    await engine.exec(commitSql);
    const after = await run(engine);
    expect(byKey(after.rows)).toMatchObject({ 1: 'changed' });
    expect(JSON.parse(after.rows.find((r) => r.row_key === '1')!.payload!)).toMatchObject({ plan_tier: 'p2' });
    const [snap] = await engine.query<{ payload_hash: string }>(`SELECT payload_hash FROM sw_state.users_crm_snapshot WHERE row_key = '1'`);
    expect(snap!.payload_hash).toBe(sent[0]!.payload_hash);
  });

  it('leaves the snapshot as it was when nothing was accepted', async () => {
    const before = await engine.query('SELECT * FROM sw_state.users_crm_snapshot ORDER BY row_key');
    await run(engine);
    await accept(engine, []);
    expect(await engine.query('SELECT * FROM sw_state.users_crm_snapshot ORDER BY row_key')).toEqual(before);
  });
});

const unkeyed = compileSync(
  `
source wh : postgres { database "app" }
model events { from wh table app.events columns { name string amount int } }
destination hook : webhook { url "https://example.com/hooks" }
sync events_hook { from events to hook mode insert message """{ "name": {{json name}}, "amount": {{json amount}} }""" }
`,
  'events_hook',
);

describeEngines('API change set without an identifier', (engine) => {
  it('sends every row on every run, equal rows too, and has nothing to commit', async () => {
    await engine.exec(`CREATE SCHEMA app; CREATE TABLE app.events (name text, amount int); INSERT INTO app.events VALUES ('a', 1), ('a', 1), ('b', NULL);`);
    expect(unkeyed.files.map((f) => f.name)).toEqual(['changes.sql', 'read.sql']);
    for (let run = 0; run < 2; run++) {
      await engine.exec(file(unkeyed, 'changes.sql'));
      const rows = await engine.query<{ change: string; row_key: string; columns: string }>(file(unkeyed, 'read.sql'));
      expect(rows.map((r) => r.change)).toEqual(['added', 'added', 'added']);
      expect(new Set(rows.map((r) => r.row_key)).size).toBe(3);
      // The message template gets the model's columns by name.
      expect(rows.map((r) => JSON.parse(r.columns)).sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))).toEqual([
        { name: 'a', amount: 1 },
        { name: 'a', amount: 1 },
        { name: 'b', amount: null },
      ]);
    }
  });
});

const messaged = compileSync(
  `
source wh : postgres { database "app" }
model notes { from wh table app.notes primary key id order by at desc columns { id bigint email string note string at timestamp } }
destination hook : webhook { url "https://example.com/hooks" }
sync notes_hook { from notes to hook mode insert identifier id map { email -> email } message """{ "note": {{json note}} }""" }
`,
  'notes_hook',
);

describeEngines('API change set: a repeated key', (engine) => {
  it('one row per key, the same one whatever order the rows are stored in, down to the message columns', async () => {
    const winners: unknown[] = [];
    for (const notes of [
      ["'first'", "'second'"],
      ["'second'", "'first'"],
    ]) {
      await engine.exec(`DROP SCHEMA IF EXISTS app CASCADE; CREATE SCHEMA app; CREATE TABLE app.notes (id bigint, email text, note text, at timestamp);
        INSERT INTO app.notes VALUES (1, 'a@x.com', ${notes[0]}, '2024-01-01'), (1, 'a@x.com', ${notes[1]}, '2024-01-01'), (2, 'b@x.com', 'only', '2024-01-01');`);
      await engine.exec(file(messaged, 'changes.sql'));
      const [summary] = await engine.query<{ duplicate_keys: unknown }>(
        file(messaged, 'changes.sql').slice(file(messaged, 'changes.sql').indexOf("-- The run's summary")),
      );
      expect(Number(summary!.duplicate_keys)).toBe(1);
      const rows = await engine.query<{ row_key: string; columns: string }>(file(messaged, 'read.sql'));
      expect(rows.map((r) => r.row_key)).toEqual(['1', '2']);
      winners.push(JSON.parse(rows[0]!.columns));
    }
    expect(winners[0]).toEqual(winners[1]);
  });
});

const caseless = compileSync(
  `
source wh : postgres { database "app" state_schema "sw_case" }
model people { from wh table app.people primary key id columns { id bigint email string plan string } }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
sync people_crm { from people to crm object contacts mode mirror identifier email -> email map { plan -> plan_tier } guard allow empty }
`,
  'people_crm',
);

describeEngines('API change set: keys the destination compares without case', (engine) => {
  const changes = file(caseless, 'changes.sql');
  const summaryOf = async () => {
    const [s] = await engine.query<Record<string, unknown>>(changes.slice(changes.indexOf("-- The run's summary")));
    return Object.fromEntries(Object.entries(s!).map(([k, v]) => [k, Number(v)]));
  };
  const snapshot = () =>
    engine.query<{ row_key: string; destination_id: string }>('SELECT row_key, destination_id FROM sw_case.people_crm_snapshot ORDER BY lower(row_key)');
  const insert = caseless.plan.steps.find((s): s is CommitStep => s.kind === 'commit')!.acceptedInsert.statement;
  const acceptAll = async (rows: ChangeRow[]) => {
    for (const r of rows) await engine.query(insert, [r.row_key, r.change, r.payload_hash, r.destination_id]);
    await engine.exec(file(caseless, 'commit.sql'));
  };

  it('takes over a snapshot whose keys differ from the model’s in case, fold onto one key, or disagree', async () => {
    await engine.exec(`CREATE SCHEMA app; CREATE TABLE app.people (id bigint, email text, plan text);
      INSERT INTO app.people VALUES (1, 'Ann@X.com', 'pro'), (2, 'bob@x.com', 'pro'), (3, 'Cy@x.com', 'free'), (4, 'CY@X.COM', 'free');`);
    await engine.exec(changes);
    const first = await engine.query<ChangeRow>(file(caseless, 'read.sql'));
    // Keys folded as HubSpot compares them, and two rows of one contact one duplicate key.
    expect(first.map((r) => [r.row_key, r.change])).toEqual([
      ['ann@x.com', 'added'],
      ['bob@x.com', 'added'],
      ['cy@x.com', 'added'],
    ]);
    expect(await summaryOf()).toMatchObject({ duplicate_keys: 1, added: 3 });
    const hash = (k: string) => first.find((r) => r.row_key === k)!.payload_hash;
    // The snapshot as the exact comparison kept it: the model's spellings, one contact under two
    // of them with two payloads (Ann), or with one (Dee, since gone from the model).
    await engine.exec(`INSERT INTO sw_case.people_crm_snapshot VALUES
      ('Ann@X.com', '${hash('ann@x.com')}', 'hs-1'), ('ann@x.com', 'an older payload', 'hs-1'), ('bob@x.com', '${hash('bob@x.com')}', 'hs-2'),
      ('Cy@x.com', '${hash('cy@x.com')}', 'hs-3'), ('Dee@x.com', 'h', 'hs-4'), ('DEE@x.com', 'h', 'hs-4');`);

    await engine.exec(changes);
    const rows = await engine.query<ChangeRow>(file(caseless, 'read.sql'));
    expect(await summaryOf()).toMatchObject({ added: 0, changed: 1, removed: 1, unchanged: 2 });
    // Ann's record took two payloads: which it holds is unknown, so it is sent again, by its id.
    expect(rows.map((r) => [r.row_key, r.change, r.destination_id])).toEqual([
      ['ann@x.com', 'changed', 'hs-1'],
      ['dee@x.com', 'removed', 'hs-4'],
    ]);

    await acceptAll(rows);
    // Accepted keys replace the spellings kept before; Cy's, unchanged, stays until it is sent.
    expect(await snapshot()).toEqual([
      { row_key: 'ann@x.com', destination_id: 'hs-1' },
      { row_key: 'bob@x.com', destination_id: 'hs-2' },
      { row_key: 'Cy@x.com', destination_id: 'hs-3' },
    ]);
    await engine.exec(changes);
    expect(await summaryOf()).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 3 });
  });
});

// A plan whose requests carry idempotency keys (Mixpanel's $insert_id) chains each row's key on
// its last recorded delivery (<sync>_keys): commit.sql records exactly the key changes.sql gave
// the delivered row, a value changed back gets a key of its own, and a commit.sql run first, to
// finish a run of a version that kept no keys table, makes it rather than failing.
const chained = compileSync(
  `
source wh : postgres { database "app" state_schema "sw_keys" }
model events { from wh table app.plans primary key user_id columns { user_id bigint plan string } }
destination mp : mixpanel { project_token env("MIXPANEL_TOKEN") api_secret env("MIXPANEL_SECRET") }
sync plans_mp { from events to mp event "Plan" mode upsert identifier user_id -> distinct_id map { plan -> plan } }
`,
  'plans_mp',
);

describeEngines('API change set: idempotency keys chained on the last delivery', (engine) => {
  const step = chained.plan.steps.find((s): s is CommitStep => s.kind === 'commit')!;
  const changes = async () => {
    await engine.exec(file(chained, 'changes.sql'));
    return engine.query<ChangeRow>(file(chained, 'read.sql'));
  };
  const deliver = async (rows: ChangeRow[]) => {
    for (const r of rows) await engine.query(step.acceptedInsert.statement, [r.row_key, r.change, r.payload_hash, r.destination_id]);
    await engine.exec(file(chained, 'commit.sql'));
  };
  const recorded = async () =>
    (await engine.query<{ idempotency_key: string }>('SELECT idempotency_key FROM sw_keys.plans_mp_keys WHERE row_key = $1', ['1']))[0]?.idempotency_key;

  it('records the key each delivery carried, never gives two deliveries one key, and a first commit.sql makes the table', async () => {
    await engine.exec(`CREATE SCHEMA app; CREATE TABLE app.plans (user_id bigint, plan text); INSERT INTO app.plans VALUES (1, 'free');`);
    const keys: string[] = [];
    for (const plan of ['free', 'pro', 'team', 'pro']) {
      await engine.exec(`UPDATE app.plans SET plan = '${plan}'`);
      const rows = await changes();
      expect(rows).toHaveLength(1);
      keys.push(rows[0]!.idempotency_key);
      await deliver(rows);
      expect(await recorded()).toBe(rows[0]!.idempotency_key);
    }
    expect(new Set(keys).size).toBe(4);
    // Sent without an answer: nothing recorded, and the next change set carries the same key.
    await engine.exec(`UPDATE app.plans SET plan = 'vip'`);
    const unanswered = await changes();
    await engine.query(step.acceptedInsert.statement, [unanswered[0]!.row_key, 'sent', null, null]);
    await engine.exec(file(chained, 'commit.sql'));
    expect((await changes())[0]!.idempotency_key).toBe(unanswered[0]!.idempotency_key);
    // A run of a version that kept no keys table, killed after a row was accepted: commit.sql, run first, records it.
    await engine.exec('DROP TABLE sw_keys.plans_mp_keys');
    await engine.query(step.acceptedInsert.statement, [unanswered[0]!.row_key, 'changed', unanswered[0]!.payload_hash, null]);
    await engine.exec(file(chained, 'commit.sql'));
    expect(await recorded()).toMatch(/^[0-9a-f]{64}$/);
    expect(await changes()).toEqual([]);
  });
});
