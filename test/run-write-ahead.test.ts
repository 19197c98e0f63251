// The write-ahead record of rows sent (CommitStep.writeAhead), on a tracked mirror (HubSpot):
// a request the destination applied but never answered (the run killed while the answer was on
// its way, or every answer lost) leaves its rows in the snapshot with the unknown payload hash,
// so the next run removes the records of rows that left the model, sends a value changed and
// changed back, and adds again a row whose removal went unanswered. A definite refusal leaves
// the snapshot as it was, and a dry run records nothing.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startHubspot } from './servers/hubspot.js';
import { compileFixture, compileText, exited, perEngine, runSync, spawnRun, sql, until } from './servers/run-harness.js';
import { ensureBuilt } from './support/build.js';

const seed = `CREATE SCHEMA crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(1, 20) g;
  CREATE TABLE crm.signups (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);`;
const build = await compileFixture('test/fixtures/run/project');
const env = { HUBSPOT_TOKEN: 'hs-test-token' };
const sync = 'people_mirror_to_hubspot';
ensureBuilt();

perEngine(
  'tracked mirror after an interrupted run',
  seed,
  () => startHubspot({ token: env.HUBSPOT_TOKEN }),
  ({ db, service: hs }) => {
    const endpoints = () => ({ crm: hs().api.url });
    const run = (options: { timeoutMs?: number; dryRun?: boolean } = {}) => runSync(db(), build, sync, { env, endpoints: endpoints(), ...options });
    const ids = () =>
      hs()
        .records('p_people')
        .map((r) => Number(r.properties.person_id))
        .sort((a, b) => a - b);
    const first20 = Array.from({ length: 20 }, (_, i) => i + 1);
    const planOf = (id: number) =>
      hs()
        .records('p_people')
        .find((r) => r.properties.person_id === String(id))?.properties.plan_tier;
    const snapshotRow = async (key: string) =>
      (await sql(db(), `SELECT payload_hash, destination_id FROM syncwright.${sync}_snapshot WHERE row_key = '${key}'`)).at(-1)?.[0];
    const upserts = (path: string) => (path.endsWith('/batch/upsert') ? fault.lost() : undefined);

    it('first run: 20 people mirrored', async () => {
      expect((await run()).status).toBe('ok');
      expect(ids()).toEqual(first20);
    });

    it('SIGKILL after HubSpot applied the upsert of 5 new people (answer not yet read), then they leave the model: the next run archives them', async () => {
      await sql(db(), `INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(21, 25) g`);
      // HubSpot applies the upsert on receipt; the run never reads the answer: it is killed meanwhile.
      hs().api.failWhen((q) => upserts(q.path));
      const n0 = hs().api.requests.length;
      const child = spawnRun(db(), ['--plan', join(build, sync, 'plan.json'), '--endpoint', `crm=${hs().api.url}`], env);
      const done = exited(child);
      await until(() => hs().api.requests.length > n0 || child.exitCode !== null);
      child.kill('SIGKILL');
      expect((await done).signal).toBe('SIGKILL');
      hs().api.failWhen(undefined);
      expect(ids()).toContain(21);
      await sql(db(), `DELETE FROM crm.people WHERE id BETWEEN 21 AND 25`);
      const again = await run();
      expect(again.status).toBe('ok');
      // The killed run's commit, finished first, left the five with no id: the archive looked them up by the identifier.
      expect(again.changes).toMatchObject({ removed: 5, unchanged: 20 });
      expect(hs().api.requests.filter((q) => q.path.endsWith('/batch/read'))).toHaveLength(1);
      expect(ids()).toEqual(first20);
    });

    it('every answer lost (HubSpot applied the batch), then the rows leave the model: the next run archives them', async () => {
      await sql(db(), `INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(31, 35) g`);
      hs().api.failWhen((q) => upserts(q.path));
      const r = await run({ timeoutMs: 1000 });
      expect(r.status).not.toBe('ok');
      hs().api.failWhen(undefined);
      expect(ids()).toContain(31);
      expect(await snapshotRow('31')).toEqual({ payload_hash: 'unknown', destination_id: null });
      await sql(db(), `DELETE FROM crm.people WHERE id BETWEEN 31 AND 35`);
      const again = await run();
      expect(again.status).toBe('ok');
      expect(ids()).toEqual(first20);
      expect(await snapshotRow('31')).toBeUndefined();
    });

    it('every try reset before HubSpot applied the upsert, then the rows leave the model: the lookup finds no record, and they are settled', async () => {
      await sql(db(), `INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(41, 43) g`);
      // The connection drops before HubSpot reads the request: nothing made, and no answer either.
      hs().api.failWhen((q) => (q.path.endsWith('/batch/upsert') ? fault.reset() : undefined));
      expect((await run({ timeoutMs: 1000 })).status).not.toBe('ok');
      hs().api.failWhen(undefined);
      expect(ids()).toEqual(first20);
      expect(await snapshotRow('41')).toEqual({ payload_hash: 'unknown', destination_id: null });
      await sql(db(), `DELETE FROM crm.people WHERE id BETWEEN 41 AND 43`);
      const n0 = hs().api.requests.length;
      // HubSpot's lookup names the three in an OBJECT_NOT_FOUND error: they were never made, so they are removed already.
      expect(await run()).toMatchObject({ status: 'ok', rejectedTotal: 0, changes: { removed: 3, unchanged: 20 } });
      expect(
        hs()
          .api.requests.slice(n0)
          .map((q) => q.path.split('/').pop()),
      ).toEqual(['read']);
      expect(await snapshotRow('41')).toBeUndefined();
      expect((await run()).changes).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 20 });
    });

    it('a change applied (answer lost), then changed back before the next run: the next run sends the value back', async () => {
      const before = await snapshotRow('1');
      await sql(db(), `UPDATE crm.people SET plan = 'team' WHERE id = 1`);
      hs().api.failWhen((q) => upserts(q.path));
      expect((await run({ timeoutMs: 1000 })).status).not.toBe('ok');
      hs().api.failWhen(undefined);
      expect(planOf(1)).toBe('team');
      // Unknown payload, the record's id kept.
      expect(await snapshotRow('1')).toEqual({ payload_hash: 'unknown', destination_id: before?.destination_id });
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 1`);
      const again = await run();
      expect(again.changes).toMatchObject({ added: 1, unchanged: 19 });
      expect(planOf(1)).toBe('pro');
      expect(await snapshotRow('1')).toEqual(before);
    });

    it('an archive applied (answer lost), then the row comes back unchanged: the next run upserts it again', async () => {
      await sql(db(), `DELETE FROM crm.people WHERE id = 5`);
      hs().api.failWhen((q) => (q.path.endsWith('/batch/archive') ? fault.lost() : undefined));
      expect((await run({ timeoutMs: 1000 })).status).not.toBe('ok');
      hs().api.failWhen(undefined);
      expect(ids()).not.toContain(5);
      await sql(db(), `INSERT INTO crm.people VALUES (5, 'user5@example.com', NULL, 'pro', 5)`);
      const again = await run();
      expect(again).toMatchObject({ status: 'ok', changes: { added: 1, unchanged: 19 } });
      expect(ids()).toEqual(first20);
    });

    it('a definite refusal leaves the snapshot as it was: a change refused, then changed back, sends nothing', async () => {
      const before = await snapshotRow('2');
      await sql(db(), `UPDATE crm.people SET plan = 'team' WHERE id = 2`);
      hs().api.failWhen((q) =>
        q.path.endsWith('/batch/upsert') ? fault.status(400, { status: 'error', category: 'VALIDATION_ERROR', message: 'no' }) : undefined,
      );
      expect((await run()).rejectedTotal).toBe(1);
      hs().api.failWhen(undefined);
      expect(planOf(2)).toBe('pro');
      expect(await snapshotRow('2')).toEqual(before);
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 2`);
      const n0 = hs().api.requests.length;
      expect((await run()).changes).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: 20 });
      expect(hs().api.requests.length).toBe(n0);
    });

    it('a key kept before keys were folded, then sent without an answer: the snapshot keeps the record id under the folded key', async () => {
      const contacts = 'people_to_hubspot';
      const snapshotOf = async () =>
        (
          await sql(
            db(),
            `SELECT row_key, payload_hash, destination_id FROM syncwright.${contacts}_snapshot WHERE lower(row_key) = 'user4@example.com' ORDER BY row_key`,
          )
        ).at(-1);
      expect((await runSync(db(), build, contacts, { env, endpoints: endpoints() })).status).toBe('ok');
      const id = (await snapshotOf())?.[0]?.destination_id;
      expect(id).toEqual(expect.any(String));
      // The spelling a snapshot kept before keys were folded (HubSpot compares emails without case).
      await sql(db(), `UPDATE syncwright.${contacts}_snapshot SET row_key = 'User4@Example.com' WHERE row_key = 'user4@example.com'`);
      await sql(db(), `UPDATE crm.people SET score = 400 WHERE id = 4`);
      hs().api.failWhen((q) => upserts(q.path));
      expect((await runSync(db(), build, contacts, { env, endpoints: endpoints(), timeoutMs: 1000 })).status).not.toBe('ok');
      hs().api.failWhen(undefined);
      expect(await snapshotOf()).toEqual([{ row_key: 'user4@example.com', payload_hash: 'unknown', destination_id: id }]);
      await sql(db(), `UPDATE crm.people SET score = 4 WHERE id = 4`);
    });

    it('a dry run records nothing', async () => {
      const before = await snapshotRow('3');
      await sql(db(), `UPDATE crm.people SET plan = 'team' WHERE id = 3`);
      const n0 = hs().api.requests.length;
      expect((await run({ dryRun: true })).changes).toMatchObject({ changed: 1 });
      expect(hs().api.requests.length).toBe(n0);
      expect((await sql(db(), `SELECT count(*)::int AS n FROM syncwright.${sync}_accepted_rows`)).at(-1)).toEqual([{ n: 0 }]);
      expect(await snapshotRow('3')).toEqual(before);
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 3`);
    });
  },
);

// A percent guard counts every record the snapshot has, those of the unknown payload hash too:
// a run whose every answer was lost must not make the next run's few deletes look like all of them.
const guarded = await compileText(`${readFileSync('test/fixtures/run/project/sources.sync', 'utf8')}
destination crm : hubspot {
  token env("HUBSPOT_TOKEN")
}
model people {
  from        warehouse
  table       crm.people
  primary key id
  columns {
    id    bigint
    email string
    plan  string
  }
}
sync guarded_mirror {
  from       people
  to         crm object p_people
  mode       mirror
  identifier id -> person_id
  map {
    email -> email
    plan  -> plan_tier
  }
  guard      deletes <= 10%
}
`);

perEngine(
  'percent guard after a run whose answers were all lost',
  `CREATE SCHEMA crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', 'pro' FROM generate_series(1, 100) g;`,
  () => startHubspot({ token: env.HUBSPOT_TOKEN }),
  ({ db, service: hs }) => {
    const run = (options: { timeoutMs?: number } = {}) => runSync(db(), guarded, 'guarded_mirror', { env, endpoints: { crm: hs().api.url }, ...options });

    it('every row changed and every answer lost, then 5 of 100 rows leave the model: 5% deletes pass a 10% guard', async () => {
      expect((await run()).status).toBe('ok');
      await sql(db(), `UPDATE crm.people SET plan = 'team'`);
      hs().api.failWhen((q) => (q.path.endsWith('/batch/upsert') ? fault.lost() : undefined));
      expect((await run({ timeoutMs: 1000 })).status).not.toBe('ok');
      hs().api.failWhen(undefined);
      const unknown = await sql(db(), `SELECT count(*)::int AS n FROM syncwright.guarded_mirror_snapshot WHERE payload_hash = 'unknown'`);
      expect(unknown.at(-1)).toEqual([{ n: 100 }]);
      await sql(db(), `DELETE FROM crm.people WHERE id <= 5`);
      const again = await run();
      expect(again.error).toBeUndefined();
      expect(again).toMatchObject({ status: 'ok', changes: { added: 95, removed: 5 } });
      expect(hs().records('p_people')).toHaveLength(95);
    });
  },
);
