/**
 * One run of a sync at a time: the plan's lock (src/plan/plan.ts, `PlanLock`), a session-level
 * Postgres advisory lock held from the run's first statement to its last. A second run of the
 * same sync waits up to `--wait` seconds for it, then stops with SyncBusy. The lock belongs to
 * the session, so a run that dies (killed, connection lost) lets it go with its connection.
 */
import type { PlanLock } from '../../plan/plan.js';
import type { SqlSession } from '../engines/sql-session.js';

/** Another run holds what this run needs: nothing was done, and the run exits with its own code. */
export class SyncBusy extends Error {}

/** How long a run waits for what another run holds, and where it says that it waits. */
export interface Wait {
  waitMs: number;
  notice(text: string): void;
}

/** SQLSTATE lock_not_available: `lock_timeout` ran out. */
const lockNotAvailable = '55P03';

export function waited(waitMs: number): string {
  return waitMs > 0 ? `waited ${waitMs / 1000} s for it` : 'did not wait (--wait 0)';
}

/**
 * Takes the lock, waiting at most `waitMs` (0: not at all), and returns its release; throws
 * SyncBusy naming `what` when another session holds it. Waiting is the server's own (a
 * blocking pg_advisory_lock under lock_timeout), so the lock is taken the moment it is free.
 */
export async function holdSyncLock(session: SqlSession, lock: PlanLock, wait: Wait, what: string): Promise<() => Promise<void>> {
  const key = [lock.key];
  const { waitMs } = wait;
  const [first] = await session.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS taken', key);
  let taken = first?.taken === true;
  if (!taken && waitMs > 0) {
    wait.notice(`${what} is being run by another process: waiting up to ${waitMs / 1000} s for it`);
    const [before] = await session.query<{ v: string }>("SELECT current_setting('lock_timeout') AS v");
    await session.query("SELECT set_config('lock_timeout', $1, false)", [`${Math.ceil(waitMs)}ms`]);
    try {
      await session.query('SELECT pg_advisory_lock($1::bigint)', key);
      taken = true;
    } catch (e) {
      if ((e as { code?: unknown }).code !== lockNotAvailable) throw e;
      taken = false;
    } finally {
      await session.query("SELECT set_config('lock_timeout', $1, false)", [before?.v ?? '0']);
    }
  }
  if (!taken) {
    throw new SyncBusy(`another run of ${what} is in progress (it holds advisory lock ${lock.key} on ${session.location}); this run ${waited(waitMs)} and did nothing: run again later, or pass --wait SECONDS`);
  }
  return async () => {
    await session.query('SELECT pg_advisory_unlock($1::bigint)', key);
  };
}

/** Runs `body` holding the lock, released however it ends. */
export async function withSyncLock<T>(session: SqlSession, lock: PlanLock, wait: Wait, what: string, body: () => Promise<T>): Promise<T> {
  const release = await holdSyncLock(session, lock, wait, what);
  try {
    return await body();
  } finally {
    // A session that broke took its locks with it: nothing to release then.
    await release().catch(() => undefined);
  }
}
