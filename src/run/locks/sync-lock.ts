/**
 * One run of a sync at a time: the plan's lock (src/plan/plan.ts, `PlanLock`), a session-level
 * Postgres advisory lock held from the run's first statement to its last. A second run of the
 * same sync waits up to `--wait` seconds for it, then stops with SyncBusy. The lock belongs to
 * the session, so a run that dies (killed, connection lost) lets it go with its connection.
 */
import type { PlanLock, SessionSql } from '../../contract/plan.js';
import type { SqlSession } from '../engines/sql-session.js';
import { isSqlError } from '../engines/sql-errors.js';

/** The statements the lock takes: the plan's (`SessionSql`). */
export type LockSql = Pick<SessionSql, 'lockTry' | 'lockWait' | 'lockRelease' | 'waitLimitRead' | 'waitLimitSet' | 'waitLimitRestore' | 'errors'>;

/** Another run holds what this run needs: nothing was done, and the run exits with its own code. */
export class SyncBusy extends Error {}

/** How long a run waits for what another run holds, and where it says that it waits. */
export interface Wait {
  waitMs: number;
  notice(text: string): void;
}

export function waited(waitMs: number): string {
  return waitMs > 0 ? `waited ${waitMs / 1000} s for it` : 'did not wait (--wait 0)';
}

/**
 * Takes the lock, waiting at most `waitMs` (0: not at all), and returns its release; throws
 * SyncBusy naming `what` when another session holds it. Waiting is the server's own (a
 * blocking pg_advisory_lock under lock_timeout), so the lock is taken the moment it is free.
 */
export async function holdSyncLock(session: SqlSession, sql: LockSql, lock: PlanLock, wait: Wait, what: string): Promise<() => Promise<void>> {
  const key = [lock.key];
  const { waitMs } = wait;
  const [first] = await session.query<{ taken: boolean }>(sql.lockTry, key);
  let taken = first?.taken === true;
  if (!taken && waitMs > 0) {
    wait.notice(`${what} is being run by another process: waiting up to ${waitMs / 1000} s for it`);
    const [before] = await session.query<{ v: string }>(sql.waitLimitRead);
    await session.query(sql.waitLimitSet, [String(Math.ceil(waitMs))]);
    try {
      await session.query(sql.lockWait, key);
      taken = true;
    } catch (e) {
      if (!isSqlError(e, sql, 'lockBusy')) throw e;
      taken = false;
    } finally {
      await session.query(sql.waitLimitRestore, [before?.v ?? '0']);
    }
  }
  if (!taken) {
    throw new SyncBusy(`another run of ${what} is in progress (it holds advisory lock ${lock.key} on ${session.location}); this run ${waited(waitMs)} and did nothing: run again later, or pass --wait SECONDS`);
  }
  return async () => {
    await session.query(sql.lockRelease, key);
  };
}

/** Runs `body` holding the lock, released however it ends. */
export async function withSyncLock<T>(session: SqlSession, sql: LockSql, lock: PlanLock, wait: Wait, what: string, body: () => Promise<T>): Promise<T> {
  const release = await holdSyncLock(session, sql, lock, wait, what);
  try {
    return await body();
  } finally {
    // A session that broke took its locks with it: nothing to release then.
    await release().catch(() => undefined);
  }
}
