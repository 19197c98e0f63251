// A Google Ads Customer Match list kept equal to an audience: the compiled plan run by the
// executor against a local Google Ads and OAuth endpoint on 127.0.0.1, on every engine the
// tests have. A mirror empties the list and uploads the audience in one offline user data job,
// only when the audience changed (one that became empty: a job of removeAll alone), and runs
// that job only when every operation was added. Add, remove and upsert count a row only once
// the job that carries it has run: a job whose run fails, or a run killed before it, commits
// none of them; a mirror's removals, too. A job that ends FAILED after its run answered has its
// rows sent again by the next run, which first asks how the jobs of earlier runs ended.
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import type { Fault } from './servers/fake-api.js';
import { isJobQuestion, startGoogleAds, type FakeGoogleAds } from './servers/google-ads.js';
import { cli, compileFixture, compileText, exited, perEngine, runSync, spawnRun, sql, until } from './servers/run-harness.js';
import { scratchFolder, type ScratchDb } from './servers/scratch-db.js';
import { ensureBuilt } from './support/build.js';

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

/**
 * The requests since `from` were only a run's question of how the last run's job ended: a
 * sign-in, then one search of offline_user_data_job. A run after one that ran a job asks so
 * even when it has nothing to send.
 */
function onlyAskedForJob(ads: FakeGoogleAds, from: number): void {
  expect(ads.asked(from)).toEqual(['/token', expect.stringMatching(/ FROM offline_user_data_job WHERE /)]);
}

const build = await compileFixture('test/fixtures/run/google-ads');
const secrets = { GADS_DEVELOPER_TOKEN: 'dev-token', GADS_CLIENT_SECRET: 'client-secret', GADS_REFRESH_TOKEN: 'refresh-token' };
/** What the fake expects: the values of `secrets`. */
const credentials = {
  clientId: 'client.apps.googleusercontent.com',
  clientSecret: 'client-secret',
  refreshToken: 'refresh-token',
  developerToken: 'dev-token',
};

perEngine(
  'google ads customer match',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    const run = () => runSync(db(), build, 'paying_to_google', { env: secrets, endpoints: { ads: ads().api.url } });
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

    it('an unchanged audience sends nothing, once the job of the first run is known to have ended well', async () => {
      const before = ads().api.requests.length;
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 40 } });
      onlyAskedForJob(ads(), before);
      const asked = ads().api.requests.length;
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0, unchanged: 40 } });
      expect(paths(asked)).toEqual([]);
    });

    it('after rows leave and enter, the list is replaced by the audience, and the same list is used', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (1, 2); UPDATE crm.people SET plan = 'pro' WHERE id = 3;`);
      const r = await run();
      expect(r).toMatchObject({ status: 'ok', changes: { added: 1, removed: 2 } });
      expect(ads().lists.size).toBe(1);
      expect(ads().members('Paying')).toEqual([...hashed(range(4, 60)), createHash('sha256').update('user3@example.com').digest('hex')].sort());
      expect([...ads().jobs.values()].every((j) => j.ran)).toBe(true);
    });

    it('an operation a 200 refuses under partial failure is not committed, and the job is not run: the list keeps its members until a whole job is taken', async () => {
      const refused = createHash('sha256').update('user10@example.com').digest('hex');
      const joiner = createHash('sha256').update('user6@example.com').digest('hex');
      const members = ads().members('Paying');
      expect(members).toContain(refused);
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 6`);
      ads().options.refuse = (h) => (h === refused ? 'The user identifier is not valid.' : undefined);
      const r = await run();
      ads().options.refuse = undefined;
      expect(r).toMatchObject({ status: 'rejected', changes: { added: 1 }, committed: 0 });
      expect(r.rejected).toEqual([
        { key: refused, change: 'unchanged', operation: 'add_members', fate: 'rejected', reason: 'refused: The user identifier is not valid.' },
      ]);
      expect(r.steps.find((s) => s.operation === 'run_job')).toMatchObject({ requests: 0, skipped: expect.stringContaining('incomplete job') });
      // Run, the job would have dropped a member the snapshot still holds.
      expect(ads().members('Paying')).toEqual(members);
      // The new member is still new, and the whole list goes again.
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 1 } });
      expect(ads().members('Paying')).toEqual([...members, joiner].sort());
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0 } });
    });
  },
);

perEngine(
  'google ads customer match, a job that does not run',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env: secrets, endpoints: { ads: ads().api.url } });
    const dbArgs = (d: ScratchDb) => (d.url ? ['--database', d.url] : ['--db', d.folder as string]);
    const snapshot = async (sync: string) => {
      const [rows] = await sql(db(), `SELECT count(*)::int AS n FROM syncwright.${sync}_snapshot`);
      return rows?.[0]?.n;
    };
    const runs = () => ads().api.requests.filter((q) => q.path.endsWith(':run')).length;
    // Unavailable on every try, at once (Retry-After 0): the run gives up on the job.
    const runUnavailable = () =>
      ads().api.failWhen((q): Fault | undefined => (q.path.endsWith(':run') ? { kind: 'status', status: 503, retryAfter: '0' } : undefined));

    it('mode add: when :run never succeeds nothing is committed, and the next run sends the rows again and the list gets them', async () => {
      runUnavailable();
      const first = await run('paying_to_google_add');
      ads().api.failWhen(undefined);
      expect(first).toMatchObject({ status: 'failed', changes: { added: 40 }, committed: 0, error: expect.stringContaining('run_job failed') });
      expect(runs()).toBe(5);
      // The operations reached the job, which never ran.
      expect([...ads().jobs.values()].map((j) => [j.operations.length, j.ran])).toEqual([[40, false]]);
      expect(await snapshot('paying_to_google_add')).toBe(0);
      expect(ads().members('Paying (jobs)')).toEqual([]);

      const again = await run('paying_to_google_add');
      expect(again).toMatchObject({ status: 'ok', changes: { added: 40, unchanged: 0 }, committed: 40 });
      expect(ads().members('Paying (jobs)')).toEqual(hashed(range(1, 60)));
      const before = ads().api.requests.length;
      expect(await run('paying_to_google_add')).toMatchObject({ status: 'ok', changes: { added: 0, unchanged: 40 } });
      onlyAskedForJob(ads(), before);
    });

    it('mode remove: when :run fails the leaving members stay uncommitted, the entering ones are committed, and the report and exit code say so', async () => {
      // Entering members are remembered without a call: the first run sends nothing.
      expect(await run('paying_to_google_remove')).toMatchObject({ status: 'ok', changes: { added: 40 }, committed: 40 });
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (1, 2); UPDATE crm.people SET plan = 'pro' WHERE id = 3;`);
      runUnavailable();
      const failed = await cli(
        ['run', '--plan', join(build, 'paying_to_google_remove', 'plan.json'), ...dbArgs(db()), '--endpoint', `ads=${ads().api.url}`],
        secrets,
      );
      ads().api.failWhen(undefined);
      expect(failed.code).toBe(6);
      expect(failed.out).toContain('change set: 1 added, 0 changed, 2 removed');
      expect(failed.out).toContain('committed 1 row to the snapshot');
      expect(await snapshot('paying_to_google_remove')).toBe(41);
      expect(ads().members('Paying (jobs)')).toEqual(hashed(range(1, 60)));

      expect(await run('paying_to_google_remove')).toMatchObject({ status: 'ok', changes: { added: 0, removed: 2 }, committed: 2 });
      expect(ads().members('Paying (jobs)')).toEqual(hashed(range(4, 60)));
      expect(await snapshot('paying_to_google_remove')).toBe(39);
    });

    it('mode upsert: a run killed between addOperations and :run commits none of the job on recovery; the next run sends it again', async () => {
      ensureBuilt();
      // :run never answers: the run is killed while it waits.
      ads().api.failWhen((q) => (q.path.endsWith(':run') ? { kind: 'hang' } : undefined));
      const child = spawnRun(db(), ['--plan', join(build, 'people_to_google', 'plan.json'), '--endpoint', `ads=${ads().api.url}`], secrets);
      const done = exited(child);
      const sent = runs();
      await until(() => runs() > sent || child.exitCode !== null);
      child.kill('SIGKILL');
      expect((await done).signal).toBe('SIGKILL');
      ads().api.failWhen(undefined);
      expect([...ads().jobs.values()].filter((j) => !j.ran).map((j) => j.operations.length)).toContain(60);
      expect(ads().members('People')).toEqual([]);

      const again = await run('people_to_google');
      expect(again).toMatchObject({ status: 'ok', changes: { added: 60, changed: 0 }, committed: 60 });
      expect(ads().members('People')).toHaveLength(60);
      expect(await snapshot('people_to_google')).toBe(60);
    });

    it('mode mirror: when member operations fail, the job that begins with remove_all is not run, so the list keeps its members', async () => {
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok' });
      const members = ads().members('Paying');
      expect(members.length).toBeGreaterThan(30);
      // One member enters; every addOperations but remove_all is unavailable on every try.
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 6`);
      ads().api.failWhen((q): Fault | undefined =>
        q.path.endsWith(':addOperations') && !JSON.stringify(q.body).includes('removeAll') ? { kind: 'status', status: 503, retryAfter: '0' } : undefined,
      );
      const before = runs();
      const failed = await run('paying_to_google');
      ads().api.failWhen(undefined);
      expect(failed).toMatchObject({ status: 'rejected', changes: { added: 1 }, committed: 0, rejectedTotal: members.length + 1 });
      expect(failed.steps.find((s) => s.operation === 'run_job')).toMatchObject({ requests: 0, skipped: expect.stringContaining('incomplete job') });
      expect(runs()).toBe(before);
      // Its job holds only remove_all and never ran.
      expect([...ads().jobs.values()].at(-1)).toMatchObject({ operations: [{ removeAll: true }], ran: false });
      expect(ads().members('Paying')).toEqual(members);
      expect(await snapshot('paying_to_google')).toBe(members.length);

      // The member leaves again: nothing changed since the last commit, and the list is still right.
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id = 6`);
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, removed: 0 } });
      expect(ads().members('Paying')).toEqual(members);

      // It enters again with Google answering: the whole list is replaced, and committed.
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 6`);
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { added: 1 }, committed: members.length + 1 });
      expect(ads().members('Paying')).toEqual([...members, createHash('sha256').update('user6@example.com').digest('hex')].sort());
    });
  },
);

perEngine(
  'google ads customer match, an audience that becomes empty',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env: secrets, endpoints: { ads: ads().api.url } });
    const snapshot = async (sync: string) => {
      const [rows] = await sql(db(), `SELECT count(*)::int AS n FROM syncwright.${sync}_snapshot`);
      return rows?.[0]?.n;
    };
    const jobsOf = (name: string) => {
      const list = [...ads().lists].find(([, l]) => l.name === name)?.[0];
      return [...ads().jobs.values()].filter((j) => j.list === list);
    };

    it('without `guard allow empty` the guard trips: nothing is sent and nothing committed', async () => {
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { added: 40 } });
      expect(await run('paying_to_google_emptied')).toMatchObject({ status: 'ok', changes: { added: 40 }, committed: 40 });
      expect(ads().members('Paying (emptied)')).toEqual(hashed(range(1, 60)));
      await sql(db(), `UPDATE crm.people SET plan = 'free'`);
      const before = ads().api.requests.length;
      const r = await run('paying_to_google');
      expect(r).toMatchObject({ status: 'guarded', committed: 0, error: expect.stringContaining('the model has no rows') });
      // The first run's job is asked about before the change set is built; nothing is sent.
      onlyAskedForJob(ads(), before);
      expect(ads().members('Paying')).toEqual(hashed(range(1, 60)));
      expect(await snapshot('paying_to_google')).toBe(40);
    });

    it('with `guard allow empty`, a job of remove_all alone whose :run fails commits no removal: the list and the snapshot keep every member', async () => {
      ads().api.failWhen((q): Fault | undefined => (q.path.endsWith(':run') ? { kind: 'status', status: 503, retryAfter: '0' } : undefined));
      const r = await run('paying_to_google_emptied');
      ads().api.failWhen(undefined);
      expect(r).toMatchObject({
        status: 'failed',
        changes: { added: 0, changed: 0, unchanged: 0, removed: 40 },
        committed: 0,
        error: expect.stringContaining('run_job failed'),
      });
      expect(jobsOf('Paying (emptied)').at(-1)).toMatchObject({ operations: [{ removeAll: true }], ran: false });
      expect(ads().members('Paying (emptied)')).toEqual(hashed(range(1, 60)));
      expect(await snapshot('paying_to_google_emptied')).toBe(40);
    });

    it('with `guard allow empty`, the next run empties the list with a job of remove_all alone, then commits the removals', async () => {
      const r = await run('paying_to_google_emptied');
      expect(r).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, unchanged: 0, removed: 40 }, committed: 40 });
      expect(jobsOf('Paying (emptied)').at(-1)).toMatchObject({ operations: [{ removeAll: true }], ran: true });
      expect(ads().members('Paying (emptied)')).toEqual([]);
      expect(await snapshot('paying_to_google_emptied')).toBe(0);
      // Empty and unchanged: nothing is sent.
      const before = ads().api.requests.length;
      expect(await run('paying_to_google_emptied')).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0 }, committed: 0 });
      onlyAskedForJob(ads(), before);
    });

    it('members who return are uploaded again', async () => {
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id IN (1, 2)`);
      expect(await run('paying_to_google_emptied')).toMatchObject({ status: 'ok', changes: { added: 2, removed: 0 }, committed: 2 });
      expect(ads().members('Paying (emptied)')).toEqual(hashed([1, 2]));
    });
  },
);

perEngine(
  'google ads customer match, members uploaded again before they expire',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    /** The sync's plan as run `days` days ago: its change set reads the warehouse's clock that much earlier. */
    const earlier = (sync: string, days: number): string => {
      const out = join(scratchFolder('syncwright-earlier-').dir, 'build');
      cpSync(join(build, sync), join(out, sync), { recursive: true });
      const file = join(out, sync, 'changes.sql');
      const text = readFileSync(file, 'utf8');
      // The clock is read once, by the period the payload hash takes in.
      expect(text.split('CURRENT_TIMESTAMP').length).toBe(2);
      writeFileSync(file, text.replace('CURRENT_TIMESTAMP', `(CURRENT_TIMESTAMP - INTERVAL '${days} days')`));
      return out;
    };
    const run = (sync: string, from = build) => runSync(db(), from, sync, { env: secrets, endpoints: { ads: ads().api.url } });
    const lastJob = () => [...ads().jobs.values()].at(-1)!;

    // Google drops a member `membershipLifeSpan` days (540) after its latest upload: an add sync
    // that never sent it again lost it while its snapshot kept it.
    it('add, upsert and mirror upload every member again once the clock is in the next 180-day period, and then not again', async () => {
      const everyone = range(1, 60)
        .map((i) => createHash('sha256').update(`user${i}@example.com`).digest('hex'))
        .sort();
      for (const [sync, list, first, members] of [
        ['paying_to_google_add', 'Paying (jobs)', [], hashed(range(1, 60))],
        ['people_to_google', 'People', [], everyone],
        ['paying_to_google', 'Paying', [{ removeAll: true }], hashed(range(1, 60))],
      ] as const) {
        const n = members.length;
        // 181 days apart: never within one period of 180.
        expect(await run(sync, earlier(sync, 181))).toMatchObject({ status: 'ok', changes: { added: n }, committed: n });
        const jobs = ads().jobs.size;
        const again = await run(sync);
        expect(again).toMatchObject({ status: 'ok', changes: { added: 0, changed: n, unchanged: 0 }, committed: n });
        expect(ads().jobs.size).toBe(jobs + 1);
        expect(lastJob()).toMatchObject({ ran: true, operations: [...first, ...members.map(() => ({ create: expect.any(String) }))] });
        expect(
          lastJob()
            .operations.flatMap((o) => ('create' in o ? [o.create] : []))
            .sort(),
        ).toEqual(members);
        expect(ads().members(list)).toEqual(members);
        // Within the period: nothing is sent (but the question of how the job ended).
        const before = ads().api.requests.length;
        expect(await run(sync)).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0, unchanged: n } });
        onlyAskedForJob(ads(), before);
      }
    });
  },
);

// Google runs a job after `:run` answered, for hours at times, and it may then end FAILED
// ("Uploaded data has failed to be processed"): the rows a run committed because the job ran
// never reached the list. Each run first asks how the jobs of earlier runs ended.
perEngine(
  'google ads customer match, a job that ends FAILED after its run',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env: secrets, endpoints: { ads: ads().api.url } });
    const jobs = async (sync: string) => {
      const [rows] = await sql(db(), `SELECT count(DISTINCT job)::int AS n FROM syncwright.${sync}_jobs`);
      return rows?.[0]?.n;
    };
    const searches = (from: number) => ads().api.requests.slice(from).filter(isJobQuestion);
    const lastJob = () => [...ads().jobs.values()].at(-1)!;

    it('mode add: a job that fails after its run has its rows sent again by the next run, and they reach the list', async () => {
      ads().options.outcome = () => ({ status: 'FAILED', failureReason: 'UNKNOWN' });
      const first = await run('paying_to_google_add');
      ads().options.outcome = undefined;
      // :run answered 2xx: the rows are committed, and their job is watched.
      expect(first).toMatchObject({ status: 'ok', changes: { added: 40 }, committed: 40 });
      expect(lastJob()).toMatchObject({ ran: true, status: 'FAILED' });
      expect(ads().members('Paying (jobs)')).toEqual([]);

      const before = ads().api.requests.length;
      const again = await run('paying_to_google_add');
      expect(again).toMatchObject({ status: 'ok', changes: { added: 40, unchanged: 0 }, committed: 40 });
      expect(ads().members('Paying (jobs)')).toEqual(hashed(range(1, 60)));
      expect(searches(before)).toHaveLength(1);
      expect(again.warnings).toEqual([expect.stringMatching(/ended FAILED \(UNKNOWN\): the rows it carried count as not delivered, and are sent again$/)]);
      expect(again.steps[0]).toMatchObject({ kind: 'jobs', rows: 1, accepted: 0, rejected: 1 });

      // The new job succeeded: the next run asks once, forgets it, and sends nothing.
      const settled = ads().api.requests.length;
      expect(await run('paying_to_google_add')).toMatchObject({ status: 'ok', changes: { added: 0, unchanged: 40 }, committed: 0 });
      expect(searches(settled)).toHaveLength(1);
      expect(await jobs('paying_to_google_add')).toBe(0);
      const quiet = ads().api.requests.length;
      expect(await run('paying_to_google_add')).toMatchObject({ status: 'ok', changes: { added: 0, unchanged: 40 } });
      expect(ads().api.requests.length).toBe(quiet);
    });

    it('mode mirror: a job still running is kept; once it fails, the next job carries the whole snapshot again after remove_all', async () => {
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { added: 40 } });
      await run('paying_to_google');
      const members = ads().members('Paying');
      expect(members).toEqual(hashed(range(1, 60)));
      // Two leave, one enters; the job that replaces the list runs for a while.
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id IN (1, 2); UPDATE crm.people SET plan = 'pro' WHERE id = 3;`);
      ads().options.outcome = () => ({ status: 'RUNNING' });
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { added: 1, removed: 2 }, committed: 41 });
      ads().options.outcome = undefined;
      const replacing = lastJob();
      expect(replacing.status).toBe('RUNNING');

      // Still running: kept, and the run, which would replace the list again, waits for it: nothing is sent.
      const jobsBefore = ads().jobs.size;
      const waiting = await run('paying_to_google');
      expect(waiting).toMatchObject({ status: 'busy', committed: 0 });
      expect(waiting.error).toContain(`job ${replacing.resourceName} (RUNNING) of an earlier run has not ended`);
      expect(waiting.steps[0]).toMatchObject({ kind: 'jobs', rows: 1, accepted: 0, rejected: 0 });
      expect(ads().jobs.size).toBe(jobsBefore);
      expect(await jobs('paying_to_google')).toBe(1);
      // A dry run asks Google nothing, and says what a run would do first.
      const requests = ads().api.requests.length;
      const dry = await runSync(db(), build, 'paying_to_google', { dryRun: true, endpoints: { ads: ads().api.url } });
      expect(dry).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0 } });
      expect(dry.warnings).toEqual([
        `job ${replacing.resourceName} of an earlier run is not known to have ended: a run asks how first, sends the rows of a failed one again, and while one has not ended sends nothing and ends busy (exit code 4); the changes of this dry run leave that out`,
      ]);
      expect(ads().api.requests).toHaveLength(requests);

      // It fails, having applied nothing: the list is still the old one.
      ads().finish(replacing.resourceName, { status: 'FAILED' });
      expect(ads().members('Paying')).toEqual(members);
      const again = await run('paying_to_google');
      // Every member the job carried is in the change set again: those still in the audience
      // added, those who left removed; the job begins with remove_all.
      expect(again).toMatchObject({ status: 'ok', changes: { added: 39, changed: 0, unchanged: 0, removed: 2 }, committed: 41 });
      expect(again.warnings).toEqual([expect.stringContaining(`job ${replacing.resourceName} ended FAILED:`)]);
      expect(lastJob()).toMatchObject({ ran: true, status: 'SUCCESS' });
      expect(lastJob().operations[0]).toEqual({ removeAll: true });
      const expected = [...hashed(range(4, 60)), createHash('sha256').update('user3@example.com').digest('hex')].sort();
      expect(ads().members('Paying')).toEqual(expected);
      await run('paying_to_google');
      expect(await jobs('paying_to_google')).toBe(0);
    });

    it('mode mirror: a run waits for the job of the run before, which Google may carry out after a later one', async () => {
      const member = (i: number) => createHash('sha256').update(`user${i}@example.com`).digest('hex');
      const before = ads().members('Paying');
      expect(before).toEqual(expect.arrayContaining([member(4), member(5)]));
      // A member leaves; the job that replaces the list runs for a while.
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id = 4`);
      ads().options.outcome = () => ({ status: 'RUNNING' });
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { removed: 1 } });
      ads().options.outcome = undefined;
      const slow = lastJob().resourceName;
      // Meanwhile that member comes back and another leaves: a job now would race the slow one.
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 4; UPDATE crm.people SET plan = 'free' WHERE id = 5;`);
      const jobsBefore = ads().jobs.size;
      expect(await run('paying_to_google')).toMatchObject({ status: 'busy', committed: 0 });
      expect(ads().jobs.size).toBe(jobsBefore);
      // The slow job ends; the next run replaces the list, after it.
      ads().finish(slow, { status: 'SUCCESS' });
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { added: 1, removed: 1 } });
      expect(ads().members('Paying')).toEqual(before.filter((m) => m !== member(5)));
      expect(await run('paying_to_google')).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0 } });
      expect(await jobs('paying_to_google')).toBe(0);
      // The audience as the tests after this one find it.
      await sql(db(), `UPDATE crm.people SET plan = 'pro' WHERE id = 5`);
    });

    it('mode upsert: a status that cannot be read keeps the job, and the next run that reads it sends its rows again', async () => {
      ads().options.outcome = () => ({ status: 'FAILED' });
      expect(await run('people_to_google')).toMatchObject({ status: 'ok', changes: { added: 60 }, committed: 60 });
      ads().options.outcome = undefined;
      expect(ads().members('People')).toEqual([]);
      ads().api.failWhen((q): Fault | undefined => (isJobQuestion(q) ? { kind: 'status', status: 400 } : undefined));
      const unread = await run('people_to_google');
      ads().api.failWhen(undefined);
      expect(unread).toMatchObject({ status: 'ok', changes: { added: 0, unchanged: 60 }, committed: 0 });
      expect(unread.warnings).toEqual([expect.stringContaining('its status could not be read (HTTP 400')]);
      expect(await jobs('people_to_google')).toBe(1);

      const again = await run('people_to_google');
      expect(again).toMatchObject({ status: 'ok', changes: { added: 60 }, committed: 60 });
      expect(ads().members('People')).toHaveLength(60);
      await run('people_to_google');
      expect(await jobs('people_to_google')).toBe(0);
    });

    it('mode remove: a removal job that fails is sent again, though its members left the snapshot', async () => {
      expect(await run('paying_to_google_remove')).toMatchObject({ status: 'ok', changes: { added: 39 }, committed: 39 });
      // The list "Paying (jobs)" holds every paying member (mode add, above); one more leaves.
      const leaving = createHash('sha256').update('user4@example.com').digest('hex');
      expect(ads().members('Paying (jobs)')).toContain(leaving);
      await sql(db(), `UPDATE crm.people SET plan = 'free' WHERE id = 4`);
      ads().options.outcome = () => ({ status: 'FAILED' });
      expect(await run('paying_to_google_remove')).toMatchObject({ status: 'ok', changes: { removed: 1 }, committed: 1 });
      ads().options.outcome = undefined;
      expect(ads().members('Paying (jobs)')).toContain(leaving);

      const dbArgs = (d: ScratchDb) => (d.url ? ['--database', d.url] : ['--db', d.folder as string]);
      const again = await cli(
        ['run', '--plan', join(build, 'paying_to_google_remove', 'plan.json'), ...dbArgs(db()), '--endpoint', `ads=${ads().api.url}`],
        secrets,
      );
      expect(again.code).toBe(0);
      expect(again.out).toContain('check_jobs: 1 job of earlier runs: 0 done, 1 failed (their rows sent again), 0 not ended');
      expect(again.out).toContain('change set: 0 added, 0 changed, 1 removed');
      expect(again.out).toMatch(/warning: job customers\/1234567890\/offlineUserDataJobs\/\d+ ended FAILED: the rows it carried count as not delivered/);
      expect(ads().members('Paying (jobs)')).not.toContain(leaving);
    });
  },
);

// The jobs step inserts a failed job's rows into the accepted table, forgets the job, then runs
// commit.sql: a run killed between those writes leaves the next run to finish them (recovery, or
// the same job found failed again), and the rows still reach the list.
perEngine(
  'google ads customer match, a run killed while the jobs step settles a failed job',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    const run = (sync: string) => runSync(db(), build, sync, { env: secrets, endpoints: { ads: ads().api.url } });
    const lastJob = () => [...ads().jobs.values()].at(-1)!;
    const jobs = async (sync: string) => (await sql(db(), `SELECT count(DISTINCT job)::int AS n FROM syncwright.${sync}_jobs`))[0]?.[0]?.n;
    /** A run whose job fails; then what a run killed while settling it had done (`killed`, SQL over the job's name); then the next run. */
    const failedThenKilled = async (sync: string, committed: number, killed: (job: string) => string) => {
      ads().options.outcome = () => ({ status: 'FAILED' });
      expect(await run(sync)).toMatchObject({ status: 'ok', committed });
      ads().options.outcome = undefined;
      await sql(db(), killed(lastJob().resourceName));
      return run(sync);
    };
    /** The failed job's rows in the accepted table, as sent without an answer. */
    const sentAgain = (sync: string, job: string) =>
      `INSERT INTO syncwright.${sync}_accepted_rows (row_key, change, payload_hash, destination_id) SELECT DISTINCT row_key, 'sent', NULL, NULL FROM syncwright.${sync}_jobs WHERE job = '${job}';`;

    it('add: killed after the failed rows went into the accepted table, before the job was forgotten', async () => {
      const again = await failedThenKilled('paying_to_google_add', 40, (job) => sentAgain('paying_to_google_add', job));
      expect(again).toMatchObject({ status: 'ok', changes: { added: 40 }, committed: 40 });
      expect(ads().members('Paying (jobs)')).toEqual(hashed(range(1, 60)));
      await run('paying_to_google_add');
      expect(await jobs('paying_to_google_add')).toBe(0);
    });

    it('upsert: killed after the failed job was forgotten, before commit.sql', async () => {
      const again = await failedThenKilled(
        'people_to_google',
        60,
        (job) => `${sentAgain('people_to_google', job)} DELETE FROM syncwright.people_to_google_jobs WHERE job = '${job}';`,
      );
      expect(again).toMatchObject({ status: 'ok', changes: { added: 60 }, committed: 60 });
      expect(ads().members('People')).toHaveLength(60);
    });
  },
);

// Customer ids from the environment, as the Google Ads UI shows them (with dashes): paths and
// the login-customer-id header take them without, as literal ones are.
const fromEnv = await compileText(
  readFileSync('test/fixtures/run/google-ads/project.sync', 'utf8').replace(
    'customer_id     "123-456-7890"',
    'customer_id     env("GADS_CUSTOMER_ID")\n  login_customer_id env("GADS_LOGIN_CUSTOMER_ID")',
  ),
);

perEngine(
  'google ads customer ids from the environment',
  people,
  () => startGoogleAds(credentials),
  ({ db, service: ads }) => {
    it('a customer id with dashes from env() goes in paths and the login-customer-id header as its ten digits', async () => {
      const env = { ...secrets, GADS_CUSTOMER_ID: '123-456-7890', GADS_LOGIN_CUSTOMER_ID: '987-654-3210' };
      const r = await runSync(db(), fromEnv, 'paying_to_google', { env, endpoints: { ads: ads().api.url } });
      expect(ads().api.violations).toEqual([]);
      expect(r).toMatchObject({ status: 'ok', changes: { added: 40 } });
      const calls = ads().api.requests.filter((q) => q.path !== '/token');
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every((q) => q.path.startsWith('/v24/customers/1234567890/'))).toBe(true);
      expect(calls.every((q) => q.headers['login-customer-id'] === '9876543210')).toBe(true);
      expect(ads().members('Paying')).toEqual(hashed(range(1, 60)));
    });
  },
);
