// Throughput of storage and streaming syncs: a change set of 200,000 rows (BENCH_ROWS) through
// `syncwright run` on the embedded database into each local service the tests use: S3
// (s3rver; csv and Parquet mirrors, multipart above 8 MiB), GCS (the JSON API server of
// test/servers/gcs.ts; resumable upload in 8 MiB chunks), Kinesis (kinesalite; PutRecords of 500)
// and Kafka (the protocol server of test/servers/kafka.ts; batches of 500). The services run
// in this process, the executor in a child of its own, so its peak RSS is its own.
//   node bench/sinks.bench.js [s3 gcs kinesis kafka]
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { reportRun, runChild, testServers } from './children.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const rows = Number(process.env.BENCH_ROWS ?? 200_000);
const [mode, ...args] = process.argv.slice(2);
const keys = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };

const sinks = {
  's3 csv': {
    dest: 'lake : s3 { bucket "bench-lake"  region "us-east-1" }',
    to: 'lake path "events.csv"',
    mode: 'mirror',
    format: 'csv',
    step: 'write_object',
  },
  's3 parquet': {
    dest: 'lake : s3 { bucket "bench-lake"  region "us-east-1" }',
    to: 'lake path "events.parquet"',
    mode: 'mirror',
    format: 'parquet',
    step: 'write_object',
  },
  'gcs jsonl': { dest: 'lake : gcs { bucket "bench-lake" }', to: 'lake path "events.jsonl"', mode: 'mirror', format: 'jsonl', step: 'write_object' },
  kinesis: { dest: 'lake : kinesis { region "us-east-1" }', to: 'lake stream events', mode: 'insert', step: 'publish' },
  kafka: { dest: (brokers) => `lake : kafka { brokers "${brokers}" }`, to: 'lake topic events', mode: 'insert', step: 'publish' },
};

const project = (sink, brokers) => `
source warehouse : postgres { database "bench" }
model events {
  from warehouse  table bench.events  primary key id
  columns { id bigint  user_id string  kind string  amount decimal(12, 2)  at timestamp }
}
destination ${typeof sink.dest === 'function' ? sink.dest(brokers) : sink.dest}
sync events_out {
  from events  to ${sink.to}  mode ${sink.mode}  identifier id -> event_id
  map { user_id -> user_id  kind -> kind  amount -> amount  at -> occurred_at }
  ${sink.format ? `format ${sink.format}` : ''}
}
`;

/** Child: the table, seeded once per sink, and the compiled plan. */
async function seed(dir, name, brokers) {
  const { openPgliteSession } = await import(join(root, 'dist/run/engines/pglite-session.js'));
  const db = await openPgliteSession(join(dir, 'db'));
  await db.script(`CREATE SCHEMA bench; CREATE TABLE bench.events (id bigint PRIMARY KEY, user_id text, kind text, amount numeric(12, 2), at timestamp);
    INSERT INTO bench.events SELECT g, 'user-' || (g % 50000), (ARRAY['view', 'click', 'buy'])[1 + g % 3], (g % 1000) / 10.0, timestamp '2026-01-01' + g * interval '1 second' FROM generate_series(1, ${rows}) g;`);
  await db.close();
  writeFileSync(join(dir, 'bench.sync'), project(sinks[name], brokers));
  const { runCompile } = await import(join(root, 'dist/cli/compile-command.js'));
  const quiet = { out: () => {}, err: (t) => process.stderr.write(`${t}\n`), colour: false, cwd: dir };
  if ((await runCompile({ paths: [join(dir, 'bench.sync')], out: join(dir, 'build'), format: 'text', strict: false }, quiet)) !== 0) process.exit(1);
}

/** Child: the executor on the plan, as `syncwright run --plan ... --endpoint lake=URL` runs it. */
async function run(dir, endpoint) {
  const { runPlans, execOptions } = await import(join(root, 'dist/run/index.js'));
  await reportRun(
    () =>
      runPlans(
        [join(dir, 'build/events_out/plan.json')],
        { byName: {}, folder: join(dir, 'db'), embedded: true },
        execOptions({ samples: 0, env: process.env, ...(endpoint ? { endpoints: { lake: endpoint } } : {}) }),
      ),
    ['write_object', 'publish'],
  );
}

function node(argv, env = {}) {
  const r = spawnSync(process.execPath, [self, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${argv[0]} failed: ${r.stderr}`);
  return r.stdout;
}

async function main() {
  if (!existsSync(join(root, 'dist', 'run', 'index.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  // Under node_modules, so that the bundled test servers resolve their packages from there.
  const work = mkdtempSync(join(root, 'node_modules', '.syncwright-bench-'));
  const chosen = Object.keys(sinks).filter((n) => !args.length || args.some((a) => n.startsWith(a)));
  console.log(`sinks: ${rows.toLocaleString('en')} rows through syncwright run (embedded PGlite) into local services`);
  const S3rver = require('s3rver');
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: join(work, 's3'), configureBuckets: [{ name: 'bench-lake' }] });
  const s3Port = (await s3.run()).port;
  const kinesalite = require('kinesalite')({ createStreamMs: 0, shardLimit: 100 });
  await new Promise((r) => kinesalite.listen(0, '127.0.0.1', r));
  const { FakeGcs, FakeKafka } = await testServers(work, { FakeGcs: 'gcs.ts', FakeKafka: 'kafka.ts' });
  const gcs = await new FakeGcs(['bench-lake']).start();
  const kafka = await new FakeKafka({ events: 4 }).start();
  const kinesisUrl = `http://127.0.0.1:${kinesalite.address().port}`;
  {
    const { KinesisClient, CreateStreamCommand } = await import('@aws-sdk/client-kinesis');
    const { NodeHttpHandler } = await import('@smithy/node-http-handler');
    const c = new KinesisClient({
      endpoint: kinesisUrl,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x' },
      requestHandler: new NodeHttpHandler(),
    });
    await c.send(new CreateStreamCommand({ StreamName: 'events', ShardCount: 4 }));
    await new Promise((r) => setTimeout(r, 500));
    c.destroy();
  }
  const endpoints = {
    's3 csv': `http://127.0.0.1:${s3Port}`,
    's3 parquet': `http://127.0.0.1:${s3Port}`,
    'gcs jsonl': gcs.api.url,
    kinesis: kinesisUrl,
    kafka: undefined,
  };
  try {
    for (const name of chosen) {
      const dir = mkdtempSync(join(tmpdir(), 'syncwright-bench-'));
      try {
        // Services in this process answer the child's requests while it runs.
        await new Promise((resolve, reject) => {
          try {
            node(['seed', dir, name, kafka.brokers]);
            resolve();
          } catch (e) {
            reject(e);
          }
        });
        const r = await runChild(self, ['run', dir, endpoints[name] ?? ''], keys);
        if (r.status !== 'ok' || r.rows !== rows) throw new Error(`${name}: ${r.status} ${r.error ?? ''}, ${r.rows} of ${rows} rows`);
        console.log(
          `  ${name}: ${rows.toLocaleString('en')} rows in ${(r.ms / 1000).toFixed(1)} s = ${Math.round(rows / (r.ms / 1000)).toLocaleString('en')} rows/s (whole run ${(r.totalMs / 1000).toFixed(1)} s), ${r.requests} ${r.requests === 1 ? 'object' : 'requests'}, peak RSS ${Math.round(r.peakRss / 2 ** 20)} MB`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (kafka.violations.length || gcs.refused.length) throw new Error(`the services refused: ${[...kafka.violations, ...gcs.refused].slice(0, 3).join('; ')}`);
  } finally {
    await s3.close();
    kinesalite.close();
    await gcs.api.close();
    await kafka.close();
    rmSync(work, { recursive: true, force: true });
  }
}

if (mode === 'seed') await seed(args[0], args[1], args[2]);
else if (mode === 'run') await run(args[0], args[1] || undefined);
else await main();
