/**
 * Vendor contracts: every request of every golden plan (test/golden/api, the fixtures of
 * test/fixtures/api) and of every example project, rendered from real change rows at the
 * plan's batch size and at the largest the checker allows, conforms to the vendor's published
 * specification as test/contracts/ states it (test/contracts/README.md).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbtProjectsFrom } from '../src/dbt/load.js';
import { checkProject } from '../src/check/check.js';
import type { CheckedSync } from '../src/check/model.js';
import { limitsFor, objectKindOf, requireDestinationType } from '../src/catalog/index.js';
import { placedFields } from '../src/catalog/api/http.js';
import type { ApiStep, SendStep } from '../src/contract/api-steps.js';
import { apiContext, planApiSync } from '../src/plan/api.js';
import { emitSync } from '../src/emit/index.js';
import { SqlFormatter } from '../src/emit/format.js';
import { changeSetOf } from '../src/plan/api-changes.js';
import { buildRequest } from '../src/run/http/request.js';
import { compileMessage, envPlaceholder, render } from '../src/run/template.js';
import { allApiCases } from './fixtures/api/destinations.js';
import { checkedSync } from './fixtures/api/compile.js';
import { openPglite, type Engine } from './support/engines.js';
import { checkRequest } from './contracts/contract.js';
import { sweep } from './contracts/sweep.js';
import { objectKeyProblems } from './contracts/vendors/storage-streaming.js';

const root = join(import.meta.dirname, '..');

function syncFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const full = join(dir, e);
    return statSync(full).isDirectory() ? syncFiles(full) : e.endsWith('.sync') ? [full] : [];
  });
}

/** The API syncs of an example project, checked as `syncwright check` checks it. */
function exampleSyncs(example: string): CheckedSync[] {
  const files = syncFiles(join(root, 'examples', example)).map((f) => ({ path: relative(root, f), text: readFileSync(f, 'utf8') }));
  const { project, diagnostics, ok } = checkProject(files, { dbtProjects: dbtProjectsFrom((name) => join(root, name)) });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (!ok) throw new Error(`examples/${example} does not check: ${errors.map((d) => d.message).join('; ')}`);
  return project.syncs.filter((s) => s.destination.category !== 'warehouse');
}

const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name);

const targets: { name: string; sync: () => CheckedSync }[] = [
  ...allApiCases().map((c) => ({ name: `golden ${c.type}/${c.kind}-${c.mode}`, sync: () => checkedSync(c.project, c.sync) })),
  ...examples.flatMap((example) => exampleSyncs(example).map((s) => ({ name: `examples/${example} ${s.name} (${s.destination.type})`, sync: () => s }))),
];

describe('every request of every plan conforms to the vendor contract', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await openPglite();
  });
  afterAll(async () => {
    await engine.close();
  });

  it('covers all 14 API destination types', () => {
    expect(new Set(targets.map((t) => t.sync().destination.type)).size).toBe(14);
  });

  it.each(targets.map((t) => [t.name, t] as const))('%s', async (_, t) => {
    const { rendered, silent } = await sweep(engine, t.sync());
    expect(rendered.length).toBeGreaterThan(0);
    expect(silent).toEqual([]);
    // One line per kind of problem: array positions are folded (data/3/1 and data/8/1 are one).
    const problems = [
      ...new Set(rendered.flatMap((r) => r.problems.map((p) => `${r.step}: ${p}`.replace(/\/\d+(?=[/:]|$)/g, '/*').replace(/\[\d+\]/g, '[*]')))),
    ];
    expect(problems).toEqual([]);
  });
});

// The sixteen cases of issue 12, each as the request (or plan) the product sent before, which
// the contract must refuse, and what the product does now.
const json = { 'content-type': 'application/json' };
const refused = (type: string, method: string, url: string, body: unknown, headers: Record<string, string> = {}) =>
  checkRequest(type, {
    method,
    url,
    headers: { ...json, ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  }).problems;
const hubspotAuth = { authorization: 'Bearer t' };
const googleAuth = { authorization: 'Bearer t', 'developer-token': 'd' };
const job = 'https://googleads.googleapis.com/v24/customers/1234567890/offlineUserDataJobs/9:addOperations';
const metaUsers = 'https://graph.facebook.com/v21.0/238500/users';
const hex = 'a'.repeat(64);

describe('the cases of issue 12', () => {
  it('1. HubSpot property values are strings: numbers, booleans and null are refused', () => {
    const body = { inputs: [{ idProperty: 'email', id: 'a@b.co', properties: { amount: 99.9, accepts_marketing: true, x: null } }] };
    expect(refused('hubspot', 'POST', 'https://api.hubapi.com/crm/v3/objects/contacts/batch/upsert', body, hubspotAuth)).toEqual([
      'hubspot.objects.batch_upsert: body/inputs/0/properties/amount: must be string',
      'hubspot.objects.batch_upsert: body/inputs/0/properties/accepts_marketing: must be string',
      'hubspot.objects.batch_upsert: body/inputs/0/properties/x: must be string',
    ]);
  });

  it('2. HubSpot batch create needs associations, batch read propertiesWithHistory', () => {
    expect(
      refused('hubspot', 'POST', 'https://api.hubapi.com/crm/v3/objects/contacts/batch/create', { inputs: [{ properties: { a: 'b' } }] }, hubspotAuth),
    ).toEqual(["hubspot.objects.batch_create: body/inputs/0: must have required property 'associations'"]);
    expect(
      refused(
        'hubspot',
        'POST',
        'https://api.hubapi.com/crm/v3/objects/contacts/batch/read',
        { idProperty: 'email', inputs: [{ id: 'a@b.co' }], properties: ['email'] },
        hubspotAuth,
      ),
    ).toEqual(["hubspot.objects.batch_read: body: must have required property 'propertiesWithHistory'"]);
  });

  it('3. Salesforce deletes need record ids, at most 200', () => {
    const url = (ids: string) => `https://acme.my.salesforce.com/services/data/v62.0/composite/sobjects?ids=${ids}&allOrNone=false`;
    expect(refused('salesforce', 'DELETE', url(','), undefined, { authorization: 'Bearer t' })).toHaveLength(1);
    const ids = Array.from({ length: 201 }, (_, i) => `00v${String(i).padStart(15, '0')}`).join(',');
    expect(refused('salesforce', 'DELETE', url(ids), undefined, { authorization: 'Bearer t' })).toEqual([
      'salesforce.collections.delete: 201 items at ?ids; at most 200 per request',
    ]);
  });

  it('4. Klaviyo takes 5 MB per bulk import, and every plan with a byte limit carries it', () => {
    const profiles = Array.from({ length: 10_000 }, (_, i) => ({
      type: 'profile',
      attributes: { email: `u${i}@example.com`, properties: { note: 'x'.repeat(650) } },
    }));
    const body = { data: { type: 'profile-bulk-import-job', attributes: { profiles: { data: profiles } } } };
    const problems = refused('klaviyo', 'POST', 'https://a.klaviyo.com/api/profile-bulk-import-jobs', body, {
      authorization: 'Klaviyo-API-Key k',
      revision: '2024-10-15',
    });
    expect(problems).toEqual([expect.stringMatching(/^klaviyo\.bulk_import_profiles: a body of \d+ bytes; at most 5000000$/)]);
    for (const t of targets) {
      const sync = t.sync();
      const { plan } = emitSync(planApiSync(sync, {}), new SqlFormatter());
      const type = requireDestinationType(sync.destination.type);
      const bytes = limitsFor(type, objectKindOf(type, sync.objectKind, sync.kind)).maxPayloadBytes;
      for (const s of plan.steps as ApiStep[]) if (s.kind === 'send' && bytes !== undefined) expect(s.batch.maxBytes, `${t.name} ${s.operation}`).toBe(bytes);
    }
  });

  it('5. Mixpanel time is an integer: an ISO string is refused, and the example sends milliseconds', async () => {
    const event = { event: 'Checkout Abandoned', properties: { time: '2024-03-10T12:34:56', distinct_id: 'a@b.co', $insert_id: 'abc' } };
    expect(
      refused('mixpanel', 'POST', 'https://api.mixpanel.com/import?strict=1', [event], { authorization: `Basic ${Buffer.from('s:').toString('base64')}` }),
    ).toEqual(['mixpanel.import: body/0/properties/time: must be integer']);
    const sync = exampleSyncs('ecommerce').find((s) => s.name === 'abandoned_checkouts_to_mixpanel')!;
    expect(changeSetOf(sync, ['added']).fields.find((f) => f.field === 'time')).toMatchObject({ type: 'timestamp', encode: 'epoch_ms' });
  });

  it('6 and 8. Meta payloads say is_raw, and leave an unknown key blank, not null', () => {
    const payload = { schema: ['EMAIL', 'PHONE'], data: [[hex, null]] };
    expect(refused('facebook_ads', 'POST', metaUsers, { payload }, { authorization: 'Bearer t' })).toEqual([
      "meta.audience.users_post: body/payload: must have required property 'is_raw'",
      'meta.audience.users_post: body/payload/data/0/1: must be string',
    ]);
    expect(refused('facebook_ads', 'POST', metaUsers, { payload: { ...payload, is_raw: true, data: [[hex, '']] } }, { authorization: 'Bearer t' })).toEqual([]);
  });

  it('9, 10 and 11. Google Ads: a life span of 0-540 days, one field per UserIdentifier, 100,000 identifiers per request', () => {
    const list = { operations: [{ create: { name: 'x', crmBasedUserList: { uploadKeyType: 'CONTACT_INFO' }, membershipLifeSpan: 10000 } }] };
    expect(refused('google_ads', 'POST', 'https://googleads.googleapis.com/v24/customers/1234567890/userLists:mutate', list, googleAuth)).toEqual([
      'google.user_lists.mutate: /operations/0/create/membershipLifeSpan: UserList.membership_life_span must be between 0 and 540 inclusive, not 10000',
    ]);
    expect(
      refused('google_ads', 'POST', job, { operations: [{ create: { userIdentifiers: [{ hashedEmail: hex }, { hashed_phone_number: null }] } }] }, googleAuth),
    ).toEqual(['google.jobs.add_operations: /operations/0/create/userIdentifiers/1: UserIdentifier.identifier: exactly one must be specified, none is']);
    const users = Array.from({ length: 50_001 }, () => ({ create: { userIdentifiers: [{ hashedEmail: hex }, { hashedPhoneNumber: hex }] } }));
    expect(refused('google_ads', 'POST', job, { operations: users }, googleAuth)).toEqual([
      'google.jobs.add_operations: 100002 identifiers in one request; at most 100000',
    ]);
  });

  it('12. Amplitude: fewer than 2,000 events, its keys at the top level, and the order is not the user', () => {
    const events = Array.from({ length: 2_000 }, () => ({
      event_type: 'Order Completed',
      user_id: 'order-1',
      event_properties: { user_id: 42, time: '2024-03-10', revenue: 9.5 },
    }));
    expect(refused('amplitude', 'POST', 'https://api2.amplitude.com/2/httpapi', { api_key: 'k', events })).toEqual(
      expect.arrayContaining([
        'amplitude.httpapi: 2000 items at /events; at most 1999 per request',
        'amplitude.httpapi: events[0].event_properties.user_id: a top-level key of the event',
      ]),
    );
    const sync = exampleSyncs('ecommerce').find((s) => s.name === 'orders_to_amplitude')!;
    const ctx = apiContext(sync);
    expect(placedFields(ctx).top).toEqual(['user_id', 'time', 'revenue', 'currency']);
    expect(ctx.identifierField).toBe('order_id');
    const row = { key: 'gid://order/1', payload: { user_id: 'cust-00042', time: 1, revenue: 9.5, currency: 'USD', order_number: '#1' }, idempotency_key: hex };
    const body = render(
      (emitSync(planApiSync(sync, {}), new SqlFormatter()).plan.steps.find((s) => s.kind === 'send') as SendStep).requests[0]!.request.body!.template,
      { vars: {}, run: {}, rows: [row] },
      { env: envPlaceholder },
    ) as { events: Record<string, unknown>[] };
    expect(body.events[0]).toMatchObject({
      user_id: 'cust-00042',
      time: 1,
      revenue: 9.5,
      currency: 'USD',
      event_properties: { order_id: 'gid://order/1', order_number: '#1' },
    });
  });

  it('12. Amplitude Identify takes no min_id_length: integer user ids get a warning at check time', () => {
    const { diagnostics } = checkProject([
      {
        path: 'p.sync',
        text: 'source w : postgres { database "a" }\nmodel m { from w  table a.m  primary key id  columns { id bigint  plan string } }\ndestination amp : amplitude { api_key env("K") }\nsync s { from m  to amp object user  mode upsert  identifier id -> user_id  map { plan -> plan } }\n',
      },
    ]);
    expect(diagnostics.map((d) => d.code)).toEqual(['SW0609']);
  });

  it('13. a storage key keeps its extension once', () => {
    expect(objectKeyProblems('s3', 'syncwright/finance/daily_active_users_30d.csv.csv', 'csv')).toEqual([
      'the object key syncwright/finance/daily_active_users_30d.csv.csv repeats its extension',
    ]);
  });

  it('14. closed field sets are refused at compile time with "did you mean"', () => {
    const text =
      'source w : postgres { database "a" }\nmodel m { from w  table a.m  primary key email  columns { email string  device_id string } }\ndestination meta : facebook_ads { ad_account "act_1" token env("T") }\ndestination g : google_ads { customer_id "1234567890" developer_token env("D") client_id "c" client_secret env("S") refresh_token env("R") }\nsync a { from m  to meta audience "A"  mode upsert  identifier email -> CUSTOMER_EMAIL hashed }\nsync b { from m  to g audience "B"  mode upsert  identifier email -> hashed_emial hashed  map { device_id -> mobile_id } }\n';
    const { diagnostics } = checkProject([{ path: 'p.sync', text }]);
    expect(diagnostics.map((d) => [d.code, d.hints[0]])).toEqual([
      // CUSTOMER_EMAIL keeps the key EMAIL whole: a rename that added a word.
      ['SW0601', 'did you mean `EMAIL`?'],
      ['SW0601', 'did you mean `hashed_email`?'],
      ['SW0601', expect.stringMatching(/^Google Customer Match identifiers/)],
    ]);
  });

  it('15. an audience sync into an API without a map sends the identifier only', () => {
    const sync = exampleSyncs('b2b-saas').find((s) => s.name === 'pqls_to_hubspot_list')!;
    expect(sync.fields).toEqual([]);
    expect(changeSetOf(sync, ['added']).fields).toEqual([]);
  });

  it('16. a webhook message is the JSON body, values escaped by {{json}}, custom headers from env()', () => {
    const text =
      'source w : postgres { database "a" }\nmodel m { from w  table a.m  primary key id  columns { id bigint  name string } }\ndestination h : webhook { url "https://h.io" header_x_api_key env("HOOK_KEY") }\nsync s { from m  to h  mode insert  identifier id  message """{ "name": {{json name}} }""" }\n';
    const sync = checkedSync(text, 's');
    const step = emitSync(planApiSync(sync, {}), new SqlFormatter()).plan.steps.find((s): s is SendStep => s.kind === 'send')!;
    const row = { key: '1', columns: { id: 1, name: 'Ann "the quote" O\'Brien\n' }, idempotency_key: hex };
    const req = buildRequest(
      step.requests[0]!.request,
      { vars: {}, run: {}, rows: [row], row },
      { env: envPlaceholder, message: compileMessage(step.message!) },
    );
    expect(JSON.parse(req.body!)).toEqual({ name: 'Ann "the quote" O\'Brien\n' });
    expect(req.headers['x-api-key']).toBe('<env HOOK_KEY>');
    // The old model, the message as a string inside an envelope, is what the contract refuses.
    const old = { sync: 's', key: '1', record: { id: '1' }, message: '{ "name": "Ann" }' };
    expect(
      checkRequest(
        'webhook',
        { method: 'POST', url: 'https://h.io/', headers: { ...json, 'idempotency-key': hex }, body: JSON.stringify(old) },
        { context: { batch: false, messages: [{ name: 'Ann' }] } },
      ).problems,
    ).toEqual(['webhook.post: with a message, each row is the JSON value the message renders to']);
  });
});
