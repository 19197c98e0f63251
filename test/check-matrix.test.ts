/**
 * The mode matrix, cell by cell: every destination type x every record mode (record sync)
 * and x every audience mode plus the record-only modes (audience sync), each checked as a
 * minimal project that is otherwise valid. The expected table is written out here from
 * semantics.md, independently of the catalog, so a wrong catalog fails this test.
 */
import { describe, expect, it } from 'vitest';
import { checkProject } from '../src/check/check.js';
import { destinationTypes, modeMatrix, takesAudiences, takesRecords } from '../src/catalog/index.js';
import type { AudienceMode, DestinationType, RecordMode } from '../src/catalog/types.js';

const recordModes: RecordMode[] = ['upsert', 'insert', 'update', 'mirror'];
const audienceModes: AudienceMode[] = ['add', 'remove', 'mirror', 'upsert'];
const allModes = ['upsert', 'insert', 'update', 'mirror', 'add', 'remove'] as const;
type Mode = (typeof allModes)[number];

/** semantics.md, "Mode support matrix": category, its destinations, record modes, audience modes. */
const semantics: { category: string; types: string[]; records: RecordMode[]; audiences: AudienceMode[] }[] = [
  { category: 'crm', types: ['salesforce', 'hubspot'], records: ['upsert', 'insert', 'update', 'mirror'], audiences: ['add', 'remove', 'mirror', 'upsert'] },
  { category: 'advertising', types: ['google_ads', 'facebook_ads'], records: ['upsert', 'mirror'], audiences: ['add', 'remove', 'mirror'] },
  { category: 'marketing', types: ['braze', 'klaviyo'], records: ['upsert', 'insert'], audiences: ['add', 'remove', 'mirror', 'upsert'] },
  { category: 'analytics', types: ['amplitude', 'mixpanel'], records: ['upsert', 'insert'], audiences: [] },
  {
    category: 'warehouse',
    types: ['snowflake', 'bigquery', 'postgres'],
    records: ['upsert', 'insert', 'update', 'mirror'],
    audiences: ['add', 'remove', 'mirror', 'upsert'],
  },
  { category: 'storage', types: ['s3', 'gcs'], records: ['insert', 'mirror'], audiences: [] },
  { category: 'streaming', types: ['kafka', 'kinesis'], records: ['insert'], audiences: [] },
  { category: 'other', types: ['webhook', 'slack'], records: ['insert'], audiences: [] },
];
const expectedRow = new Map(semantics.flatMap((row) => row.types.map((t) => [t, row] as const)));

/** A settings block each type accepts: its required settings, secrets through env(). */
const settings: Record<string, string> = {
  amplitude: 'api_key env("AMPLITUDE_KEY")',
  bigquery: 'project "acme-analytics"',
  braze: 'api_key env("BRAZE_KEY")  rest_endpoint "https://rest.iad-01.braze.com"',
  facebook_ads: 'ad_account "act_1234567890"  token env("META_TOKEN")',
  gcs: 'bucket "acme-exports"',
  google_ads:
    'customer_id "123-456-7890"  developer_token env("GADS_DEV")  client_id "abc.apps.googleusercontent.com"  client_secret env("GADS_SECRET")  refresh_token env("GADS_REFRESH")',
  hubspot: 'token env("HUBSPOT_TOKEN")',
  kafka: 'brokers "b1.acme.io:9092"',
  kinesis: 'region "us-east-1"',
  klaviyo: 'api_key env("KLAVIYO_KEY")',
  mixpanel: 'project_token env("MIXPANEL_TOKEN")',
  postgres: 'host "db.acme.io"  database "crm"  user "sync"  password env("PGPASSWORD")',
  s3: 'bucket "acme-exports"  region "us-east-1"',
  salesforce: 'instance_url "https://acme.my.salesforce.com"  client_id "abc"  client_secret env("SF_SECRET")  refresh_token env("SF_REFRESH")',
  slack: 'token env("SLACK_TOKEN")',
  snowflake: 'account "acme-prod"  warehouse "load"  database "crm"  user "sync"  password env("SF_PASSWORD")',
  webhook: 'url "https://hooks.acme.io/users"',
};

/** A reference that fits each object kind. */
const refFor: Record<string, string> = {
  object: 'contacts',
  table: 'crm.members',
  audience: '"Whales"',
  list: '"VIP"',
  topic: 'users',
  stream: 'users',
  path: '"exports/users"',
  channel: '"#sales"',
  event: 'signup',
};

/** The field each API matches records by, where its rules fix one (src/catalog/fields.ts); else `email`. */
function identifierField(type: string, mode: Mode): string {
  if (type === 'salesforce' && mode === 'update') return 'Id';
  return ({ google_ads: 'hashed_email', amplitude: 'user_id' } as Record<string, string>)[type] ?? 'email';
}

function project(type: DestinationType, syncKind: 'record' | 'audience', mode: Mode): string {
  // An audience sync targets the type's audience kind when it has one, else a record kind: the mode is what is refused.
  const kind = (syncKind === 'audience' ? type.objectKinds.find(takesAudiences) : undefined) ?? type.objectKinds.find(takesRecords)!;
  const deletes = mode === 'mirror' || mode === 'remove';
  // A field the destination advises mapping (Mixpanel's event time) is mapped: a cell the matrix allows says nothing.
  const advised = kind.fields?.advisesOneOf?.fields[0];
  return [
    'source wh : postgres { database "acme" }',
    'model users { from wh  table analytics.users  primary key email  columns { email string  name string  created_at timestamp } }',
    "audience vips { from users  where name = 'vip' }",
    `destination dest : ${type.type} { ${settings[type.type]} }`,
    'sync s {',
    `  from ${syncKind === 'audience' ? 'vips' : 'users'}`,
    `  to dest ${kind.kind} ${refFor[kind.kind]}`,
    `  mode ${mode}`,
    `  identifier email -> ${identifierField(type.type, mode)}`,
    deletes ? '  guard deletes <= 5%' : '',
    advised ? `  map { created_at -> ${advised} }` : '',
    type.message === 'required' ? '  message "{{email}} joined"' : '',
    '}',
  ].join('\n');
}

/** What the checker should say about one cell: nothing, or exactly one error code. */
function expectedCode(type: string, syncKind: 'record' | 'audience', mode: Mode): string | undefined {
  const row = expectedRow.get(type)!;
  if (syncKind === 'record') {
    if (mode === 'add' || mode === 'remove') return 'SW0203';
    return row.records.includes(mode) ? undefined : 'SW0201';
  }
  if (row.audiences.length === 0) return 'SW0210';
  if (mode === 'insert' || mode === 'update') return 'SW0202';
  return row.audiences.includes(mode) ? undefined : 'SW0201';
}

const types = [...destinationTypes.values()];

describe('the mode matrix as written in semantics.md', () => {
  it('names all 17 destination types, each once, and the catalog has exactly those', () => {
    const written = semantics.flatMap((r) => r.types);
    expect(written).toHaveLength(17);
    expect(new Set(written).size).toBe(17);
    expect([...destinationTypes.keys()].sort()).toEqual([...written].sort());
  });

  it.each(types.map((t) => [t.type, t] as const))('%s: the catalog modes are the semantics.md row', (_, type) => {
    const row = expectedRow.get(type.type)!;
    expect(type.category).toBe(row.category);
    expect([...type.recordModes].sort()).toEqual([...row.records].sort());
    expect([...type.audienceModes].sort()).toEqual([...row.audiences].sort());
  });

  it.each(types.map((t) => [t.type, t] as const))('%s: modes differ from the category row only with a modesWhy', (_, type) => {
    const category = modeMatrix[type.category];
    const same =
      [...type.recordModes].sort().join() === [...category.records].sort().join() &&
      [...type.audienceModes].sort().join() === [...category.audiences].sort().join();
    if (!same) expect(type.modesWhy?.length ?? 0).toBeGreaterThan(20);
  });
});

const cells = types.flatMap((type) => [
  ...allModes.map((mode) => ({ type, syncKind: 'record' as const, mode })),
  ...allModes.map((mode) => ({ type, syncKind: 'audience' as const, mode })),
]);

describe('the checker on every cell of the matrix', () => {
  it('covers 17 types x 6 modes x 2 sync kinds', () => {
    expect(cells).toHaveLength(17 * 6 * 2);
  });

  it.each(cells.map((c) => [c.type.type, c.syncKind, c.mode, c] as const))('%s, %s sync, mode %s', (_t, _k, _m, { type, syncKind, mode }) => {
    const text = project(type, syncKind, mode);
    const { diagnostics, project: checked, ok } = checkProject([{ path: 'p.sync', text }]);
    const code = expectedCode(type.type, syncKind, mode);
    const modeLine = text.split('\n').findIndex((l) => l.startsWith('  mode ')) + 1;
    if (code === undefined) {
      expect(diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual([]);
      expect(ok).toBe(true);
      expect(checked.syncs.map((s) => [s.kind, s.mode, s.destination.type])).toEqual([[syncKind, mode, type.type]]);
      return;
    }
    expect(diagnostics.map((d) => [d.code, d.severity, d.span.line, d.span.column, d.span.endColumn])).toEqual([[code, 'error', modeLine, 8, 8 + mode.length]]);
    expect(ok).toBe(false);
    expect(checked.syncs).toEqual([]);
    const d = diagnostics[0]!;
    // The hint names what the destination does support, so the user can pick one.
    const supported = syncKind === 'record' ? type.recordModes : type.audienceModes;
    if (code === 'SW0201') expect(d.hints[0]).toContain(supported.join(', '));
    if (code === 'SW0203') expect(d.hints[0]).toContain(type.recordModes.join(', '));
    if (code === 'SW0202') expect(d.hints[0]).toContain(type.audienceModes.join(', '));
    if (code === 'SW0210') expect(d.message).toBe(`${type.type} does not take audiences`);
  });
});

describe('the mode refusals say why', () => {
  it.each([
    ['facebook_ads', 'record', 'insert', /advertising platforms take upsert .* and mirror/],
    ['google_ads', 'audience', 'upsert', /no attributes/],
  ] as const)('%s, %s sync, mode %s', (typeName, syncKind, mode, why) => {
    const type = destinationTypes.get(typeName)!;
    const { diagnostics } = checkProject([{ path: 'p.sync', text: project(type, syncKind, mode) }]);
    expect(diagnostics.flatMap((d) => d.hints).join('\n')).toMatch(why);
  });
});

describe('a source as a write-back destination takes the warehouse row', () => {
  const text = (mode: Mode, from: string) =>
    [
      'source wh : snowflake { account "acme-prod"  database "ANALYTICS" }',
      'model users { from wh  table analytics.users  columns { email string  name string } }',
      "audience vips { from users  where name = 'vip' }",
      `sync s { from ${from}  to wh table crm.members  mode ${mode}  identifier email -> email ${mode === 'mirror' || mode === 'remove' ? 'guard deletes <= 10' : ''} }`,
    ].join('\n');
  it.each(recordModes.map((m) => [m]))('record mode %s is accepted', (mode) => {
    expect(checkProject([{ path: 'p.sync', text: text(mode, 'users') }]).diagnostics).toEqual([]);
  });
  it.each(audienceModes.map((m) => [m]))('audience mode %s is accepted', (mode) => {
    expect(checkProject([{ path: 'p.sync', text: text(mode, 'vips') }]).diagnostics).toEqual([]);
  });
});
