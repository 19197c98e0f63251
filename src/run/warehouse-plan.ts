/**
 * Runs the plan of a sync into a warehouse destination (Postgres, Snowflake): each SQL file as a
 * script, in order, on the source's or the destination's session; a `load` step streams
 * the rows of its extract query from the source into a temporary table of the destination, or,
 * where each request is a session of its own (Snowflake), into a table the run drops at its end.
 */
import type { LoadStep, SqlStep, WarehouseStep } from '../contract/warehouse-steps.js';
import type { LoadedPlan } from './plan-file.js';
import { stepReport, type PlanReport, type StepReport } from './output/report.js';
import { jsonText, type SqlSession } from './engines/sql-session.js';
import type { SessionSql } from '../contract/plan.js';
import { sessionSqlOf } from './engines/sql-errors.js';
import { targetProblems } from './engines/target-check.js';
import { withSyncLock, type HeldLock } from './locks/sync-lock.js';
import type { ExecOptions } from './step-env.js';

export interface WarehouseSessions {
  source: SqlSession;
  destination: SqlSession;
}

async function runLoad(
  step: LoadStep,
  extract: string,
  sessions: WarehouseSessions,
  sql: Record<'source' | 'destination', SessionSql>,
  made: LoadStep[],
  lock: HeldLock,
): Promise<StepReport> {
  const started = performance.now();
  const report = stepReport('load', step.table, step.description);
  const { destination } = sessions;
  if (step.create === undefined || step.insert === undefined)
    throw new Error(`the load step into ${step.table} has no statements: compile the plan again with this version of syncwright`);
  // A temporary load table would end with the request that makes it where each request is a session of its own: such plans load into a table they drop.
  if (destination.sessionPerRequest && step.drop === undefined)
    throw new Error(
      `the load into ${step.table} on ${destination.engine} is not run: its temporary table would end with the request that makes it; compile the plan again with this version of syncwright`,
    );
  const into = `the load into ${step.table}`;
  await lock.check(into);
  if (step.drop !== undefined) made.push(step);
  await destination.script(step.create, sql.destination.rollback);
  // Each value as its exact text, which the insert's casts to the load table's types read back: a
  // driver's Date or double would cut timestamps to milliseconds and JSON numbers to doubles.
  for await (const page of sessions.source.pages(extract, step.batch, sql.source, { text: true })) {
    for (const rows of step.maxBytes === undefined ? [page.map((r) => Object.values(r))] : underBytes(page, step.maxBytes, step.from)) {
      // One array per column, in the result's order: the plan's insert binds them.
      const arrays = step.columns.map((_, i) => rows.map((values) => values[i] ?? null));
      await lock.check(into);
      await destination.query(step.insert, arrays);
      report.rows += rows.length;
      report.accepted += rows.length;
    }
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

/** The bytes a value takes in the request: its JSON text as a JSON string, in {"value":...}, (LoadStep.maxBytes). */
const requestBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(jsonText(v))) + 12;

/** A page's rows (as value lists) in runs whose values take at most `maxBytes` in one request. */
function* underBytes(page: readonly Record<string, unknown>[], maxBytes: number, from: string): Generator<unknown[][]> {
  let run: unknown[][] = [];
  let bytes = 0;
  for (const row of page) {
    const values = Object.values(row);
    const size = values.reduce<number>((n, v) => n + requestBytes(v), 0);
    if (size > maxBytes)
      throw new Error(`a row of ${from} takes ${size} bytes in a request, more than the destination takes in one (${maxBytes}): nothing was changed`);
    if (bytes + size > maxBytes) {
      yield run;
      run = [];
      bytes = 0;
    }
    run.push(values);
    bytes += size;
  }
  if (run.length) yield run;
}

export async function runWarehousePlan(
  loaded: LoadedPlan,
  sessions: WarehouseSessions,
  options: Pick<ExecOptions, 'waitMs' | 'notice'>,
  report: PlanReport,
): Promise<void> {
  const { plan } = loaded;
  const steps = plan.steps as WarehouseStep[];
  const text = (file: string) => loaded.files.get(file) as string;
  // An extract step is not run on its own: its load step streams its rows.
  const extracts = new Set(steps.filter((s): s is LoadStep => s.kind === 'load').map((s) => s.from));
  // The script takes the same lock for its transaction; held here for the whole plan, a second
  // run stops (or waits --wait) instead of queueing without a word.
  const sql = { source: sessionSqlOf(plan, 'source'), destination: sessionSqlOf(plan, 'destination') };
  await withSyncLock(sessions[plan.lock.on], sql[plan.lock.on], plan.lock, options, `sync ${plan.sync.name}`, async (lock) => {
    const problems = await targetProblems(sessions.destination, sql.destination, plan);
    if (problems) throw new Error(problems);
    // Load tables that outlive the session, dropped at the end whether the run failed or not (still under the lock).
    const made: LoadStep[] = [];
    try {
      for (const step of steps) {
        if (step.kind === 'load') {
          report.steps.push(await runLoad(step, text(step.from), sessions, sql, made, lock));
          continue;
        }
        if (extracts.has(step.file)) continue;
        await lock.check(step.file);
        report.steps.push(await runSql(step, text(step.file), sessions[step.on], sql[step.on]));
      }
    } finally {
      // Their names are the sync's, not the run's: the run that holds the lock now may be loading into them.
      const lost = made.length > 0 && (await lock.lost()) !== undefined;
      for (const step of made) {
        if (lost) {
          options.notice(`sync ${plan.sync.name}: the load table ${step.table} was left as it is: this run lost its lock, and another run may be using it`);
          continue;
        }
        await sessions.destination
          .query(step.drop as string)
          .catch((e: unknown) =>
            options.notice(
              `sync ${plan.sync.name}: the load table ${step.table} was not dropped (${(e as Error).message}); the next run of the sync replaces it`,
            ),
          );
      }
    }
  });
}

async function runSql(step: SqlStep, text: string, session: SqlSession, sql: SessionSql): Promise<StepReport> {
  const started = performance.now();
  const report = stepReport('sql', step.file, step.description);
  const results = await session.script(text, sql.rollback);
  // The last statement's rows: the one-row summary of what changed.
  const last = results.filter((r) => r.length > 0).at(-1);
  if (last) report.result = last;
  report.ms = Math.round(performance.now() - started);
  return report;
}
