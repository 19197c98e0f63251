// The jobs step inserts a failed job's rows into the accepted table, forgets the job, then runs
// commit.sql: a run killed between those writes leaves the next run to finish them (recovery, or
// the same job found failed again), and the rows still reach the list.
import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { startGoogleAds } from './servers/google-ads.js';
import { compileFixture, perEngine, runSync, sql } from './servers/run-harness.js';

const people = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, 'User' || g || '@Example.com ', CASE WHEN g % 3 = 0 THEN 'free' ELSE 'pro' END FROM generate_series(1, 60) g;`;
const hashed = (ids: number[]) =>
  ids
    .filter((i) => i % 3 !== 0)
    .map((i) => createHash('sha256').update(`user${i}@example.com`).digest('hex'))
    .sort();
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const build = await compileFixture('test/fixtures/run/google-ads');
const secrets = { GADS_DEVELOPER_TOKEN: 'dev-token', GADS_CLIENT_SECRET: 'client-secret', GADS_REFRESH_TOKEN: 'refresh-token' };
const credentials = {
  clientId: 'client.apps.googleusercontent.com',
  clientSecret: 'client-secret',
  refreshToken: 'refresh-token',
  developerToken: 'dev-token',
};

perEngine(
  'google ads customer match, a run killed while the jobs step settles a failed job',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env: secrets, endpoints: { ads: ads().api.url } });
    const lastJob = () => [...ads().jobs.values()].at(-1)!;
    const jobs = async (sync: string) => (await sql(db(), `SELECT count(DISTINCT job)::int AS n FROM syncwright.${sync}_jobs`))[0]?.[0]?.n;

    it('add: killed after the failed rows went into the accepted table, before the job was forgotten', async () => {
      ads().options.outcome = () => ({ status: 'FAILED' });
      expect(await run('paying_to_google_add')).toMatchObject({ status: 'ok', committed: 40 });
      ads().options.outcome = undefined;
      const job = lastJob().resourceName;
      await sql(
        db(),
        `INSERT INTO syncwright.paying_to_google_add_accepted_rows (row_key, change, payload_hash, destination_id) SELECT DISTINCT row_key, 'sent', NULL, NULL FROM syncwright.paying_to_google_add_jobs WHERE job = '${job}'`,
      );
      const again = await run('paying_to_google_add');
      expect(again).toMatchObject({ status: 'ok', changes: { added: 40 }, committed: 40 });
      expect(ads().members('Paying (jobs)')).toEqual(hashed(range(1, 60)));
      await run('paying_to_google_add');
      expect(await jobs('paying_to_google_add')).toBe(0);
    });

    it('upsert: killed after the failed job was forgotten, before commit.sql', async () => {
      ads().options.outcome = () => ({ status: 'FAILED' });
      expect(await run('people_to_google')).toMatchObject({ status: 'ok', committed: 60 });
      ads().options.outcome = undefined;
      const job = lastJob().resourceName;
      await sql(
        db(),
        `INSERT INTO syncwright.people_to_google_accepted_rows (row_key, change, payload_hash, destination_id) SELECT DISTINCT row_key, 'sent', NULL, NULL FROM syncwright.people_to_google_jobs WHERE job = '${job}'; DELETE FROM syncwright.people_to_google_jobs WHERE job = '${job}';`,
      );
      const again = await run('people_to_google');
      expect(again).toMatchObject({ status: 'ok', changes: { added: 60 }, committed: 60 });
      expect(ads().members('People')).toHaveLength(60);
    });
  },
);
