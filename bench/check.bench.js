// `syncwright check` on a generated project of 10,000 syncs (with their sources, models,
// audiences and destinations, over 100 files) and on each project in examples/: wall time of the whole CLI
// run, median of several runs, against the targets of the front-end issue. Also shows the
// share of process start-up and module loading (`--version`) and of parse + check in process.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { median, root, timeCli as timeRuns } from './cli-timer.js';
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const { check, parse } = await import('../dist/index.js');

const SYNCS = 10_000;
const FILES = 100;
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const targets = { generated: 2000, examples: 300 };

// One destination per type, with settings it accepts, the object kind records go to, and the
// modes it takes (records, then audiences); the sync's mode cycles through them.
const destinations = [
  ['salesforce', 'instance_url "https://acme.my.salesforce.com"  client_id "3MVG9"  client_secret env("SF_SECRET")  refresh_token env("SF_REFRESH")', 'object Contact', 'list "Members"', ['upsert', 'insert', 'update', 'mirror'], ['add', 'remove', 'mirror', 'upsert']],
  ['hubspot', 'token env("HUBSPOT_TOKEN")', 'object contacts', 'list "Members"', ['upsert', 'insert', 'update', 'mirror'], ['add', 'remove', 'mirror', 'upsert']],
  ['google_ads', 'customer_id "123-456-7890"  developer_token env("GADS_DEV")  client_id "acme"  client_secret env("GADS_SECRET")  refresh_token env("GADS_REFRESH")', 'audience "All"', 'audience "Members"', ['upsert', 'mirror'], ['add', 'remove', 'mirror']],
  ['facebook_ads', 'ad_account "act_1234567890"  token env("META_TOKEN")', 'audience "All"', 'audience "Members"', ['upsert', 'mirror'], ['add', 'remove', 'mirror']],
  ['braze', 'api_key env("BRAZE_KEY")  rest_endpoint "https://rest.iad-01.braze.com"', 'object users', 'list "members"', ['upsert', 'insert'], ['add', 'remove', 'mirror', 'upsert']],
  ['klaviyo', 'api_key env("KLAVIYO_KEY")', 'object profiles', 'list "Members"', ['upsert', 'insert'], ['add', 'remove', 'mirror', 'upsert']],
  ['amplitude', 'api_key env("AMPLITUDE_KEY")', 'event "Synced"', undefined, ['upsert', 'insert'], []],
  ['mixpanel', 'project_token env("MIXPANEL_TOKEN")', 'object profile', undefined, ['upsert', 'insert'], []],
  ['snowflake', 'account "acme-prod"  warehouse "load"  database "CRM"  user "SYNC"  password env("SF_PASSWORD")', 'table crm.users', 'table crm.members', ['upsert', 'insert', 'update', 'mirror'], ['add', 'remove', 'mirror', 'upsert']],
  ['bigquery', 'project "acme-analytics"', 'table crm.users', 'table crm.members', ['upsert', 'insert', 'update', 'mirror'], ['add', 'remove', 'mirror', 'upsert']],
  ['postgres', 'host "db.acme.io"  database "crm"  user "sync"  password env("PGPASSWORD")', 'table crm.users', 'table crm.members', ['upsert', 'insert', 'update', 'mirror'], ['add', 'remove', 'mirror', 'upsert']],
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
function generateFile(f) {
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
      `  to         dest_${f}_${d} ${audience ? audienceKind : recordKind}`,
      `  mode       ${mode}`,
      `  identifier email -> ${identifierField(type, mode)}`,
    ];
    if (!unmapped(type, audience, mode)) lines.push('  map {\n    first_name -> first_name\n    plan       -> plan_tier\n    ltv        -> lifetime_value\n  }');
    if (mode === 'mirror' || mode === 'remove') lines.push('  guard      deletes <= 5%');
    if (type === 'slack') lines.push('  message    "New {{plan}} customer: {{email}} ({{country}})"');
    if (type === 's3' || type === 'gcs') lines.push(`  format     ${s % 2 ? 'csv' : 'jsonl'}`);
    lines.push(`  schedule   "${s % 60} * * * *"`, '}', '');
    out.push(lines.join('\n'));
  }
  return out.join('\n');
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

/** Wall and CPU time of `node bin/syncwright.js ...args`, medians of RUNS. */
const timeCli = (args) => timeRuns(args, { runs: RUNS });

function syncFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => f.endsWith('.sync') && statSync(f).isFile());
}

const ms = (x) => `${x.toFixed(0).padStart(6)} ms`;
const verdict = (x, target) => (x <= target ? `ok (target ${target} ms)` : `MISSED (target ${target} ms)`);

const dir = mkdtempSync(join(tmpdir(), 'syncwright-bench-'));
try {
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const text = generateFile(f);
    bytes += text.length;
    writeFileSync(join(dir, `project_${String(f).padStart(3, '0')}.sync`), text);
  }
  const files = syncFiles(dir).map((path) => ({ path, text: readFileSync(path, 'utf8') }));
  console.log(`generated ${SYNCS.toLocaleString('en-US')} syncs, ${FILES} files, ${(bytes / 1e6).toFixed(1)} MB in ${dir}`);
  console.log(`machine: ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; median of ${RUNS} runs\n`);

  // In process: parse + check only, after a warm-up run.
  const timedCheck = () => {
    const t0 = performance.now();
    const r = check(parse(files));
    return { ms: performance.now() - t0, r };
  };
  const warm = timedCheck();
  if (warm.r.diagnostics.length > 0 || warm.r.project?.syncs.length !== SYNCS) {
    console.error(`the generated project should check clean with ${SYNCS} syncs; got ${warm.r.diagnostics.length} diagnostics, first: ${JSON.stringify(warm.r.diagnostics[0])}`);
    process.exit(1);
  }
  const inProcess = median(Array.from({ length: RUNS }, () => timedCheck().ms));
  globalThis.gc?.();

  const startup = timeCli(['--version']);
  const generated = timeCli(['check', dir]);
  // Each example folder is a project of its own (their names may overlap), checked by its own run.
  const projects = readdirSync(join(root, 'examples'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const examples = projects.map((p) => [p, timeCli(['check', join('examples', p)])]);

  const line = (label, r, target) =>
    `${label.padEnd(38)}${ms(r.median)} wall (min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)}), ${ms(r.cpu)} cpu${target ? `   ${verdict(r.median, target)}` : ''}`;
  console.log(line('node start-up + imports (--version)', startup));
  console.log(`${'parse + check in process, warm'.padEnd(38)}${ms(inProcess)}`);
  console.log(line('check <generated 10k syncs> (CLI)', generated, targets.generated));
  for (const [p, r] of examples) {
    console.log(line(`check examples/${p} (CLI)`, r, targets.examples));
    console.log(`  (${r.stderr.trim().split('\n').pop()})`);
  }
} finally {
  // BENCH_KEEP=1 leaves the project in place, e.g. for `node --cpu-prof bin/syncwright.js check <dir>`.
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
