/**
 * One run of a sync at a time: the plan's lock (src/plan/plan.ts, `PlanLock`), held from the
 * run's first statement to its last. A second run of the same sync waits up to `--wait` seconds
 * for it, then stops with SyncBusy. On Postgres it is a session-level advisory lock, which a run
 * that dies (killed, connection lost) lets go with its connection. An engine without advisory
 * locks (BigQuery) keeps a lock row instead (`lockRow`): taken by one statement the engine
 * serialises against a concurrent one and read back by owner, renewed while held, deleted at
 * the end; a row whose run died is taken over once its expiry has passed.
 */
import { randomUUID } from 'node:crypto';
import type { LockRowSql, PlanLock, SessionSql } from '../../contract/plan.js';
import type { SqlSession } from '../engines/sql-session.js';
import { isSqlError } from '../engines/sql-errors.js';

/** The statements the lock takes: the plan's (`SessionSql`). */
export type LockSql = Pick<SessionSql, 'lockTry' | 'lockWait' | 'lockRelease' | 'waitLimitRead' | 'waitLimitSet' | 'waitLimitRestore' | 'lockRow' | 'errors'>;

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
 * SyncBusy naming `what` when another session holds it.
 */
export async function holdSyncLock(session: SqlSession, sql: LockSql, lock: PlanLock, wait: Wait, what: string): Promise<() => Promise<void>> {
  if (sql.lockRow) return holdLockRow(session, sql.lockRow, sql, lock, wait, what);
  const { lockTry, lockWait, lockRelease, waitLimitRead, waitLimitSet, waitLimitRestore } = sql;
  if (!lockTry || !lockWait || !lockRelease || !waitLimitRead || !waitLimitSet || !waitLimitRestore)
    throw new Error(`${what}: the plan has no lock statements; compile it again with this version of syncwright`);
  const key = [lock.key];
  const { waitMs } = wait;
  const [first] = await session.query<{ taken: boolean }>(lockTry, key);
  let taken = first?.taken === true;
  if (!taken && waitMs > 0) {
    // Waiting is the server's own (a blocking pg_advisory_lock under lock_timeout), so the lock is taken the moment it is free.
    wait.notice(`${what} is being run by another process: waiting up to ${waitMs / 1000} s for it`);
    const [before] = await session.query<{ v: string }>(waitLimitRead);
    await session.query(waitLimitSet, [String(Math.ceil(waitMs))]);
    try {
      await session.query(lockWait, key);
      taken = true;
    } catch (e) {
      if (!isSqlError(e, sql, 'lockBusy')) throw e;
      taken = false;
    } finally {
      await session.query(waitLimitRestore, [before?.v ?? '0']);
    }
  }
  if (!taken) {
    throw new SyncBusy(
      `another run of ${what} is in progress (it holds advisory lock ${lock.key} on ${session.location}); this run ${waited(waitMs)} and did nothing: run again later, or pass --wait SECONDS`,
    );
  }
  return async () => {
    await session.query(lockRelease, key);
  };
}

/** How long a lock row lives without being renewed, and how often a run renews it. */
export const lockRowTiming = { seconds: 600, renewMs: 120_000, pollMs: 1000 };

async function holdLockRow(session: SqlSession, row: LockRowSql, sql: LockSql, lock: PlanLock, wait: Wait, what: string): Promise<() => Promise<void>> {
  const owner = `syncwright-${randomUUID()}`;
  const params = [lock.key, owner, lockRowTiming.seconds];
  await session.script(row.setup);
  const take = async (): Promise<boolean> => {
    try {
      const [r] = await session.query<{ taken: unknown }>(row.take, params);
      return r?.taken === true || r?.taken === 'true';
    } catch (e) {
      // Aborted by a concurrent take: the other run got there first.
      if (isSqlError(e, sql, 'lockBusy')) return false;
      throw e;
    }
  };
  const deadline = Date.now() + wait.waitMs;
  let taken = await take();
  if (!taken && wait.waitMs > 0) {
    // No engine-side wait: the run asks again every second until the row is free or expired.
    wait.notice(`${what} is being run by another process: waiting up to ${wait.waitMs / 1000} s for it`);
    while (!taken && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, Math.min(lockRowTiming.pollMs, Math.max(0, deadline - Date.now()))));
      taken = await take();
    }
  }
  if (!taken) {
    throw new SyncBusy(
      `another run of ${what} is in progress (it holds the lock row ${lock.key} on ${session.location}, until its run ends or its expiry passes); this run ${waited(wait.waitMs)} and did nothing: run again later, or pass --wait SECONDS`,
    );
  }
  // Renewed while held, so that only a run that died loses its row.
  const renewal = setInterval(() => void session.query(row.renew, params).catch(() => undefined), lockRowTiming.renewMs);
  renewal.unref();
  return async () => {
    clearInterval(renewal);
    await session.query(row.release, params);
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
