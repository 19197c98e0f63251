// Mixpanel end to end: the compiled plan run by the executor against a local Mixpanel /import
// on 127.0.0.1, on every engine the tests have: each new or changed row is one event, with an
// $insert_id that makes a resend after a lost answer a duplicate Mixpanel stores once.
import { expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startMixpanel } from './servers/mixpanel.js';
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
    const run = () => runSync(db(), build, 'plan_changes_to_mixpanel', { env, endpoints: { analytics: mixpanel().api.url }, timeoutMs: 1500 });

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
  },
);
