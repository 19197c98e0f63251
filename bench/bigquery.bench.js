// Throughput of the BigQuery session: a change set of 200,000 rows (BENCH_ROWS) built, read page
// by page from the finished job (getQueryResults) and recorded (accepted rows as ARRAY<JSON>
// parameters) through BigQuery's REST API with the official client, served by the local server
// of the tests (test/servers/bigquery.ts: the statements' Postgres twins on PGlite). The rows go
// to the sink folder (a jsonl mirror). The server and its PGlite run in this process, the
// executor in a child of its own, so its peak RSS is its own.
//   node bench/bigquery.bench.js
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventsBench, runEvents, testServers } from './children.js';

const [mode, ...args] = process.argv.slice(2);

async function serve({ db, work, dir }) {
  const { FakeBigQuery, teach, adcFile } = await testServers(work, { FakeBigQuery: 'bigquery.ts', teach: 'bigquery-twin.ts', adcFile: 'bigquery-twin.ts' });
  const subject = 'bench-subject-token';
  const server = await new FakeBigQuery(db, 'bench-project', 'US', subject).start();
  teach(server, join(dir, 'bigquery'), join(dir, 'postgres'), 'events_out');
  const { requests } = server.api;
  const count = (test) => requests.filter(test).length;
  return {
    url: server.api.url,
    // An external-account credential file whose token exchange is the server's.
    env: { GOOGLE_APPLICATION_CREDENTIALS: adcFile(server, subject, dir) },
    refused: server.refused,
    requests: () =>
      `${requests.length} REST requests, ${count((q) => q.method === 'POST' && q.path.endsWith('/jobs'))} query jobs, ${count((q) => q.path.includes('/queries/'))} getQueryResults`,
    close: () => server.api.close(),
  };
}

if (mode === 'run') await runEvents(...args);
else
  await eventsBench({
    engine: 'bigquery',
    title: 'on the REST API (local server, twins on PGlite)',
    source: 'source warehouse : bigquery { project "bench-project"  dataset "BENCH"  location "US"  state_schema "SYNCWRIGHT_STATE" }',
    script: fileURLToPath(import.meta.url),
    rows: Number(process.env.BENCH_ROWS ?? 200_000),
    serve,
  });
