// `syncwright run` and `syncwright demo` through main(argv, io): output, the report file, exit
// codes, usage errors.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { describeChanges } from '../src/cli/demo-command.js';
import { startWebhook, type FakeWebhook } from './servers/webhook.js';
import { compileFixture, repoRoot, sql } from './servers/run-harness.js';
import { scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';

async function cli(argv: string[], cwd = repoRoot): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), colour: false, cwd };
  const code = await main(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('syncwright run', () => {
  let db: ScratchDb;
  let billing: FakeWebhook;
  let build: string;
  const work = scratchFolder();

  beforeAll(async () => {
    build = await compileFixture('test/fixtures/run/project');
    db = scratchPglite();
    await sql(db, `CREATE SCHEMA crm; CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
      INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(1, 30) g;`);
    billing = await startWebhook({ reject: (b) => (JSON.stringify(b).includes('"person_id":"13"') ? 'unlucky' : undefined) });
  });
  afterAll(async () => {
    await billing.api.close();
    await db.drop();
    work.remove();
  });

  const plan = () => join(build, 'people_to_billing', 'plan.json');

  it('a dry run prints counts and payloads, writes a report, exits 0 and sends nothing', async () => {
    const report = join(work.dir, 'dry.json');
    const r = await cli(['run', '--plan', plan(), '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`, '--dry-run', '--report', report]);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('people_to_billing -> billing (webhook), record insert, dry run');
    expect(r.out).toContain('  change set: 30 added, 0 changed, 0 removed, 0 unchanged');
    expect(r.out).toContain('  post: would send 30 rows');
    expect(r.out).toContain('"record":{"person_id":"1","email":"user1@example.com","score":1}');
    expect(billing.api.requests).toHaveLength(0);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ reportVersion: 1, ok: true, plans: [{ sync: 'people_to_billing', dryRun: true, status: 'ok', changes: { added: 30 } }] });
  });

  it('a refused row exits 3, is listed with its reason, and is in the report', async () => {
    const report = join(work.dir, 'run.json');
    const r = await cli(['run', '--plan', plan(), '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`, '--report', report]);
    expect(r.code).toBe(3);
    expect(r.out).toContain('  post: 29/30 accepted, 1 refused');
    expect(r.out).toMatch(/ {2}rejected added 13 \(post\): HTTP 422: .*unlucky/);
    expect(r.err).toContain('1 sync in ');
    expect(r.err).toContain('1 with refused rows');
    const json = JSON.parse(readFileSync(report, 'utf8')) as { ok: boolean; plans: { status: string; committed: number; rejected: { key: string }[]; steps: { requests: number }[] }[] };
    expect(json.ok).toBe(false);
    expect(json.plans[0]).toMatchObject({ status: 'rejected', committed: 29, rejected: [{ key: '13', fate: 'rejected' }] });
  });

  it('compiles and runs the syncs named, from .sync files', async () => {
    billing.options.reject = undefined;
    const r = await cli(['run', 'test/fixtures/run/project', '--out', join(work.dir, 'build'), '--sync', 'people_to_billing', '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('  post: 1/1 accepted, 1 request');
    expect(r.err).toContain('compiled 11 syncs');
  });

  it('refuses bad options with a usage error (exit 2)', async () => {
    expect((await cli(['run', '--plan', plan(), '--endpoint', 'billing'])).code).toBe(2);
    const unknown = await cli(['run', 'test/fixtures/run/project', '--out', join(work.dir, 'build2'), '--sync', 'nope', '--db', db.folder as string]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no sync named nope; the project has paying_to_meta, ');
  });

  it('a plan that is not there fails the run, naming it', async () => {
    const r = await cli(['run', '--plan', join(work.dir, 'missing', 'plan.json'), '--db', db.folder as string]);
    expect(r.code).toBe(6);
    expect(r.out).toContain(`failed: cannot read ${join(work.dir, 'missing', 'plan.json')}: ENOENT`);
  });
});

describe('syncwright demo', () => {
  it('runs three rounds on the bundled example in seconds, and the last sends nothing', async () => {
    const home = scratchFolder('syncwright-demo-');
    try {
      const started = performance.now();
      const r = await cli(['demo'], home.dir);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain('The CRM received 1 request with 5 new paying customers: Ada Lovelace, Alan Turing, Edsger Dijkstra, Donald Knuth, Margaret Hamilton.');
      expect(r.out).toContain('apply.sql: inserted 1, updated 2, deleted 1,');
      expect(r.out).toContain('The CRM received 1 request with 2 new paying customers: Grace Hopper, Frances Allen.');
      expect(r.out.split('3. Nothing changed since')[1]).toContain('The CRM received no request.');
      expect(performance.now() - started).toBeLessThan(60_000);
    } finally {
      home.remove();
    }
  });

  it('describes the demo\'s changes from the comments of changes.sql', () => {
    expect(describeChanges("UPDATE t SET a = 1;  -- Ada upgrades\n-- a heading\nDELETE FROM t; -- Bob leaves\n")).toEqual(['Ada upgrades', 'Bob leaves']);
  });
});
