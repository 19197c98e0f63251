/**
 * The statement twins of a project compiled for BigQuery and for Postgres (test/servers/bigquery.ts):
 * each plan file, each query over read.sql, the load and accepted-row inserts, the lock-row and
 * target statements of the BigQuery plans, taught to the server with the Postgres text that means the
 * same; and the credential file whose token exchange is the server's.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fillSlots, type Plan } from '../../src/contract/plan.js';
import type { ApiStep } from '../../src/contract/api-steps.js';
import type { WarehouseStep } from '../../src/contract/warehouse-steps.js';
import { asSubquery } from '../../src/run/engines/sql-session.js';
import type { FakeBigQuery } from './bigquery.js';
import { lockRowPairs, type LockRowTwin } from './lock-row-twins.js';
import { targetTwins } from './target-twins.js';
import { jobsTwins } from './jobs-twins.js';
import { scratchFolder } from './scratch-db.js';

/** The lock row's statements on Postgres ($n for @pN): the twin of dialects/bigquery.json's lockRow. */
const lockTwin: LockRowTwin = {
  create:
    'CREATE SCHEMA IF NOT EXISTS {{schema}}; CREATE TABLE IF NOT EXISTS {{table}} (lock_key text PRIMARY KEY, owner text NOT NULL, expires_at timestamptz NOT NULL)',
  take: [
    {
      label: 'take',
      pg: 'INSERT INTO {{table}} AS l VALUES ($1, $2, now() + make_interval(secs => $3)) ON CONFLICT (lock_key) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at WHERE l.owner = $2 OR l.expires_at < now()',
    },
    {
      label: 'holders',
      pg: `SELECT owner, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS expires_at FROM {{table}} WHERE lock_key = $1`,
    },
  ],
  renew: 'UPDATE {{table}} SET expires_at = now() + make_interval(secs => $1::int) WHERE lock_key = $2 AND owner = $3',
  release: 'DELETE FROM {{table}} WHERE lock_key = $1 AND owner = $2',
};

/** Every statement the executor may send for `sync`, with its twin. */
export function teach(server: FakeBigQuery, bqBuild: string, pgBuild: string, sync: string): void {
  const read = (build: string, file: string) => readFileSync(join(build, sync, file), 'utf8');
  const plans = [JSON.parse(read(bqBuild, 'plan.json')) as Plan, JSON.parse(read(pgBuild, 'plan.json')) as Plan] as const;
  for (const file of readdirSync(join(bqBuild, sync)).filter((f) => f.endsWith('.sql'))) {
    server.know(`${file}`, read(bqBuild, file), read(pgBuild, file));
    server.know(`${file} pages`, asSubquery(read(bqBuild, file)), asSubquery(read(pgBuild, file)));
  }
  const [bq, pg] = plans;
  const on = bq.destination.dialect === 'bigquery' ? 'destination' : 'source';
  const session = bq[on].session;
  // The lock table's names, quoted in backticks, as Postgres quotes them.
  const backticked = (name: string | undefined) => name?.replaceAll('`', '"') ?? '';
  const pgNames = { ...bq.lock, schema: backticked(bq.lock.schema), table: backticked(bq.lock.table) };
  if (session?.lockRow) for (const [label, sql, pg] of lockRowPairs(session.lockRow, lockTwin, bq.lock, pgNames)) server.know(label, sql, pg);
  for (const [label, sql, twin] of targetTwins(bq)) server.know(label, sql, twin);
  if (session) server.know('rollback', session.rollback, 'ROLLBACK');
  if (session?.close) server.closing(session.close);
  const steps = [bq.steps as (ApiStep | WarehouseStep)[], pg.steps as (ApiStep | WarehouseStep)[]] as const;
  steps[0].forEach((step, i) => {
    const twin = steps[1][i] as ApiStep | WarehouseStep;
    if (step.kind === 'load' && twin.kind === 'load' && step.create && step.insert && twin.create && twin.insert) {
      server.know('load create', step.create, twin.create);
      server.know('load insert', step.insert, twin.insert);
    }
    if (step.kind === 'read' && twin.kind === 'read') {
      const query = [asSubquery(read(bqBuild, step.file)), asSubquery(read(pgBuild, twin.file))] as const;
      for (const [key, q] of Object.entries(step.queries)) {
        const p = twin.queries[key];
        if (!p) throw new Error(`twin of ${sync} has no queries ${key}`);
        server.know(`count ${key}`, fillSlots(q.count, { query: query[0] }), fillSlots(p.count, { query: query[1] }));
        server.know(`rows ${key}`, asSubquery(fillSlots(q.rows, { query: query[0] })), asSubquery(fillSlots(p.rows, { query: query[1] })));
        server.knowSlots(`range ${key}`, fillSlots(q.range, { query: query[0] }), fillSlots(p.range, { query: query[1] }));
      }
    }
    if (step.kind === 'jobs' && twin.kind === 'jobs') for (const [label, sql, pg] of jobsTwins(step.sql, twin.sql)) server.know(label, sql, pg);
    if (step.kind === 'commit' && twin.kind === 'commit') {
      server.know('accepted insert', step.acceptedInsert.statement, twin.acceptedInsert.statement);
      if (step.acceptedInsert.rows && twin.acceptedInsert.rows) server.know('accepted rows', step.acceptedInsert.rows, twin.acceptedInsert.rows);
    }
  });
}

/** Application Default Credentials: an external-account file (in `dir`) whose token exchange is the server's. */
export function adcFile(bq: FakeBigQuery, subject: string, dir = scratchFolder('syncwright-adc-').dir): string {
  writeFileSync(join(dir, 'subject'), subject);
  writeFileSync(
    join(dir, 'adc.json'),
    JSON.stringify({
      type: 'external_account',
      audience: '//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q',
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: `${bq.api.url}/token`,
      credential_source: { file: join(dir, 'subject') },
    }),
  );
  return join(dir, 'adc.json');
}
