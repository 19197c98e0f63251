// examples/ecommerce on Snowflake, end to end through `syncwright run` in process: the
// executor speaks the SQL API to a local server (test/servers/snowflake.ts) that checks what
// it receives and runs each statement's Postgres twin on PGlite; the API destinations are the
// local fakes of their documented APIs, and the two warehouse syncs load their rows from
// Snowflake into the local BigQuery server (test/servers/bigquery.ts), which runs their twins
// on a PGlite of its own. Every sync of the example runs.
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PGlite } from '@electric-sql/pglite';
import { freshPglite } from './support/pglite-template.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../src/contract/plan.js';
import { runPlans, type PlanReport } from '../src/run/index.js';
import { claimAccount, snowflakeConfig } from '../src/run/engines/snowflake-auth.js';
import { lockRowTiming } from '../src/run/locks/sync-lock.js';
import { compileFixture, compileText, execOptions } from './servers/run-harness.js';
import { setupSql, syncProject } from './fixtures/warehouse/scenario.js';
import { scratchFolder } from './servers/scratch-db.js';
import { startSnowflake, type SnowflakeServer } from './servers/snowflake.js';
import { statementTwins } from './servers/snowflake-twin.js';
import { startMeta, type FakeMeta } from './servers/meta.js';
import { isJobQuestion, startGoogleAds, type FakeGoogleAds } from './servers/google-ads.js';
import { startBraze, type FakeBraze } from './servers/braze.js';
import { startKlaviyo, type FakeKlaviyo } from './servers/klaviyo.js';
import { startAmplitude, type FakeAmplitude } from './servers/amplitude.js';
import { startMixpanel, type FakeMixpanel } from './servers/mixpanel.js';
import { FakeBigQuery } from './servers/bigquery.js';
import { adcFile, teach } from './servers/bigquery-twin.js';

const example = join(import.meta.dirname, '..', 'examples', 'ecommerce');

/**
 * The project's twin with the source on Postgres (the two query models' Snowflake SQL written for
 * Postgres); with `marketingOnPostgres`, the BigQuery destination is a Postgres database too (the
 * twin of what BigQuery runs: the load and apply.sql).
 */
function twinProject(marketingOnPostgres = false): string {
  const dir = join(scratchFolder('syncwright-twin-').dir, 'ecommerce');
  cpSync(example, dir, { recursive: true });
  writeFileSync(join(dir, 'sources.sync'), 'source snowflake_dw : postgres {\n  database "ANALYTICS"\n  state_schema "SYNCWRIGHT_STATE"\n}\n');
  if (marketingOnPostgres) {
    const destinations = readFileSync(join(dir, 'destinations.sync'), 'utf8');
    const bigquery = /destination marketing_bq : bigquery \{[^}]*\}/;
    if (!bigquery.test(destinations)) throw new Error('examples/ecommerce has no marketing_bq block');
    writeFileSync(
      join(dir, 'destinations.sync'),
      destinations.replace(bigquery, 'destination marketing_bq : postgres { host "bq.internal" database "marketing" user "loader" password env("PW") }'),
    );
  }
  const models = readFileSync(join(dir, 'models.sync'), 'utf8')
    .replace('c.line_items[0]:title::string', "c.line_items->0->>'title'")
    .replace('dateadd(day, -7, current_timestamp())', "current_timestamp - interval '7 days'")
    .replace('dateadd(day, -1, current_timestamp())', "current_timestamp - interval '1 day'");
  writeFileSync(join(dir, 'models.sync'), models);
  return dir;
}

const [sfBuild, pgBuild, bqTwinBuild] = await Promise.all([compileFixture(example), compileFixture(twinProject()), compileFixture(twinProject(true))]);
const manifest = JSON.parse(readFileSync(join(sfBuild, 'manifest.json'), 'utf8')) as { syncs: { name: string }[] };
const plans = new Map(manifest.syncs.map((s) => [s.name, JSON.parse(readFileSync(join(sfBuild, s.name, 'plan.json'), 'utf8')) as Plan]));
// The API syncs, which read Snowflake; the warehouse syncs, loaded from Snowflake into BigQuery and applied there.
const apiSyncs = [...plans.values()].filter((p) => p.destination.category !== 'warehouse').map((p) => p.sync.name);
const warehouseSyncs = [...plans.values()].filter((p) => p.destination.category === 'warehouse').map((p) => p.sync.name);
const syncs = [...apiSyncs, ...warehouseSyncs];

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
const env = {
  SNOWFLAKE_PRIVATE_KEY: pem,
  META_SYSTEM_USER_TOKEN: 'meta-token',
  GOOGLE_ADS_DEVELOPER_TOKEN: 'dev-token',
  GOOGLE_ADS_CLIENT_SECRET: 'client-secret',
  GOOGLE_ADS_REFRESH_TOKEN: 'refresh-token',
  BRAZE_REST_API_KEY: 'braze-key',
  KLAVIYO_PRIVATE_API_KEY: 'pk_test',
  AMPLITUDE_API_KEY: 'amp-key',
  MIXPANEL_PROJECT_TOKEN: 'mp-project-token',
  MIXPANEL_SERVICE_ACCOUNT_SECRET: 'mp-sa-secret',
};

let db: PGlite;
/** The credential JSON of marketing_bq (its `credentials` setting): an external account whose token exchange is the local server's. */
let bigqueryCredentials: string;
let snowflake: SnowflakeServer;
let meta: FakeMeta;
let ads: FakeGoogleAds;
let braze: FakeBraze;
let klaviyo: FakeKlaviyo;
let amplitude: FakeAmplitude;
let mixpanel: FakeMixpanel;
/** The marketing BigQuery project: a local REST server whose statements run as their Postgres twins on `marketingDb`. */
let bigquery: FakeBigQuery;
let marketingDb: PGlite;

const vendorRequests = () => [meta, ads, braze, klaviyo, amplitude, mixpanel].reduce((n, v) => n + v.api.requests.length, 0);

async function run(names: readonly string[], overrides: Parameters<typeof execOptions>[0] = {}): Promise<PlanReport[]> {
  const endpoints = {
    snowflake_dw: snowflake.url,
    meta_ads: meta.api.url,
    google_ads: ads.api.url,
    braze: braze.api.url,
    klaviyo: klaviyo.api.url,
    amplitude: amplitude.api.url,
    mixpanel: mixpanel.api.url,
    marketing_bq: bigquery.api.url,
  };
  const report = await runPlans(
    names.map((n) => join(sfBuild, n, 'plan.json')),
    { byName: {}, folder: '' },
    execOptions({ env: { ...env, MARKETING_BQ_SERVICE_ACCOUNT_JSON: bigqueryCredentials }, endpoints, ...overrides }),
  );
  return report.plans;
}

const seed = `
  CREATE SCHEMA marts;
  CREATE TABLE marts.dim_customers (customer_id bigint, email text, phone text, first_name text, last_name text, city text, country_code text,
    accepts_marketing bool, loyalty_tier text, orders_count int, lifetime_value numeric(12,2), average_order_value numeric(12,2),
    first_order_date date, last_order_date date, days_since_last_order int, "firstOrderChannel" text, has_app_account bool,
    analytics_user_id text, updated_at timestamp, app_account_created_at timestamp);
  INSERT INTO marts.dim_customers SELECT g, 'customer' || g || '@shop.test', '+1555000' || lpad(g::text, 4, '0'), 'First' || g, 'Last' || g, 'Springfield',
    (ARRAY['US', 'CA', 'GB', 'AU'])[1 + g % 4], g % 5 <> 0, (ARRAY['none', 'silver', 'gold', 'platinum'])[1 + g % 4], 1 + g % 7, 100 + g * 7, 50 + g % 40,
    date '2023-01-01' + g, date '2024-11-25' + (g % 300), 100 + g % 500, (ARRAY['web', 'marketplace', 'ios'])[1 + g % 3], g % 3 = 0,
    'cust-' || g, timestamp '2025-01-01' + g * interval '1 minute', now() - interval '2 hours'
  FROM generate_series(1, 240) g;
  CREATE TABLE marts.fct_orders (order_id text, order_number text, customer_id bigint, analytics_user_id text, email text, ordered_at timestamp,
    currency text, subtotal_price numeric(12,2), total_discounts numeric(12,2), shipping_price numeric(12,2), total_price numeric(12,2), item_count int,
    discount_code text, sales_channel text, is_first_order bool, line_items jsonb, updated_at timestamp, checkout_id text);
  INSERT INTO marts.fct_orders SELECT 'gid://shopify/Order/' || g, '#' || (1000 + g), 1 + g % 240, 'cust-' || (1 + g % 240), 'customer' || (1 + g % 240) || '@shop.test',
    timestamp '2025-02-01' + g * interval '1 hour', 'USD', 40 + g, 0, 5, 45 + g, 1 + g % 3, NULL, 'web', g <= 240,
    jsonb_build_array(jsonb_build_object('sku', 'SKU' || g, 'title', 'Product ' || g, 'quantity', 1, 'price', 40 + g)), timestamp '2025-02-01' + g * interval '1 hour', 'chk-' || g
  FROM generate_series(1, 300) g;
  CREATE TABLE marts.fct_checkouts (checkout_id text, customer_id bigint, email text, total_price numeric(12,2), currency text, item_count int, line_items jsonb,
    abandoned_checkout_url text, created_at timestamp, updated_at timestamp);
  INSERT INTO marts.fct_checkouts SELECT 'chk-' || g, 1 + g % 240, 'Customer' || (1 + g % 240) || '@shop.test', 30 + g, 'USD', 1,
    jsonb_build_array(jsonb_build_object('title', 'Product ' || g)), 'https://shop.test/checkouts/' || g, now() - interval '1 day', now() - interval '1 day'
  FROM generate_series(290, 330) g;
  CREATE TABLE marts.fct_newsletter_signups (email text, signup_source text, country_code text, signed_up_at timestamp);
  INSERT INTO marts.fct_newsletter_signups SELECT 'reader' || g || '@mail.test', 'footer', 'US', timestamp '2025-03-01' + g * interval '1 day' FROM generate_series(1, 30) g;
`;

beforeAll(async () => {
  db = await freshPglite();
  await db.exec(seed);
  snowflake = await startSnowflake({
    db,
    twins: statementTwins(sfBuild, pgBuild, syncs),
    account: 'northwind-shop',
    user: 'SYNCWRIGHT_SVC',
    publicKey,
    context: { database: 'ANALYTICS', schema: 'MARTS', warehouse: 'REVERSE_ETL_WH', role: 'SYNCWRIGHT' },
    // Small partitions: every read of more than 64 rows pages through several.
    partitionRows: 64,
    // changes.sql is answered 202 and polled.
    longRunning: (label) => label.endsWith('/changes.sql'),
  });
  [meta, ads, braze, klaviyo, amplitude, mixpanel] = await Promise.all([
    startMeta({ token: env.META_SYSTEM_USER_TOKEN }),
    startGoogleAds({
      clientId: '618203948123-syncwright.apps.googleusercontent.com',
      clientSecret: env.GOOGLE_ADS_CLIENT_SECRET,
      refreshToken: env.GOOGLE_ADS_REFRESH_TOKEN,
      developerToken: env.GOOGLE_ADS_DEVELOPER_TOKEN,
    }),
    startBraze(env.BRAZE_REST_API_KEY),
    startKlaviyo(env.KLAVIYO_PRIVATE_API_KEY),
    startAmplitude({ apiKey: env.AMPLITUDE_API_KEY }),
    startMixpanel({
      token: env.MIXPANEL_PROJECT_TOKEN,
      serviceAccount: { username: 'syncwright.4f2a1c.mp-service-account', secret: env.MIXPANEL_SERVICE_ACCOUNT_SECRET, projectId: '3129876' },
    }),
    (async () => {
      marketingDb = await freshPglite();
      await marketingDb.exec(marketingTables());
      bigquery = await new FakeBigQuery(marketingDb, 'northwind-marketing', 'US', 'subject-token-marketing').start();
      for (const sync of warehouseSyncs) teach(bigquery, sfBuild, bqTwinBuild, sync);
      bigqueryCredentials = readFileSync(adcFile(bigquery, 'subject-token-marketing'), 'utf8');
    })(),
  ]);
});
afterAll(async () => {
  await Promise.all([
    bigquery?.api.close(),
    snowflake?.close(),
    meta?.api.close(),
    ads?.api.close(),
    braze?.api.close(),
    klaviyo?.api.close(),
    amplitude?.api.close(),
    mixpanel?.api.close(),
  ]);
  await db?.close();
  await marketingDb?.close();
});

/** The BigQuery tables the two warehouse syncs write: the marketing team's, made before any run. */
function marketingTables(): string {
  return warehouseSyncs
    .map((sync) => {
      const twin = JSON.parse(readFileSync(join(bqTwinBuild, sync, 'plan.json'), 'utf8')) as Plan;
      const [schema, table] = twin.destination.target as [string, string];
      const columns = (twin.destination.columns ?? []).map((c) => `"${c.name}" ${c.type}`).join(', ');
      return `CREATE SCHEMA IF NOT EXISTS "${schema}"; CREATE TABLE "${schema}"."${table}" (${columns});`;
    })
    .join('\n');
}

/** What the destinations hold after the first run: the model's rows, in each vendor's shape. */
function arrived(): void {
  // 240 customers; 41 checkouts of which 11 became orders: 30 abandoned.
  expect(
    braze.api.violations.concat(klaviyo.api.violations, amplitude.api.violations, mixpanel.api.violations, meta.api.violations, ads.api.violations),
  ).toEqual([]);
  expect(braze.users.size).toBe(240);
  // Mixpanel: checkout events through /import with the service account, at the time each checkout started.
  expect(mixpanel.events).toHaveLength(30);
  expect(mixpanel.events.find((e) => e.properties.checkout_id === 'chk-301')).toEqual({
    event: 'Checkout Abandoned',
    properties: expect.objectContaining({ distinct_id: 'customer62@shop.test', cart_value: 331, currency: 'USD', top_product_title: 'Product 301' }),
  });
  const imports = mixpanel.api.requests.filter((q) => q.path === '/import');
  expect(imports.every((q) => q.query.get('project_id') === '3129876' && q.headers.authorization?.startsWith('Basic '))).toBe(true);
  // Profiles through /engage: exactly the mapped properties; ip=0, so not the location of the server the run is on.
  expect(mixpanel.profiles.size).toBe(240);
  expect(mixpanel.profiles.get('customer101@shop.test')).toEqual({
    $first_name: 'First101',
    $last_name: 'Last101',
    $city: 'Springfield',
    $country_code: 'CA',
    loyalty_tier: 'silver',
    lifetime_value: 807,
    orders_count: 4,
  });
  // Amplitude: one identification per customer, through /identify, the properties under $set.
  expect(amplitude.users.size).toBe(240);
  expect(amplitude.users.get('cust-10')).toEqual({
    loyalty_tier: 'gold',
    orders_count: 4,
    lifetime_value: 170,
    first_order_channel: 'marketplace',
    has_app_account: false,
  });
  // Klaviyo: the list found or made once, the abandoners imported into it with their cart.
  const flow = klaviyo.list('Abandoned Checkout Flow');
  expect(flow?.members.size).toBe(30);
  expect(klaviyo.profiles.get('customer62@shop.test')).toMatchObject({ cart_value: 331, checkout_url: 'https://shop.test/checkouts/301' });
  expect(klaviyo.lists.size).toBe(1);
}

/** Each warehouse sync's rows loaded from Snowflake, and what its apply.sql changed in BigQuery. */
const summaries = (reports: PlanReport[]) =>
  Object.fromEntries(
    reports
      .filter((r) => warehouseSyncs.includes(r.sync))
      .map((r) => {
        const result = r.steps.at(-1)?.result?.[0] ?? {};
        return [r.sync, { loaded: r.steps.find((s) => s.kind === 'load')?.rows, inserted: Number(result.inserted), updated: Number(result.updated) }];
      }),
  );

/** The BigQuery tables' rows, counted, and all of them (to see that a rerun changed none). */
async function marketingRows(): Promise<{ members: number; orders: number; all: unknown[] }> {
  const all = await marketingDb.query<Record<string, unknown>>(
    `SELECT 'member' AS t, customer_id::text AS k, to_jsonb(m) AS v FROM audiences.audience_members m
     UNION ALL SELECT 'order', order_id, to_jsonb(o) FROM conversions.orders o ORDER BY 1, 2`,
  );
  return { members: all.rows.filter((r) => r.t === 'member').length, orders: all.rows.filter((r) => r.t === 'order').length, all: all.rows };
}

const statuses = (reports: PlanReport[]) => Object.fromEntries(reports.map((r) => [r.sync, r.error ? `${r.status}: ${r.error}` : r.status]));

describe('examples/ecommerce on Snowflake', () => {
  it('first run: every API sync sends its rows; the SQL API sees exactly the plans statements, in plan order', async () => {
    snowflake.faults.push(429, 503);
    const reports = await run(syncs);
    expect(statuses(reports)).toEqual(Object.fromEntries(syncs.map((s) => [s, 'ok'])));
    expect(snowflake.unexpected).toEqual([]);
    // Every row of every change set went out and was committed.
    for (const r of reports.filter((x) => apiSyncs.includes(x.sync))) {
      expect(r.committed, r.sync).toBeGreaterThan(0);
      expect(r.committed, r.sync).toBe(r.changes?.added);
    }
    expect(vendorRequests()).toBeGreaterThan(0);
    arrived();
    // BigQuery: the Snowflake rows of each warehouse sync loaded into the session's TEMP table, then applied.
    expect(bigquery.refused).toEqual([]);
    expect(summaries(reports)).toEqual({
      vip_membership_to_bigquery: { loaded: 120, inserted: 120, updated: 0 },
      orders_to_bigquery_conversions: { loaded: 300, inserted: 300, updated: 0 },
    });
    expect(await marketingRows()).toMatchObject({ members: 120, orders: 300 });
    expect((await marketingDb.query(`SELECT * FROM conversions.orders WHERE order_id = 'gid://shopify/Order/7'`)).rows).toEqual([
      expect.objectContaining({ customer_id: 8, revenue: '52.00', currency: 'USD', sales_channel: 'web', is_first_order: true }),
    ]);
    // Each in plan order under its lock row.
    const [firstSync, secondSync] = warehouseSyncs as [string, string];
    // A load insert per page of the extract (Snowflake's partitions of 64 rows here).
    const ran = (sync: string) => bigquery.ranFor(sync).filter((l, i, all) => l !== 'load insert' || all[i - 1] !== l);
    const loadAndApply = [
      'lock holders',
      'target exists',
      'target columns',
      'target required',
      'load create',
      'load insert',
      'apply.sql',
      'lock release',
      'close',
    ];
    // Each lock table is in its target's dataset, made by the first take that finds it missing;
    // each sync runs in a BigQuery session of its own, ended with it.
    expect(ran(firstSync)).toEqual(['lock take', 'lock create', 'lock take', ...loadAndApply]);
    expect(ran(secondSync)).toEqual(['lock take', 'lock create', 'lock take', ...loadAndApply]);
    expect(bigquery.ranFor('orders_to_bigquery_conversions').filter((l) => l === 'load insert').length).toBeGreaterThanOrEqual(Math.ceil(300 / 64));
    expect(new Set(bigquery.ran.map((r) => r.session)).size).toBe(2);
    expect(snowflake.labels().filter((l) => l.endsWith('/extract.sql pages'))).toEqual(warehouseSyncs.map((s) => `${s}/extract.sql pages`));
    // The 429 and the 503 were retried with the same requestId, and ran once (the first
    // statement, the lock's seed, then found no state schema yet: 422, 02000).
    expect(snowflake.requests.slice(0, 3).map((q) => q.status)).toEqual([429, 503, 422]);
    const firstThree = snowflake.requests.slice(0, 3).map((q) => new URL(q.path, 'http://local').searchParams);
    expect(new Set(firstThree.map((p) => p.get('requestId'))).size).toBe(1);
    expect(firstThree.map((p) => p.get('retry'))).toEqual([null, 'true', 'true']);
    expect(snowflake.requests.filter((q) => q.status === 202).length).toBeGreaterThan(0);
    // Paged: some statement's result was read beyond its first partition.
    expect(snowflake.requests.some((q) => /partition=[1-9]/.test(q.path))).toBe(true);

    // One sync's statements, in plan order: the lock, the recovery commit, the change set, the
    // counts and reads, the accepted rows, the commit, the release.
    const labels = snowflake.labels();
    const start = labels.indexOf('customers_to_braze/commit.sql');
    expect(labels.slice(start - 3, start)).toEqual(['lock seed', 'lock take', 'lock holders']);
    // The lock table was made once, by the first run that found it missing.
    expect(labels.slice(0, 4)).toEqual(['lock seed', 'lock create', 'lock seed', 'lock take']);
    expect(labels.filter((l) => l === 'lock create')).toHaveLength(1);
    const body = labels.slice(start, labels.indexOf('lock release', start) + 1);
    expect(body.slice(0, 2)).toEqual(['customers_to_braze/commit.sql', 'customers_to_braze/changes.sql']);
    expect(body.slice(-3)).toEqual(['customers_to_braze/accepted rows', 'customers_to_braze/commit.sql', 'lock release']);
    expect(body.filter((l) => !l.startsWith('customers_to_braze/') && l !== 'lock release')).toEqual([]);
    expect(body.indexOf('customers_to_braze/read added,changed')).toBeGreaterThan(body.indexOf('customers_to_braze/count added,changed'));
    // Each request carried the block's context; scripts went as MULTI_STATEMENT_COUNT 0, single statements as 1; every one in UTC,
    // whatever the account's default zone, as a timestamp without zone is read in it.
    for (const r of snowflake.received) {
      expect(r.context).toEqual({ database: 'ANALYTICS', schema: 'MARTS', warehouse: 'REVERSE_ETL_WH', role: 'SYNCWRIGHT' });
      expect(r.multi).toBe(r.label.endsWith('.sql') || r.label === 'lock create' ? '0' : '1');
      expect(r.timezone).toBe('UTC');
    }
    const accepted = snowflake.received.find((r) => r.label === 'customers_to_braze/accepted rows');
    expect(accepted?.bindings?.['1']).toMatchObject({ type: 'TEXT' });
    expect(Array.isArray(accepted?.bindings?.['1']?.value)).toBe(true);
    // What the destination holds came from the engine's rows.
    const [{ n }] = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM "SYNCWRIGHT_STATE"."customers_to_braze_snapshot"`)).rows as [{ n: number }];
    expect(n).toBe(240);
  });

  it('unchanged rerun: nothing is sent to any destination, no BigQuery row changes', async () => {
    const before = vendorRequests();
    const adsBefore = ads.api.requests.length;
    const tables = await marketingRows();
    const reports = await run(syncs);
    expect(statuses(reports)).toEqual(Object.fromEntries(syncs.map((s) => [s, 'ok'])));
    // Google Ads is only asked how the last run's jobs ended (a sign-in, then a search of each job).
    const asked = ads.api.requests.slice(adsBefore);
    expect(asked.filter((q) => q.path !== '/token' && !isJobQuestion(q))).toEqual([]);
    expect(asked.some(isJobQuestion)).toBe(true);
    expect(vendorRequests() - asked.length).toBe(before);
    for (const r of reports.filter((x) => apiSyncs.includes(x.sync))) expect(r.committed, r.sync).toBe(0);
    expect(summaries(reports)).toEqual({
      vip_membership_to_bigquery: { loaded: 120, inserted: 0, updated: 0 },
      orders_to_bigquery_conversions: { loaded: 300, inserted: 0, updated: 0 },
    });
    expect(await marketingRows()).toEqual(tables);
    expect(snowflake.unexpected).toEqual([]);
    expect(bigquery.refused).toEqual([]);
  });

  it('changed rerun after the session expired: a new JWT, then only the changed rows are sent', async () => {
    // Some requests into the run, the session's token expires: 401, then a new JWT.
    snowflake.expireTokensAfter(40);
    await db.exec(`UPDATE marts.dim_customers SET loyalty_tier = 'platinum', updated_at = updated_at + interval '1 day' WHERE customer_id = 5;
      INSERT INTO marts.fct_orders SELECT 'gid://shopify/Order/9001', '#9001', 5, 'cust-5', 'customer5@shop.test', timestamp '2025-06-01', 'USD', 80, 0, 5, 85, 2, NULL, 'ios', false, '[]', timestamp '2025-06-01', NULL;`);
    const braze0 = braze.api.requests.length;
    const amp0 = amplitude.api.requests.length;
    const sent0 = {
      events: mixpanel.events.length,
      updates: mixpanel.updates.length,
      identifications: amplitude.identifications.length,
      jobs: klaviyo.jobs.length,
    };
    const tables = await marketingRows();
    const reports = await run(syncs);
    expect(statuses(reports)).toEqual(Object.fromEntries(syncs.map((s) => [s, 'ok'])));
    const refused = snowflake.requests.findIndex((q) => q.status === 401);
    expect(refused).toBeGreaterThan(0);
    expect(snowflake.requests[refused + 1]?.status).not.toBe(401);
    const byName = new Map(reports.map((r) => [r.sync, r]));
    expect(byName.get('customers_to_braze')?.committed).toBe(1);
    expect(byName.get('orders_to_amplitude')?.committed).toBe(1);
    expect(braze.api.requests.length).toBeGreaterThan(braze0);
    expect(amplitude.api.requests.length).toBeGreaterThan(amp0);
    // Customer 5 alone, wherever customers go; no checkout changed.
    expect(mixpanel.updates.slice(sent0.updates)).toEqual([{ distinctId: 'customer5@shop.test', set: expect.objectContaining({ loyalty_tier: 'platinum' }) }]);
    expect(amplitude.identifications.slice(sent0.identifications)).toEqual([
      { user_id: 'cust-5', user_properties: { $set: expect.objectContaining({ loyalty_tier: 'platinum' }) } },
    ]);
    expect(mixpanel.events).toHaveLength(sent0.events);
    expect(klaviyo.jobs.slice(sent0.jobs).map((j) => j.count)).toEqual([1]);
    expect(klaviyo.list('Abandoned Checkout Flow')?.members.size).toBe(30);
    // BigQuery: customer 5 joins the VIPs, order 9001 is appended; nothing else changed.
    expect(summaries(reports)).toEqual({
      vip_membership_to_bigquery: { loaded: 121, inserted: 1, updated: 0 },
      orders_to_bigquery_conversions: { loaded: 301, inserted: 1, updated: 0 },
    });
    const after = await marketingRows();
    expect(after.all.filter((r) => !tables.all.some((t) => JSON.stringify(t) === JSON.stringify(r)))).toEqual([
      { t: 'member', k: '5', v: expect.objectContaining({ audience: 'vip_customers', loyalty_tier: 'platinum' }) },
      { t: 'order', k: 'gid://shopify/Order/9001', v: expect.objectContaining({ customer_id: 5, revenue: 85 }) },
    ]);
    expect(after.all).toHaveLength(tables.all.length + 2);
    expect(snowflake.unexpected).toEqual([]);
    expect(bigquery.refused).toEqual([]);
  });

  it('dry run: counts and sends nothing, commits nothing, under the lock', async () => {
    await db.exec(`UPDATE marts.dim_customers SET city = 'Shelbyville', updated_at = updated_at + interval '1 day' WHERE customer_id = 6`);
    const before = vendorRequests();
    const [r] = await run(['customers_to_braze'], { dryRun: true });
    expect(r).toMatchObject({ status: 'ok', committed: 0 });
    expect(r?.steps.find((s) => s.kind === 'send')?.rows).toBe(1);
    expect(vendorRequests()).toBe(before);
    const [again] = await run(['customers_to_braze']);
    expect(again?.committed).toBe(1);
  });

  it('crash recovery: rows accepted by a run whose commit failed are committed by the next run first, not sent again', async () => {
    await db.exec(`UPDATE marts.dim_customers SET city = 'Capital City', updated_at = updated_at + interval '1 day' WHERE customer_id = 8`);
    // The run's own commit (after the recovery commit) is cancelled by Snowflake.
    snowflake.cancel.set('customers_to_braze/commit.sql', { skip: 1 });
    const sent = braze.api.requests.length;
    const [failed] = await run(['customers_to_braze']);
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toMatch(/timeout of 3,600 second\(s\) and was canceled/);
    expect(braze.api.requests.length).toBe(sent + 1);
    // Recorded as sent before its request left, then as accepted.
    const accepted = await db.query<{ row_key: string; change: string }>(
      `SELECT row_key, change FROM "SYNCWRIGHT_STATE"."customers_to_braze_accepted_rows" ORDER BY change`,
    );
    expect(accepted.rows).toEqual([
      { row_key: '8', change: 'changed' },
      { row_key: '8', change: 'sent' },
    ]);

    const [next] = await run(['customers_to_braze']);
    expect(next?.status, next?.error).toBe('ok');
    expect(braze.api.requests.length).toBe(sent + 1);
    expect((await db.query(`SELECT * FROM "SYNCWRIGHT_STATE"."customers_to_braze_accepted_rows"`)).rows).toEqual([]);
  });

  it('a result partition answered with an error, or with fewer rows than the result said, fails the run where it was read as its rows', async () => {
    // The extract comes in partitions of 64 rows; the second is lost each way.
    const faults = [
      { status: 422, body: { code: '000709', sqlState: '02000', message: 'Statement 01b2c3d4-0000-0000-0000-000000000000 not found' } },
      { status: 200, body: { data: [] } },
    ];
    for (const fault of faults) {
      const tables = await marketingRows();
      snowflake.partitionFault = (n) => (n === 1 ? fault : undefined);
      try {
        const [r] = await run(['vip_membership_to_bigquery']);
        expect(r?.status).toBe('failed');
        expect(r?.error).toMatch(fault.status === 422 ? /Statement .* not found/ : /gave 0 rows for partition 1 of statement .*, where the result said [1-9]/);
        expect(r?.steps.map((s) => s.operation)).not.toContain('apply.sql');
      } finally {
        snowflake.partitionFault = undefined;
      }
      expect(await marketingRows()).toEqual(tables);
    }
    const [again] = await run(['vip_membership_to_bigquery']);
    expect(again?.status, again?.error).toBe('ok');
    // Every partition read: more rows than the first holds.
    expect(again?.steps.find((s) => s.kind === 'load')?.rows).toBeGreaterThan(64);
  });

  it('a result too large for its answer (code 391908, fewer rows in its partitions than numRows) fails the run where the rows it gave were taken as all', async () => {
    const tables = await marketingRows();
    snowflake.tooLarge = true;
    try {
      const [r] = await run(['vip_membership_to_bigquery']);
      expect(r?.status).toBe('failed');
      expect(r?.error).toMatch(/391908/);
      expect(r?.steps.map((s) => s.operation)).not.toContain('apply.sql');
    } finally {
      snowflake.tooLarge = false;
    }
    expect(await marketingRows()).toEqual(tables);
  });

  it('one run per sync: a second run at once stops busy; an expired lock row is taken over', async () => {
    const results = await Promise.all([run(['customers_to_klaviyo']), run(['customers_to_klaviyo'])]);
    expect(results.map(([r]) => r?.status).sort()).toEqual(['busy', 'ok']);
    expect(results.map(([r]) => r?.error).find(Boolean)).toMatch(/another run of sync customers_to_klaviyo is in progress .*syncwright_locks/);

    const key = plans.get('customers_to_klaviyo')?.lock.key as string;
    await db.query(`UPDATE "SYNCWRIGHT_STATE"."syncwright_locks" SET owner = 'crashed-host:1:x', expires_at = now() + interval '1 hour' WHERE lock_key = $1`, [
      key,
    ]);
    const [held] = await run(['customers_to_klaviyo']);
    expect(held?.status).toBe('busy');
    await db.query(`UPDATE "SYNCWRIGHT_STATE"."syncwright_locks" SET expires_at = now() - interval '1 second' WHERE lock_key = $1`, [key]);
    const [taken] = await run(['customers_to_klaviyo']);
    expect(taken?.status).toBe('ok');
    const rows = await db.query<{ owner: string }>(`SELECT owner FROM "SYNCWRIGHT_STATE"."syncwright_locks" WHERE lock_key = $1`, [key]);
    expect(rows.rows).toEqual([{ owner: '' }]);

    // The row is renewed while the run lasts (here every 50 ms), and let go at the end.
    lockRowTiming.renewMs = 50;
    try {
      const from = snowflake.received.length;
      const [renewed] = await run(['customers_to_klaviyo']);
      expect(renewed?.status).toBe('ok');
      const labels = snowflake.labels().slice(from);
      expect(labels.filter((l) => l === 'lock renew').length).toBeGreaterThan(0);
      expect(labels.lastIndexOf('lock renew')).toBeLessThan(labels.lastIndexOf('lock release'));
      const renewal = snowflake.received.slice(from).find((r) => r.label === 'lock renew');
      expect(renewal?.bindings).toMatchObject({ '1': { type: 'FIXED', value: String(lockRowTiming.seconds) }, '2': { type: 'TEXT', value: key } });
    } finally {
      lockRowTiming.renewMs = 60_000;
    }

    // --wait: the second run tries the row again until the first lets it go, then runs.
    const notices: string[] = [];
    const waited = await Promise.all([run(['customers_to_klaviyo']), run(['customers_to_klaviyo'], { waitMs: 120_000, notice: (t) => notices.push(t) })]);
    expect(waited.map(([r]) => r?.status)).toEqual(['ok', 'ok']);
    expect(notices.join('\n')).toMatch(/sync customers_to_klaviyo is being run by another process: waiting up to 120 s/);
  });

  it('OAuth and programmatic access tokens instead of a key pair; a password alone is refused with what to use', async () => {
    const server = await startSnowflake({
      db,
      twins: statementTwins(sfBuild, pgBuild, ['customers_to_klaviyo']),
      account: 'northwind-shop',
      user: 'SYNCWRIGHT_SVC',
      token: { value: 'pat-secret-value', type: 'PROGRAMMATIC_ACCESS_TOKEN' },
      context: { database: 'ANALYTICS', schema: 'MARTS', warehouse: 'REVERSE_ETL_WH', role: 'SYNCWRIGHT' },
    });
    try {
      const withToken = (extra: Record<string, string>) =>
        runPlans(
          [join(sfBuild, 'customers_to_klaviyo', 'plan.json')],
          { byName: {}, folder: '' },
          execOptions({ env: { ...env, SNOWFLAKE_PRIVATE_KEY: '', ...extra }, endpoints: { snowflake_dw: server.url, klaviyo: klaviyo.api.url } }),
        );
      const [ok] = (await withToken({ SNOWFLAKE_TOKEN: 'pat-secret-value', SNOWFLAKE_TOKEN_TYPE: 'PROGRAMMATIC_ACCESS_TOKEN' })).plans;
      expect(ok?.status, ok?.error).toBe('ok');
      // The wrong type is refused by the server (401), and the token never shows in what the run says.
      const [refused] = (await withToken({ SNOWFLAKE_TOKEN: 'pat-secret-value' })).plans;
      expect(refused?.status).toBe('failed');
      expect(refused?.error).toMatch(/answered 401 \(authentication refused/);
      expect(JSON.stringify(refused)).not.toContain('pat-secret-value');
    } finally {
      await server.close();
    }
    const endpoint = { name: 'dw', dialect: 'snowflake' as const, settings: { account: 'acme', user: 'me', password: { env: 'PW' } } };
    expect(() => snowflakeConfig(endpoint, { PW: 'x' })).toThrow(
      /no credentials for Snowflake's SQL API, which takes no password: .*programmatic access token/,
    );
    expect(
      snowflakeConfig({ ...endpoint, settings: { account: 'xy12345.us-east-1' } }, { SNOWFLAKE_TOKEN: 't', SNOWFLAKE_USER: 'me', SNOWFLAKE_ROLE: 'R' }),
    ).toMatchObject({ base: 'https://xy12345.us-east-1.snowflakecomputing.com', user: 'me', context: { role: 'R' }, auth: { type: 'OAUTH', token: 't' } });
    expect(claimAccount('xy12345.us-east-1')).toBe('XY12345');
  });
});

describe('a warehouse sync on Snowflake', () => {
  const source =
    'source wh : snowflake { account "acme-prod" user "SYNC" private_key env("SNOWFLAKE_PRIVATE_KEY") database "TEST" schema "PUBLIC" warehouse "WH" role "SYNCER" }';
  const project = (guard: string) => syncProject({ kind: 'record', mode: 'mirror', guard });
  const tables = `SELECT "Id" AS id, "select" AS n FROM "Sales Data"."Target ""Q"" Table" ORDER BY "Id"`;
  let wdb: PGlite;
  let server: SnowflakeServer;
  const builds: Record<string, string> = {};

  beforeAll(async () => {
    for (const guard of ['guard deletes <= 25%', 'guard deletes <= 0']) {
      const sf = await compileText(project(guard).replace('source wh : postgres { database "test" }', source));
      const pg = await compileText(project(guard));
      builds[guard] = sf;
      builds[`${guard} twin`] = pg;
    }
    wdb = await freshPglite();
    await wdb.exec(setupSql());
    const twins = new Map([
      ...statementTwins(builds['guard deletes <= 25%'] as string, builds['guard deletes <= 25% twin'] as string, ['s']),
      ...statementTwins(builds['guard deletes <= 0'] as string, builds['guard deletes <= 0 twin'] as string, ['s']),
    ]);
    server = await startSnowflake({
      db: wdb,
      twins,
      account: 'acme-prod',
      user: 'SYNC',
      publicKey,
      context: { database: 'TEST', schema: 'PUBLIC', warehouse: 'WH', role: 'SYNCER' },
    });
  });
  afterAll(async () => {
    await server?.close();
    await wdb?.close();
  });

  const runWarehouse = async (guard: string) => {
    const report = await runPlans(
      [join(builds[guard] as string, 's', 'plan.json')],
      { byName: {}, folder: '' },
      execOptions({ env, endpoints: { wh: server.url } }),
    );
    return report.plans[0] as PlanReport;
  };

  it('the script runs in one request under the lock row; its summary row is the report; a rerun changes nothing; a tripped guard changes nothing', async () => {
    const before = (await wdb.query(tables)).rows;
    const tripped = await runWarehouse('guard deletes <= 0');
    expect(tripped.status).toBe('guarded');
    expect(tripped.error).toMatch(/syncwright guard/);
    expect((await wdb.query(tables)).rows).toEqual(before);

    const r = await runWarehouse('guard deletes <= 25%');
    expect(r.status, r.error).toBe('ok');
    expect(r.steps.map((s) => s.operation)).toEqual(['apply.sql']);
    // Ids 4, 6 (its later row) and 7 are new, 2 changed, 3 gone.
    expect(r.steps[0]?.result?.[0]).toMatchObject({ inserted: 3, updated: 1, deleted: 1 });
    expect((await wdb.query(tables)).rows).not.toEqual(before);
    const again = await runWarehouse('guard deletes <= 25%');
    expect(again.steps[0]?.result?.[0]).toMatchObject({ inserted: 0, updated: 0, deleted: 0 });
    expect(server.labels().slice(-8)).toEqual([
      'lock seed',
      'lock take',
      'lock holders',
      's/target exists',
      's/target columns',
      's/target required',
      's/apply.sql',
      'lock release',
    ]);
    expect(server.labels().slice(0, 2)).toEqual(['lock seed', 'lock create']);
    expect(server.received.find((q) => q.label === 's/apply.sql')?.multi).toBe('0');
    expect(server.unexpected).toEqual([]);
  });
});
