// What the benches that run the executor against local services share: the TypeScript test
// servers bundled for the bench's process, and the executor run in a child of its own (so that
// its peak RSS is its own) while the services of this process keep answering; and for the
// warehouse benches, the events table their local server's PGlite holds and the sync reading it.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `exports` (name -> file under test/servers) bundled into `dir` and imported; their packages stay external. */
export async function testServers(dir, exports) {
  const { build } = await import('esbuild');
  const out = join(dir, 'servers.mjs');
  writeFileSync(
    join(dir, 'servers.ts'),
    Object.entries(exports)
      .map(([name, file]) => `export { ${name} } from ${JSON.stringify(join(root, 'test/servers', file))};\n`)
      .join(''),
  );
  await build({
    entryPoints: [join(dir, 'servers.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: out,
    nodePaths: [join(root, 'node_modules')],
    logLevel: 'error',
  });
  return import(pathToFileURL(out).href);
}

/** Runs `script` with `args` in a child, asynchronously; its last line of stdout, parsed. */
export async function runChild(script, args, env) {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`run failed: ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1));
}

/** In the child: awaits `run` (the executor), sampling RSS, and prints what its delivering step (of `kinds`) did as one JSON line. */
export async function reportRun(run, kinds) {
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const report = await run();
  clearInterval(sample);
  const plan = report.plans[0];
  const step = plan.steps.find((s) => kinds.includes(s.kind));
  console.log(
    JSON.stringify({
      status: plan.status,
      error: plan.error,
      rows: step?.accepted ?? 0,
      ms: step?.ms ?? 0,
      totalMs: plan.ms,
      requests: step?.requests ?? 0,
      committed: plan.committed,
      peakRss: Math.max(peak, process.resourceUsage().maxRSS * 1024),
    }),
  );
}

/** The warehouse benches' sync: the table BENCH.EVENTS of the source `warehouse`, mirrored to the sink folder as jsonl. */
const eventsSync = `
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

/** The Postgres twin of the benches' source (bench.events), for the statements' twins. */
const postgresTwin = 'source warehouse : postgres { database "bench"  state_schema "SYNCWRIGHT_STATE" }';

/** A PGlite holding bench.events with `rows` rows: the data a local warehouse server runs its twins on. */
async function eventsDatabase(rows) {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create({ postgresqlconf: 'shared_buffers = 16MB\n' });
  await db.exec(`CREATE SCHEMA bench; CREATE TABLE bench.events (id bigint PRIMARY KEY, user_id text, kind text, amount numeric(12, 2), at timestamp);
    INSERT INTO bench.events SELECT g, 'user-' || (g % 50000), (ARRAY['view', 'click', 'buy'])[1 + g % 3], (g % 1000) / 10.0, timestamp '2026-01-01' + g * interval '1 second' FROM generate_series(1, ${rows}) g;`);
  return db;
}

/** The events sync with `source` (the block of a source named warehouse) compiled into `dir/name`. */
async function compileEvents(dir, name, source) {
  const { runCompile } = await import(join(root, 'dist/cli/compile-command.js'));
  mkdirSync(join(dir, `${name}-project`), { recursive: true });
  writeFileSync(join(dir, `${name}-project`, 'bench.sync'), `${source}\n${eventsSync}`);
  const quiet = { out: () => {}, err: (t) => process.stderr.write(`${t}\n`), colour: false, cwd: dir };
  if ((await runCompile({ paths: [join(dir, `${name}-project`)], out: join(dir, name), format: 'text', strict: false }, quiet)) !== 0)
    throw new Error(`compiling the ${name} project failed`);
}

/** In the child: the events sync compiled into `build`, run into the sink folder `sink` with the source at `endpoint` (reportRun's line). */
export async function runEvents(build, sink, endpoint) {
  const { runPlans, execOptions } = await import(join(root, 'dist/run/index.js'));
  await reportRun(
    () =>
      runPlans(
        [join(build, 'events_out/plan.json')],
        { byName: {}, folder: '' },
        execOptions({ samples: 0, env: process.env, sink, endpoints: { warehouse: endpoint } }),
      ),
    ['write_object'],
  );
}

/** A warehouse bench's figures: `r` (runChild's) for `rows` rows, with what `extra` says of the requests; a run that did not deliver them all throws. */
function eventsLine(rows, r, extra) {
  if (r.status !== 'ok' || r.rows !== rows) throw new Error(`${r.status} ${r.error ?? ''}, ${r.rows} of ${rows} rows`);
  return `  read and delivered: ${rows.toLocaleString('en')} rows in ${(r.ms / 1000).toFixed(1)} s = ${Math.round(rows / (r.ms / 1000)).toLocaleString('en')} rows/s (whole run ${(r.totalMs / 1000).toFixed(1)} s, ${extra}, ${r.committed.toLocaleString('en')} rows recorded), peak RSS ${Math.round(r.peakRss / 2 ** 20)} MB`;
}

/**
 * A warehouse bench's process: bench.events of `rows` rows on PGlite, the events sync compiled
 * with `source` (into dir/engine) and with its Postgres twin (dir/postgres), the local server
 * `serve({ db, work, dir })` starts (it answers { url, env, refused, requests, close }: its
 * address, the child's environment, what it refused, what its requests were), and the executor
 * run in a child (`script run BUILD SINK URL`, which calls runEvents); its figures printed.
 */
export async function eventsBench({ engine, title, source, script, rows, serve }) {
  if (!existsSync(join(root, 'dist', 'run', 'index.js'))) {
    console.error('dist/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const work = mkdtempSync(join(root, 'node_modules', '.syncwright-bench-'));
  const dir = mkdtempSync(join(tmpdir(), 'syncwright-bench-'));
  console.log(`${engine}: ${rows.toLocaleString('en')} rows through syncwright run ${title} into the sink folder`);
  const db = await eventsDatabase(rows);
  let server;
  try {
    await compileEvents(dir, engine, source);
    await compileEvents(dir, 'postgres', postgresTwin);
    server = await serve({ db, work, dir });
    const r = await runChild(script, ['run', join(dir, engine), join(dir, 'sink'), server.url], server.env);
    if (server.refused.length) throw new Error(`the server refused: ${server.refused[0].slice(0, 200)}`);
    console.log(eventsLine(rows, r, server.requests()));
  } finally {
    await server?.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}
