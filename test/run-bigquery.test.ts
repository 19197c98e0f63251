// examples/events-pipeline through `syncwright run` on BigQuery: a local server that follows
// BigQuery's REST contract (test/servers/bigquery.ts), reached by the official client with an
// external-account credential file, runs the Postgres twin of every statement it is sent on
// PGlite (the same project compiled with its source switched to Postgres).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPgliteSession } from '../src/run/engines/pglite-session.js';
import type { Plan } from '../src/contract/plan.js';
import { FakeBigQuery } from './servers/bigquery.js';
import { adcFile, teach } from './servers/bigquery-twin.js';
import { cli, compileFixture, repoRoot, until } from './servers/run-harness.js';
import { scratchFolder } from './servers/scratch-db.js';
import { ensureBuilt } from './support/build.js';
import { FakeSlack } from './servers/slack.js';
import { FakeWebhook } from './servers/webhook.js';

const example = join(repoRoot, 'examples', 'events-pipeline');

/** The example's source and SQL models, for Postgres: the twin project. */
const twinSources = `source bq : postgres {\n  database     "events"\n  state_schema "syncwright_state"\n}\n`;
function twinModels(): string {
  let text = readFileSync(join(example, 'models.sync'), 'utf8');
  text = text.replace('`pulse-analytics-prod`.events.fct_app_events', 'events.fct_app_events');
  const sql = (model: string, body: string) => {
    text = text.replace(new RegExp(`(model ${model} \\{[^]*?sql """)[^]*?(""")`), `$1\n${body}\n  $2`);
  };
  sql(
    'daily_active_users',
    `select user_id || ':' || cast(activity_date as text) as user_day_key, user_id, activity_date, platform,
       count(distinct session_id) as sessions, count(*) as events
     from (select *, cast(occurred_at as date) as activity_date from events.fct_app_events) e
     where user_id is not null and occurred_at >= now() - interval '30 days'
     group by user_id, activity_date, platform`,
  );
  sql(
    'scored_logins',
    `select l.login_id, l.user_id, l.ip_address, l.country, l.user_agent, l.attempted_at, l.succeeded, s.risk_score, s.failed_attempts_1h
     from events.fct_login_attempts l join ml.login_risk_scores s using (login_id)
     where l.attempted_at >= now() - interval '1 day'`,
  );
  sql(
    'error_spikes',
    `select spike_id, service, environment, error_count_15m, baseline_15m, window_start, sample_message, runbook_url
     from ops.error_spikes where window_start >= now() - interval '2 hours'`,
  );
  return text;
}

const seed = `
CREATE SCHEMA events; CREATE SCHEMA ops;
CREATE TABLE events.fct_app_events (event_id text, event_name text, user_id text, anonymous_id text, session_id text, platform text, "appVersion" text, country text, properties jsonb, occurred_at timestamptz, received_at timestamptz);
INSERT INTO events.fct_app_events SELECT 'e' || i, 'view', 'u' || (i % 7), 'a' || i, 's' || (i % 11), CASE WHEN i % 2 = 0 THEN 'web' ELSE 'ios' END, '1.0', 'DE', '{"k": 1}', now() - make_interval(hours => i % 48), now() FROM generate_series(1, 300) i;
CREATE TABLE events.fct_enterprise_signups (workspace_id text, workspace_name text, admin_email text, seats_requested int, region text, sso_requested bool, signed_up_at timestamptz);
INSERT INTO events.fct_enterprise_signups VALUES ('w1', 'Acme "Labs"', 'ops@acme.test', 40, 'eu', true, now()), ('w2', 'Globex', 'it@globex.test', 15, 'us', false, now());
CREATE TABLE ops.error_spikes (spike_id text, service text, environment text, error_count_15m int, baseline_15m float8, window_start timestamptz, sample_message text, runbook_url text);
INSERT INTO ops.error_spikes VALUES ('sp1', 'api', 'prod', 120, 4.5, now(), 'timeout <b>', 'https://runbooks.test/api');
`;

describe('examples/events-pipeline on BigQuery (a local REST server, its statements run as their Postgres twins)', () => {
  const subject = 'subject-token-0123456789';
  let engine: PGlite;
  let bq: FakeBigQuery;
  let slack: FakeSlack;
  let hook: FakeWebhook;
  let env: Record<string, string>;
  let args: string[];
  let build: string;
  const db = scratchFolder('syncwright-appdb-');
  const syncs = ['enterprise_signups_to_provisioning', 'error_spikes_to_slack', 'daily_active_users_to_app_db'];

  beforeAll(async () => {
    engine = await PGlite.create();
    await engine.exec(seed);
    bq = await new FakeBigQuery(engine, 'pulse-analytics-prod', 'US', subject).start();
    slack = await new FakeSlack({ token: 'xoxb-test-token' }).start();
    hook = await new FakeWebhook({ secret: 'whsec-provisioning' }).start();
    const twin = scratchFolder('syncwright-twin-').dir;
    cpSync(example, twin, { recursive: true });
    writeFileSync(join(twin, 'sources.sync'), twinSources);
    writeFileSync(join(twin, 'models.sync'), twinModels());
    const [bqBuild, pgBuild] = await Promise.all([compileFixture(example), compileFixture(twin)]);
    build = bqBuild;
    for (const sync of syncs) teach(bq, bqBuild, pgBuild, sync);
    const app = await openPgliteSession(db.dir);
    await app.script(
      'CREATE SCHEMA analytics; CREATE TABLE analytics.daily_active_users (user_day_key text PRIMARY KEY, user_id text, activity_date date, platform text, sessions int, events bigint)',
    );
    await app.close();
    env = { GOOGLE_APPLICATION_CREDENTIALS: adcFile(bq, subject), SLACK_BOT_TOKEN: 'xoxb-test-token', PROVISIONING_WEBHOOK_SECRET: 'whsec-provisioning' };
    args = [
      'run',
      example,
      ...syncs.flatMap((s) => ['--sync', s]),
      '--endpoint',
      `bq=${bq.api.url}`,
      '--endpoint',
      `slack=${slack.api.url}`,
      '--endpoint',
      `provisioning=${hook.api.url}`,
      '--db',
      db.dir,
    ];
  }, 120_000);
  afterAll(async () => {
    await Promise.all([bq?.api.close(), slack?.api.close(), hook?.api.close()]);
    await engine?.close();
  });

  const appRows = async () => {
    const app = await openPgliteSession(db.dir);
    try {
      return (await app.query<{ n: string }>('SELECT count(*)::text AS n FROM analytics.daily_active_users'))[0]?.n;
    } finally {
      await app.close();
    }
  };

  it('first run, unchanged rerun (nothing sent), changed rerun', async () => {
    // One jobs.insert answered 403 rateLimitExceeded: the client retries it, and the job runs once.
    let throttled = 0;
    bq.api.failWhen((req) =>
      req.method === 'POST' && req.path.endsWith('/jobs') && throttled++ === 3
        ? {
            kind: 'status',
            status: 403,
            body: { error: { code: 403, message: 'Exceeded rate limits', errors: [{ reason: 'rateLimitExceeded', message: 'Exceeded rate limits' }] } },
          }
        : undefined,
    );
    const first = await cli(args, env);
    expect(first.code, first.out).toBe(0);
    expect(bq.refused).toEqual([]);
    expect(bq.api.requests.filter((r) => r.fault)).toHaveLength(1);
    expect(hook.deliveries.map((d) => (d.body as { workspace: { id: string } }).workspace.id).sort()).toEqual(['w1', 'w2']);
    expect(slack.messages.map((m) => m.channel)).toEqual(['#eng-alerts']);
    expect(Number(await appRows())).toBeGreaterThan(0);
    // The plan's statements in plan order; the first run's recovery finds no state tables yet.
    // The lock table is made once, by the first take that finds it missing.
    expect(bq.ranFor('enterprise_signups_to_provisioning')).toEqual([
      'lock take',
      'lock create',
      'lock take',
      'lock holders',
      'commit.sql',
      'rollback',
      'changes.sql',
      'count added',
      'rows added',
      'accepted rows',
      'accepted rows',
      'commit.sql',
      'lock release',
    ]);
    expect(bq.ranFor('daily_active_users_to_app_db')).toEqual(['extract.sql pages']);
    // Every job in one BigQuery session, ended at the close.
    expect(new Set(bq.ran.map((r) => r.session)).size).toBe(1);
    expect(bq.ran.at(-1)?.name).toBe('close');
    expect(await engine.query('SELECT * FROM syncwright_state.syncwright_locks')).toMatchObject({ rows: [] });

    const sent = hook.api.requests.length + slack.api.requests.length;
    const unchanged = await cli(args, env);
    expect(unchanged.code, unchanged.out).toBe(0);
    expect(hook.api.requests.length + slack.api.requests.length).toBe(sent);
    expect(bq.ranFor('enterprise_signups_to_provisioning').slice(13)).toEqual([
      'lock take',
      'lock holders',
      'commit.sql',
      'changes.sql',
      'count added',
      'rows added',
      'commit.sql',
      'lock release',
    ]);

    await engine.exec(`INSERT INTO events.fct_enterprise_signups VALUES ('w3', 'Initech', 'bob@initech.test', 25, 'us', false, now())`);
    const changed = await cli(args, env);
    expect(changed.code, changed.out).toBe(0);
    expect(hook.deliveries.map((d) => (d.body as { workspace: { id: string } }).workspace.id)).toHaveLength(3);
    expect(slack.messages).toHaveLength(1);
    expect(bq.refused).toEqual([]);
  }, 120_000);

  it('one run per sync: a live lock row stops a second run, an expired one is taken over', async () => {
    const key = (JSON.parse(readFileSync(join(build, 'error_spikes_to_slack', 'plan.json'), 'utf8')) as Plan).lock.key;
    await engine.query(`INSERT INTO syncwright_state.syncwright_locks VALUES ($1, 'another-run', now() + interval '1 hour')`, [key]);
    const one = ['run', example, '--sync', 'error_spikes_to_slack', '--endpoint', `bq=${bq.api.url}`, '--endpoint', `slack=${slack.api.url}`, '--db', db.dir];
    const busy = await cli(one, env);
    expect(busy.code).not.toBe(0);
    expect(busy.out + busy.err).toMatch(
      /another run of sync error_spikes_to_slack is in progress \(another-run holds its row in `syncwright_state`.`syncwright_locks`/,
    );
    await engine.query(`UPDATE syncwright_state.syncwright_locks SET expires_at = now() - interval '1 second' WHERE lock_key = $1`, [key]);
    const after = await cli(one, env);
    expect(after.code, after.out).toBe(0);
    expect(await engine.query('SELECT * FROM syncwright_state.syncwright_locks')).toMatchObject({ rows: [] });
  }, 60_000);

  it("a take aborted by a concurrent update finds the sync busy; the take's other errors fail the run", async () => {
    const one = ['run', example, '--sync', 'error_spikes_to_slack', '--endpoint', `bq=${bq.api.url}`, '--endpoint', `slack=${slack.api.url}`, '--db', db.dir];
    const failing = (message: string) => (name: string) => (name === 'lock take' ? { reason: 'invalidQuery', message } : undefined);
    bq.jobError = failing('Could not serialize access to table pulse-analytics-prod:syncwright_state.syncwright_locks due to concurrent update');
    const busy = await cli(one, env);
    expect(busy.code).not.toBe(0);
    expect(busy.out + busy.err).toMatch(/another run of sync error_spikes_to_slack is in progress/);
    bq.jobError = failing('Syntax error: Unexpected keyword MERGE at [1:1]');
    const failed = await cli(one, env);
    bq.jobError = undefined;
    expect(failed.code).not.toBe(0);
    expect(failed.out + failed.err).toMatch(/Syntax error: Unexpected keyword MERGE/);
    expect(failed.out + failed.err).not.toMatch(/in progress/);
  }, 60_000);

  const signups = (build: string) => [
    'run',
    example,
    '--sync',
    'enterprise_signups_to_provisioning',
    '--endpoint',
    `bq=${bq.api.url}`,
    '--endpoint',
    `provisioning=${hook.api.url}`,
    '--db',
    build,
  ];
  const delivered = () => hook.deliveries.map((d) => (d.body as { workspace: { id: string } }).workspace.id);

  it('--dry-run: the change set and its payloads, and nothing sent, locked or committed', async () => {
    await engine.exec(`INSERT INTO events.fct_enterprise_signups VALUES ('w4', 'Umbrella', 'it@umbrella.test', 60, 'eu', true, now())`);
    const before = { hook: hook.api.requests.length, ran: bq.ranFor('enterprise_signups_to_provisioning').length };
    const dry = await cli([...signups(db.dir), '--dry-run'], env);
    expect(dry.code, dry.out + dry.err).toBe(0);
    expect(dry.out).toMatch(/Umbrella/);
    expect(hook.api.requests.length).toBe(before.hook);
    expect(bq.ranFor('enterprise_signups_to_provisioning').slice(before.ran)).toEqual(['changes.sql', 'count added', 'rows added', 'close']);
    // The real run after it sends the row the dry run showed.
    expect((await cli(signups(db.dir), env)).code).toBe(0);
    expect(delivered().filter((id) => id === 'w4')).toHaveLength(1);
  }, 60_000);

  it('a run killed between its accepted-row records and commit.sql: the next run commits them and sends only the rest', async () => {
    ensureBuilt();
    await engine.exec(
      `INSERT INTO events.fct_enterprise_signups VALUES ('w5', 'Hooli', 'ops@hooli.test', 30, 'us', false, now()), ('w6', 'Pied Piper', 'r@pp.test', 8, 'us', false, now())`,
    );
    const sync = 'enterprise_signups_to_provisioning';
    const start = bq.ranFor(sync).length;
    const sent = delivered().length;
    // The first delivery is answered (and recorded as accepted); the second is held until the kill.
    let posts = 0;
    hook.api.failWhen((req) => (req.method === 'POST' && ++posts === 2 ? { kind: 'held', until: new Promise(() => undefined) } : undefined));
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'syncwright.js'), ...signups(db.dir), '--concurrency', '1'], {
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    const gone = new Promise((r) => child.on('exit', r));
    await until(() => bq.ranFor(sync).slice(start).includes('accepted rows') && posts >= 2, 60_000);
    child.kill('SIGKILL');
    await gone;
    hook.api.failWhen(undefined);
    expect(delivered().length - sent).toBe(1);
    expect(bq.ranFor(sync).slice(start)).not.toContain('lock release');

    // The dead run's lock row stands until its expiry (10 minutes): a run before then is told so.
    const early = await cli(signups(db.dir), env);
    expect(early.out + early.err).toMatch(/is in progress/);
    await engine.exec(`UPDATE syncwright_state.syncwright_locks SET expires_at = now() - interval '1 second'`);
    const again = await cli(signups(db.dir), env);
    expect(again.code, again.out + again.err).toBe(0);
    // Each row delivered once: the accepted one was committed first, not sent again.
    const ids = (await engine.query<{ id: string }>('SELECT workspace_id AS id FROM events.fct_enterprise_signups ORDER BY 1')).rows.map((r) => r.id);
    expect([...delivered()].sort()).toEqual(ids);
    expect(bq.refused).toEqual([]);
  }, 120_000);

  it('two runs at once: one runs, the other finds the sync busy', async () => {
    const one = [
      'run',
      example,
      '--sync',
      'enterprise_signups_to_provisioning',
      '--endpoint',
      `bq=${bq.api.url}`,
      '--endpoint',
      `provisioning=${hook.api.url}`,
      '--db',
      db.dir,
    ];
    // The first run's change set is held (its jobs.get answers) until the second run has been told the sync is busy.
    let release: () => void = () => undefined;
    const held = new Promise((r) => {
      release = () => r(undefined);
    });
    const changesJob = (path: string) => bq.jobs.get(decodeURIComponent(path.split('/').at(-1) ?? ''))?.statement === 'changes.sql';
    bq.api.failWhen((req) => (req.method === 'GET' && req.path.includes('/jobs/') && changesJob(req.path) ? { kind: 'held', until: held } : undefined));
    const before = bq.ran.length;
    const first = cli(one, env);
    await until(() => bq.ran.slice(before).some((r) => r.name === 'changes.sql'));
    const second = await cli(one, env).finally(release);
    expect(second.code).not.toBe(0);
    expect(second.out + second.err).toMatch(/is in progress/);
    const firstRun = await first;
    expect(firstRun.code, firstRun.out + firstRun.err).toBe(0);
    bq.api.failWhen(undefined);
  }, 60_000);
});

// A Postgres table mirrored into a BigQuery table: extract.sql on the embedded database, its rows
// loaded into the BigQuery session's TEMP table in inserts of at most 10 MB each (the server
// refuses a larger request, as BigQuery does), then apply.sql in the same session.
describe('a warehouse sync from Postgres into BigQuery', () => {
  const project = (destination: string) => `source app : postgres { database "app" }
${destination}
model users {
  from app
  table app.users
  columns {
    user_id    bigint
    email      string
    bio        string?
    ltv        decimal(12, 2)
    updated_at timestamp
  }
}
sync users_to_dw {
  from users
  to dw table crm.users
  mode mirror
  identifier user_id -> id
  map { email -> email  bio -> bio  ltv -> ltv  updated_at -> updated_at }
  guard deletes <= 5%
}
`;
  // About 12 MB of values in a request (a quote and a backslash are escaped twice there): more than one request to BigQuery takes.
  const rows = 2600;
  let engine: PGlite;
  let bq: FakeBigQuery;
  let args: string[];
  let env: Record<string, string>;
  const source = scratchFolder('syncwright-app-');
  const report = join(scratchFolder('syncwright-report-').dir, 'report.json');

  beforeAll(async () => {
    engine = await PGlite.create();
    await engine.exec('CREATE SCHEMA crm; CREATE TABLE crm.users (id bigint, email text, bio text, ltv numeric(12, 2), updated_at timestamptz)');
    bq = await new FakeBigQuery(engine, 'acme-dw', 'US', 'subject-token-load').start();
    const [dir, twin] = [scratchFolder('syncwright-load-').dir, scratchFolder('syncwright-load-twin-').dir];
    writeFileSync(join(dir, 'project.sync'), project('destination dw : bigquery { project "acme-dw" location "US" }'));
    writeFileSync(
      join(twin, 'project.sync'),
      project('destination dw : postgres { host "dw.internal" database "dw" user "loader" password env("DW_PASSWORD") }'),
    );
    const [bqBuild, pgBuild] = await Promise.all([compileFixture(dir), compileFixture(twin)]);
    teach(bq, bqBuild, pgBuild, 'users_to_dw');
    const app = await openPgliteSession(source.dir);
    await app.script(
      `CREATE SCHEMA app; CREATE TABLE app.users (user_id bigint PRIMARY KEY, email text NOT NULL, bio text, ltv numeric(12, 2), updated_at timestamptz);
       INSERT INTO app.users SELECT g, 'u' || g || '@example.com', repeat('é"\\', 450) || g, g * 1.5, timestamptz '2024-01-01' + make_interval(mins => g) FROM generate_series(1, ${rows}) g`,
    );
    await app.close();
    env = { GOOGLE_APPLICATION_CREDENTIALS: adcFile(bq, 'subject-token-load') };
    args = ['run', dir, '--sync', 'users_to_dw', '--endpoint', `dw=${bq.api.url}`, '--db', source.dir, '--report', report];
  }, 120_000);
  afterAll(async () => {
    await bq?.api.close();
    await engine?.close();
  });

  const summary = () => {
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      plans: { status: string; steps: { kind: string; rows: number; result?: Record<string, unknown>[] }[] }[];
    };
    const sync = r.plans[0];
    return { status: sync?.status, loaded: sync?.steps.find((s) => s.kind === 'load')?.rows, result: sync?.steps.at(-1)?.result?.[0] };
  };
  const target = async () => (await engine.query<{ n: number; ltv: string }>('SELECT count(*)::int AS n, sum(ltv)::text AS ltv FROM crm.users')).rows[0];

  it('first run, unchanged rerun, changed rerun: the summary row of each', async () => {
    const first = await cli(args, env);
    expect(first.code, first.out + first.err).toBe(0);
    expect(bq.refused).toEqual([]);
    // Split by size: no insert request passed 10 MB, and one would have held every row.
    expect(bq.ranFor('users_to_dw')).toEqual([
      'lock take',
      'lock create',
      'lock take',
      'lock holders',
      'target exists',
      'target columns',
      'target required',
      'load create',
      'load insert',
      'load insert',
      'apply.sql',
      'lock release',
      'close',
    ]);
    expect(bq.largestInsert).toBeGreaterThan(5_000_000);
    expect(summary()).toEqual({
      status: 'ok',
      loaded: rows,
      result: { inserted: String(rows), updated: '0', deleted: '0', skipped_null_keys: '0', duplicate_keys: '0' },
    });
    expect(await target()).toEqual({ n: rows, ltv: String((rows * (rows + 1) * 1.5) / 2) + '.00' });
    const [exact] = (await engine.query<{ bio: string }>('SELECT bio FROM crm.users WHERE id = 7')).rows;
    expect(exact?.bio).toBe(`${'é"\\'.repeat(450)}7`);

    expect((await cli(args, env)).code).toBe(0);
    expect(summary().result).toMatchObject({ inserted: '0', updated: '0', deleted: '0' });

    const app = await openPgliteSession(source.dir);
    await app.script(
      `UPDATE app.users SET email = 'new@example.com' WHERE user_id = 3; DELETE FROM app.users WHERE user_id = 4; INSERT INTO app.users VALUES (${rows + 1}, 'x@example.com', NULL, 1, now())`,
    );
    await app.close();
    expect((await cli(args, env)).code).toBe(0);
    expect(summary().result).toMatchObject({ inserted: '1', updated: '1', deleted: '1' });
    expect(await engine.query('SELECT id, email, bio FROM crm.users WHERE id IN (3, 4, $1) ORDER BY id', [rows + 1])).toMatchObject({
      rows: [
        { id: 3, email: 'new@example.com' },
        { id: rows + 1, email: 'x@example.com', bio: null },
      ],
    });
    expect(bq.refused).toEqual([]);
  }, 180_000);
});
