/**
 * The locks calls hold across a find-or-create (`CallStep.lock`): runs of syncs into one named
 * object of a destination (a Klaviyo list, a Meta audience) look it up and create it one at a
 * time, so a run that comes second finds what the first created instead of creating another.
 * Taken as the plan's own lock is (sync-lock.ts), in the same session, with the call's key.
 */
import type { ApiStep, CallStep, RetryPolicy } from '../../contract/api-steps.js';
import type { StepEnv } from '../step-env.js';
import { holdSyncLock, type HeldLock } from './sync-lock.js';

/**
 * The longest one call may take: every attempt's deadline, and before each retry its backoff at
 * its cap or, where the call honours Retry-After, the longest wait the run takes from a server.
 */
export function callBudgetMs(retry: RetryPolicy, timeoutMs: number, maxRetryAfterMs: number): number {
  const { initialSeconds, multiplier, maxSeconds } = retry.backoff;
  let waits = 0;
  for (let attempt = 1; attempt < retry.maxAttempts; attempt++) {
    const backoff = Math.min(maxSeconds, initialSeconds * multiplier ** (attempt - 1)) * 1000;
    waits += retry.retryAfter ? Math.max(backoff, maxRetryAfterMs) : backoff;
  }
  return retry.maxAttempts * timeoutMs + waits;
}

export class CallLocks {
  /** The locks held, by the call they are held through. */
  private readonly held = new Map<string, HeldLock>();

  constructor(
    private readonly env: StepEnv,
    private readonly steps: readonly ApiStep[],
  ) {}

  /** Takes the call's lock, if it has one, before it runs; none in a dry run, which creates nothing. */
  async before(step: CallStep): Promise<void> {
    const { lock } = step;
    if (!lock || this.env.options.dryRun) return;
    const { session, sql, plan, options } = this.env;
    const from = this.steps.indexOf(step);
    const to = this.steps.findIndex((s, i) => i >= from && s.kind === 'call' && s.name === lock.through);
    if (from < 0 || to < 0) throw new Error(`${step.name}: its lock is held through ${lock.through}, which is no later call of the plan`);
    // Another run holds it only for its own lookup and creation: waited for that long even under --wait 0.
    const budget = this.steps
      .slice(from, to + 1)
      .reduce((ms, s) => ms + (s.kind === 'call' ? callBudgetMs(s.retry, options.timeoutMs, options.maxRetryAfterMs) : 0), 0);
    const what = `${step.name} through ${lock.through} on ${plan.destination.type} (sync ${plan.sync.name})`;
    const held = await holdSyncLock(session, sql, { ...plan.lock, key: lock.key }, { waitMs: Math.max(options.waitMs, budget), notice: options.notice }, what);
    this.held.set(lock.through, held);
  }

  /** After a call has run or been skipped: the lock held through it is let go. */
  async after(name: string): Promise<void> {
    const held = this.held.get(name);
    if (!held) return;
    this.held.delete(name);
    // As the sync's own lock: one not let go lapses with its lease, and the run that made the list is not failed for it.
    await held.release().catch(() => undefined);
  }

  /** However the run ends; a session that broke took its locks with it. */
  async releaseAll(): Promise<void> {
    for (const name of [...this.held.keys()]) await this.after(name).catch(() => undefined);
  }
}
