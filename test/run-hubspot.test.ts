// HubSpot end to end: compiled plans run by the executor against a local HubSpot on
// 127.0.0.1 (batch upsert and archive), on every engine the tests have.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startHubspot, type FakeHubspot } from './servers/hubspot.js';
import { compileFixture, compileText, runSync, sql } from './servers/run-harness.js';
import { scratchEngines, type ScratchDb } from './servers/scratch-db.js';

// crm.leads is the empty-model test's alone (no sync of the fixture project reads it): made with
// crm.people, in the seed's session, not in a session of its own.
const seed = (n: number) =>
  `CREATE SCHEMA IF NOT EXISTS crm;
   CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
   INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', 'First ' || g, CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END, g FROM generate_series(1, ${n}) g;
   CREATE TABLE crm.leads (id bigint PRIMARY KEY, email text, name text NOT NULL);
   INSERT INTO crm.leads VALUES (1, 'lead1@example.com', 'One'), (2, 'lead2@example.com', 'Two'), (3, 'lead3@example.com', 'Three');`;

const build = await compileFixture('test/fixtures/run/project');
// A mirror keyed by a nullable email, with no bound on deletes: only the empty-model guard stands.
const unbounded = await compileText(`source warehouse : postgres { database "app" version 15 }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
model leads { from warehouse  table crm.leads  primary key id  columns { id bigint  email string?  name string } }
sync leads_mirror { from leads  to crm object contacts  mode mirror  identifier email -> email  map { name -> firstname } }`);
// A mirror of its own table, for an answer that gives two rows one record id.
const pairs = await compileText(`source warehouse : postgres { database "app" version 15 }
destination crm : hubspot { token env("HUBSPOT_TOKEN") }
model pairs { from warehouse  table crm.pairs  primary key id  columns { id bigint  email string  name string } }
sync pairs_mirror { from pairs  to crm object contacts  mode mirror  identifier email -> email  map { name -> firstname } }`);
const env = { HUBSPOT_TOKEN: 'hs-test-token' };

for (const engine of scratchEngines) {
  describe(`hubspot [${engine.name}]`, () => {
    let db: ScratchDb;
    let hubspot: FakeHubspot;
    // A request's deadline is the harness's, generous: a short one would time out answers a loaded machine is slow to give, and
    // retry them; the test of a hung request gives its own.
    const run = (sync: string, timeoutMs?: number) =>
      runSync(db, build, sync, { env, endpoints: { crm: hubspot.api.url }, ...(timeoutMs ? { timeoutMs } : {}) });
    const inputsSent = (from = 0) => hubspot.api.requests.slice(from).reduce((n, r) => n + ((r.body as { inputs?: unknown[] })?.inputs?.length ?? 0), 0);

    beforeAll(async () => {
      db = await engine.open();
      await sql(db, seed(250));
      hubspot = await startHubspot({ token: env.HUBSPOT_TOKEN });
    });
    afterAll(async () => {
      await hubspot.api.close();
      await db.drop();
    });

    it('first run upserts every row, 100 per call', async () => {
      const r = await run('people_to_hubspot');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 250, changed: 0, removed: 0 }, operations: { upsert: 250 }, committed: 250 });
      // Largest first: the batches go out concurrently, in no promised order.
      expect(hubspot.api.requests.map((q) => (q.body as { inputs: unknown[] }).inputs.length).sort((a, b) => b - a)).toEqual([100, 100, 50]);
      expect(hubspot.api.requests[0]?.headers.authorization).toBe('Bearer hs-test-token');
      expect(hubspot.records('contacts')).toHaveLength(250);
      expect(hubspot.find('contacts', 'email', 'user42@example.com')?.properties).toEqual({
        email: 'user42@example.com',
        firstname: 'First 42',
        plan_tier: 'free',
        score: '42',
      });
    });

    it('a second run sends nothing', async () => {
      const before = hubspot.api.requests.length;
      const r = await run('people_to_hubspot');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, unchanged: 250 } });
      expect(hubspot.api.requests.length).toBe(before);
    });

    it('one changed row sends one request with one input', async () => {
      await sql(db, `UPDATE crm.people SET score = 4242 WHERE id = 42`);
      const before = hubspot.api.requests.length;
      const r = await run('people_to_hubspot');
      expect(r).toMatchObject({ status: 'ok', changes: { changed: 1 }, operations: { upsert: 1 } });
      expect(hubspot.api.requests.length).toBe(before + 1);
      expect(inputsSent(before)).toBe(1);
      expect(hubspot.find('contacts', 'email', 'user42@example.com')?.properties.score).toBe('4242');
    });

    it('a rejected row is reported, the rest of its batch delivered, and it is sent again next run', async () => {
      hubspot.options.reject = (_type, input) => (input.id === 'user7@example.com' ? 'Property values were not valid: score' : undefined);
      await sql(db, `UPDATE crm.people SET score = score + 1000 WHERE id IN (7, 8, 9)`);
      const r = await run('people_to_hubspot');
      expect(r.status).toBe('rejected');
      expect(r.operations.upsert).toBe(2);
      expect(r.rejected).toEqual([
        {
          key: 'user7@example.com',
          change: 'changed',
          operation: 'upsert',
          fate: 'rejected',
          reason: expect.stringContaining('Property values were not valid: score'),
        },
      ]);
      expect(hubspot.find('contacts', 'email', 'user8@example.com')?.properties.score).toBe('1008');
      expect(hubspot.find('contacts', 'email', 'user7@example.com')?.properties.score).toBe('7');

      hubspot.options.reject = undefined;
      const before = hubspot.api.requests.length;
      const again = await run('people_to_hubspot');
      expect(again).toMatchObject({ status: 'ok', changes: { changed: 1 }, operations: { upsert: 1 } });
      expect(inputsSent(before)).toBe(1);
      expect(hubspot.find('contacts', 'email', 'user7@example.com')?.properties.score).toBe('1007');
    });

    it('retries 429 with Retry-After, a 500 and a timeout, and ends delivered', async () => {
      await sql(db, `UPDATE crm.people SET first_name = 'Renamed' WHERE id IN (1, 2, 3)`);
      hubspot.api.failNext(fault.tooMany('1'), fault.status(500), fault.hang());
      const r = await run('people_to_hubspot', 1500);
      expect(r).toMatchObject({ status: 'ok', operations: { upsert: 3 } });
      const send = r.steps.find((s) => s.kind === 'send');
      // At least the three injected failures (a loaded machine may time out one more).
      expect(send?.retries).toBeGreaterThanOrEqual(3);
      expect(send?.requests).toBe((send?.retries ?? 0) + 1);
      expect(hubspot.api.requests.slice(-4).map((q) => q.fault?.kind ?? 'answered')).toEqual(['status', 'status', 'hang', 'answered']);
      for (const id of [1, 2, 3]) expect(hubspot.find('contacts', 'email', `user${id}@example.com`)?.properties.firstname).toBe('Renamed');
    });

    it('mirror archives exactly the records of removed rows, by the ids HubSpot gave them', async () => {
      const first = await run('people_mirror_to_hubspot');
      expect(first).toMatchObject({ status: 'ok', operations: { upsert: 250, archive: 0 } });
      expect(hubspot.records('p_people')).toHaveLength(250);
      const gone = [5, 50, 205].map((id) => hubspot.find('p_people', 'person_id', String(id))?.id);
      await sql(db, `DELETE FROM crm.people WHERE id IN (5, 50, 205)`);
      const before = hubspot.api.requests.length;
      const r = await run('people_mirror_to_hubspot');
      expect(r).toMatchObject({ status: 'ok', changes: { removed: 3, added: 0, changed: 0 }, operations: { upsert: 0, archive: 3 } });
      const archive = hubspot.api.requests.slice(before);
      expect(archive.map((q) => q.path)).toEqual(['/crm/v3/objects/p_people/batch/archive']);
      expect((archive[0]!.body as { inputs: { id: string }[] }).inputs.map((i) => i.id).sort()).toEqual([...gone].sort());
      const remaining = hubspot.records('p_people').map((x) => Number(x.properties.person_id));
      expect(remaining).toHaveLength(247);
      expect(remaining).not.toContain(50);
      const again = await run('people_mirror_to_hubspot');
      expect(again.changes).toMatchObject({ added: 0, changed: 0, removed: 0 });
    });

    it('a mirror whose deletes break the guard sends nothing and commits nothing', async () => {
      await sql(db, `DELETE FROM crm.people WHERE id BETWEEN 100 AND 119`);
      const before = hubspot.api.requests.length;
      const r = await run('people_mirror_to_hubspot');
      expect(r).toMatchObject({ status: 'guarded', changes: { removed: 20 }, error: expect.stringContaining("20 deletes exceed the guard's limit of 10") });
      expect(hubspot.api.requests.length).toBe(before);
      expect(hubspot.records('p_people')).toHaveLength(247);
      const [snap] = await sql(db, 'SELECT count(*)::int AS n FROM syncwright.people_mirror_to_hubspot_snapshot');
      expect(snap).toEqual([{ n: 247 }]);
    });

    it('a mirror whose model rows all lost their identifier is stopped as an empty model: nothing archived', async () => {
      const runLeads = () => runSync(db, unbounded, 'leads_mirror', { env, endpoints: { crm: hubspot.api.url } });
      expect(await runLeads()).toMatchObject({ status: 'ok', operations: { upsert: 3 } });
      await sql(db, 'UPDATE crm.leads SET email = NULL');
      const before = hubspot.api.requests.length;
      const r = await runLeads();
      expect(r).toMatchObject({
        status: 'guarded',
        changes: { model_rows: 3, null_keys: 3, removed: 3 },
        error: expect.stringContaining('none has an identifier'),
      });
      expect(hubspot.api.requests.length).toBe(before);
      for (const n of [1, 2, 3]) expect(hubspot.find('contacts', 'email', `lead${n}@example.com`)).toBeDefined();
    });

    it("an answer giving two rows one record id takes neither (sent again), so a row's leaving never archives another row's record", async () => {
      await sql(
        db,
        `CREATE TABLE crm.pairs (id bigint PRIMARY KEY, email text NOT NULL, name text NOT NULL);
         INSERT INTO crm.pairs VALUES (1, 'pair1@example.com', 'One'), (2, 'pair2@example.com', 'Two'), (3, 'pair3@example.com', 'Three');`,
      );
      const own = await startHubspot({ token: env.HUBSPOT_TOKEN });
      try {
        const runPairs = () => runSync(db, pairs, 'pairs_mirror', { env, endpoints: { crm: own.api.url } });
        const idOf = (n: number) => own.find('contacts', 'email', `pair${n}@example.com`)?.id;
        // pair2's result carries pair1's record id.
        own.options.answerId = (_type, input) => (input.id === 'pair2@example.com' ? idOf(1) : undefined);
        const first = await runPairs();
        expect(first.status).toBe('rejected');
        expect(first.rejected.map((x) => x.key).sort()).toEqual(['pair1@example.com', 'pair2@example.com']);
        const pair1 = idOf(1);
        for (const x of first.rejected) expect(x.reason).toContain(`gives the same record (id ${JSON.stringify(pair1)}) to 2 rows`);

        // pair2 leaves the model: pair1, still in it, keeps its record; each is written again, and none archived by another's id.
        own.options.answerId = undefined;
        await sql(db, 'DELETE FROM crm.pairs WHERE id = 2');
        const before = own.api.requests.length;
        const second = await runPairs();
        expect(second.status).toBe('ok');
        const archived = own.api.requests
          .slice(before)
          .filter((q) => q.path.endsWith('/batch/archive'))
          .flatMap((q) => (q.body as { inputs: { id: string }[] }).inputs.map((i) => i.id));
        expect(archived).not.toContain(pair1);
        expect(own.find('contacts', 'email', 'pair1@example.com')?.properties.firstname).toBe('One');
        expect(own.find('contacts', 'email', 'pair3@example.com')).toBeDefined();
        // pair2's own record, its id looked up by its email, is the one archived.
        expect(second).toMatchObject({ changes: { added: 1, removed: 1 }, operations: { upsert: 1, archive: 1 } });
        expect(own.find('contacts', 'email', 'pair2@example.com')).toBeUndefined();
      } finally {
        await own.api.close();
      }
    });
  });
}
