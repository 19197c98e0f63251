// Delivery throughput of `syncwright run`: a change set of 100,000 and of 1,000,000 rows
// sent to a local batch webhook (a PUT of 1,000 rows per request, 4 in flight) that runs in
// a process of its own. Each size is seeded, then run, in fresh processes, so the peak RSS
// reported is the executor's alone; it must not grow with the number of rows.
//   node bench/deliver.bench.js              both sizes on the embedded database
//   DATABASE_URL=postgres://... node ...     the same on a PostgreSQL server
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const self = fileURLToPath(import.meta.url);
const sizes = (process.env.BENCH_ROWS ?? '100000,1000000').split(',').map(Number);
// Issue 15's targets, on every engine: >= 50,000 rows/s delivered, < 300 MB peak.
const targets = { rowsPerSecond: 50_000, peakRssMb: 300 };
const [mode, ...args] = process.argv.slice(2);

const project = (port, batch) => `
source warehouse : postgres {
  database "bench"
}
model events {
  from        warehouse
  table       bench.events
  primary key id
  columns {
    id      bigint
    user_id string
    kind    string
    amount  decimal(12, 2)
    at      timestamp
  }
}
destination sink : webhook {
  url   "http://127.0.0.1:${port}/v1"
  batch true
}
sync events_to_sink {
  from       events
  to         sink path "/events"
  mode       insert
  identifier id -> event_id
  map {
    user_id -> user_id
    kind    -> kind
    amount  -> amount
    at      -> occurred_at
  }
  batch      ${batch}
}
`;

async function openDb(dir) {
  if (process.env.DATABASE_URL) return (await import(join(root, 'dist/run/engines/pg-session.js'))).openPgSession(process.env.DATABASE_URL);
  return (await import(join(root, 'dist/run/engines/pglite-session.js'))).openPgliteSession(join(dir, 'db'));
}

/** Child: the table of `rows` events, and the compiled plan. */
async function seed(dir, rows, port) {
  const db = await openDb(dir);
  await db.script(`DROP SCHEMA IF EXISTS bench CASCADE; DROP SCHEMA IF EXISTS syncwright CASCADE; CREATE SCHEMA bench;
    CREATE TABLE bench.events (id bigint PRIMARY KEY, user_id text, kind text, amount numeric(12, 2), at timestamp);
    INSERT INTO bench.events SELECT g, 'user-' || (g % 50000), (ARRAY['view', 'click', 'buy'])[1 + g % 3], (g % 1000) / 10.0, timestamp '2026-01-01' + g * interval '1 second' FROM generate_series(1, ${rows}) g;`);
  await db.close();
  writeFileSync(join(dir, 'bench.sync'), project(port, 1000));
  const { runCompile } = await import(join(root, 'dist/cli/compile-command.js'));
  const quiet = { out: () => {}, err: (t) => process.stderr.write(`${t}\n`), colour: false, cwd: dir };
  if ((await runCompile({ paths: [join(dir, 'bench.sync')], out: join(dir, 'build'), format: 'text', strict: false }, quiet)) !== 0) process.exit(1);
}

/** Child: the executor on the compiled plan, as `syncwright run --plan` runs it. */
async function run(dir) {
  const { runPlans, execOptions } = await import(join(root, 'dist/run/index.js'));
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const started = performance.now();
  const report = await runPlans(
    [join(dir, 'build/events_to_sink/plan.json')],
    { ...(process.env.DATABASE_URL ? { default: process.env.DATABASE_URL } : {}), byName: {}, folder: join(dir, 'db') },
    execOptions({ sink: join(dir, 'sink'), samples: 0 }),
  );
  const total = performance.now() - started;
  clearInterval(sample);
  const plan = report.plans[0];
  const send = plan.steps.find((s) => s.kind === 'send');
  const maxRss = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      status: plan.status,
      error: plan.error,
      rows: send?.accepted ?? 0,
      sendMs: send?.ms ?? 0,
      totalMs: total,
      peakRss: Math.max(peak, maxRss),
      requests: send?.requests ?? 0,
    }),
  );
}

/** Child: the destination, answering each batch after parsing it, counting rows. */
function serve() {
  let rows = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      rows += JSON.parse(Buffer.concat(chunks).toString()).length;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
  process.on('message', () => process.send(rows));
}

function node(script, argv, options = {}) {
  const r = spawnSync(process.execPath, [script, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24, ...options });
  if (r.status !== 0) throw new Error(`${argv[0]} failed: ${r.stderr}`);
  return r.stdout;
}

async function main() {
  if (!existsSync(join(root, 'dist', 'run', 'index.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const engine = process.env.DATABASE_URL ? 'postgres' : 'embedded PGlite';
  console.log(`deliver: change sets to a local batch webhook (1,000 rows per PUT, 4 in flight), ${engine}`);
  const server = spawn(process.execPath, [self, 'serve'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((resolve) => server.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  const rowsAtServer = () =>
    new Promise((resolve) => {
      server.once('message', resolve);
      server.send('count');
    });
  const results = [];
  try {
    for (const rows of sizes) {
      const dir = mkdtempSync(join(tmpdir(), 'syncwright-bench-'));
      try {
        mkdirSync(dir, { recursive: true });
        const seeded = performance.now();
        node(self, ['seed', dir, String(rows), String(port)]);
        const before = await rowsAtServer();
        const r = JSON.parse(node(self, ['run', dir]).trim().split('\n').at(-1));
        const received = (await rowsAtServer()) - before;
        if (r.status !== 'ok' || received !== rows) throw new Error(`run ${r.status}: ${r.error ?? ''}; the server received ${received} of ${rows} rows`);
        results.push({ rows, ...r, seedMs: performance.now() - seeded - r.totalMs });
        console.log(
          `  ${rows.toLocaleString('en')} rows: delivered in ${(r.sendMs / 1000).toFixed(1)} s = ${Math.round(rows / (r.sendMs / 1000)).toLocaleString('en')} rows/s (whole run with the change set: ${(r.totalMs / 1000).toFixed(1)} s), ${r.requests} requests, peak RSS ${Math.round(r.peakRss / 2 ** 20)} MB`,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } finally {
    server.kill();
  }
  let ok = true;
  for (const r of results) {
    const rps = r.rows / (r.sendMs / 1000);
    const mb = r.peakRss / 2 ** 20;
    const pass = rps >= targets.rowsPerSecond && mb < targets.peakRssMb;
    ok &&= pass;
    console.log(
      `  ${pass ? 'ok  ' : 'MISS'} ${r.rows.toLocaleString('en')} rows: ${Math.round(rps).toLocaleString('en')} rows/s (target >= ${targets.rowsPerSecond.toLocaleString('en')}), ${Math.round(mb)} MB (target < ${targets.peakRssMb})`,
    );
  }
  if (results.length > 1) {
    const [a, b] = [results[0], results.at(-1)];
    console.log(
      `  peak RSS at ${b.rows.toLocaleString('en')} rows is ${(b.peakRss / a.peakRss).toFixed(2)}x that at ${a.rows.toLocaleString('en')} (${(b.rows / a.rows).toFixed(0)}x the rows)`,
    );
  }
  process.exitCode = ok ? 0 : 1;
}

if (mode === 'seed') await seed(args[0], Number(args[1]), Number(args[2]));
else if (mode === 'run') await run(args[0]);
else if (mode === 'serve') serve();
else await main();
