// Mirror a 1,000,000-row model with 1% of its rows changed into its target on a real
// PostgreSQL server: time and rows written by the compiled script, against a full refresh
// (TRUNCATE + INSERT) and a plain MERGE that updates every matched row. Targets: rows
// written = rows changed, and at most half the plain MERGE's time.
// Server: SYNCWRIGHT_TEST_PG_URL, else scripts/pg-test-server.sh is started.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'plan', 'index.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const { checkProject } = await import('../dist/check/check.js');
const { planProject } = await import('../dist/plan/index.js');

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const CHANGED = Math.floor(ROWS / 100);

function serverUrl() {
  if (process.env.SYNCWRIGHT_TEST_PG_URL) return process.env.SYNCWRIGHT_TEST_PG_URL;
  const script = join(root, 'scripts', 'pg-test-server.sh');
  execFileSync(script, ['start'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return execFileSync(script, ['url'], { encoding: 'utf8' }).trim();
}

const project = `
source wh : postgres { database "bench" version 15 }
model users {
  from wh
  table bench.model
  primary key user_id
  columns {
    user_id bigint
    email   string
    plan    string
    ltv     decimal(12, 2)
  }
}
sync users_mirror {
  from users
  to wh table bench.target
  mode mirror
  identifier user_id -> id
  map { email -> email  plan -> plan  ltv -> ltv }
  guard deletes <= 5%
}
`;

function compiled() {
  const { project: checked, diagnostics, ok } = checkProject([{ path: 'bench.sync', text: project }]);
  if (!ok) throw new Error(diagnostics.map((d) => d.message).join('\n'));
  return planProject(checked, { postgresVersion: 15 })[0].files.find((f) => f.name === 'apply.sql').content;
}

const url = serverUrl();
const admin = new pg.Client({ connectionString: url });
await admin.connect();
const version = (await admin.query('SHOW server_version')).rows[0].server_version;

async function session(fn) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    // A closing backend flushes its table statistics, which count the rows written.
    await c.end();
  }
}

/** Rows inserted, updated and deleted in the target so far; -1 before it has statistics. */
async function written() {
  await admin.query('SELECT pg_stat_clear_snapshot()');
  const r = (await admin.query(`SELECT n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables WHERE schemaname = 'bench' AND relname = 'target'`)).rows[0];
  return r ? Number(r.n) : -1;
}

/** Runs `sql` in a fresh session; returns wall ms, rows written to the target, and the result. */
async function measure(sql) {
  const before = await settled();
  const t0 = performance.now();
  const result = await session((c) => c.query(sql));
  const ms = performance.now() - t0;
  await new Promise((res) => setTimeout(res, 500));
  return { ms, rows: (await settled()) - before, result };
}

/** Statistics of the target, once every closed session's counts have arrived. */
async function settled() {
  let last = -1;
  for (let i = 0; i < 80; i++) {
    const now = await written();
    if (now >= 0 && now === last) return now;
    last = now;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error('the statistics of bench.target do not settle');
}

async function resetTarget() {
  await session(async (c) => {
    await c.query(`DROP TABLE IF EXISTS bench.target;
      CREATE TABLE bench.target AS TABLE bench.target_initial;
      ALTER TABLE bench.target ADD PRIMARY KEY (id);`);
    await c.query('VACUUM ANALYZE bench.target');
  });
  await settled();
}

console.log(`PostgreSQL ${version}: ${ROWS.toLocaleString('en')} model rows, ${CHANGED.toLocaleString('en')} changed`);
await session((c) => c.query(`DROP SCHEMA IF EXISTS bench CASCADE; CREATE SCHEMA bench;
  CREATE TABLE bench.model AS
    SELECT g::bigint AS user_id, 'user' || g || '@example.com' AS email,
           (ARRAY['free', 'pro', 'team'])[1 + g % 3] AS plan, (g % 10000)::numeric(12, 2) AS ltv
    FROM generate_series(1, ${ROWS}) AS g;
  CREATE TABLE bench.target_initial AS SELECT user_id AS id, email, plan, ltv FROM bench.model;
  UPDATE bench.model SET plan = 'enterprise' WHERE user_id % 100 = 0;
  ANALYZE bench.model;`));
await resetTarget();

const ours = compiled();
const fullRefresh = `BEGIN; TRUNCATE bench.target;
  INSERT INTO bench.target (id, email, plan, ltv) SELECT user_id, email, plan, ltv FROM bench.model; COMMIT;`;
const plainMerge = `MERGE INTO bench.target AS t USING bench.model AS s ON t.id = s.user_id
  WHEN MATCHED THEN UPDATE SET email = s.email, plan = s.plan, ltv = s.ltv
  WHEN NOT MATCHED THEN INSERT (id, email, plan, ltv) VALUES (s.user_id, s.email, s.plan, s.ltv);`;

const summaryOf = (result) => {
  const rows = (Array.isArray(result) ? result : [result]).find((r) => r.fields?.some((f) => f.name === 'inserted'))?.rows[0];
  return rows ? Object.entries(rows).map(([k, v]) => `${k}=${v}`).join(' ') : '';
};

const results = [];
const a = await measure(ours);
results.push(['syncwright mirror (compiled, Postgres 15 SQL)', a, summaryOf(a.result)]);
const rerun = await measure(ours);
results.push(['  the same script again, nothing changed', rerun, summaryOf(rerun.result)]);
await resetTarget();
results.push(['full refresh (TRUNCATE + INSERT)', await measure(fullRefresh), '']);
await resetTarget();
const merge = await measure(plainMerge);
results.push(['plain MERGE updating every matched row', merge, '']);

for (const [name, r, note] of results) {
  console.log(`  ${name.padEnd(48)} ${r.ms.toFixed(0).padStart(7)} ms  ${String(r.rows).padStart(9)} rows written  ${note}`);
}
const ok = a.rows === CHANGED && rerun.rows === 0 && a.ms <= merge.ms / 2;
console.log(`  target: rows written = ${CHANGED} (got ${a.rows}), rerun 0 (got ${rerun.rows}), time <= half the plain MERGE (${(a.ms / merge.ms * 100).toFixed(0)}%): ${ok ? 'met' : 'NOT MET'}`);
await admin.query('DROP SCHEMA bench CASCADE');
await admin.end();
process.exitCode = ok ? 0 : 1;
