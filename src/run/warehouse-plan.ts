/**
 * Runs the plan of a sync into a warehouse destination on Postgres: each SQL file as a
 * script, in order, on the source's or the destination's session; a `load` step streams
 * the rows of its extract query from the source into a temporary table of the destination.
 */
import type { LoadStep, SqlStep, WarehouseStep } from '../plan/warehouse-steps.js';
import type { LoadedPlan } from './plan-file.js';
import type { PlanReport, StepReport } from './output/report.js';
import { quoteIdent, type SqlSession } from './engines/sql-session.js';
import { targetProblems } from './engines/target-check.js';
import { withSyncLock } from './locks/sync-lock.js';
import type { ExecOptions } from './step-env.js';

export interface WarehouseSessions {
  source: SqlSession;
  destination: SqlSession;
}

function stepReport(kind: string, operation: string, description: string): StepReport {
  return { kind, operation, description, rows: 0, accepted: 0, rejected: 0, failed: 0, requests: 0, retries: 0, ms: 0 };
}

async function runLoad(step: LoadStep, extract: string, sessions: WarehouseSessions): Promise<StepReport> {
  const started = performance.now();
  const report = stepReport('load', step.table, step.description);
  const { destination } = sessions;
  const cols = step.columns.map((c) => quoteIdent(c.name));
  await destination.script(`CREATE TEMPORARY TABLE ${quoteIdent(step.table)} (${step.columns.map((c) => `${quoteIdent(c.name)} ${c.type}`).join(', ')})`);
  for await (const page of sessions.source.pages(extract, step.batch)) {
    const params: unknown[] = [];
    const tuples = page.map((row) => {
      const values = Object.values(row);
      const first = params.length;
      params.push(...step.columns.map((_, i) => values[i] ?? null));
      return `(${step.columns.map((c, i) => `$${first + i + 1}::${c.type}`).join(', ')})`;
    });
    await destination.query(`INSERT INTO ${quoteIdent(step.table)} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`, params);
    report.rows += page.length;
    report.accepted += page.length;
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

export async function runWarehousePlan(loaded: LoadedPlan, sessions: WarehouseSessions, options: Pick<ExecOptions, 'waitMs' | 'notice'>, report: PlanReport): Promise<void> {
  const { plan } = loaded;
  const steps = plan.steps as WarehouseStep[];
  const text = (file: string) => loaded.files.get(file) as string;
  // An extract step is not run on its own: its load step streams its rows.
  const extracts = new Set(steps.filter((s): s is LoadStep => s.kind === 'load').map((s) => s.from));
  // The script takes the same lock for its transaction; held here for the whole plan, a second
  // run stops (or waits --wait) instead of queueing without a word.
  await withSyncLock(sessions[plan.lock.on], plan.lock, options, `sync ${plan.sync.name}`, async () => {
    const problems = await targetProblems(sessions.destination, plan);
    if (problems) throw new Error(problems);
    for (const step of steps) {
      if (step.kind === 'load') {
        report.steps.push(await runLoad(step, text(step.from), sessions));
        continue;
      }
      if (extracts.has(step.file)) continue;
      report.steps.push(await runSql(step, text(step.file), sessions));
    }
  });
}

async function runSql(step: SqlStep, sql: string, sessions: WarehouseSessions): Promise<StepReport> {
  const started = performance.now();
  const report = stepReport('sql', step.file, step.description);
  const results = await sessions[step.on].script(sql);
  // The last statement's rows: the one-row summary of what changed.
  const last = results.filter((r) => r.length > 0).at(-1);
  if (last) report.result = last;
  report.ms = Math.round(performance.now() - started);
  return report;
}
