// Braze end to end: compiled plans run by the executor against a local Braze /users/track on
// 127.0.0.1, on every engine the tests have: users upserted 50 per request (what every plan takes), and a list kept as
// a boolean attribute (set for users who enter, cleared only on users who exist).
import { expect, it } from 'vitest';
import { startBraze } from './servers/braze.js';
import { compileFixture, compileText, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END FROM generate_series(1, 160) g;`;

const build = await compileFixture('test/fixtures/run/braze');
const env = { BRAZE_API_KEY: 'braze-key' };

perEngine(
  'braze',
  people,
  () => startBraze(env.BRAZE_API_KEY),
  ({ db, service: braze }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env, endpoints: { engage: braze().api.url } });
    // Largest first: the batches go out concurrently, and the server may take them in any order.
    const sizes = (from = 0) =>
      braze()
        .api.requests.slice(from)
        .map((q) => (q.body as { attributes: unknown[] }).attributes.length)
        .sort((a, b) => b - a);
    const members = () =>
      [...braze().users]
        .filter(([, a]) => a.paying === true)
        .map(([id]) => Number(id))
        .sort((a, b) => a - b);

    it('upserts every user, 50 per request, with the mapped attributes', async () => {
      const r = await run('people_to_braze');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 160 } });
      expect(sizes()).toEqual([50, 50, 50, 10]);
      expect(braze().api.requests[0]?.headers.authorization).toBe('Bearer braze-key');
      expect(braze().users.get('42')).toEqual({ email: 'user42@example.com', plan: 'free' });
    });

    it('a second run sends nothing; one changed row sends one attribute object', async () => {
      const before = braze().api.requests.length;
      expect(await run('people_to_braze')).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0 } });
      expect(braze().api.requests.length).toBe(before);
      await sql(db(), `UPDATE crm.people SET plan = 'team' WHERE id = 7`);
      expect(await run('people_to_braze')).toMatchObject({ status: 'ok', changes: { changed: 1 } });
      expect(sizes(before)).toEqual([1]);
      expect(braze().users.get('7')?.plan).toBe('team');
    });

    it('a user a 201 lists in its errors is refused and sent again next run (it was committed as sent); the rest are committed', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'team' WHERE id IN (4, 5)`);
      braze().refuse = (a) => (a.external_id === '5' ? 'Invalid email' : undefined);
      const r = await run('people_to_braze');
      expect(r).toMatchObject({ status: 'rejected', changes: { changed: 2 } });
      expect(r.rejected).toEqual([{ key: '5', change: 'changed', operation: 'upsert', fate: 'rejected', reason: 'refused: Invalid email' }]);
      expect(braze().users.get('4')?.plan).toBe('team');
      braze().refuse = undefined;
      const before = braze().api.requests.length;
      expect(await run('people_to_braze')).toMatchObject({ status: 'ok', changes: { changed: 1 } });
      expect(braze().users.get('5')?.plan).toBe('team');
      expect(
        braze()
          .api.requests.slice(before)
          .map((q) => (q.body as { attributes: { external_id: string }[] }).attributes.map((a) => a.external_id)),
      ).toEqual([['5']]);
    });

    it('a 201 whose errors are no list (an object by position) takes none of its rows: each is sent again next run, none committed as delivered', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'team' WHERE id IN (10, 11)`);
      braze().refuse = (a) => (a.external_id === '11' ? 'Invalid email' : undefined);
      braze().errorsAs = (errors) => Object.fromEntries(errors.map((e, n) => [String(n), e]));
      try {
        const r = await run('people_to_braze');
        expect(r).toMatchObject({ status: 'rejected', changes: { changed: 2 }, committed: 0 });
        expect(r.rejected.map((x) => x.key).sort()).toEqual(['10', '11']);
        for (const x of r.rejected) expect(x.reason).toContain('refuses what it does not tie to a row of the request');
      } finally {
        braze().refuse = undefined;
        braze().errorsAs = undefined;
      }
      const before = braze().api.requests.length;
      // Unsure of them, the run kept neither as sent: both go again (as new to the destination).
      expect(await run('people_to_braze')).toMatchObject({ status: 'ok', changes: { added: 2 }, operations: { upsert: 2 } });
      expect(braze().users.get('11')?.plan).toBe('team');
      expect(
        braze()
          .api.requests.slice(before)
          .flatMap((q) => (q.body as { attributes: { external_id: string }[] }).attributes.map((a) => a.external_id))
          .sort(),
      ).toEqual(['10', '11']);
    });

    it('a list: entering users are marked, leaving ones unmarked, and no user is created to unmark it', async () => {
      const r = await run('paying_to_braze');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 107 } });
      const paying = Array.from({ length: 160 }, (_, i) => i + 1).filter((i) => i % 3 !== 0);
      expect(members()).toEqual(paying);
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (1, 2)`);
      const before = braze().api.requests.length;
      expect(await run('paying_to_braze')).toMatchObject({ status: 'ok', changes: { removed: 2 } });
      expect(sizes(before)).toEqual([2]);
      expect(braze().users.get('1')?.paying).toBe(false);
      expect(members()).toEqual(paying.filter((i) => i > 2));
      // A leaving user Braze no longer has is not created again by the unmarking.
      braze().users.delete('4');
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id = 4`);
      expect(await run('paying_to_braze')).toMatchObject({ status: 'ok', changes: { removed: 1 } });
      expect(braze().users.has('4')).toBe(false);
    });

    it('a rest_endpoint ending in `/` is joined with one: every request goes to /users/track (appended as text, //users/track)', async () => {
      const project = await compileText(`
source warehouse : postgres { database "app" version 15 }
destination engage : braze { api_key env("BRAZE_API_KEY") rest_endpoint "https://rest.fra-01.braze.eu/" }
model people { from warehouse table crm.people primary key id columns { id bigint email string plan string } }
sync people_to_braze_eu { from people to engage object users mode upsert identifier id -> external_id map { plan -> plan } }`);
      const before = braze().api.requests.length;
      const r = await runSync(db(), project, 'people_to_braze_eu', { env, endpoints: { engage: braze().api.url } });
      expect(r.rejected).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { added: 160 } });
      expect(
        new Set(
          braze()
            .api.requests.slice(before)
            .map((q) => q.path),
        ),
      ).toEqual(new Set(['/users/track']));
    });
  },
);
