// Mixpanel end to end: the compiled plan run by the executor against a local Mixpanel /import
// on 127.0.0.1, on every engine the tests have: each new or changed row is one event, with an
// $insert_id that makes a resend after a lost answer a duplicate Mixpanel stores once.
import { expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startMixpanel, type MixpanelEvent } from './servers/mixpanel.js';
import { compileFixture, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', 'free' FROM generate_series(1, 30) g;`;

const build = await compileFixture('test/fixtures/run/mixpanel');
const env = { MIXPANEL_SECRET: 'mp-secret', MIXPANEL_TOKEN: 'mp-token' };

perEngine(
  'mixpanel',
  people,
  () => startMixpanel({ apiSecret: env.MIXPANEL_SECRET }),
  ({ db, service: mixpanel }) => {
    const run = () => runSync(db(), build, 'plan_changes_to_mixpanel', { env, endpoints: { analytics: mixpanel().api.url } });

    it('imports one event per row, authenticated with the API secret', async () => {
      const before = Date.now();
      const r = await run();
      const after = Date.now();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 30 } });
      expect(mixpanel().events).toHaveLength(30);
      const e = mixpanel().events.find((x) => x.properties.distinct_id === '7');
      expect(e).toMatchObject({ event: 'Plan Changed', properties: { distinct_id: '7', plan: 'free' } });
      expect(e?.properties.$insert_id).toMatch(/^[0-9a-f]{32}$/);
      // The run's own time, in epoch milliseconds.
      expect(e!.properties.time).toBeGreaterThanOrEqual(before - 1000);
      expect(e!.properties.time).toBeLessThanOrEqual(after + 1000);
    });

    it('a second run sends nothing; a changed row is one more event', async () => {
      const before = mixpanel().api.requests.length;
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0 } });
      expect(mixpanel().api.requests.length).toBe(before);
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 7`);
      expect(await run()).toMatchObject({ status: 'ok', changes: { changed: 1 } });
      expect(
        mixpanel()
          .events.filter((x) => x.properties.distinct_id === '7')
          .map((x) => x.properties.plan),
      ).toEqual(['free', 'pro']);
    });

    it('a request whose answer is lost is sent again with the same $insert_id, and stored once', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'team' WHERE id IN (8, 9)`);
      // Mixpanel imports the batch, then the connection drops before the answer arrives.
      mixpanel().api.failNext(fault.lost());
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { changed: 2 } });
      const sent = mixpanel()
        .api.requests.slice(-2)
        .map((q) => (q.body as { properties: { $insert_id: string } }[]).map((e) => e.properties.$insert_id));
      expect(sent[0]).toEqual(sent[1]);
      expect(mixpanel().api.requests.at(-2)?.fault?.kind).toBe('lost');
      expect(mixpanel().events.filter((x) => x.properties.plan === 'team')).toHaveLength(2);
    });

    it('a 200 counting fewer events than were sent leaves unsaid which were imported: the batch goes again in halves within the run, and each event is stored once', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'enterprise' WHERE id IN (11, 12, 13)`);
      // Mixpanel stores two of the three and counts two, naming none.
      mixpanel().dropFromNext = 1;
      const before = mixpanel().api.requests.length;
      expect(await run()).toMatchObject({ status: 'ok', changes: { changed: 3 } });
      const sent = mixpanel()
        .api.requests.slice(before)
        .map((q) => (q.body as MixpanelEvent[]).map((e) => e.properties.distinct_id));
      expect(sent[0]).toEqual(['11', '12', '13']);
      expect(sent.slice(1).sort()).toEqual([['11', '12'], ['13']]);
      // The same $insert_id and time each time: the two stored at first are not stored again.
      const enterprise = mixpanel().events.filter((x) => x.properties.plan === 'enterprise');
      expect(enterprise.map((x) => x.properties.distinct_id).sort()).toEqual(['11', '12', '13']);
    });
  },
);

// Mixpanel's strict validation (import-events, "Validation"): a batch with invalid events is
// answered 400 with `failed_records` naming each by index and `num_records_imported`, the
// others ingested. The plan reads that answer: the events named are refused with Mixpanel's
// message, the rest accepted, and nothing is sent again ("Please do not retry validation errors").
// distinct_id "0" and "-1" are among the values Mixpanel refuses.
perEngine(
  'mixpanel strict validation',
  `${people} INSERT INTO crm.people VALUES (0, 'zero@example.com', 'free');`,
  () => startMixpanel({ apiSecret: env.MIXPANEL_SECRET }),
  ({ db, service: mixpanel }) => {
    const run = () => runSync(db(), build, 'plan_changes_to_mixpanel', { env, endpoints: { analytics: mixpanel().api.url } });
    const imports = () => mixpanel().api.requests.filter((q) => q.path === '/import');
    const sentIds = (q: { body: unknown }) => (q.body as MixpanelEvent[]).map((e) => e.properties.distinct_id);
    const storedIds = () => mixpanel().events.map((e) => e.properties.distinct_id);

    it('a batch with one invalid event is one request: the others stored once, the invalid one refused with Mixpanel’s message, nothing resent', async () => {
      const r = await run();
      expect(r).toMatchObject({ status: 'rejected', changes: { added: 31 } });
      expect(
        imports()
          .map(sentIds)
          .map((ids) => ids.length),
      ).toEqual([31]);
      expect(r.rejected).toEqual([
        { key: '0', change: 'added', operation: 'import', fate: 'rejected', reason: 'refused: properties.distinct_id is invalid: "0" is not allowed' },
      ]);
      expect(storedIds().sort()).toEqual(Array.from({ length: 30 }, (_, i) => String(i + 1)).sort());
      // The request held one event the contract refuses, and Mixpanel answered for it alone.
      expect(mixpanel().api.violations).toHaveLength(1);
      expect(mixpanel().api.violations[0]?.problems).toEqual([expect.stringMatching(/^mixpanel\.import: body\/\d+\/properties\/distinct_id: /)]);

      // The accepted events were committed: the next run sends the refused row alone.
      const again = await run();
      expect(again).toMatchObject({ status: 'rejected', changes: { added: 1 } });
      expect(imports()).toHaveLength(2);
      expect(sentIds(imports()[1]!)).toEqual(['0']);
      expect(mixpanel().events).toHaveLength(30);
    });

    it('a 400 whose count disagrees with the events it names is split as before, and each valid event is still stored once', async () => {
      // Two invalid events, one listed: 10 imported, 11 not named; which were taken is not said.
      mixpanel().listFailed = 1;
      await sql(db(), `INSERT INTO crm.people VALUES (-1, 'minus@example.com', 'free'); UPDATE crm.people SET plan = 'pro' WHERE id BETWEEN 1 AND 10`);
      const before = imports().length;
      const r = await run();
      expect(r).toMatchObject({ status: 'rejected', changes: { added: 2, changed: 10 } });
      expect(r.rejected.map((x) => [x.key, x.reason]).sort()).toEqual([
        ['-1', 'refused: properties.distinct_id is invalid: "-1" is not allowed'],
        ['0', 'refused: properties.distinct_id is invalid: "0" is not allowed'],
      ]);
      const sent = imports().slice(before);
      expect(sent[0] && sentIds(sent[0])).toHaveLength(12);
      expect(sent.length).toBeGreaterThan(1);
      // Mixpanel took the valid events with the first request; the halves sent them again, and $insert_id made each a duplicate.
      const pro = mixpanel().events.filter((e) => e.properties.plan === 'pro');
      expect(pro.map((e) => e.properties.distinct_id).sort()).toEqual(Array.from({ length: 10 }, (_, i) => String(i + 1)).sort());
      expect(sent.flatMap(sentIds).filter((id) => id === '1').length).toBeGreaterThan(1);
    });
  },
);
