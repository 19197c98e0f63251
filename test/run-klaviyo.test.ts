// Klaviyo end to end: the compiled plan run by the executor against a local Klaviyo on
// 127.0.0.1, on every engine the tests have: new and changed profiles go in one bulk import
// job per 10,000, with the API revision and key headers.
import { expect, it } from 'vitest';
import { fault } from './servers/fake-api.js';
import { startKlaviyo } from './servers/klaviyo.js';
import { compileFixture, compileText, perEngine, runSync, sql } from './servers/run-harness.js';

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
    const run = () => runSync(db(), build, 'people_to_klaviyo', { env, endpoints: { mail: klaviyo().api.url } });

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

// Two syncs into one list name whose first runs overlap: the list is looked up and created
// under a lock on the name, so the second finds the list the first made. The first run's
// lookup is held by the server until the second run waits for that lock (or, without one,
// looks the list up itself), so the runs overlap however slow the machine.
const lists = await compileText(`
source warehouse : postgres { database "app" version 15 }
destination mail : klaviyo { api_key env("KLAVIYO_API_KEY") }
model members { from warehouse table crm.members primary key id columns { id bigint email string plan string } }
audience paying { from members where plan = 'pro' }
audience trials { from members where plan = 'trial' }
sync paying_to_vip { from paying to mail list "VIP" mode add identifier email -> email }
sync trials_to_vip { from trials to mail list "VIP" mode add identifier email -> email }
sync trials_to_trials { from trials to mail list "Trials" mode add identifier email -> email }
sync paying_list { from paying to mail list "Pro" mode mirror identifier email -> email }`);
const members = `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.members (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.members SELECT g, 'user' || g || '@example.com', CASE WHEN g <= 3 THEN 'pro' ELSE 'trial' END FROM generate_series(1, 6) g;`;
const emails = (ids: number[]) => ids.map((i) => `user${i}@example.com`);

perEngine(
  'klaviyo lists',
  members,
  () => startKlaviyo(env.KLAVIYO_API_KEY),
  ({ db, service: klaviyo }) => {
    it('two syncs into one list name, first run at the same time: one list, holding both audiences', async () => {
      let release: () => void = () => undefined;
      const held = new Promise<void>((r) => (release = r));
      let lookups = 0;
      klaviyo().api.failWhen((q) => {
        if (q.method !== 'GET' || q.path !== '/api/lists') return undefined;
        if (++lookups === 1) return fault.held(held);
        release();
        return undefined;
      });
      const notices: string[] = [];
      // The embedded database takes one run at a time: there the second waits for the folder instead, and the runs do not overlap.
      const notice = (text: string) => {
        notices.push(text);
        if (/waiting/.test(text)) release();
      };
      const opts = { env, endpoints: { mail: klaviyo().api.url }, timeoutMs: 30_000, waitMs: 60_000, notice };
      const runs = await Promise.all([runSync(db(), lists, 'paying_to_vip', opts), runSync(db(), lists, 'trials_to_vip', opts)]);
      klaviyo().api.failWhen(undefined);
      expect(runs.map((r) => [r.status, r.committed])).toEqual([
        ['ok', 3],
        ['ok', 3],
      ]);
      const vip = [...klaviyo().lists.values()].filter((l) => l.name === 'VIP');
      expect(vip).toHaveLength(1);
      expect([...(vip[0]?.members ?? [])].sort()).toEqual(emails([1, 2, 3, 4, 5, 6]).sort());
      expect(runs.flatMap((r) => r.warnings ?? [])).toEqual([]);
      expect(notices.some((n) => /waiting/.test(n))).toBe(true);
    });

    it('several lists of the name (made by hand): the oldest is used, and the report says so', async () => {
      const oldest = klaviyo().addList('Trials', ['someone@example.com']);
      const newer = klaviyo().addList('Trials');
      const r = await runSync(db(), lists, 'trials_to_trials', { env, endpoints: { mail: klaviyo().api.url } });
      expect(r.error).toBeUndefined();
      expect(r.status).toBe('ok');
      expect([...oldest.members].sort()).toEqual(['someone@example.com', ...emails([4, 5, 6])].sort());
      expect(newer.members.size).toBe(0);
      expect(r.warnings).toEqual([expect.stringMatching(/^find_list \(look up the list "Trials".*\) found 2; .*list_id L\d+/)]);
      expect(r.warnings?.[0]).toContain(oldest.id);
    });

    it('a revision with its suffix (a pre-release) is sent as written', async () => {
      const beta = await compileText(`
source warehouse : postgres { database "app" version 15 }
destination mail : klaviyo { api_key env("KLAVIYO_API_KEY") revision "2024-10-15.pre" }
model members { from warehouse table crm.members primary key id columns { id bigint email string } }
sync people_to_beta { from members to mail object profiles mode upsert identifier email -> email }`);
      klaviyo().api.reset();
      const r = await runSync(db(), beta, 'people_to_beta', { env, endpoints: { mail: klaviyo().api.url } });
      expect(r).toMatchObject({ status: 'ok', committed: 6 });
      expect(klaviyo().api.requests.map((q) => q.headers.revision)).toEqual(['2024-10-15.pre', '2024-10-15.pre', '2024-10-15.pre']);
    });
  },
);

// A list kept equal to an audience (the sync paying_list of the project above): leaving profiles
// are found by email (GET /api/profiles), then taken off the list (DELETE .../relationships/profiles).
// One not found is refused and looked up again next run, not taken as off the list: the import
// job that adds it may not have run yet (Klaviyo answers 202 when it is queued).
perEngine(
  'klaviyo list removals',
  `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.members (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.members SELECT g, 'user' || g || '@example.com', 'pro' FROM generate_series(1, 5) g;`,
  () => startKlaviyo(env.KLAVIYO_API_KEY),
  ({ db, service: klaviyo }) => {
    const run = (sync: string) => runSync(db(), lists, sync, { env, endpoints: { mail: klaviyo().api.url } });
    const pro = () => [...(klaviyo().list('Pro')?.members ?? [])].sort();

    it('mirror: leaving profiles are looked up and taken off the list; one not found yet is refused, and removed once it is there', async () => {
      expect(await run('paying_list')).toMatchObject({ status: 'ok', changes: { added: 5 } });
      expect(pro()).toEqual(emails([1, 2, 3, 4, 5]));
      // user5's profile is not there yet, as while the job that imports it is still queued.
      const id5 = klaviyo().profileIds.get('user5@example.com')!;
      klaviyo().profileIds.delete('user5@example.com');
      klaviyo().list('Pro')?.members.delete('user5@example.com');
      await sql(db(), `UPDATE crm.members SET plan = 'free' WHERE id IN (2, 5)`);
      const n0 = klaviyo().api.requests.length;
      expect(await run('paying_list')).toMatchObject({ rejectedTotal: 1, changes: { removed: 2 } });
      expect(pro()).toEqual(emails([1, 3, 4]));
      const sent = klaviyo().api.requests.slice(n0);
      expect(sent.map((q) => `${q.method} ${q.path}`)).toEqual([
        'GET /api/lists',
        'GET /api/profiles',
        `DELETE /api/lists/${klaviyo().list('Pro')?.id}/relationships/profiles`,
      ]);
      expect(sent[1]?.query.get('filter')).toBe('any(email,["user2@example.com","user5@example.com"])');
      expect(sent[2]?.body).toEqual({ data: [{ type: 'profile', id: klaviyo().profileIds.get('user2@example.com') }] });
      // The job runs: the profile is made and added to the list. The next run finds it and takes it off.
      klaviyo().profileIds.set('user5@example.com', id5);
      klaviyo().list('Pro')?.members.add('user5@example.com');
      expect(await run('paying_list')).toMatchObject({ status: 'ok', rejectedTotal: 0, changes: { removed: 1 } });
      expect(pro()).toEqual(emails([1, 3, 4]));
      const n1 = klaviyo().api.requests.length;
      expect(await run('paying_list')).toMatchObject({ status: 'ok', changes: { added: 0, removed: 0 } });
      expect(klaviyo().api.requests.length).toBe(n1);
    });

    it("a list id the lookup answers that would climb out of its path segment (`..`, `?`, `#`) gets no request: another list's members are not taken off", async () => {
      // A list made by hand, and the sync's list answered under an id that climbs to it.
      const kept = klaviyo().addList('Kept by hand', emails([1, 3, 4]));
      const list = klaviyo().list('Pro')!;
      const own = list.id;
      await sql(db(), `UPDATE crm.members SET plan = 'free' WHERE id = 3`);
      // The URL parser drops tabs and line breaks: `.\t.` is a `..` step too.
      for (const climbing of [`${own}/../${kept.id}`, `${own}/.\t./${kept.id}`, `${own}/..\n/${kept.id}`]) {
        klaviyo().lists.delete(list.id);
        list.id = climbing;
        klaviyo().lists.set(list.id, list);
        const n = klaviyo().api.requests.length;
        const r = await run('paying_list');
        expect(r).toMatchObject({ status: 'failed', committed: 0, error: expect.stringContaining(`list_id ${JSON.stringify(list.id)}`) });
        expect(
          klaviyo()
            .api.requests.slice(n)
            .map((q) => q.method),
        ).not.toContain('DELETE');
        expect([...kept.members].sort()).toEqual(emails([1, 3, 4]));
      }
    });
  },
);

// Klaviyo answers an import with 202 once the job is queued, then imports the profiles it can
// and lists the others as the job's import errors. A batch's rows are taken only once its job is
// complete, but for those its errors name (20 a page): they are refused with Klaviyo's reason
// and sent again by every run until mended. A cancelled job takes none of them.
perEngine(
  'klaviyo import jobs',
  `CREATE SCHEMA IF NOT EXISTS crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, plan text NOT NULL);
  INSERT INTO crm.people SELECT g, CASE WHEN g <= 22 THEN 'user' || g || ' at example.com' ELSE 'user' || g || '@example.com' END, 'free'
    FROM generate_series(1, 30) g;`,
  () => startKlaviyo(env.KLAVIYO_API_KEY),
  ({ db, service: klaviyo }) => {
    const run = () => runSync(db(), build, 'people_to_klaviyo', { env, endpoints: { mail: klaviyo().api.url } });

    it('rows are taken when the job is complete, but for those its import errors name; a cancelled job takes none', async () => {
      klaviyo().pollsBeforeEnd = 1;
      const first = await run();
      expect(first).toMatchObject({ changes: { added: 30 }, committed: 8, rejectedTotal: 22 });
      expect(first.rejected[0]?.reason).toMatch(/^refused: Invalid email address: "user\d+ at example.com"/);
      const job = klaviyo().jobs[0]!;
      expect(klaviyo().api.requests.map((q) => `${q.method} ${q.path}${q.query.size ? `?${q.query}` : ''}`)).toEqual([
        'POST /api/profile-bulk-import-jobs',
        `GET /api/profile-bulk-import-jobs/${job.id}`,
        `GET /api/profile-bulk-import-jobs/${job.id}`,
        `GET /api/profile-bulk-import-jobs/${job.id}/import-errors`,
        // The next page's URL names Klaviyo's host: only its query is taken.
        `GET /api/profile-bulk-import-jobs/${job.id}/import-errors?page%5Bcursor%5D=20`,
      ]);
      // The refused rows are sent again, and refused again; the others are not.
      klaviyo().pollsBeforeEnd = 0;
      expect(await run()).toMatchObject({ changes: { added: 22 }, committed: 0, rejectedTotal: 22 });
      expect(klaviyo().jobs.map((j) => j.count)).toEqual([30, 22]);
      // Mended, they go in a job that is cancelled: none is taken, and the next run sends them all again.
      await sql(db(), `UPDATE crm.people SET email = replace(email, ' at ', '@') WHERE id <= 22`);
      klaviyo().cancelNext = 1;
      const cancelled = await run();
      expect(cancelled).toMatchObject({ changes: { added: 22 }, committed: 0, rejectedTotal: 22 });
      expect(cancelled.rejected[0]?.reason).toMatch(/^the job ended cancelled/);
      expect(klaviyo().profiles.has('user1@example.com')).toBe(false);
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 22 }, committed: 22, rejectedTotal: 0 });
      expect(klaviyo().profiles.size).toBe(30);
      const n = klaviyo().api.requests.length;
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 0, changed: 0 } });
      expect(klaviyo().api.requests.length).toBe(n);
    });

    it("a job id the import's answer gives that is not one path segment (`..`, `/`, `?`) is not put into a path: the rows are not taken, and go again", async () => {
      // The last job ended complete without errors; a job id climbing to it would have its status and errors asked instead.
      const clean = klaviyo().jobs.at(-1)!;
      expect(clean).toMatchObject({ status: 'complete', errors: [] });
      await sql(db(), `UPDATE crm.people SET email = 'moved' || id || '@example.com' WHERE id <= 3`);
      klaviyo().jobIdAnswered = (id) => `${id}/../${clean.id}`;
      const from = klaviyo().api.requests.length;
      const hostile = await run();
      expect(hostile).toMatchObject({ changes: { added: 3 }, committed: 0, rejectedTotal: 3 });
      expect(hostile.rejected[0]?.reason).toMatch(/^the answer gives the batch the job .*which cannot be one segment of a URL's path/);
      expect(
        klaviyo()
          .api.requests.slice(from)
          .map((q) => `${q.method} ${q.path}`),
      ).toEqual(['POST /api/profile-bulk-import-jobs']);
      klaviyo().jobIdAnswered = (id) => id;
      expect(await run()).toMatchObject({ status: 'ok', changes: { added: 3 }, committed: 3, rejectedTotal: 0 });
      expect(klaviyo().profiles.has('moved1@example.com')).toBe(true);
    });
  },
);
