/**
 * Jobs the destination carries out after it answered (`CallStep.job`, `JobsStep`): the rows of
 * each recorded as the job's once it ran, and, at the start of each later run, how it ended
 * asked, so that the rows of one that failed count as not delivered and are sent again.
 */
import type { CallStep, CommitStep, JobsSql, JobsStep } from '../contract/api-steps.js';
import { requestOnce, runCall } from './call-step.js';
import { pointerGet } from './json-pointer.js';
import { stepReport, type StepReport } from './output/report.js';
import { stepRows } from './send-step.js';
import { isSqlError } from './engines/sql-errors.js';
import { insertRows } from './ledger.js';
import { baseContext, sqlFile, type StepEnv } from './step-env.js';
import { clip } from './output/redact.js';
import { SyncBusy } from './locks/sync-lock.js';

const jobsSqlOf = (env: StepEnv): JobsSql | undefined => (env.plan.steps as { kind: string; sql?: JobsSql }[]).find((s) => s.kind === 'jobs')?.sql;

/**
 * After a call that ran a job answered 2xx: the rows it carries (`job.changes`) recorded as the
 * job's, before any of them is committed, so that no committed row of a job goes unwatched. A
 * row recorded whose commit never came (a row refused, the run killed) is at worst sent again.
 */
export async function recordJob(job: NonNullable<CallStep['job']>, env: StepEnv): Promise<void> {
  const sql = jobsSqlOf(env);
  const name = env.vars[job.var];
  // Never committed unwatched: a plan that runs a job without the means to watch it fails here, and its rows go again.
  if (!sql) throw new Error('plan.json: a call runs a job, but the plan has no jobs step to ask how it ends');
  if (name === undefined || name === null) throw new Error(`plan.json: a call ran a job, but vars.${job.var} holds no job name`);
  for await (const page of stepRows(env, job.changes)) {
    const keys = page.flatMap((r) => (r.key === null ? [] : [r.key]));
    // Parameters in the plan's order: the job's name, the row's key.
    await insertRows(
      env.session,
      sql.insert,
      keys,
      (key, p) => (p === 'job' ? String(name) : key),
      async () => env.lock?.check('recording the rows of a job'),
    );
  }
}

/** How one job ended, as its status answer says. */
type Outcome = 'done' | 'pending' | 'failed';

function outcomeOf(step: JobsStep, status: unknown): Outcome {
  if (typeof status === 'string' && step.done.includes(status)) return 'done';
  if (typeof status === 'string' && step.pending.includes(status)) return 'pending';
  // A failure, a status the plan does not know, or no job found: whether its rows were applied is unknown.
  return 'failed';
}

/** The `jobs` step: see `JobsStep`. */
export async function runJobs(step: JobsStep, env: StepEnv, commit: CommitStep | undefined): Promise<StepReport | undefined> {
  let jobs: string[];
  try {
    jobs = (await env.session.query<{ job: unknown }>(step.sql.pending)).map((r) => String(r.job));
  } catch (e) {
    // The jobs table does not exist yet: no run has recorded a job.
    if (isSqlError(e, env.sql, 'missingTable')) return undefined;
    throw e;
  }
  if (jobs.length === 0) return undefined;
  const warn = (text: string) => (env.report.warnings ??= []).push(text);
  if (env.options.dryRun) {
    // A dry run asks nothing (it has no credentials) and writes nothing: it says what a run does first, which its changes leave out.
    const which = `${jobs.length === 1 ? 'job' : `${jobs.length} jobs, the first`} ${clip(jobs[0] ?? '', 200)}`;
    warn(
      `${which} of an earlier run ${jobs.length === 1 ? 'is' : 'are'} not known to have ended: a run asks how first, sends the rows of a failed one again${step.exclusive ? ', and while one has not ended sends nothing and ends busy (exit code 4)' : ''}; the changes of this dry run leave that out`,
    );
    return undefined;
  }
  const started = performance.now();
  const report = stepReport('jobs', 'check_jobs', step.description, jobs.length);
  for (const call of step.calls) {
    const r = await runCall(call, env);
    report.requests += r.requests;
    report.retries += r.retries;
  }
  /** A job not known to have ended: its status pending, or unread. */
  let unsettled: string | undefined;
  for (const job of jobs) {
    const answer = await requestOnce(env, step, { ...baseContext(env), vars: { ...env.vars, job } });
    report.requests += answer.requests;
    report.retries += answer.retries;
    if (answer.failure !== undefined) {
      // Kept: the next run asks again; its rows stay committed meanwhile.
      warn(`job ${job}: its status could not be read (${answer.failure}); the next run asks again`);
      unsettled ??= `${job} (its status unread)`;
      continue;
    }
    const status = pointerGet(answer.doc, step.status);
    const outcome = outcomeOf(step, status);
    if (outcome === 'pending') {
      unsettled ??= `${job} (${clip(String(status), 100)})`;
      continue;
    }
    await env.lock?.check(`settling job ${job}`);
    if (outcome === 'failed') {
      const reason = step.reason === undefined ? undefined : pointerGet(answer.doc, step.reason);
      const said = status === undefined ? 'was not found' : `ended ${clip(String(status), 100)}${reason ? ` (${clip(String(reason), 200)})` : ''}`;
      warn(`job ${job} ${said}: the rows it carried count as not delivered, and are sent again`);
      // Idempotent until forgotten: a run killed between the two finds the job again and does the same.
      await env.session.query(step.sql.failed, [job]);
      report.rejected++;
    } else report.accepted++;
    await env.session.query(step.sql.forget, [job]);
  }
  // The failed jobs' rows, recorded as sent without an answer, get the unknown payload hash before the change set is built.
  if (report.rejected > 0 && commit) {
    await env.lock?.check(commit.file);
    await env.session.script(sqlFile(env, commit.file), env.sql.rollback);
  }
  report.ms = Math.round(performance.now() - started);
  if (step.exclusive && unsettled !== undefined) {
    env.report.steps.push(report);
    throw new SyncBusy(
      `job ${unsettled} of an earlier run has not ended, and jobs on one list may be carried out in any order: this run, which replaces the list, waits for it; nothing was sent, and the next run asks again`,
    );
  }
  return report;
}
