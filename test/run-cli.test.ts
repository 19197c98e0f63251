// `syncwright run` and `syncwright demo` through main(argv, io): output, the report file, exit
// codes, usage errors.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main.js';
import type { Io } from '../src/cli/output.js';
import { describeChanges } from '../src/cli/demo-command.js';
import { loadPlan } from '../src/run/plan-file.js';
import { execOptions, runPlans } from '../src/run/index.js';
import { startWebhook, type FakeWebhook } from './servers/webhook.js';
import { compileFixture, compileText, exited, repoRoot, sql } from './servers/run-harness.js';
import { ensureBuilt } from './support/build.js';
import { pgliteCopy } from './support/pglite-template.js';
import { loadedModules, loadedModulesHook } from './support/loaded-modules.js';
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
  /**
   * crm.people's rows, counted in the session of each change the tests make to them
   * (changePeople): only they change them, and a session of its own costs the embedded
   * database's open again.
   */
  let peopleRows = 0;
  const changePeople = async (script: string) => {
    peopleRows = Number((await sql(db, `${script}; SELECT count(*) AS n FROM crm.people`)).at(-1)?.[0]?.n);
  };

  beforeAll(async () => {
    build = await compileFixture('test/fixtures/run/project');
    db = scratchPglite();
    await changePeople(
      `CREATE SCHEMA crm; CREATE TABLE crm.people (id bigint PRIMARY KEY, email text NOT NULL, first_name text, plan text NOT NULL, score int NOT NULL);
      INSERT INTO crm.people SELECT g, 'user' || g || '@example.com', NULL, 'pro', g FROM generate_series(1, 30) g;
      -- The rows of the --sink - to a pipe test: a value equal to a variable's, a terminal control, a line break.
      CREATE TABLE crm.notes (id bigint PRIMARY KEY, body text NOT NULL);
      INSERT INTO crm.notes VALUES (1, 'owner: team-shared'), (2, E'red \\x1b[31m then \\u202b right to left'), (3, E'line one\\r\\nline two')`,
    );
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
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({
      reportVersion: 1,
      ok: true,
      plans: [{ sync: 'people_to_billing', dryRun: true, status: 'ok', changes: { added: 30 } }],
    });
  });

  it('a refused row exits 3, is listed with its reason, and is in the report', async () => {
    const report = join(work.dir, 'run.json');
    const r = await cli(['run', '--plan', plan(), '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`, '--report', report]);
    expect(r.code).toBe(3);
    expect(r.out).toContain('  post: 29/30 accepted, 1 refused');
    expect(r.out).toMatch(/ {2}rejected added 13 \(post\): HTTP 422: .*unlucky/);
    expect(r.err).toContain('1 sync in ');
    expect(r.err).toContain('1 with refused rows');
    const json = JSON.parse(readFileSync(report, 'utf8')) as {
      ok: boolean;
      plans: { status: string; committed: number; rejected: { key: string }[]; steps: { requests: number }[] }[];
    };
    expect(json.ok).toBe(false);
    expect(json.plans[0]).toMatchObject({ status: 'rejected', committed: 29, rejected: [{ key: '13', fate: 'rejected' }] });
  });

  it('--max-refused N or P%: a run within the bound exits 0, its refused rows still listed and sent again next run', async () => {
    const report = join(work.dir, 'within.json');
    const args = (max: string) => ['run', '--plan', plan(), '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`, '--max-refused', max];
    const within = await cli([...args('1'), '--report', report]);
    expect(within.code, within.err).toBe(0);
    expect(within.out).toMatch(/ {2}rejected added 13 \(post\): HTTP 422: .*unlucky/);
    expect(within.err).toContain('1 with refused rows (1 within --max-refused)');
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({
      ok: true,
      exitCode: 0,
      plans: [{ status: 'rejected', refusedWithinLimit: true, rejectedTotal: 1 }],
    });
    // The one row left is the whole of this run's rows: 100%.
    expect((await cli(args('100%'))).code).toBe(0);
    expect((await cli(args('99.5%'))).code).toBe(3);
    expect((await cli(args('0'))).code).toBe(3);
  });

  it('compiles and runs the syncs named, from .sync files', async () => {
    billing.options.reject = undefined;
    const r = await cli([
      'run',
      'test/fixtures/run/project',
      '--out',
      join(work.dir, 'build'),
      '--sync',
      'people_to_billing',
      '--db',
      db.folder as string,
      '--endpoint',
      `billing=${billing.api.url}`,
    ]);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toContain('  post: 1/1 accepted, 1 request');
    expect(r.err).toContain('compiled 11 syncs');
  });

  it('plans only the syncs named when it keeps no output, and refuses a name the project lacks before it runs or writes anything', async () => {
    billing.options.reject = undefined;
    const args = (...more: string[]) => ['run', 'test/fixtures/run/project', ...more, '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`];
    const r = await cli(args('--sync', 'people_to_billing'));
    expect(r.code, r.out + r.err).toBe(0);
    // The other ten syncs are checked (an error in any stops the run) but not planned.
    expect(r.err).toMatch(/^people_to_billing +billing \(webhook\) /m);
    expect(r.err).toContain('compiled 1 of 11 syncs\n');
    expect(r.out).toMatch(/people_to_billing/);
    const out = join(work.dir, 'never-written');
    for (const more of [[], ['--out', out]]) {
      const unknown = await cli(args(...more, '--sync', 'people_to_billing', '--sync', 'nope', '--sync', 'nope'));
      expect(unknown.code).toBe(2);
      expect(unknown.err).toContain('no sync named nope; the project has paying_to_meta, ');
    }
    expect(existsSync(out)).toBe(false);
    // A sync of the project with an error stops the run of another, with the cache and without it.
    const broken = join(work.dir, 'broken');
    cpSync('test/fixtures/run/project', broken, { recursive: true });
    writeFileSync(join(broken, 'more.sync'), 'sync people_again { from people  to billing path "/x"  mode insert  identifier nope -> id }\n');
    for (const more of [[], ['--no-cache'], []]) {
      const stopped = await cli(
        ['run', '--sync', 'people_to_billing', ...more, '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`],
        broken,
      );
      expect(stopped.code, stopped.out + stopped.err).toBe(1);
      expect(stopped.err).toMatch(/^error\[SW\d+\].*`nope`/m);
    }
  });

  it('with --sync and no --out, checks resuming from the cache check keeps, and keeps it there (--no-cache: neither)', async () => {
    billing.options.reject = undefined;
    const dir = join(work.dir, 'cached');
    cpSync('test/fixtures/run/project', dir, { recursive: true });
    const args = (...more: string[]) => [
      'run',
      '--sync',
      'people_to_billing',
      ...more,
      '--db',
      db.folder as string,
      '--endpoint',
      `billing=${billing.api.url}`,
    ];
    expect((await cli(args('--no-cache'), dir)).code).toBe(0);
    expect(existsSync(join(dir, '.syncwright', 'check'))).toBe(false);
    const first = await cli(args(), dir);
    expect(first.code, first.out + first.err).toBe(0);
    // The cache `syncwright check` of the same folder keeps: a warning put in it for a file not changed since is reported as the check's own.
    const folder = join(dir, '.syncwright', 'check');
    const [name] = readdirSync(folder).filter((f) => f.endsWith('.json'));
    const kept = JSON.parse(readFileSync(join(folder, name!), 'utf8')) as { outline: { files: { path: string; diagnostics: object[] }[] } };
    const span = { file: 'sources.sync', line: 1, column: 1, offset: 0, endLine: 1, endColumn: 2, endOffset: 1 };
    kept.outline.files.find((f) => f.path === 'sources.sync')!.diagnostics.push({ code: 'SW0205', severity: 'warning', message: 'planted', hints: [], span });
    writeFileSync(join(folder, name!), JSON.stringify(kept));
    const resumed = await cli(args(), dir);
    expect(resumed.code, resumed.out + resumed.err).toBe(0);
    expect(resumed.err).toContain('planted');
    expect(resumed.err).toContain('compiled 1 of 11 syncs\n');
    expect((await cli(['check'], dir)).err).toContain('planted');
    expect((await cli(args('--no-cache'), dir)).err).not.toContain('planted');

    // A cache whose outline does not match a file the sync named reads (its model's extent, one character longer), found out
    // only when that file's tree is read: the whole project is checked instead, the run goes on, and the cache is made anew.
    rmSync(join(folder, name!));
    const fresh = await cli(['check'], dir);
    const good = readFileSync(join(folder, name!), 'utf8');
    expect(good).not.toContain('planted');
    const outline = JSON.parse(good) as { outline: { files: { path: string; entries: [string, string, number, number, unknown][] }[] } };
    const entry = outline.outline.files.find((f) => f.path === 'models.sync')!.entries[0]!;
    entry[3] += 1;
    writeFileSync(join(folder, name!), JSON.stringify(outline));
    const mended = await cli(args(), dir);
    expect(mended.code, mended.out + mended.err).toBe(0);
    expect(mended.err).toContain('compiled 1 of 11 syncs\n');
    expect(readFileSync(join(folder, name!), 'utf8')).toBe(good);
    expect(await cli(['check'], dir)).toEqual(fresh);
  });

  it('refuses bad options with a usage error (exit 2) before anything runs', async () => {
    expect((await cli(['run', '--plan', plan(), '--endpoint', 'billing'])).code).toBe(2);
    const unknown = await cli(['run', 'test/fixtures/run/project', '--out', join(work.dir, 'build2'), '--sync', 'nope', '--db', db.folder as string]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('no sync named nope; the project has paying_to_meta, ');
    const file = join(work.dir, 'a-file');
    writeFileSync(file, '');
    const fresh = join(work.dir, 'never-created');
    const bad: [string[], string][] = [
      [['--concurrency', 'abc'], '--concurrency takes a whole number from 1 to 1000'],
      [['--concurrency', '0'], '--concurrency takes a whole number from 1 to 1000, not 0'],
      [['--concurrency', '1.5'], '--concurrency takes a whole number from 1 to 1000, not 1.5'],
      [['--timeout', '-1'], '--timeout takes a number from 0.001 to 3600, not -1'],
      [['--timeout', 'abc'], '--timeout takes a number from 0.001 to 3600'],
      [['--timeout', '1e12'], '--timeout takes a number from 0.001 to 3600, not 1000000000000'],
      [['--wait', '-5'], '--wait takes a number from 0 to 86400, not -5'],
      [['--max-refused', 'some'], '--max-refused takes a count of rows (5) or a percentage (0.5%), not "some"'],
      [['--max-refused', '101%'], '--max-refused takes a number from 0 to 100, not 101'],
      [['--report', '/nonexistent/r.json'], '--report /nonexistent/r.json: its folder does not exist'],
      [['--report', work.dir], `--report ${work.dir}: it is a folder`],
      [['--endpoint', 'hook=ftp://files.example.com'], '--endpoint hook= must be a http:// or https:// URL, not ftp://'],
      // Kept: its origin and path. The credentials and query were dropped (a tenant's key: another tenant), the password printed.
      [['--endpoint', 'hook=http://proxy:pw@127.0.0.1:9/in'], '--endpoint hook= has credentials in its URL'],
      [['--endpoint', 'hook=http://127.0.0.1:9/in?code=k&tenant=b'], '--endpoint hook= has a query or fragment, which the run would drop'],
      [['--database', 'mysql://u:pw@db.example.com/x'], '--database must be a postgres:// or postgresql:// URL, not mysql://'],
      [['--sink', file], `--sink ${file} is a file, not a folder`],
      // An unset variable, a negated or repeated option: taken as absent or as one of them, each ran something else than asked.
      [['--sink', ''], 'an argument is empty ("") (after --sink)'],
      [['--report', ''], 'an argument is empty ("") (after --report)'],
      [['--endpoint='], '--endpoint is given an empty value'],
      [['--sync', 'people_to_billing', ''], 'an argument is empty ("") (after people_to_billing)'],
      // An option with no value after it: yargs' empty string, the working folder as the sink; [] for --sync, every sync.
      [['--sink'], 'Not enough arguments following: sink'],
      [['--sync', '--dry-run'], 'Not enough arguments following: sync'],
      [['--format', 'json', '--format', 'text'], '--format is given more than once'],
      [['--no-wait'], '--no-wait is not an option: --wait takes a value'],
      [['--database', 'postgres://127.0.0.1:9/a', '--database', 'postgres://127.0.0.1:9/b'], '--database gives two URLs without a name'],
      // Beside the billing= every case is given.
      [['--endpoint', 'billing=http://127.0.0.1:9'], '--endpoint names billing twice'],
      [['--sink.a', 'b'], 'Unknown argument: sink.a'],
      [['-'], 'a lone - (stdin) is not read here: a file of that name is ./-'],
      [['--', 'people_to_billing'], 'arguments after -- are not read: people_to_billing (a path that starts with - is written ./-x)'],
      [['--no-sink'], '--no-sink is not an option: --sink takes a value'],
      [['--sink', work.dir, '--sink', '-'], '--sink is given more than once'],
    ];
    for (const [args, message] of bad) {
      const r = await cli(['run', '--plan', plan(), '--db', fresh, '--endpoint', `billing=${billing.api.url}`, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(`syncwright: ${message}`);
      expect(r.err).not.toContain('pw@');
    }
    // A misspelt name would leave the rows going to the real address, or the default database.
    const requests = billing.api.requests.length;
    for (const [option, value] of [
      ['--endpoint', `bilingg=${billing.api.url}`],
      ['--database', 'warehuose=postgres://127.0.0.1:9/x'],
    ] as const) {
      const r = await cli(['run', '--plan', plan(), '--db', db.folder as string, option, value]);
      expect([r.code, r.err]).toEqual([
        2,
        `syncwright: ${option} ${value.split('=')[0]}=: the project has no source or destination named ${value.split('=')[0]}; it has ads, analytics, billing, bus, chat, crm, hook, lake, warehouse\nRun 'syncwright --help' for usage.`,
      ]);
    }
    // From .sync files, as from a plan beside its manifest: any of the project's names, whichever syncs run.
    // Run from a folder whose manifest.json, of another build, has the name: the plans compiled in memory are not that build's.
    const elsewhere = join(work.dir, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'manifest.json'), JSON.stringify({ syncs: [{ source: { name: 'warehouse' }, destination: { name: 'bilingg' } }] }));
    ensureBuilt();
    const child = spawn(
      process.execPath,
      [
        join(repoRoot, 'bin', 'syncwright.js'),
        'run',
        join(repoRoot, 'test/fixtures/run/project'),
        '--sync',
        'people_to_billing',
        '--db',
        fresh,
        '--endpoint',
        `crm=${billing.api.url}`,
        '--endpoint',
        'bilingg=http://127.0.0.1:9',
      ],
      { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const typo = await exited(child);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(
      "syncwright: --endpoint bilingg=: the project has no source or destination named bilingg; it has ads, analytics, billing, bus, chat, crm, hook, lake, warehouse\nRun 'syncwright --help' for usage.",
    );
    // A name of another kind: the override would be ignored, and the rows go where the plan says.
    for (const [option, value, message] of [
      [
        '--database',
        'bus=postgres://127.0.0.1:9/x',
        'bus is kafka, which --database does not point elsewhere: it names Postgres sources and destinations; --endpoint points others elsewhere',
      ],
      [
        '--endpoint',
        'warehouse=http://127.0.0.1:9',
        "warehouse is postgres, which --endpoint does not point elsewhere: a Postgres one takes --database NAME=URL, and a Kafka one's brokers setting says where it sends",
      ],
      [
        '--endpoint',
        'bus=http://127.0.0.1:9',
        "bus is kafka, which --endpoint does not point elsewhere: a Postgres one takes --database NAME=URL, and a Kafka one's brokers setting says where it sends",
      ],
    ] as const) {
      const r = await cli(['run', '--plan', plan(), '--db', db.folder as string, option, value]);
      expect([r.code, r.err]).toEqual([2, `syncwright: ${option} ${value.split('=')[0]}=: ${message}\nRun 'syncwright --help' for usage.`]);
    }
    expect(billing.api.requests).toHaveLength(requests);
    process.env.DATABASE_URL = 'localhost:5432/app';
    try {
      const r = await cli(['run', '--plan', plan(), '--db', fresh]);
      expect([r.code, r.err]).toEqual([
        2,
        "syncwright: DATABASE_URL must be a postgres:// or postgresql:// URL, not localhost://\nRun 'syncwright --help' for usage.",
      ]);
    } finally {
      delete process.env.DATABASE_URL;
    }
    expect(existsSync(fresh)).toBe(false);
  });

  it('a plan that is not there fails the run (exit 6), naming it', async () => {
    const r = await cli(['run', '--plan', join(work.dir, 'missing', 'plan.json'), '--db', db.folder as string]);
    expect(r.code).toBe(6);
    // Its path alone heads it: it names no destination nor mode.
    expect(r.out).toContain(`${join(work.dir, 'missing', 'plan.json')}\n  failed: cannot read ${join(work.dir, 'missing', 'plan.json')}: ENOENT`);
  });

  it('a guard that stops a sync exits 5, and a failure beside it wins (6)', async () => {
    const sink = join(work.dir, 'sink');
    const lake = ['--plan', join(build, 'people_to_lake', 'plan.json'), '--db', db.folder as string, '--sink', sink];
    expect((await cli(['run', ...lake])).code).toBe(0);
    await changePeople('DELETE FROM crm.people WHERE id > 10');
    const r = await cli(['run', ...lake]);
    expect(r.code).toBe(5);
    expect(r.out).toContain("failed: guard: 20 deletes are 66.7% of the 30 records synced, above the guard's 50%; nothing was sent");
    expect(r.err).toContain('1 sync in ');
    expect(r.err).toContain('1 stopped by a guard');
    expect((await cli(['run', ...lake, '--plan', join(work.dir, 'missing', 'plan.json')])).code).toBe(6);
  });

  it('--sink -, as the docs write it, prints the objects on stdout and sends nothing to the service', async () => {
    // yargs reads a lone `-` as a path: the sink was empty, and the run wrote to S3 itself.
    const r = await cli(['run', '--plan', join(build, 'people_to_lake_log', 'plan.json'), '--db', db.folder as string, '--sink', '-']);
    expect(r.code, r.out).toBe(0);
    const lines = r.out.split('\n');
    const object = lines.findIndex((l) => /^--- s3:\/\/acme-lake\/log\/people\/.+/.test(l));
    expect(object, r.out).toBeGreaterThanOrEqual(0);
    expect(lines[object + 1]).toBe('{"id":"1","email":"user1@example.com"}');
    const sent = lines.filter((l) => l.startsWith('{"id":')).length;
    expect(sent).toBeGreaterThan(0);
    expect(r.out).toContain(`committed ${sent} rows`);
  });

  it('takes names a JavaScript object has (__proto__, constructor) for --database and --endpoint as any other', async () => {
    const odd = await compileText(`source __proto__ : postgres { database "app" version 15 }
model people { from __proto__ table crm.people primary key id columns { id bigint email string } }
destination constructor : webhook { url "https://billing.example.com/v2" batch true }
sync people_to_constructor { from people to constructor mode insert identifier id -> person_id map { email -> email } }`);
    const args = ['run', '--plan', join(odd, 'people_to_constructor', 'plan.json'), '--db', db.folder as string, '--dry-run'];
    const requests = billing.api.requests.length;
    // Each given once, and used: the endpoint's, the database's URL (a closed port).
    const endpoint = await cli([...args, '--endpoint', `constructor=${billing.api.url}`]);
    expect(endpoint.code, endpoint.err).toBe(0);
    const database = await cli([...args, '--database', '__proto__=postgres://127.0.0.1:9/x']);
    expect(database.code).toBe(6);
    expect(database.out).toContain('127.0.0.1:9');
    // Without one, the source's SQL runs on the embedded database, as a source of another name's would.
    const r = await cli(args);
    expect(r.code, r.out + r.err).toBe(0);
    expect(r.out).toMatch(/change set: [1-9]\d* added/);
    expect(billing.api.requests).toHaveLength(requests);
    // A library caller's plain objects (no --database, no --endpoint): the same.
    const report = await runPlans(
      [join(odd, 'people_to_constructor', 'plan.json')],
      { byName: {}, folder: db.folder as string, embedded: true },
      execOptions({ dryRun: true }),
    );
    expect(report.plans[0]?.status, report.plans[0]?.error).toBe('ok');
  });

  it('--plan at a device (a plan.json linked to /dev/zero) fails that plan at once, as a plan it cannot read', () => {
    ensureBuilt();
    const zero = join(work.dir, 'zero');
    mkdirSync(zero);
    symlinkSync('/dev/zero', join(zero, 'plan.json'));
    // Reading /dev/zero never ends: the run must refuse it, not read it.
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'syncwright.js'), 'run', '--plan', join(zero, 'plan.json'), '--db', db.folder as string], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout).toContain(`failed: cannot read ${join(zero, 'plan.json')}: a device or socket, not a file`);
    expect(r.status).toBe(6);
    // A SQL file the plan names, linked to a device: refused too, and said so (it is beside the plan).
    const named = join(work.dir, 'named');
    cpSync(join(build, 'people_to_billing'), named, { recursive: true });
    rmSync(join(named, 'changes.sql'));
    symlinkSync('/dev/zero', join(named, 'changes.sql'));
    expect(() => loadPlan(join(named, 'plan.json'))).toThrow(
      `${join(named, 'plan.json')} names changes.sql, which cannot be read: a device or socket, not a file`,
    );
  });

  it('--sink - to a pipe writes the rows as they are: a value equal to a variable the plan names was redacted, a control character escaped, and both committed so', async () => {
    ensureBuilt();
    // crm.notes: made with crm.people, before the tests.
    const notes = await compileText(`source warehouse : postgres { database "app" version 15 }
model notes { from warehouse table crm.notes primary key id columns { id bigint body string } }
destination lake : s3 { bucket "acme-lake" region "us-east-1" access_key_id env("LAKE_KEY_ID") secret_access_key env("LAKE_SECRET") }
sync notes_to_lake { from notes to lake path "notes" mode insert identifier id -> id map { body -> body } format csv }`);
    const args = ['run', '--plan', join(notes, 'notes_to_lake', 'plan.json'), '--db', db.folder as string, '--sink', '-'];
    const env = { ...process.env, LAKE_KEY_ID: 'AKIAABCDEFGHIJKLMNOP', LAKE_SECRET: 'team-shared' };
    const r = await exited(spawn(process.execPath, [join(repoRoot, 'bin', 'syncwright.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env }));
    expect(r.code, r.stderr).toBe(0);
    // The object byte for byte as a folder holds it (csv: CRLF line ends, a line break inside a value kept).
    const object = r.stdout.slice(r.stdout.indexOf('\n', r.stdout.indexOf('--- s3://acme-lake/notes/')) + 1);
    expect(
      object.startsWith('id,body\r\n1,owner: team-shared\r\n2,red \x1b[31m then \u202b right to left\r\n3,"line one\r\nline two"\r\n'),
      JSON.stringify(object),
    ).toBe(true);
  });

  it('--sink - whose reader has left: the messages count as unsent (exit 3, no stack trace), and the next run sends them all', async () => {
    ensureBuilt();
    const bus = ['--plan', join(build, 'people_to_bus', 'plan.json'), '--db', db.folder as string];
    const people = peopleRows;
    expect(people).toBeGreaterThan(0);
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'syncwright.js'), 'run', ...bus, '--sink', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the run starts: its first write to stdout fails (EPIPE).
    child.stdout.destroy();
    const r = await exited(child);
    // A failed batch: its rows are not committed, and are sent again next run.
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toContain(`kafka: 0 messages, ${people} refused`);
    expect(r.stderr).not.toMatch(/node:events|\n\s+at /);
    const sink = join(work.dir, 'bus-sink');
    mkdirSync(sink);
    expect((await cli(['run', ...bus, '--sink', sink])).code).toBe(0);
    expect(
      readFileSync(join(sink, 'kafka', 'people.jsonl'), 'utf8')
        .trimEnd()
        .split('\n'),
    ).toHaveLength(people);
  });

  it('a run whose stderr reader has left goes on to the end: its report is written, and it exits 0', async () => {
    ensureBuilt();
    const report = join(work.dir, 'no-stderr.json');
    const args = ['run', '--plan', plan(), '--db', db.folder as string, '--endpoint', `billing=${billing.api.url}`, '--dry-run', '--report', report];
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'syncwright.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before the run starts: its first line of progress fails (EPIPE), and so would every later one.
    child.stderr.destroy();
    const r = await exited(child);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toContain('people_to_billing -> billing (webhook), record insert, dry run');
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ ok: true, plans: [{ sync: 'people_to_billing', status: 'ok' }] });
  });

  it('runs a compiled plan without loading what it does not use: Handlebars (the plan has no message) and the Postgres client (the embedded database)', async () => {
    ensureBuilt();
    const child = spawn(
      process.execPath,
      [
        ...loadedModulesHook(work.dir),
        join(repoRoot, 'bin', 'syncwright.js'),
        'run',
        '--plan',
        plan(),
        '--db',
        db.folder as string,
        '--endpoint',
        `billing=${billing.api.url}`,
        '--dry-run',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const r = await exited(child);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('people_to_billing -> billing (webhook), record insert, dry run');
    expect(loadedModules(r.stderr).modules.filter((k) => /\/node_modules\/(handlebars|pg)\//.test(k))).toEqual([]);
  });

  it("keeps the embedded database its owner's alone (folders 0700, files 0600), whatever the umask", async () => {
    ensureBuilt();
    const folder = join(work.dir, 'private-db');
    // An older folder, world-writable, is fixed when opened too.
    mkdirSync(folder, { mode: 0o777 });
    chmodSync(folder, 0o777);
    writeFileSync(join(folder, 'stray'), '', { mode: 0o666 });
    chmodSync(join(folder, 'stray'), 0o666);
    const child = spawn(
      '/bin/sh',
      ['-c', 'umask 000 && exec "$@"', 'sh', process.execPath, join(repoRoot, 'bin', 'syncwright.js'), 'run', '--plan', plan(), '--db', folder, '--dry-run'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const r = await exited(child);
    // A new database, created by this run under umask 000: the model's table is not in it.
    expect(r.code, r.stderr).toBe(6);
    expect(r.stdout).toContain(
      `failed: sync people_to_billing: crm.people does not exist in the embedded database ${folder}; pass --database or set DATABASE_URL to run on the database that has it`,
    );
    const open: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, e.name);
        if ((statSync(path).mode & 0o077) !== 0) open.push(path);
        if (e.isDirectory()) walk(path);
      }
    };
    walk(folder);
    expect(statSync(folder).mode & 0o777).toBe(0o700);
    expect(readdirSync(folder, { recursive: true }).length).toBeGreaterThan(100);
    expect(open).toEqual([]);
  });
});

describe('syncwright demo', () => {
  it('runs three rounds on the bundled example, and the last sends nothing', async () => {
    const home = scratchFolder('syncwright-demo-');
    try {
      // The demo's database as its first open makes it (an initdb, seconds; the umask test above
      // is the one of the first open itself).
      mkdirSync(join(home.dir, '.syncwright', 'demo'), { recursive: true });
      pgliteCopy(join(home.dir, '.syncwright', 'demo', 'db'));
      const r = await cli(['demo'], home.dir);
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain(
        'The CRM received 1 request with 5 new paying customers: Ada Lovelace, Alan Turing, Edsger Dijkstra, Donald Knuth, Margaret Hamilton.',
      );
      expect(r.out).toContain('apply.sql: inserted 1, updated 2, deleted 1,');
      expect(r.out).toContain('The CRM received 1 request with 2 new paying customers: Grace Hopper, Frances Allen.');
      expect(r.out.split('3. Nothing changed since')[1]).toContain('The CRM received no request.');
    } finally {
      home.remove();
    }
  });

  it("describes the demo's changes from the comments of changes.sql", () => {
    expect(describeChanges('UPDATE t SET a = 1;  -- Ada upgrades\n-- a heading\nDELETE FROM t; -- Bob leaves\n')).toEqual(['Ada upgrades', 'Bob leaves']);
  });
});
