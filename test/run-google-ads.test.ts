// A Google Ads Customer Match list kept equal to an audience: the compiled plan run by the
// executor against a local Google Ads and OAuth endpoint on 127.0.0.1, on every engine the
// tests have. A mirror empties the list and uploads the audience in one offline user data job,
// only when the audience changed.
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { startGoogleAds } from './servers/google-ads.js';
import { compileFixture, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'User' || g || '@Example.com ', CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END FROM generate_series(1, 60) g;`;
// What Google expects: the email trimmed and lower-cased, then SHA-256 as hex (computed here, not by the code under test).
const hashed = (ids: number[]) =>
  ids
    .filter((i) => i % 3 !== 0)
    .map((i) => createHash('sha256').update(`user${i}@example.com`).digest('hex'))
    .sort();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const build = await compileFixture('test/fixtures/run/google-ads');
const secrets = { GADS_DEVELOPER_TOKEN: 'dev-token', GADS_CLIENT_SECRET: 'client-secret', GADS_REFRESH_TOKEN: 'refresh-token' };

perEngine(
  'google ads customer match',
  people,
  () =>
    startGoogleAds({
      clientId: 'client.apps.googleusercontent.com',
      clientSecret: 'client-secret',
      refreshToken: 'refresh-token',
      developerToken: 'dev-token',
    }),
  ({ db, service: ads }) => {
    const run = () => runSync(db(), build, 'paying_to_google', { env: secrets, endpoints: { ads: ads().api.url }, timeoutMs: 1500 });
    const paths = (from = 0) =>
      ads()
        .api.requests.slice(from)
        .map((q) => q.path.replace(/\/\d+(?=:|$)/, '/N'));

    it('first run signs in, creates the list and uploads the audience in one job', async () => {
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 40, removed: 0 } });
      expect(paths()).toEqual([
        '/token',
        '/v24/customers/1234567890/googleAds:search',
        '/v24/customers/1234567890/userLists:mutate',
        '/v24/customers/1234567890/offlineUserDataJobs:create',
        '/v24/customers/1234567890/offlineUserDataJobs/N:addOperations',
        '/v24/customers/1234567890/offlineUserDataJobs/N:addOperations',
        '/v24/customers/1234567890/offlineUserDataJobs/N:run',
      ]);
      expect([...ads().lists.values()].map((l) => l.name)).toEqual(['Paying']);
      expect(ads().members('Paying')).toEqual(hashed(range(1, 60)));
    });

    it('an unchanged audience sends nothing', async () => {
      const before = ads().api.requests.length;
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 40 } });
      expect(paths(before)).toEqual([]);
    });

    it('after rows leave and enter, the list is replaced by the audience, and the same list is used', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (1, 2); UPDATE crm.people SET plan = 'pro' WHERE id = 3;`);
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 1, removed: 2 } });
      expect(ads().lists.size).toBe(1);
      expect(ads().members('Paying')).toEqual([...hashed(range(4, 60)), createHash('sha256').update('user3@example.com').digest('hex')].sort());
      expect([...ads().jobs.values()].every((j) => j.ran)).toBe(true);
    });

    it('an operation a 200 refuses under partial failure is not committed: the list is replaced again next run, with it', async () => {
      const refused = createHash('sha256').update('user10@example.com').digest('hex');
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 6`);
      ads().options.refuse = (h) => (h === refused ? 'The user identifier is not valid.' : undefined);
      const r = await run();
      expect(r).toMatchObject({ status: 'rejected', changes: { added: 1 } });
      expect(r.rejected).toEqual([
        { key: refused, change: 'unchanged', operation: 'add_members', fate: 'rejected', reason: 'refused: The user identifier is not valid.' },
      ]);
      expect(ads().members('Paying')).not.toContain(refused);
      ads().options.refuse = undefined;
      // A replace commits only when every row was taken: the new member is still new, and the whole list goes again.
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 1 } });
      expect(ads().members('Paying')).toContain(refused);
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0 } });
    });
  },
);
