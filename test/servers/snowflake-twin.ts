/**
 * The statement twins of a project compiled for Snowflake and for Postgres (test/servers/snowflake.ts):
 * each plan file, each query over read.sql, the extract query a load reads, the accepted-row
 * inserts, the lock-row and target statements and the statements of a load into Snowflake of the
 * Snowflake plans, with the Postgres text that means the same.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fillSlots, type Plan } from '../../src/contract/plan.js';
import type { CommitStep, JobsStep, ReadStep } from '../../src/contract/api-steps.js';
import { jobsTwins } from './jobs-twins.js';
import type { LoadStep } from '../../src/contract/warehouse-steps.js';
import { asSubquery } from '../../src/run/engines/sql-session.js';
import type { Twin } from './snowflake.js';
import { lockRowPairs, type LockRowTwin } from './lock-row-twins.js';
import { targetTwins } from './target-twins.js';

/**
 * The lock-row statements on Postgres, $n in the order of the statement's `?` bindings: the lock
 * table's semantics (a row per key, an owner, an expiry in the server's clock), written for the twin.
 */
export const lockRowTwin: LockRowTwin = {
  create:
    'CREATE SCHEMA IF NOT EXISTS {{schema}}; CREATE TABLE IF NOT EXISTS {{table}} ("lock_key" text NOT NULL, "owner" text NOT NULL, "expires_at" timestamptz NOT NULL);',
  take: [
    {
      label: 'seed',
      pg: `INSERT INTO {{table}} ("lock_key", "owner", "expires_at") SELECT $1, '', to_timestamp(0) WHERE NOT EXISTS (SELECT 1 FROM {{table}} WHERE "lock_key" = $2)`,
    },
    {
      label: 'take',
      pg: `UPDATE {{table}} SET "owner" = $1, "expires_at" = clock_timestamp() + make_interval(secs => $2::int) WHERE "lock_key" = $3 AND ("owner" = '' OR "owner" = $4 OR "expires_at" < clock_timestamp())`,
    },
    {
      label: 'holders',
      pg: `SELECT "owner", to_char("expires_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS "expires_at" FROM {{table}} WHERE "lock_key" = $1`,
    },
  ],
  renew: `UPDATE {{table}} SET "expires_at" = clock_timestamp() + make_interval(secs => $1::int) WHERE "lock_key" = $2 AND "owner" = $3`,
  release: `UPDATE {{table}} SET "owner" = '', "expires_at" = to_timestamp(0) WHERE "lock_key" = $1 AND "owner" = $2`,
};

/** Every statement of the Snowflake plans under `sfBuild` the executor may send, with its Postgres twin from `pgBuild`. */
export function statementTwins(sfBuild: string, pgBuild: string, syncs: readonly string[]): Map<string, Twin> {
  const twins = new Map<string, Twin>();
  const add = (sf: string, pg: string, label: string) => twins.set(sf, { pg, label });
  for (const sync of syncs) {
    const sfPlan = JSON.parse(readFileSync(join(sfBuild, sync, 'plan.json'), 'utf8')) as Plan;
    const pgPlan = JSON.parse(readFileSync(join(pgBuild, sync, 'plan.json'), 'utf8')) as Plan;
    const file = (build: string, name: string) => readFileSync(join(build, sync, name), 'utf8');
    for (const name of readdirSync(join(sfBuild, sync)).filter((f) => f.endsWith('.sql'))) {
      if (existsSync(join(pgBuild, sync, name))) add(file(sfBuild, name), file(pgBuild, name), `${sync}/${name}`);
    }
    // A load into another warehouse reads its extract query page by page, as a query of its own.
    for (const load of sfPlan.steps.filter((s): s is LoadStep => s.kind === 'load'))
      add(asSubquery(file(sfBuild, load.from)), asSubquery(file(pgBuild, load.from)), `${sync}/${load.from} pages`);
    const sfRead = sfPlan.steps.find((s): s is ReadStep => s.kind === 'read');
    const pgRead = pgPlan.steps.find((s): s is ReadStep => s.kind === 'read');
    if (sfRead && pgRead) {
      const sfQuery = asSubquery(file(sfBuild, sfRead.file));
      const pgQuery = asSubquery(file(pgBuild, pgRead.file));
      for (const [kinds, q] of Object.entries(sfRead.queries)) {
        const p = pgRead.queries[kinds];
        if (!p) continue;
        add(fillSlots(q.rows, { query: sfQuery }), fillSlots(p.rows, { query: pgQuery }), `${sync}/read ${kinds}`);
        add(fillSlots(q.count, { query: sfQuery }), fillSlots(p.count, { query: pgQuery }), `${sync}/count ${kinds}`);
        // {{from}} and {{to}} stay: the server fills the twin with the numbers the statement carries.
        add(fillSlots(q.range, { query: sfQuery }), fillSlots(p.range, { query: pgQuery }), `${sync}/range ${kinds}`);
      }
    }
    const sfCommit = sfPlan.steps.find((s): s is CommitStep => s.kind === 'commit');
    const pgCommit = pgPlan.steps.find((s): s is CommitStep => s.kind === 'commit');
    if (sfCommit?.acceptedInsert.rows && pgCommit?.acceptedInsert.rows)
      add(sfCommit.acceptedInsert.rows, pgCommit.acceptedInsert.rows, `${sync}/accepted rows`);
    // The jobs step's statements (a Google Ads sync): how the jobs of earlier runs ended.
    const sfJobs = sfPlan.steps.find((s): s is JobsStep => s.kind === 'jobs');
    const pgJobs = pgPlan.steps.find((s): s is JobsStep => s.kind === 'jobs');
    if (sfJobs && pgJobs) for (const [label, sf, pg] of jobsTwins(sfJobs.sql, pgJobs.sql)) add(sf, pg, `${sync}/${label}`);
    for (const [label, sf, pg] of targetTwins(sfPlan)) add(sf, pg, `${sync}/${label}`);
    // A cross-warehouse load into Snowflake fills a table of the target's schema that apply.sql
    // reads; the twin's (Postgres) load table is temporary: the twin fills the same table.
    sfPlan.steps.forEach((step, i) => {
      const twin = pgPlan.steps[i];
      if (step.kind !== 'load' || twin?.kind !== 'load' || !step.create || !step.insert || !step.drop || !twin.create || !twin.insert) return;
      const table = step.drop.replace(/^DROP TABLE IF EXISTS /, '');
      const temporary = `"${twin.table}"`;
      add(step.create, `DROP TABLE IF EXISTS ${table}; ${twin.create.replace(`TEMPORARY TABLE ${temporary}`, `TABLE ${table}`)}`, `${sync}/load create`);
      add(step.insert, twin.insert.replace(temporary, table), `${sync}/load insert`);
      add(step.drop, step.drop, `${sync}/load drop`);
      add(file(sfBuild, 'apply.sql'), file(pgBuild, 'apply.sql').replaceAll(temporary, table), `${sync}/apply.sql`);
    });
    // A warehouse sync into another engine (BigQuery) holds its lock there: no Snowflake lock statements.
    const lockRow = sfPlan[sfPlan.lock.on].dialect === 'snowflake' ? sfPlan[sfPlan.lock.on].session?.lockRow : undefined;
    if (lockRow) for (const [label, sf, pg] of lockRowPairs(lockRow, lockRowTwin, sfPlan.lock)) add(sf, pg, label);
  }
  return twins;
}
