// Throughput of the Snowflake session: a change set of 200,000 rows (BENCH_ROWS) built, read
// partition by partition and recorded (accepted rows by array binding) through Snowflake's SQL
// API, served by the local server of the tests (test/servers/snowflake.ts: the statements'
// Postgres twins on PGlite). The rows go to the sink folder (a jsonl mirror). The server and its
// PGlite run in this process, the executor in a child of its own, so its peak RSS is its own.
//   node bench/snowflake.bench.js
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventsBench, runEvents, testServers } from './children.js';

const [mode, ...args] = process.argv.slice(2);

async function serve({ db, work, dir }) {
  const { startSnowflake, statementTwins } = await testServers(work, { startSnowflake: 'snowflake.ts', statementTwins: 'snowflake-twin.ts' });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const server = await startSnowflake({
    db,
    twins: statementTwins(join(dir, 'snowflake'), join(dir, 'postgres'), ['events_out']),
    account: 'bench-account',
    user: 'BENCH_USER',
    publicKey,
    context: { database: 'BENCH', schema: 'PUBLIC', warehouse: 'BENCH_WH', role: 'BENCH_ROLE' },
    // Snowflake sizes partitions itself; some thousands of rows each is typical of a narrow result.
    partitionRows: 10_000,
  });
  return {
    url: server.url,
    env: { SNOWFLAKE_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }) },
    refused: server.unexpected,
    requests: () => `${server.requests.length} SQL API requests, ${server.requests.filter((q) => q.path.includes('partition=')).length} partition reads`,
    close: () => server.close(),
  };
}

if (mode === 'run') await runEvents(...args);
else
  await eventsBench({
    engine: 'snowflake',
    title: 'on the SQL API (local server, twins on PGlite)',
    source:
      'source warehouse : snowflake { account "bench-account"  database "BENCH"  schema "PUBLIC"  warehouse "BENCH_WH"  role "BENCH_ROLE"  user "BENCH_USER"  private_key env("SNOWFLAKE_PRIVATE_KEY")  state_schema "SYNCWRIGHT_STATE" }',
    script: fileURLToPath(import.meta.url),
    rows: Number(process.env.BENCH_ROWS ?? 200_000),
    serve,
  });
