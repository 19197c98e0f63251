// Two runs of one sync at once, with the warehouse changing in between, many times: the
// second run waits for the first (the sync's lock), a dry run beside them changes nothing, and
// afterwards the destination equals the model and no row was sent twice. Then what a run
// that cannot have the sync does: wait (--wait) or stop with its own exit code, and runs of
// different syncs that never wait for each other (but for making their shared state schema).
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PlanReport } from '../src/run/index.js';
import { fault } from './servers/fake-api.js';
import { startHubspot, type FakeHubspot } from './servers/hubspot.js';
import { startWebhook } from './servers/webhook.js';
import { compileFixture, exited, repoRoot, runSync, spawnRun, sql, until } from './servers/run-harness.js';
import { scratchEngines, scratchFolder, type ScratchDb } from './servers/scratch-db.js';
import { ensureBuilt } from './support/build.js';
import { lockOutput, openHome } from '../src/output/kept-output.js';

const rows = 30;
const seed = `CREATE SCHEMA crm;
  CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
  INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(1, ${rows}) g;`;

const build = await compileFixture('test/fixtures/run/project');
const env = { HUBSPOT_TOKEN: 'hs-test-token' };
const sync = 'people_to_hubspot';

/** Every input HubSpot answered, as `email=score`: each value is written once, so none may repeat. */
function sentTwice(hubspot: FakeHubspot): string[] {
  const seen = new Map<string, number>();
  for (const q of hubspot.api.served) {
    for (const input of (q.body as { inputs?: { id: string; properties: { score: unknown } }[] }).inputs ?? []) {
      const k = `${input.id}=${String(input.properties.score)}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
  }
  return [...seen].filter(([, n]) => n > 1).map(([k]) => k);
}

async function destinationEqualsModel(db: ScratchDb, hubspot: FakeHubspot): Promise<void> {
  const [model = []] = await sql(db, 'SELECT email, score FROM crm.people ORDER BY id');
  const wrong = model.filter((m) => hubspot.find('contacts', 'email', String(m.email))?.properties.score !== String(m.score));
  expect(wrong, 'rows whose HubSpot record differs from the model').toEqual([]);
}

/** A gate the test opens: a request held on it is answered only then. */
function gate(): { until: Promise<void>; open: () => void } {
  let open!: () => void;
  const until = new Promise<void>((resolve) => (open = resolve));
  return { until, open };
}

describe('two runs of one sync on a PostgreSQL server', () => {
  const engine = scratchEngines.find((e) => e.name !== 'pglite');
  if (!engine) return it.skip('needs SYNCWRIGHT_TEST_PG_URL');
  let db: ScratchDb;
  let hubspot: FakeHubspot;
  let watcher: pg.Client;
  const run = (options: { dryRun?: boolean } = {}) => runSync(db, build, sync, { env, endpoints: { crm: hubspot.api.url }, waitMs: 120_000, ...options });
  const waitingForLock = async () => {
    const {
      rows: [r],
    } = await watcher.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return (r?.n ?? 0) > 0;
  };

  beforeAll(async () => {
    db = await engine.open();
    await sql(db, seed);
    hubspot = await startHubspot({ token: env.HUBSPOT_TOKEN });
    watcher = new pg.Client({ connectionString: db.url });
    await watcher.connect();
    expect((await run()).status).toBe('ok');
  });
  afterAll(async () => {
    await watcher.end();
    await hubspot.api.close();
    await db.drop();
  });

  it('twelve rounds: the second run waits for the first, a dry run beside them finishes at once and changes nothing', async () => {
    for (let round = 1; round <= 12; round++) {
      const picked = `id % 3 = ${round % 3}`;
      // p1: the first run's change set; p2: the same rows again while it is sending.
      await sql(db, `UPDATE crm.people SET score = ${round * 1000} + id WHERE ${picked}`);
      const held = gate();
      hubspot.api.failNext(fault.held(held.until));
      const before = hubspot.api.requests.length;
      const first = run();
      await until(() => hubspot.api.requests.length > before);
      await sql(db, `UPDATE crm.people SET score = ${round * 1000 + 500} + id WHERE ${picked}`);
      let secondDone = false;
      const second = run().finally(() => (secondDone = true));
      // The first run holds the sync while its request is held: the second must be waiting for it.
      const waited = await pollUntil(waitingForLock, () => secondDone);
      const dry = await run({ dryRun: true });
      held.open();
      const [a, b] = (await Promise.all([first, second])) as [PlanReport, PlanReport];
      await destinationEqualsModel(db, hubspot);
      expect(sentTwice(hubspot), `round ${round}`).toEqual([]);
      expect([a.status, b.status, waited], `round ${round}: ${a.error ?? ''} ${b.error ?? ''}`).toEqual(['ok', 'ok', true]);
      expect([a.changes?.changed, b.changes?.changed]).toEqual([rows / 3, rows / 3]);
      // The dry run saw the first run's change set still uncommitted, and changed nothing of it.
      expect(dry.status, dry.error).toBe('ok');
      expect(dry.changes).toMatchObject({ changed: rows / 3 });
    }
    const before = hubspot.api.requests.length;
    expect((await run()).changes).toMatchObject({ added: 0, changed: 0 });
    expect(hubspot.api.requests.length).toBe(before);
  });
});

describe('first runs of two syncs that share a state schema, at once, on a PostgreSQL server', () => {
  const engine = scratchEngines.find((e) => e.name !== 'pglite');
  if (!engine) return it.skip('needs SYNCWRIGHT_TEST_PG_URL');

  // A run (not a dry run) first commits what a killed run left. The webhook sync's commit.sql
  // fails at once while the state schema is missing, and the session keeps the schema's name
  // cached as missing; an advisory lock waited for inside a transaction does not refresh that
  // cache, so CREATE SCHEMA IF NOT EXISTS, once the lock was had, made the schema a second time (a
  // duplicate key in pg_namespace). Now the wait is before the transaction begins.
  it.each([
    ['a dry run', true],
    ['a run', false],
  ])('make the state tables one at a time: the second (%s) waits for the first, then both run', async (_, dryRun) => {
    const db = await engine.open();
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    const billing = await startWebhook();
    try {
      await sql(db, seed);
      // The first run of another sync, between making the state schema and its commit.
      const hubspotChanges = readFileSync(join(build, sync, 'changes.sql'), 'utf8');
      await other.query(hubspotChanges.slice(0, hubspotChanges.search(/^COMMIT;$/m)));
      let done = false;
      const run = runSync(db, build, 'people_to_billing', { dryRun, endpoints: { billing: billing.api.url } }).finally(() => (done = true));
      const waiting = async () => {
        const {
          rows: [r],
        } = await other.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted AND a.datname = current_database()',
        );
        return (r?.n ?? 0) > 0;
      };
      expect(await pollUntil(waiting, () => done)).toBe(true);
      await other.query('COMMIT');
      const r = await run;
      expect(r.status, r.error).toBe('ok');
      expect(r.changes).toMatchObject({ added: rows });
      expect(billing.deliveries.flatMap((d) => d.body as unknown[])).toHaveLength(dryRun ? 0 : rows);
    } finally {
      await other.end();
      await billing.api.close();
      await db.drop();
    }
  });
});

/** Polls `check` until it holds (true) or `gaveUp` does (false); generous, and never a timing assertion. */
async function pollUntil(check: () => Promise<boolean>, gaveUp: () => boolean): Promise<boolean> {
  for (const end = Date.now() + 240_000; Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    if (await check()) return true;
    if (gaveUp()) return false;
  }
  return false;
}

describe('two runs of one sync on the embedded database', () => {
  let db: ScratchDb;
  let hubspot: FakeHubspot;
  beforeAll(async () => {
    db = await scratchEngines.find((e) => e.name === 'pglite')!.open();
    await sql(db, seed);
    hubspot = await startHubspot({ token: env.HUBSPOT_TOKEN });
  });
  afterAll(async () => {
    await hubspot.api.close();
    await db.drop();
  });

  it('the second waits for the folder, then finds nothing left to send', async () => {
    const held = gate();
    hubspot.api.failNext(fault.held(held.until));
    const run = () => runSync(db, build, sync, { env, endpoints: { crm: hubspot.api.url }, waitMs: 120_000 });
    const first = run();
    await until(() => hubspot.api.requests.length > 0);
    const second = run();
    held.open();
    const [a, b] = await Promise.all([first, second]);
    expect([a.status, b.status]).toEqual(['ok', 'ok']);
    expect([a.changes?.added, b.changes?.added]).toEqual([rows, 0]);
    expect(hubspot.records('contacts')).toHaveLength(rows);
    expect(sentTwice(hubspot)).toEqual([]);
  });
});

describe('a run that cannot have its sync', () => {
  let hubspot: FakeHubspot;
  beforeAll(async () => {
    ensureBuilt();
    hubspot = await startHubspot({ token: env.HUBSPOT_TOKEN });
  });
  afterAll(() => hubspot.api.close());

  const plan = join(build, sync, 'plan.json');
  const cli = (db: ScratchDb, args: string[]) => spawnRun(db, ['--plan', plan, '--endpoint', `crm=${hubspot.api.url}`, ...args], env);

  for (const engine of scratchEngines) {
    describe(engine.name, () => {
      let db: ScratchDb;
      /** Takes what a run of the sync needs on this engine (its advisory lock, or the embedded folder); returns the release. */
      let hold: () => Promise<() => Promise<void>>;
      beforeAll(async () => {
        db = await engine.open();
        await sql(db, seed);
        if (db.url) {
          const { key } = (JSON.parse(readFileSync(plan, 'utf8')) as { lock: { key: string } }).lock;
          hold = async () => {
            const c = new pg.Client({ connectionString: db.url });
            await c.connect();
            await c.query('SELECT pg_advisory_lock($1::bigint)', [key]);
            return () => c.end();
          };
        } else {
          // The lock file of a live process (this one) that is not the run's.
          hold = async () => {
            writeFileSync(`${db.folder}.lock`, String(process.pid), { flag: 'wx' });
            return async () => rmSync(`${db.folder}.lock`);
          };
        }
      });
      afterAll(() => db.drop());

      it('stops at once with exit code 4 and says why, sending nothing', async () => {
        const release = await hold();
        const sent = hubspot.api.requests.length;
        try {
          const r = await exited(cli(db, ['--wait', '0']));
          expect(r.code, r.stderr).toBe(4);
          expect(r.stdout).toMatch(
            db.url
              ? /another run of sync people_to_hubspot is in progress \(it holds advisory lock -?\d+ on postgres:\/\/\S+\); this run did not wait \(--wait 0\) and did nothing: run again later, or pass --wait SECONDS/
              : /the embedded database \S+ is in use by process \d+, and it takes one process at a time, whatever syncs they run; this run did not wait \(--wait 0\) and did nothing/,
          );
          expect(r.stderr).toMatch(/1 sync in .*: 1 busy \(another run holds it\)/);
          expect(hubspot.api.requests).toHaveLength(sent);
        } finally {
          await release();
        }
      });

      it('with --wait, says that it waits, and runs once the other run is done', async () => {
        const release = await hold();
        const child = cli(db, ['--wait', '120']);
        const done = exited(child);
        let stderr = '';
        child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
        await until(() => stderr.includes('waiting up to 120 s for it') || child.exitCode !== null);
        await release();
        const r = await done;
        expect(r.code, r.stderr).toBe(0);
        expect(r.stderr).toMatch(
          db.url
            ? /sync people_to_hubspot is being run by another process: waiting up to 120 s for it/
            : /the embedded database \S+ is in use by process \d+: waiting up to 120 s for it/,
        );
        expect(r.stdout).toContain(`upsert: ${rows}/${rows} accepted`);
      });
    });
  }

  it('runs of two syncs of one project, compiled from .sync files, do not wait for each other', async () => {
    const engine = scratchEngines.find((e) => e.name !== 'pglite');
    if (!engine) return;
    const db = await engine.open();
    const work = scratchFolder('syncwright-project-');
    const billing = await startWebhook();
    try {
      await sql(db, seed);
      // Another compile of this project into build/ of the working folder now: its lock, held
      // by this (living) process as a compile holds it.
      const home = openHome(join(work.dir, 'build'));
      const release = lockOutput(home, 'build');
      const project = join(repoRoot, 'test/fixtures/run/project');
      const [a, b] = await Promise.all(
        ['people_to_hubspot', 'people_to_billing'].map((name) =>
          exited(
            spawn(
              process.execPath,
              [
                join(repoRoot, 'bin/syncwright.js'),
                'run',
                project,
                '--sync',
                name,
                '--database',
                db.url as string,
                '--endpoint',
                `crm=${hubspot.api.url}`,
                '--endpoint',
                `billing=${billing.api.url}`,
              ],
              { cwd: work.dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
            ),
          ),
        ),
      );
      expect([a!.code, b!.code], a!.stdout + a!.stderr + b!.stdout + b!.stderr).toEqual([0, 0]);
      expect(b!.stdout).toContain(`post: ${rows}/${rows} accepted`);
      expect(readFileSync(join(home, 'lock'), 'utf8')).toBe(`${process.pid}\n`);
      release();
    } finally {
      await billing.api.close();
      work.remove();
      await db.drop();
    }
  });
});
