// examples/events-pipeline through `syncwright run` on BigQuery: a local server that follows
// BigQuery's REST contract (test/servers/bigquery.ts), reached by the official client with an
// external-account credential file, runs the Postgres twin of every statement it is sent on
// PGlite (the same project compiled with its source switched to Postgres).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { freshPglite, pgliteCopy } from './support/pglite-template.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockRowTiming } from '../src/run/locks/sync-lock.js';
import { openPgliteSession } from '../src/run/engines/pglite-session.js';
import type { Plan } from '../src/contract/plan.js';
import { FakeBigQuery } from './servers/bigquery.js';
import { adcFile, teach } from './servers/bigquery-twin.js';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { cli, compileFixture, repoRoot, until } from './servers/run-harness.js';
import { kinesisStream, s3rverKeys, startKinesis, startS3, type LocalService } from './servers/aws-local.js';
import { FakeGcs } from './servers/gcs.js';
import { FakeKafka } from './servers/kafka.js';
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
    `select user_id || ':' || cast(activity_date as text) || ':' || platform as user_day_key, user_id, activity_date, platform,
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
CREATE SCHEMA events; CREATE SCHEMA ops; CREATE SCHEMA ml; CREATE SCHEMA billing;
CREATE TABLE events.fct_app_events (event_id text, event_name text, user_id text, anonymous_id text, session_id text, platform text, "appVersion" text, country text, properties jsonb, occurred_at timestamptz, received_at timestamptz);
INSERT INTO events.fct_app_events SELECT 'e' || i, 'view', 'u' || (i % 7), 'a' || i, 's' || (i % 11), CASE WHEN i % 2 = 0 THEN 'web' ELSE 'ios' END, '1.0', 'DE', '{"k": 1}', now() - make_interval(hours => i % 48), now() FROM generate_series(1, 300) i;
CREATE TABLE events.fct_enterprise_signups (workspace_id text, workspace_name text, admin_email text, seats_requested int, region text, sso_requested bool, signed_up_at timestamptz);
INSERT INTO events.fct_enterprise_signups VALUES ('w1', 'Acme "Labs"', 'ops@acme.test', 40, 'eu', true, now()), ('w2', 'Globex', 'it@globex.test', 15, 'us', false, now());
CREATE TABLE ops.error_spikes (spike_id text, service text, environment text, error_count_15m int, baseline_15m float8, window_start timestamptz, sample_message text, runbook_url text);
INSERT INTO ops.error_spikes VALUES ('sp1', 'api', 'prod', 120, 4.5, now(), 'timeout <b>', 'https://runbooks.test/api');
CREATE TABLE events.dim_user_engagement (user_id text, email text, plan text, lifecycle_stage text, sessions_28d int, active_days_28d int, events_28d bigint, days_since_active int, last_active_at timestamptz, computed_at timestamptz);
INSERT INTO events.dim_user_engagement SELECT 'u' || i, 'u' || i || CASE WHEN i = 3 THEN '@pulse.io' ELSE '@example.com' END, CASE WHEN i % 5 = 4 THEN NULL ELSE 'pro' END,
  CASE WHEN i % 3 = 0 THEN 'engaged' WHEN i % 3 = 1 THEN 'activated' ELSE 'dormant' END, 10 + i, 10 + i, 100 * i, i % 4, timestamptz '2026-11-01' + make_interval(days => i), now() FROM generate_series(1, 12) i;
CREATE TABLE events.fct_login_attempts (login_id text, user_id text, ip_address text, country text, user_agent text, attempted_at timestamptz, succeeded bool);
CREATE TABLE ml.login_risk_scores (login_id text, risk_score float8, failed_attempts_1h int);
INSERT INTO events.fct_login_attempts SELECT 'l' || i, 'u' || i, '10.0.0.' || i, 'DE', 'Mozilla/5.0', now() - make_interval(mins => i), i % 4 <> 0 FROM generate_series(1, 6) i;
INSERT INTO ml.login_risk_scores SELECT 'l' || i, i / 10.0, i % 3 FROM generate_series(1, 6) i;
CREATE TABLE ml.user_features_current (user_id text, plan text, tenure_days int, sessions_28d int, sessions_prev_28d int, feature_usage jsonb, support_tickets_90d int, nps_last int, churned_within_60d bool);
INSERT INTO ml.user_features_current SELECT 'u' || i, 'pro', 30 * i, i, i + 1, jsonb_build_object('dashboards', i, 'exports', 1), 0, NULLIF(i % 10, 0), CASE WHEN i % 2 = 0 THEN NULL ELSE false END FROM generate_series(1, 10) i;
CREATE TABLE billing.fct_metered_usage_daily (usage_id text, customer_id text, partner_id text, usage_date date, meter text, quantity bigint, unit_price numeric(12, 6));
INSERT INTO billing.fct_metered_usage_daily SELECT 'c' || i || ':2026-12-01:seats', 'c' || i, CASE WHEN i % 2 = 0 THEN 'p1' END, date '2026-12-01', 'seats', 10 * i, 0.125 FROM generate_series(1, 4) i;
`;

/** The app's own database (the --db folder): the tables its three syncs write. */
const appSchema = `CREATE SCHEMA analytics; CREATE TABLE analytics.daily_active_users (user_day_key text PRIMARY KEY, user_id text, activity_date date, platform text, sessions int, events bigint);
CREATE TABLE public.users (id text PRIMARY KEY, lifecycle_stage text, sessions_28d int, last_active_at timestamptz);
INSERT INTO public.users SELECT 'u' || i, 'new', 0, NULL FROM generate_series(1, 8) i;
CREATE SCHEMA growth; CREATE TABLE growth.audience_members (user_id text PRIMARY KEY, email text, lifecycle_stage text, audience text);`;

/** Every sync of the example, in the order `run` takes them (by name). */
const allSyncs = [
  'app_events_to_kafka',
  'app_events_to_lake',
  'daily_active_users_to_app_db',
  'daily_active_users_to_lake',
  'engagement_to_app_users',
  'enterprise_signups_to_provisioning',
  'enterprise_signups_to_slack',
  'error_spikes_to_slack',
  'metered_usage_to_billing',
  'metered_usage_to_partners',
  'power_users_to_app_db',
  'scored_logins_to_kinesis',
  'user_features_to_gcs',
];

describe('examples/events-pipeline on BigQuery (a local REST server, its statements run as their Postgres twins)', () => {
  const subject = 'subject-token-0123456789';
  let engine: PGlite;
  let bq: FakeBigQuery;
  let slack: FakeSlack;
  let hook: FakeWebhook;
  let billing: FakeWebhook;
  let s3: LocalService;
  let s3client: S3Client;
  let kinesis: LocalService;
  let stream: Awaited<ReturnType<typeof kinesisStream>>;
  let gcs: FakeGcs;
  let kafka: FakeKafka;
  let env: Record<string, string>;
  let args: string[];
  let build: string;
  let project: string;
  const db = { dir: pgliteCopy(scratchFolder('syncwright-appdb-').dir) };
  const report = join(scratchFolder('syncwright-report-').dir, 'report.json');

  beforeAll(async () => {
    engine = await freshPglite();
    await engine.exec(seed);
    bq = await new FakeBigQuery(engine, 'pulse-analytics-prod', 'US', subject).start();
    slack = await new FakeSlack({ token: 'xoxb-test-token' }).start();
    hook = await new FakeWebhook({ secret: 'whsec-provisioning' }).start();
    billing = await new FakeWebhook({ secret: 'whsec-billing' }).start();
    gcs = await new FakeGcs(['pulse-ml-features', 'pulse-partner-exports']).start();
    kafka = await new FakeKafka({ 'analytics.app-events.v1': 2 }).start();
    [s3, kinesis] = await Promise.all([startS3(['pulse-data-lake']), startKinesis()]);
    s3client = new S3Client({ endpoint: s3.url, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
    stream = await kinesisStream(kinesis.url, 'login-risk-scores');
    // The example as written, but for its Kafka cluster: no broker runs here, and the local
    // server speaks neither TLS nor SASL (the example's MSK settings), so the bus is it, gzip kept.
    project = scratchFolder('syncwright-events-').dir;
    cpSync(example, project, { recursive: true });
    const destinations = readFileSync(join(project, 'destinations.sync'), 'utf8');
    const bus = /destination events_bus : kafka \{[^}]*\}/;
    if (!bus.test(destinations)) throw new Error('the example has no events_bus block');
    writeFileSync(
      join(project, 'destinations.sync'),
      destinations.replace(
        bus,
        `destination events_bus : kafka {\n  brokers     "${kafka.brokers}"\n  client_id   "syncwright-events"\n  compression "gzip"\n}`,
      ),
    );
    const twin = scratchFolder('syncwright-twin-').dir;
    cpSync(project, twin, { recursive: true });
    writeFileSync(join(twin, 'sources.sync'), twinSources);
    writeFileSync(join(twin, 'models.sync'), twinModels());
    const [bqBuild, pgBuild] = await Promise.all([compileFixture(project), compileFixture(twin)]);
    build = bqBuild;
    for (const sync of allSyncs) teach(bq, bqBuild, pgBuild, sync);
    const app = await openPgliteSession(db.dir);
    await app.script(appSchema);
    await app.close();
    const adc = adcFile(bq, subject);
    env = {
      GOOGLE_APPLICATION_CREDENTIALS: adc,
      // The buckets' credential: the same external account (a credential file GCS's client takes as a key).
      GCS_SERVICE_ACCOUNT_JSON: readFileSync(adc, 'utf8'),
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      PROVISIONING_WEBHOOK_SECRET: 'whsec-provisioning',
      BILLING_WEBHOOK_SECRET: 'whsec-billing',
      ...s3rverKeys,
    };
    args = [
      'run',
      project,
      '--endpoint',
      `bq=${bq.api.url}`,
      '--endpoint',
      `slack=${slack.api.url}`,
      '--endpoint',
      `provisioning=${hook.api.url}`,
      '--endpoint',
      `billing_api=${billing.api.url}`,
      '--endpoint',
      `data_lake=${s3.url}`,
      '--endpoint',
      `risk_stream=${kinesis.url}`,
      '--endpoint',
      `ml_bucket=${gcs.api.url}`,
      '--endpoint',
      `partner_bucket=${gcs.api.url}`,
      '--db',
      db.dir,
      '--report',
      report,
    ];
  });
  afterAll(async () => {
    s3client?.destroy();
    stream?.client.destroy();
    await Promise.all([
      bq?.api.close(),
      slack?.api.close(),
      hook?.api.close(),
      billing?.api.close(),
      gcs?.api.close(),
      kafka?.close(),
      s3?.close(),
      kinesis?.close(),
    ]);
    await engine?.close();
  });

  /** The rows of each query on the app's database, in one session (an open of the embedded database is most of the time). */
  const appAll = async (...queries: string[]) => {
    const session = await openPgliteSession(db.dir);
    try {
      const rows: Record<string, unknown>[][] = [];
      for (const query of queries) rows.push(await session.query(query));
      return rows;
    } finally {
      await session.close();
    }
  };
  const app = async <T>(query: string) => (await appAll(query))[0] as (T & Record<string, unknown>)[];
  /** Each sync's status and what its steps delivered, from the run's report. */
  const outcome = () => {
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      plans: {
        sync: string;
        status: string;
        error?: string;
        operations: Record<string, number>;
        steps: { kind: string; result?: Record<string, unknown>[] }[];
      }[];
    };
    return Object.fromEntries(
      r.plans.map((p) => [p.sync, { status: p.status, ...(p.error ? { error: p.error } : {}), ...p.operations, ...(p.steps.at(-1)?.result?.[0] ?? {}) }]),
    );
  };
  const objects = async (bucket: string) =>
    ((await s3client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((o) => ({ key: o.Key as string, etag: o.ETag }));
  const s3text = async (key: string) => (await s3client.send(new GetObjectCommand({ Bucket: 'pulse-data-lake', Key: key }))).Body?.transformToString() ?? '';
  const jsonl = (text: string) =>
    text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const records = () => stream.records();
  /** Everything delivered so far, counted per destination. */
  const sent = async () => ({
    provisioning: hook.api.requests.length,
    billing: billing.api.requests.length,
    slack: slack.api.requests.length,
    s3: (await objects('pulse-data-lake')).map((o) => `${o.key} ${o.etag}`).sort(),
    gcs: gcs.api.requests.length,
    kafka: kafka.messages('analytics.app-events.v1').length,
    kinesis: (await records()).length,
  });

  it('every sync: first run, unchanged rerun (nothing sent or written), changed rerun (only the changed rows)', async () => {
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
    bq.api.failWhen(undefined);
    expect(outcome()).toEqual(Object.fromEntries(allSyncs.map((s) => [s, expect.objectContaining({ status: 'ok' })])));
    expect(first.code, first.out + first.err).toBe(0);
    expect(bq.refused).toEqual([]);
    expect(bq.api.requests.filter((r) => r.fault)).toHaveLength(1);
    // Every query in UTC, whatever the project's default_time_zone.
    expect(bq.jobs.size).toBeGreaterThan(20);
    expect(new Set([...bq.jobs.values()].map((j) => j.zone))).toEqual(new Set(['UTC']));

    // Webhooks: one signed request per signup; billing's rows as one JSON array (batch 500).
    expect(hook.deliveries.map((d) => (d.body as { workspace: { id: string } }).workspace.id).sort()).toEqual(['w1', 'w2']);
    expect(billing.deliveries).toHaveLength(1);
    expect(billing.deliveries[0]?.path).toBe('/v2/metered-usage');
    expect(billing.deliveries[0]?.body).toHaveLength(4);
    expect(billing.deliveries[0]?.body).toContainEqual({
      key: 'c2:2026-12-01:seats',
      sync: 'metered_usage_to_billing',
      record: { idempotency_key: 'c2:2026-12-01:seats', customer_id: 'c2', date: '2026-12-01', meter: 'seats', quantity: 20, unit_price: 0.125 },
    });
    // Slack: the spike to the default channel, each signup to the sales channel.
    expect(slack.messages.map((m) => m.channel).sort()).toEqual(['#eng-alerts', '#sales-enterprise', '#sales-enterprise']);
    expect(slack.messages.find((m) => m.text.includes('Acme'))?.text).toMatch(
      /New enterprise trial: \*Acme "Labs"\* \(40 seats, eu\), admin ops@acme\.test, asked for SSO/,
    );

    // app_db: daily rows upserted; engagement on the 8 users the app has (u9-u12 are skipped,
    // never created); the power users audience mirrored (the audience's filter, run on the twin).
    // The app's tables after the first run, read at once: nothing writes them until the next run.
    const everyApp = 'SELECT * FROM analytics.daily_active_users, public.users, growth.audience_members';
    const [dau, users, members, appBefore] = (await appAll(
      'SELECT count(*)::int AS n FROM analytics.daily_active_users',
      'SELECT id, lifecycle_stage, sessions_28d FROM public.users ORDER BY id',
      'SELECT user_id FROM growth.audience_members ORDER BY 1',
      everyApp,
    )) as [{ n: number }[], unknown[], { user_id: string }[], unknown[]];
    // One row per user, day and platform: the model's key is unique (no duplicate keys dropped).
    const groups = await engine.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM (SELECT DISTINCT user_id, cast(occurred_at AS date), platform FROM events.fct_app_events WHERE user_id IS NOT NULL AND occurred_at >= now() - interval '30 days') g`,
    );
    expect(dau[0]?.n).toBe(groups.rows[0]?.n);
    expect(outcome().daily_active_users_to_app_db).toMatchObject({ status: 'ok', duplicate_keys: 0 });
    expect(users).toEqual(
      Array.from({ length: 8 }, (_, k) => k + 1)
        .map((i) => ({ id: `u${i}`, lifecycle_stage: i % 3 === 0 ? 'engaged' : i % 3 === 1 ? 'activated' : 'dormant', sessions_28d: 10 + i }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
    const power = (
      await engine.query<{ user_id: string }>(
        `SELECT user_id FROM events.dim_user_engagement WHERE lifecycle_stage IN ('engaged', 'activated') AND active_days_28d >= 15 AND days_since_active <= 3 AND plan IS NOT NULL AND email NOT LIKE '%@pulse.io' ORDER BY 1`,
      )
    ).rows.map((r) => r.user_id);
    expect(power.length).toBeGreaterThan(2);
    expect(members.map((r) => r.user_id)).toEqual(power);

    // S3: the lake's raw events as one new jsonl object; the finance csv as one fixed object.
    const lake = await objects('pulse-data-lake');
    const raw = lake.filter((o) => o.key.startsWith('syncwright/raw/app_events/'));
    expect(raw.map((o) => o.key)).toEqual([expect.stringMatching(/^syncwright\/raw\/app_events\/run-[0-9a-f-]{36}\/part-1\.jsonl$/)]);
    const events = jsonl(await s3text(raw[0]?.key as string));
    expect(events).toHaveLength(300);
    expect(events.find((e) => e.event_id === 'e7')).toMatchObject({ user_id: 'u0', appVersion: '1.0', properties: { k: 1 } });
    const csv = (await s3text('syncwright/finance/daily_active_users_30d.csv')).trimEnd().split('\r\n');
    expect(csv[0]).toBe('user_day_key,user_id,activity_date,platform,sessions,events');
    expect(csv).toHaveLength((dau[0]?.n ?? 0) + 1);

    // GCS: the features snapshot (jsonl, mirror) and the partners' first daily csv (insert).
    const features = jsonl(gcs.text('pulse-ml-features', 'churn-model/features/user_features.jsonl') ?? '');
    expect(features).toHaveLength(10);
    expect(features.find((f) => f.user_id === 'u2')).toEqual({
      user_id: 'u2',
      plan: 'pro',
      tenure_days: 60,
      sessions_28d: 2,
      sessions_prev_28d: 3,
      feature_usage: { dashboards: 2, exports: 1 },
      support_tickets_90d: 0,
      nps_last: 2,
      churned_within_60d: null,
    });
    const daily = [...gcs.objects.values()].filter((o) => o.bucket === 'pulse-partner-exports');
    expect(daily.map((o) => o.name)).toEqual([expect.stringMatching(/^usage\/daily\/run-[0-9a-f-]{36}\/part-1\.csv$/)]);
    expect(daily[0]?.contentType).toMatch(/^text\/csv/);
    expect(daily[0]?.data.toString().trimEnd().split('\r\n')).toEqual([
      'usage_id,partner_id,customer_id,usage_date,meter,quantity',
      expect.stringMatching(/^c1:2026-12-01:seats,,c1,2026-12-01,seats,10$/),
      ...['c2', 'c3', 'c4'].map((c) => expect.stringContaining(`${c}:2026-12-01:seats`)),
    ]);
    expect(gcs.refused).toEqual([]);

    // Streams: one message per event keyed by event_id; one record per scored login keyed by login_id.
    const messages = kafka.messages('analytics.app-events.v1');
    expect(messages).toHaveLength(300);
    // The example's compression: each batch arrives gzip-compressed, and inflates to its records.
    expect(new Set(kafka.codecs)).toEqual(new Set(['gzip']));
    expect(new Set(messages.map((m) => m.key)).size).toBe(300);
    expect(JSON.parse(messages.find((m) => m.key === 'e7')?.value ?? '{}')).toMatchObject({
      event_id: 'e7',
      user_id: 'u0',
      app_version: '1.0',
      properties: { k: 1 },
    });
    expect(kafka.violations).toEqual([]);
    const logins = await records();
    expect(logins.map((r) => r.key).sort()).toEqual(['l1', 'l2', 'l3', 'l4', 'l5', 'l6']);
    expect(logins.find((r) => r.key === 'l4')?.value).toMatchObject({ login_id: 'l4', user_id: 'u4', ip: '10.0.0.4', succeeded: false, failed_attempts_1h: 1 });

    // The plan's statements in plan order; the first run's recovery finds no state tables yet.
    // The lock table is made once, by the first take that finds it missing. Each of the two
    // requests' rows are recorded as accepted; nothing as sent before it leaves: the plan reads
    // only added rows, which keep no write-ahead record.
    expect(bq.ranFor('enterprise_signups_to_provisioning')).toEqual([
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
      'close',
    ]);
    expect(bq.ranFor('daily_active_users_to_app_db')).toEqual(['extract.sql pages', 'close']);
    expect(bq.ranFor(allSyncs[0] as string).slice(0, 3)).toEqual(['lock take', 'lock create', 'lock take']);
    expect(await engine.query('SELECT * FROM syncwright_state.syncwright_locks')).toMatchObject({ rows: [] });

    const before = await sent();
    const unchanged = await cli(args, env);
    expect(unchanged.code, unchanged.out + unchanged.err).toBe(0);
    expect(await sent()).toEqual(before);
    expect(await app(everyApp)).toEqual(appBefore);
    const still = outcome();
    for (const sync of ['engagement_to_app_users', 'power_users_to_app_db', 'daily_active_users_to_app_db'])
      expect(still[sync]).toMatchObject({ status: 'ok', inserted: 0, updated: 0, deleted: 0 });

    await engine.exec(`
      INSERT INTO events.fct_enterprise_signups VALUES ('w3', 'Initech', 'bob@initech.test', 25, 'us', false, now());
      INSERT INTO ops.error_spikes VALUES ('sp2', 'web', 'prod', 80, 2, now(), NULL, NULL);
      INSERT INTO events.fct_app_events VALUES ('e301', 'signup', 'u9', 'a301', 's1', 'android', '2.0', 'FR', '{}', now(), now());
      INSERT INTO events.fct_login_attempts VALUES ('l7', 'u7', '10.0.0.7', NULL, NULL, now(), true);
      INSERT INTO ml.login_risk_scores VALUES ('l7', 0.9, 4);
      UPDATE ml.user_features_current SET sessions_28d = 99 WHERE user_id = 'u3';
      INSERT INTO billing.fct_metered_usage_daily VALUES ('c1:2026-12-02:seats', 'c1', 'p1', date '2026-12-02', 'seats', 11, 0.125);
      UPDATE events.dim_user_engagement SET sessions_28d = 50, computed_at = now() WHERE user_id = 'u2';
    `);
    const changed = await cli(args, env);
    expect(changed.code, changed.out + changed.err).toBe(0);
    const after = await sent();
    expect(hook.deliveries.map((d) => (d.body as { workspace: { id: string } }).workspace.id)).toEqual(['w1', 'w2', 'w3'].map(() => expect.any(String)));
    expect(hook.deliveries.at(-1)?.body).toMatchObject({ workspace: { id: 'w3' } });
    expect(billing.deliveries.at(-1)?.body).toEqual([
      expect.objectContaining({ key: 'c1:2026-12-02:seats', record: expect.objectContaining({ quantity: 11 }) }),
    ]);
    expect(slack.messages.slice(3).map((m) => [m.channel, m.text])).toEqual(
      expect.arrayContaining([
        [
          '#eng-alerts',
          expect.stringMatching(
            /^\n:rotating_light: \*web\* \(prod\): 80 errors in 15 minutes, baseline 2\.\nWindow from .*\n\nNo runbook yet: please add one\.\n?$/,
          ),
        ],
        ['#sales-enterprise', expect.stringContaining('Initech')],
      ]),
    );
    expect(slack.messages).toHaveLength(5);
    // Two partitions: the one new message is e301, wherever its key put it.
    const keys = kafka.messages('analytics.app-events.v1').map((m) => m.key);
    expect(keys).toHaveLength(before.kafka + 1);
    expect(keys.filter((k) => k === 'e301')).toHaveLength(1);
    expect((await records()).slice(before.kinesis)).toEqual([{ key: 'l7', value: expect.objectContaining({ login_id: 'l7', risk_score: 0.9 }) }]);
    // The lake: a second raw object holding the one new event; the finance csv rewritten.
    const rawAfter = (await objects('pulse-data-lake')).filter((o) => o.key.startsWith('syncwright/raw/app_events/') && !raw.some((r) => r.key === o.key));
    expect(rawAfter).toHaveLength(1);
    expect(jsonl(await s3text(rawAfter[0]?.key as string)).map((e) => e.event_id)).toEqual(['e301']);
    expect(await s3text('syncwright/finance/daily_active_users_30d.csv')).toMatch(/\r\nu9:[0-9-]+:android,u9,[0-9-]+,android,1,1\r\n/);
    expect(jsonl(gcs.text('pulse-ml-features', 'churn-model/features/user_features.jsonl') ?? '').find((f) => f.user_id === 'u3')).toMatchObject({
      sessions_28d: 99,
    });
    const dailyAfter = [...gcs.objects.values()].filter((o) => o.bucket === 'pulse-partner-exports');
    expect(dailyAfter).toHaveLength(2);
    expect(dailyAfter.at(-1)?.data.toString().trimEnd().split('\r\n').slice(1)).toEqual(['c1:2026-12-02:seats,p1,c1,2026-12-02,seats,11']);
    expect(after.gcs).toBeGreaterThan(before.gcs);
    const result = outcome();
    expect(result.engagement_to_app_users).toMatchObject({ status: 'ok', updated: 1 });
    expect(result.power_users_to_app_db).toMatchObject({ status: 'ok', inserted: 0, updated: 0, deleted: 0 });
    expect((await app<{ sessions_28d: number }>(`SELECT sessions_28d FROM public.users WHERE id = 'u2'`))[0]?.sessions_28d).toBe(50);
    expect(bq.refused).toEqual([]);
  }, 300_000);

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
  });

  it("a take aborted by a concurrent update finds the sync busy; the take's other errors fail the run; an aborted release is tried again", async () => {
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
    // A release aborted by another run's take (which only asked) is tried again: the row is let go.
    let aborted = 0;
    bq.jobError = (name) =>
      name === 'lock release' && aborted++ < 2
        ? {
            reason: 'invalidQuery',
            message: 'Could not serialize access to table pulse-analytics-prod:syncwright_state.syncwright_locks due to concurrent update',
          }
        : undefined;
    const released = await cli(one, env);
    bq.jobError = undefined;
    expect(released.code, released.out + released.err).toBe(0);
    expect(aborted).toBe(3);
    const next = await cli(one, env);
    expect(next.code, next.out + next.err).toBe(0);
  });

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
  });

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
    await until(() => bq.ranFor(sync).slice(start).includes('accepted rows') && posts >= 2);
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
  });

  it('two runs at once: one runs, the other finds the sync busy', async () => {
    const one = signups(db.dir);
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
  });

  it('a result read in part (fewer rows than its totalRows) fails the read: a mirror object is not rewritten without the rows left out', async () => {
    const name = 'churn-model/features/user_features.jsonl';
    const object = () => jsonl(gcs.text('pulse-ml-features', name) ?? '');
    const features = [...args, '--sync', 'user_features_to_gcs'];
    await engine.exec(`UPDATE ml.user_features_current SET support_tickets_90d = 7 WHERE user_id = 'u5'`);
    const before = object();
    expect(before).toHaveLength(10);
    bq.cut = (statement, sync) => sync === 'user_features_to_gcs' && statement.startsWith('rows ');
    try {
      const cut = await cli(features, env);
      expect(outcome().user_features_to_gcs).toMatchObject({ status: 'failed', error: expect.stringContaining('totalRows') });
      expect(cut.code).not.toBe(0);
      expect(object()).toEqual(before);
    } finally {
      bq.cut = undefined;
    }
    // Read whole, the next run writes every row, the change with them.
    const whole = await cli(features, env);
    expect(whole.code, whole.out + whole.err).toBe(0);
    const after = object();
    expect(after).toHaveLength(10);
    expect(after.find((f) => f.user_id === 'u5')).toMatchObject({ support_tickets_90d: 7 });
  });
  it('an answer without a result set (DML) whose totalRows counts the rows it changed is no result read in part', async () => {
    const features = [...args, '--sync', 'user_features_to_gcs'];
    await engine.exec(`UPDATE ml.user_features_current SET support_tickets_90d = 9 WHERE user_id = 'u5'`);
    bq.affectedAsTotal = true;
    try {
      const r = await cli(features, env);
      expect(r.code, r.out + r.err).toBe(0);
      expect(outcome().user_features_to_gcs).toMatchObject({ status: 'ok' });
    } finally {
      bq.affectedAsTotal = false;
    }
    const object = jsonl(gcs.text('pulse-ml-features', 'churn-model/features/user_features.jsonl') ?? '');
    expect(object.find((f) => f.user_id === 'u5')).toMatchObject({ support_tickets_90d: 9 });
  });
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
sync emails_to_dw {
  from users
  to dw table crm.user_emails
  mode upsert
  identifier user_id -> id
  map { email -> email }
}
`;
  // About 12 MB of values in a request (a quote and a backslash are escaped twice there): more than one request to BigQuery takes.
  const rows = 2600;
  let engine: PGlite;
  let bq: FakeBigQuery;
  let args: string[];
  /** `syncwright run` of these syncs of the project into the local BigQuery. */
  let runArgs: (...syncs: string[]) => string[];
  let env: Record<string, string>;
  const source = { dir: pgliteCopy(scratchFolder('syncwright-app-').dir) };
  const report = join(scratchFolder('syncwright-report-').dir, 'report.json');

  beforeAll(async () => {
    engine = await freshPglite();
    await engine.exec(
      'CREATE SCHEMA crm; CREATE TABLE crm.users (id bigint, email text, bio text, ltv numeric(12, 2), updated_at timestamptz); CREATE TABLE crm.user_emails (id bigint, email text)',
    );
    bq = await new FakeBigQuery(engine, 'acme-dw', 'US', 'subject-token-load').start();
    const [dir, twin] = [scratchFolder('syncwright-load-').dir, scratchFolder('syncwright-load-twin-').dir];
    writeFileSync(join(dir, 'project.sync'), project('destination dw : bigquery { project "acme-dw" location "US" }'));
    writeFileSync(
      join(twin, 'project.sync'),
      project('destination dw : postgres { host "dw.internal" database "dw" user "loader" password env("DW_PASSWORD") }'),
    );
    const [bqBuild, pgBuild] = await Promise.all([compileFixture(dir), compileFixture(twin)]);
    for (const sync of ['users_to_dw', 'emails_to_dw']) teach(bq, bqBuild, pgBuild, sync);
    const app = await openPgliteSession(source.dir);
    await app.script(
      `CREATE SCHEMA app; CREATE TABLE app.users (user_id bigint PRIMARY KEY, email text NOT NULL, bio text, ltv numeric(12, 2), updated_at timestamptz);
       INSERT INTO app.users SELECT g, 'u' || g || '@example.com', repeat('é"\\', 450) || g, g * 1.5, timestamptz '2024-01-01' + make_interval(mins => g) FROM generate_series(1, ${rows}) g`,
    );
    await app.close();
    env = { GOOGLE_APPLICATION_CREDENTIALS: adcFile(bq, 'subject-token-load') };
    runArgs = (...syncs) => ['run', dir, ...syncs.flatMap((s) => ['--sync', s]), '--endpoint', `dw=${bq.api.url}`, '--db', source.dir, '--report', report];
    args = runArgs('users_to_dw', 'emails_to_dw');
  });
  afterAll(async () => {
    await bq?.api.close();
    await engine?.close();
  });

  const summary = (name = 'users_to_dw') => {
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      plans: { sync: string; status: string; steps: { kind: string; rows: number; result?: Record<string, unknown>[] }[] }[];
    };
    const sync = r.plans.find((p) => p.sync === name);
    return { status: sync?.status, loaded: sync?.steps.find((s) => s.kind === 'load')?.rows, result: sync?.steps.at(-1)?.result?.[0] };
  };
  const target = async () => (await engine.query<{ n: number; ltv: string }>('SELECT count(*)::int AS n, sum(ltv)::text AS ltv FROM crm.users')).rows[0];

  // Both syncs load `sw_load` and stage `sw_changes`/`sw_summary` as TEMP tables, which last as long as
  // their BigQuery session: each plan runs in a session of its own, under its own lock row.
  it('two syncs into one BigQuery endpoint in one run: first run, unchanged rerun, changed rerun: the summary row of each', async () => {
    const first = await cli(args, env);
    expect(first.code, first.out + first.err).toBe(0);
    expect(bq.refused).toEqual([]);
    // Split by size: no insert request passed 10 MB, and one would have held every row.
    // emails_to_dw runs first (by name) and makes the lock table.
    expect(bq.ranFor('users_to_dw')).toEqual([
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
    expect(bq.ranFor('emails_to_dw')).toEqual([
      'lock take',
      'lock create',
      'lock take',
      'lock holders',
      'target exists',
      'target columns',
      'target required',
      'load create',
      'load insert',
      'apply.sql',
      'lock release',
      'close',
    ]);
    const sessions = (sync: string) => new Set(bq.ran.filter((r) => r.sync === sync).map((r) => r.session));
    expect(sessions('users_to_dw').size).toBe(1);
    expect(sessions('emails_to_dw').size).toBe(1);
    expect([...sessions('emails_to_dw')]).not.toEqual([...sessions('users_to_dw')]);
    expect(summary('emails_to_dw')).toMatchObject({ status: 'ok', loaded: rows, result: { inserted: String(rows), updated: '0' } });
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
    expect(summary('emails_to_dw')).toMatchObject({ status: 'ok', result: { inserted: '0', updated: '0' } });

    const app = await openPgliteSession(source.dir);
    await app.script(
      `UPDATE app.users SET email = 'new@example.com' WHERE user_id = 3; DELETE FROM app.users WHERE user_id = 4; INSERT INTO app.users VALUES (${rows + 1}, 'x@example.com', NULL, 1, now())`,
    );
    await app.close();
    expect((await cli(args, env)).code).toBe(0);
    expect(summary().result).toMatchObject({ inserted: '1', updated: '1', deleted: '1' });
    expect(summary('emails_to_dw')).toMatchObject({ status: 'ok', result: { inserted: '1', updated: '1' } });
    expect(await engine.query(`SELECT email FROM crm.user_emails WHERE id = 3`)).toMatchObject({ rows: [{ email: 'new@example.com' }] });
    expect(await engine.query('SELECT id, email, bio FROM crm.users WHERE id IN (3, 4, $1) ORDER BY id', [rows + 1])).toMatchObject({
      rows: [
        { id: 3, email: 'new@example.com' },
        { id: rows + 1, email: 'x@example.com', bio: null },
      ],
    });
    expect(bq.refused).toEqual([]);
  });

  it('the lock row is renewed outside the BigQuery session while a long script runs in it', async () => {
    // A session runs its jobs one at a time: a renewal sent there would wait behind apply.sql, and
    // a script longer than the row's expiry would let a second run in. Here apply.sql stays RUNNING
    // until a renewal has run beside it (or 30 s have passed): `during` is what ran meanwhile.
    // emails_to_dw: the sync whose load is small (users_to_dw loads its 12 MB again, which is not what this is about).
    let during: typeof bq.ran = [];
    bq.running = (statement, sync) => {
      if (statement !== 'apply.sql' || sync !== 'emails_to_dw') return undefined;
      const from = bq.ran.length;
      const renewed = () => bq.ran.slice(from).some((r) => r.name === 'lock renew');
      return (async () => {
        for (const deadline = Date.now() + 240_000; !renewed() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
        during = bq.ran.slice(from);
      })();
    };
    lockRowTiming.renewMs = 50;
    try {
      const from = bq.ran.length;
      const run = await cli(runArgs('emails_to_dw'), env);
      expect(run.code, run.out + run.err).toBe(0);
      const ran = bq.ran.slice(from);
      const renewal = during.find((r) => r.name === 'lock renew');
      expect(renewal, 'a renewal while apply.sql ran').toBeDefined();
      // In no session, with its read-back of the row; every other statement in the sync's one session.
      expect(renewal?.session).toBe('');
      expect(ran.filter((r) => r.session === '').every((r) => r.name === 'lock renew' || r.name === 'lock holders')).toBe(true);
      expect(ran.filter((r) => r.session === '' && r.name === 'lock holders').length).toBeGreaterThan(0);
      expect(new Set(ran.filter((r) => r.session !== '').map((r) => r.session)).size).toBe(1);
    } finally {
      lockRowTiming.renewMs = 60_000;
      bq.running = undefined;
    }
  });
});
