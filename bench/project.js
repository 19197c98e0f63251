// The generated project of the check and lsp benches: 10,000 syncs over 100 files, each file
// a source, 10 models, 5 audiences, one destination of every type and 100 syncs that cycle
// through the types and the modes each takes. It checks clean (test/bench-projects.test.ts).

export const SYNCS = 10_000;
export const FILES = 100;

// One destination per type, with settings it accepts, the object kind records go to, and the
// modes it takes (records, then audiences); the sync's mode cycles through them.
// Every record mode and every audience mode: what most destination types take.
const recordModes = ['upsert', 'insert', 'update', 'mirror'];
const audienceModes = ['add', 'remove', 'mirror', 'upsert'];
const destinations = [
  [
    'salesforce',
    'instance_url "https://acme.my.salesforce.com"  client_id "3MVG9"  client_secret env("SF_SECRET")  refresh_token env("SF_REFRESH")',
    'object Contact',
    'list "Members"',
    recordModes,
    audienceModes,
  ],
  ['hubspot', 'token env("HUBSPOT_TOKEN")', 'object contacts', 'list "Members"', recordModes, audienceModes],
  [
    'google_ads',
    'customer_id "123-456-7890"  developer_token env("GADS_DEV")  client_id "acme"  client_secret env("GADS_SECRET")  refresh_token env("GADS_REFRESH")',
    'audience "All"',
    'audience "Members"',
    ['upsert', 'mirror'],
    ['add', 'remove', 'mirror'],
  ],
  [
    'facebook_ads',
    'ad_account "act_1234567890"  token env("META_TOKEN")',
    'audience "All"',
    'audience "Members"',
    ['upsert', 'mirror'],
    ['add', 'remove', 'mirror'],
  ],
  ['braze', 'api_key env("BRAZE_KEY")  rest_endpoint "https://rest.iad-01.braze.com"', 'object users', 'list "members"', ['upsert', 'insert'], audienceModes],
  ['klaviyo', 'api_key env("KLAVIYO_KEY")', 'object profiles', 'list "Members"', ['upsert', 'insert'], audienceModes],
  ['amplitude', 'api_key env("AMPLITUDE_KEY")', 'event "Synced"', undefined, ['upsert', 'insert'], []],
  ['mixpanel', 'project_token env("MIXPANEL_TOKEN")', 'object profile', undefined, ['upsert', 'insert'], []],
  [
    'snowflake',
    'account "acme-prod"  warehouse "load"  database "CRM"  user "SYNC"  password env("SF_PASSWORD")',
    'table crm.users',
    'table crm.members',
    recordModes,
    audienceModes,
  ],
  ['bigquery', 'project "acme-analytics"', 'table crm.users', 'table crm.members', recordModes, audienceModes],
  [
    'postgres',
    'host "db.acme.io"  database "crm"  user "sync"  password env("PGPASSWORD")',
    'table crm.users',
    'table crm.members',
    recordModes,
    audienceModes,
  ],
  ['s3', 'bucket "acme-exports"  region "us-east-1"', 'path "exports/users"', undefined, ['insert', 'mirror'], []],
  ['gcs', 'bucket "acme-exports"', 'path "exports/users"', undefined, ['insert', 'mirror'], []],
  ['kafka', 'brokers "b1.acme.io:9092"', 'topic users', undefined, ['insert'], []],
  ['kinesis', 'region "us-east-1"', 'stream users', undefined, ['insert'], []],
  ['webhook', 'url "https://hooks.acme.io/users"', 'path "/users"', undefined, ['insert'], []],
  ['slack', 'token env("SLACK_TOKEN")', 'channel "#signups"', undefined, ['insert'], []],
];
const dialects = [
  ['postgres', 'database "acme"'],
  ['snowflake', 'account "acme-prod"  database "ANALYTICS"'],
  ['bigquery', 'project "acme-analytics"'],
];

/** One file: a source, 10 models, 5 audiences, 17 destinations and SYNCS / FILES syncs. */
export function generateFile(f) {
  const out = [];
  const [dialect, settings] = dialects[f % dialects.length];
  out.push(`source wh_${f} : ${dialect} {\n  ${settings}\n}\n`);
  for (let m = 0; m < 10; m++) {
    out.push(`model users_${f}_${m} {
  from        wh_${f}
  table       analytics.users_${m}
  primary key user_id
  order by    updated_at desc
  columns {
    user_id    bigint
    email      string
    first_name string?
    plan       string
    ltv        decimal(12, 2)
    country    string?
    signed_up  date
    updated_at timestamp
  }
}
`);
  }
  for (let a = 0; a < 5; a++) {
    out.push(`audience whales_${f}_${a} {
  from  users_${f}_${a * 2}
  where ltv >= ${1000 * (a + 1)} and plan != 'free' and country in ('US', 'CA') and signed_up >= date '2024-01-01'
}
`);
  }
  destinations.forEach(([type, settings], d) => out.push(`destination dest_${f}_${d} : ${type} {\n  ${settings}\n}\n`));
  const perFile = SYNCS / FILES;
  for (let s = 0; s < perFile; s++) {
    const d = (f + s) % destinations.length;
    const [type, , recordKind, audienceKind, recordModes, audienceModes] = destinations[d];
    const audience = audienceKind !== undefined && s % 4 === 0;
    const modes = audience ? audienceModes : recordModes;
    const mode = modes[s % modes.length];
    const lines = [
      `sync sync_${f}_${s} {`,
      `  from       ${audience ? `whales_${f}_${s % 5}` : `users_${f}_${s % 10}`}`,
      // An API list of its own: a mirror owns its list (SW0124); warehouse audiences share one membership table.
      `  to         dest_${f}_${d} ${audience ? audienceKind.replace('"Members"', `"Members ${f}_${s}"`) : ownTarget(type, recordKind, `${f}_${s}`)}`,
      `  mode       ${mode}`,
      `  identifier email -> ${identifierField(type, mode)}`,
    ];
    if (!unmapped(type, audience, mode))
      lines.push('  map {\n    first_name -> first_name\n    plan       -> plan_tier\n    ltv        -> lifetime_value\n  }');
    if (mode === 'mirror' || mode === 'remove') lines.push('  guard      deletes <= 5%');
    if (type === 'slack') lines.push('  message    "New {{plan}} customer: {{email}} ({{country}})"');
    if (type === 's3' || type === 'gcs') lines.push(`  format     ${s % 2 ? 'csv' : 'jsonl'}`);
    lines.push(`  schedule   "${s % 60} * * * *"`, '}', '');
    out.push(lines.join('\n'));
  }
  return out.join('\n');
}

/**
 * A record sync's own table or object, named by its file and its number there (`id`): two
 * syncs writing one (a mirror deletes what the other writes) are refused (SW0124), and every
 * file's destinations of a type reach one warehouse or bucket. Audiences may share a
 * membership table, and API objects are matched by identifier.
 */
function ownTarget(type, kind, id) {
  if (type === 's3' || type === 'gcs') return kind.replace(/"$/, `_${id}"`);
  return kind.replace(/^table (\S+)$/, `table $1_${id}`);
}

/** The field each API matches records by, where its field rules fix it (src/catalog/fields.ts). */
function identifierField(type, mode) {
  const fixed = { google_ads: 'hashed_email hashed', facebook_ads: 'EMAIL hashed', amplitude: 'user_id', braze: 'external_id' };
  return fixed[type] ?? (type === 'salesforce' && mode === 'update' ? 'Id' : 'email');
}

/** Ad lists take identifiers only, and list modes that send no field take no `map`. */
function unmapped(type, audience, mode) {
  return type.endsWith('_ads') || (audience && (mode === 'remove' || (type === 'braze' && mode !== 'upsert')));
}
