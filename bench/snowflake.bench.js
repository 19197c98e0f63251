// Throughput of the Snowflake session: a change set of 200,000 rows (BENCH_ROWS) built, read
// partition by partition and recorded (accepted rows by array binding) through Snowflake's SQL
// API, served by the local server of the tests (test/servers/snowflake.ts: the statements'
// Postgres twins on PGlite). The rows go to the sink folder (a jsonl mirror). The server and its
// PGlite run in this process, the executor in a child of its own, so its peak RSS is its own.
//   node bench/snowflake.bench.js
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportRun, runChild, testServers } from './children.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);
const rows = Number(process.env.BENCH_ROWS ?? 200_000);
const [mode, ...args] = process.argv.slice(2);

const sync = `
model events {
  from warehouse  table BENCH.EVENTS  primary key id
  columns { id bigint  user_id string  kind string  amount decimal(12, 2)  at timestamp }
}
destination lake : s3 { bucket "bench-lake"  region "us-east-1" }
sync events_out {
  from events  to lake path "events.jsonl"  mode mirror  identifier id -> event_id  guard deletes <= 100%
  map { user_id -> user_id  kind -> kind  amount -> amount  at -> occurred_at }
  format jsonl
}
`;
const snowflakeSource =
  'source warehouse : snowflake { account "bench-account"  database "BENCH"  schema "PUBLIC"  warehouse "BENCH_WH"  role "BENCH_ROLE"  user "BENCH_USER"  private_key env("SNOWFLAKE_PRIVATE_KEY")  state_schema "SYNCWRIGHT_STATE" }';
const postgresTwin = 'source warehouse : postgres { database "bench"  state_schema "SYNCWRIGHT_STATE" }';

/** Child: the executor on the plan, as `syncwright run --sink DIR --endpoint warehouse=URL` runs it. */
async function run(dir, endpoint) {
  const { runPlans, execOptions } = await import(join(root, 'dist/run/index.js'));
  await reportRun(
    () =>
      runPlans(
        [join(dir, 'snowflake/events_out/plan.json')],
        { byName: {}, folder: '' },
        execOptions({ samples: 0, env: process.env, sink: join(dir, 'sink'), endpoints: { warehouse: endpoint } }),
      ),
    ['write_object'],
  );
}

async function compile(dir, name, source) {
  const { runCompile } = await import(join(root, 'dist/cli/compile-command.js'));
  mkdirSync(join(dir, `${name}-project`), { recursive: true });
  writeFileSync(join(dir, `${name}-project`, 'bench.sync'), `${source}\n${sync}`);
  const quiet = { out: () => {}, err: (t) => process.stderr.write(`${t}\n`), colour: false, cwd: dir };
  if ((await runCompile({ paths: [join(dir, `${name}-project`)], out: join(dir, name), format: 'text', strict: false }, quiet)) !== 0)
    throw new Error(`compiling the ${name} project failed`);
}

async function main() {
  if (!existsSync(join(root, 'dist', 'run', 'index.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const work = mkdtempSync(join(root, 'node_modules', '.syncwright-bench-'));
  const dir = mkdtempSync(join(tmpdir(), 'syncwright-bench-'));
  console.log(`snowflake: ${rows.toLocaleString('en')} rows through syncwright run on the SQL API (local server, twins on PGlite) into the sink folder`);
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create({ postgresqlconf: 'shared_buffers = 16MB\n' });
  let server;
  try {
    await db.exec(`CREATE SCHEMA bench; CREATE TABLE bench.events (id bigint PRIMARY KEY, user_id text, kind text, amount numeric(12, 2), at timestamp);
      INSERT INTO bench.events SELECT g, 'user-' || (g % 50000), (ARRAY['view', 'click', 'buy'])[1 + g % 3], (g % 1000) / 10.0, timestamp '2026-01-01' + g * interval '1 second' FROM generate_series(1, ${rows}) g;`);
    await compile(dir, 'snowflake', snowflakeSource);
    await compile(dir, 'postgres', postgresTwin);
    const { startSnowflake, statementTwins } = await testServers(work, { startSnowflake: 'snowflake.ts', statementTwins: 'snowflake-twin.ts' });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    server = await startSnowflake({
      db,
      twins: statementTwins(join(dir, 'snowflake'), join(dir, 'postgres'), ['events_out']),
      account: 'bench-account',
      user: 'BENCH_USER',
      publicKey,
      context: { database: 'BENCH', schema: 'PUBLIC', warehouse: 'BENCH_WH', role: 'BENCH_ROLE' },
      // Snowflake sizes partitions itself; some thousands of rows each is typical of a narrow result.
      partitionRows: 10_000,
    });
    const r = await runChild(self, ['run', dir, server.url], { SNOWFLAKE_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) });
    if (server.unexpected.length) throw new Error(`the server refused: ${server.unexpected[0].slice(0, 200)}`);
    if (r.status !== 'ok' || r.rows !== rows) throw new Error(`${r.status} ${r.error ?? ''}, ${r.rows} of ${rows} rows`);
    const reads = server.requests.filter((q) => q.path.includes('partition=')).length;
    console.log(
      `  read and delivered: ${rows.toLocaleString('en')} rows in ${(r.ms / 1000).toFixed(1)} s = ${Math.round(rows / (r.ms / 1000)).toLocaleString('en')} rows/s (whole run ${(r.totalMs / 1000).toFixed(1)} s, ${server.requests.length} SQL API requests, ${reads} partition reads, ${r.committed.toLocaleString('en')} rows recorded), peak RSS ${Math.round(r.peakRss / 2 ** 20)} MB`,
    );
  } finally {
    await server?.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

if (mode === 'run') await run(...args);
else await main();
