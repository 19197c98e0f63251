// Klaviyo end to end: the compiled plan run by the executor against a local Klaviyo on
// 127.0.0.1, on every engine the tests have: new and changed profiles go in one bulk import
// job per 10,000, with the API revision and key headers.
import { expect, it } from 'vitest';
import { startKlaviyo } from './servers/klaviyo.js';
import { compileFixture, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', 'free' FROM generate_series(1, 120) g;`;

const build = await compileFixture('test/fixtures/run/klaviyo');
const env = { KLAVIYO_API_KEY: 'pk_test' };

perEngine(
  'klaviyo',
  people,
  () => startKlaviyo(env.KLAVIYO_API_KEY),
  ({ db, service: klaviyo }) => {
    const run = () => runSync(db(), build, 'people_to_klaviyo', { env, endpoints: { mail: klaviyo().api.url }, timeoutMs: 1500 });

    it('imports every profile in one job, with the revision header', async () => {
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 120 } });
      expect(klaviyo().jobs.map((j) => j.count)).toEqual([120]);
      expect(klaviyo().api.requests[0]?.headers.revision).toBe('2024-10-15');
      expect(klaviyo().profiles.get('user5@example.com')).toEqual({ plan: 'free' });
    });

    it('a second run sends nothing; a changed row is a job of one profile', async () => {
      const before = klaviyo().api.requests.length;
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0 } });
      expect(klaviyo().api.requests.length).toBe(before);
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 5`);
      expect(await run()).toMatchObject({ status: 'ok', changes: { changed: 1 } });
      expect(klaviyo().jobs.map((j) => j.count)).toEqual([120, 1]);
      expect(klaviyo().profiles.get('user5@example.com')).toEqual({ plan: 'pro' });
    });
  },
);
