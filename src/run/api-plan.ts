/**
 * Runs the plan of a sync into an API destination: how the jobs of earlier runs ended (where
 * a call runs a job the destination may still fail), change set, guard, calls, sends, sinks,
 * accepts, then commit.sql for what the destination accepted. Rows are recorded in
 * the accepted table as they are accepted, and commit.sql runs even after a failure midway,
 * so a rejected or unsent row is simply sent again by the next run and an accepted one is not.
 * A step whose `when` does not hold, or an accept whose `unless` does, is skipped, and so is a
 * call marked `onlyIfAllAccepted` once a row was refused; the rows of a `deferAccept` step (a
 * replace, a job's operations) are recorded just before the commit, and only if the whole run
 * was accepted. The plan's lock is held from the recovery to the commit, so one run of the sync
 * at a time writes its state.
 */
import type { AcceptStep, ApiStep, ChangeKind, CommitStep, StepCondition } from '../contract/api-steps.js';
import { runCall } from './call-step.js';
import { recordJob, runJobs } from './jobs-step.js';
import { GuardAbort, guardViolation } from './guard.js';
import { Ledger } from './ledger.js';
import type { LoadedPlan } from './plan-file.js';
import { stepReport, type PlanReport, type StepReport } from './output/report.js';
import { countRows, runSend, stepRows } from './send-step.js';
import { runPublish } from './sinks/publish.js';
import { runWriteObject } from './sinks/write-object.js';
import { asSubquery, type SqlSession } from './engines/sql-session.js';
import { runValues, sqlFile, type ExecOptions, type StepEnv } from './step-env.js';
import { LockLost, withSyncLock } from './locks/sync-lock.js';
import { CallLocks } from './locks/call-lock.js';
import { isSqlError, sessionSqlOf } from './engines/sql-errors.js';
import { envFrom, envPlaceholder } from './template.js';

/**
 * A run killed after rows were accepted but before commit.sql leaves them in the accepted
 * table, which the next changes.sql empties. commit.sql moves exactly those rows into the
 * snapshot and empties the table, so running it first finishes the interrupted run's commit;
 * after a clean run it changes nothing.
 */
async function recover(env: StepEnv, commit: CommitStep): Promise<void> {
  try {
    await env.session.script(sqlFile(env, commit.file), env.sql.rollback);
  } catch (e) {
    // The state tables do not exist yet: a first run has nothing to recover.
    if (!isSqlError(e, env.sql, 'missingTable')) throw e;
  }
}

async function runAccept(step: AcceptStep, env: StepEnv): Promise<StepReport> {
  const started = performance.now();
  const rows = await countRows(env, step.changes);
  const report = stepReport('accept', 'accept', step.description, rows);
  if (env.options.dryRun || (step.when === 'all_accepted' && !env.allAccepted)) return report;
  for await (const page of stepRows(env, step.changes)) {
    await env.ledger?.record(page);
    report.accepted += page.length;
  }
  report.ms = Math.round(performance.now() - started);
  return report;
}

function numbers(row: Record<string, unknown> | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(row ?? {}).map(([k, v]) => [k, Number(v)]));
}

/** Steps that take change rows and deliver them somewhere. */
const delivering = new Set<ApiStep['kind']>(['send', 'publish', 'write_object']);

/**
 * Whether a condition holds on the summary row. `changed`: it counts an added, changed or
 * removed row; `emptied`: removed rows and nothing else. A count that cannot be read is taken
 * as the condition needs it, so that nothing is judged on a guess: a step with `when` runs, and
 * an accept with `unless` is skipped (Meta mirror: the members who left are then deleted, and
 * accepted as Meta takes them, rather than recorded as gone).
 */
function holds(condition: StepCondition, changes: Record<string, number> | undefined): boolean {
  const some = (n: number | undefined) => n === undefined || !Number.isFinite(n) || n > 0;
  const none = (n: number | undefined) => n === undefined || !Number.isFinite(n) || n === 0;
  if (changes === undefined) return true;
  if (condition === 'changed') return [changes.added, changes.changed, changes.removed].some(some);
  return some(changes.removed) && [changes.added, changes.changed, changes.unchanged].every(none);
}

/** Whether a step runs: its `when` holds, and an accept's `unless` does not. */
export function conditionHolds(step: ApiStep, changes: Record<string, number> | undefined): boolean {
  if (step.kind === 'accept') return step.unless === undefined || !holds(step.unless, changes);
  return !('when' in step) || step.when === undefined || holds(step.when, changes);
}

/**
 * Why a call marked `onlyIfAllAccepted` does not run: a row sent before it was refused or not
 * delivered, so the job it would run is incomplete.
 */
function refusedBefore(step: ApiStep, env: StepEnv): StepReport | undefined {
  if (step.kind !== 'call' || !step.onlyIfAllAccepted || env.allAccepted) return undefined;
  return {
    ...stepReport('call', step.name, step.description),
    skipped: 'rows sent before it were refused or not delivered, so it would apply an incomplete job; the next run sends them all again',
  };
}

/** Why a step's condition skipped it, from the summary row. */
function skippedBecause(step: ApiStep, changes: Record<string, number> | undefined): string {
  if (step.kind === 'accept') {
    return step.unless === 'emptied'
      ? 'every row was removed, so no replace ran to remove them: they are accepted only as a step deletes them'
      : 'a row was added, changed or removed';
  }
  if ('when' in step && step.when === 'emptied')
    return changes?.removed ? 'the model still has rows (a replace removes those that left)' : 'no row was removed';
  return 'no row was added, changed or removed';
}

/** What the report says of a delivering or accept step its condition skipped: no rows taken, nothing sent. */
function skippedReport(step: ApiStep, changes: Record<string, number> | undefined): StepReport | undefined {
  if (step.kind !== 'send' && step.kind !== 'write_object' && step.kind !== 'accept') return undefined;
  const operation = step.kind === 'send' ? step.operation : step.kind === 'accept' ? 'accept' : step.service;
  return { ...stepReport(step.kind, operation, step.description), skipped: skippedBecause(step, changes) };
}

/** The change kinds whose rows a step acts on: a delivering step's, or a call's that acts on rows as a whole (`CallStep.changes`). */
function rowsActedOn(step: ApiStep): ChangeKind[] | undefined {
  if (step.kind === 'call') return step.changes;
  return delivering.has(step.kind) ? (step as { changes: ChangeKind[] }).changes : undefined;
}

/**
 * Whether any step after `index` has rows to act on. Calls (sign-in, finding or creating a
 * list) serve those steps only, so a run with nothing to send makes no request at all; a call
 * acting on rows as a whole counts (a mirror's remove_all, when every member left).
 */
async function rowsAhead(steps: readonly ApiStep[], index: number, env: StepEnv): Promise<boolean> {
  for (const s of steps.slice(index + 1)) {
    const kinds = rowsActedOn(s);
    if (kinds && conditionHolds(s, env.report.changes) && (await countRows(env, kinds)) > 0) return true;
  }
  return false;
}

/**
 * Records the rows of the steps that deferred their acceptance (`deferAccept`), just before the
 * commit: all of them if every row of every step was accepted, else none (a replace half done
 * counts for nothing, so the next run repeats it).
 */
async function recordDeferred(env: StepEnv): Promise<void> {
  if (!env.allAccepted) return;
  for (const kinds of env.deferred) {
    for await (const page of stepRows(env, kinds)) await env.ledger?.record(page);
  }
}

/** commit.sql: the rows recorded so far into the snapshot; the report counts them once it has run. */
async function commitAccepted(env: StepEnv, commit: CommitStep): Promise<void> {
  await env.lock?.check(commit.file);
  await env.session.script(sqlFile(env, commit.file), env.sql.rollback);
  env.report.committed = env.ledger?.total ?? 0;
}

async function runStep(step: ApiStep, env: StepEnv, commit: CommitStep | undefined): Promise<StepReport | undefined> {
  switch (step.kind) {
    case 'changes': {
      const results = await env.session.script(sqlFile(env, step.file), env.sql.rollback);
      env.report.changes = numbers(results.at(-1)?.[0]);
      return undefined;
    }
    case 'guard': {
      const why = guardViolation(step, env.report.changes ?? {});
      if (why) throw new GuardAbort(`guard: ${why}; nothing was sent`);
      return undefined;
    }
    case 'read':
      env.read = { query: asSubquery(sqlFile(env, step.file)), queries: step.queries };
      return undefined;
    case 'jobs':
      return runJobs(step, env, commit);
    case 'call': {
      const report = await runCall(step, env);
      // Once the job ran: its rows are watched before any of them is committed.
      if (step.job && !env.options.dryRun) await recordJob(step.job, env);
      return report;
    }
    case 'send':
      return runSend(step, env);
    case 'publish':
      return runPublish(step, env);
    case 'write_object':
      return runWriteObject(step, env);
    case 'accept':
      return runAccept(step, env);
    case 'commit':
      if (env.options.dryRun) return undefined;
      await recordDeferred(env);
      await commitAccepted(env, step);
      return undefined;
  }
}

export async function runApiPlan(loaded: LoadedPlan, session: SqlSession, options: ExecOptions, report: PlanReport): Promise<void> {
  const { plan } = loaded;
  const steps = plan.steps as ApiStep[];
  const commit = steps.find((s): s is CommitStep => s.kind === 'commit');
  const env: StepEnv = {
    plan,
    files: loaded.files,
    session,
    sql: sessionSqlOf(plan, 'source'),
    options,
    render: { env: options.dryRun ? envPlaceholder : envFrom(options.env), secret: (v) => options.secrets.addCredential(v) },
    vars: {},
    run: runValues(new Date()),
    report,
    allAccepted: true,
    deferred: [],
  };
  if (commit) env.ledger = new Ledger(session, commit, async (next) => env.lock?.check(next));
  // A dry run builds its change set in its own session's temporary table and writes nothing
  // else, so it takes no lock and runs beside a real run. Where each request is a session of
  // its own (Snowflake), the change set is a table every run of the sync shares: a dry run
  // holds the lock too, and recovers nothing.
  if (options.dryRun && !session.sessionPerRequest) return runSteps(steps, env);
  await withSyncLock(session, env.sql, plan.lock, options, `sync ${plan.sync.name}`, async (lock) => {
    env.lock = lock;
    if (options.dryRun) return runSteps(steps, env);
    if (commit) await recover(env, commit);
    await runSteps(steps, env, commit);
  });
}

/** A step as a message names it. */
const stepName = (step: ApiStep) => ('file' in step ? step.file : `its ${step.kind} step (${step.description})`);

/** The steps in order; after a failure, what was accepted until then is committed (never in a dry run). */
async function runSteps(steps: readonly ApiStep[], env: StepEnv, commit?: CommitStep): Promise<void> {
  let sending = false;
  let committed = false;
  let callsNeeded: boolean | undefined;
  const locks = new CallLocks(env, steps);
  try {
    for (const [index, step] of steps.entries()) {
      if (step.kind === 'commit') committed = true;
      if (!conditionHolds(step, env.report.changes)) {
        const r = skippedReport(step, env.report.changes);
        if (r) env.report.steps.push(r);
      } else {
        if (step.kind !== 'jobs' && step.kind !== 'changes' && step.kind !== 'guard' && step.kind !== 'read') sending = true;
        if (step.kind !== 'call' || (callsNeeded ??= await rowsAhead(steps, index, env))) {
          const refused = refusedBefore(step, env);
          if (refused) env.report.steps.push(refused);
          else {
            // After a call lock's wait, which may be long: the sync's lock is checked last.
            if (step.kind === 'call') await locks.before(step);
            await env.lock?.check(stepName(step));
            const r = await runStep(step, env, commit);
            if (r) env.report.steps.push(r);
          }
        }
      }
      if (step.kind === 'call') await locks.after(step.name);
    }
  } catch (e) {
    await locks.releaseAll();
    // What was accepted before the failure is committed, so that the next run does not send it again; not by a run that lost its lock, whose accepted rows may be another run's now.
    if (commit && sending && !committed && !(e instanceof LockLost)) await commitAccepted(env, commit);
    throw e;
  }
}
