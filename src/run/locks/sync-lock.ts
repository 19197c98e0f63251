/**
 * One run of a sync at a time: the plan's lock (src/plan/plan.ts, `PlanLock`), a session-level
 * Postgres advisory lock held from the run's first statement to its last. A second run of the
 * same sync waits up to `--wait` seconds for it, then stops with SyncBusy. The lock belongs to
 * the session, so a run that dies (killed, connection lost) lets it go with its connection.
 * An engine without advisory locks (BigQuery, Snowflake) has the plan's `lockRow` statements
 * instead: a row with an owner and an expiry, renewed while the run lasts; a run that dies
 * lets it go when it expires.
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { fillSlots, type LockRowSql, type LockRowStatement, type LockRowValue, type PlanLock, type SessionSql } from '../../contract/plan.js';
import type { SqlRow, SqlSession } from '../engines/sql-session.js';
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
  if (
    lockTry === undefined ||
    lockWait === undefined ||
    lockRelease === undefined ||
    waitLimitRead === undefined ||
    waitLimitSet === undefined ||
    waitLimitRestore === undefined
  ) {
    throw new Error(`${what}: the plan has no lock statements for ${session.engine}; compile it again with this version of syncwright`);
  }
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

/**
 * A lock row's timing: it holds `seconds` without renewal (a run that dies holds up the next for
 * at most this), the run renews it every `renewMs`, and a run that waits (--wait) tries it again
 * every `retryMs` (the engine has no waiting of its own). Tests shorten the renewal.
 */
export const lockRowTiming = { seconds: 600, renewMs: 60_000, retryMs: 1000 };

/**
 * The lock as a row: `take`'s statements in order (the table made first where the first finds
 * it missing), taken only when the key's rows, as the last gives them, all name this run;
 * renewed every minute while held, let go at the end. Waiting is trying again every second
 * until `--wait` runs out.
 */
async function holdLockRow(
  session: SqlSession,
  sql: LockRowSql,
  errors: Pick<SessionSql, 'errors'>,
  lock: PlanLock,
  wait: Wait,
  what: string,
): Promise<() => Promise<void>> {
  if (lock.table === undefined || lock.schema === undefined)
    throw new Error(`${what}: the plan's lock names no lock table for ${session.engine}; compile it again with this version of syncwright`);
  const names = { schema: lock.schema, table: lock.table };
  const values: Record<LockRowValue, string | number> = {
    key: lock.key,
    owner: `${hostname()}:${process.pid}:${randomUUID()}`,
    seconds: lockRowTiming.seconds,
  };
  const run = <T extends SqlRow>(s: LockRowStatement, runner: 'query' | 'aside' = 'query') =>
    session[runner]<T>(
      fillSlots(s.sql, names),
      s.binds.map((b) => values[b]),
    );
  /**
   * A renewal or release that a concurrent take aborted (`lockBusy`: BigQuery aborts the later of
   * two DML statements on one table) is tried again shortly: the other run only asked.
   */
  const untilDone = async <T>(statement: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await statement();
      } catch (e) {
        if (attempt >= 5 || !isSqlError(e, errors, 'lockBusy')) throw e;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  };
  type Holder = { owner: string; expires_at: string };
  /** The key's rows after this try, or undefined where a concurrent take aborted it. */
  const take = async (): Promise<Holder[] | undefined> => {
    let rows: Holder[] = [];
    for (const [i, s] of sql.take.entries()) {
      try {
        rows = await run<Holder>(s);
      } catch (e) {
        if (isSqlError(e, errors, 'lockBusy')) return undefined;
        // The first run on this schema makes the table (DDL, so not on every run).
        if (i > 0 || !isSqlError(e, errors, 'missingTable')) throw e;
        await session.script(fillSlots(sql.create, names));
        rows = await run<Holder>(s);
      }
    }
    return rows;
  };
  const deadline = Date.now() + wait.waitMs;
  for (let attempt = 0; ; attempt++) {
    const holders = await take();
    if (holders && holders.length > 0 && holders.every((h) => h.owner === values.owner)) break;
    if (Date.now() + lockRowTiming.retryMs > deadline) {
      const other = holders?.find((h) => h.owner !== values.owner);
      const held = other
        ? ` (${other.owner} holds its row in ${lock.table} on ${session.location} until ${other.expires_at} unless renewed)`
        : ` (it holds its row in ${lock.table} on ${session.location})`;
      throw new SyncBusy(
        `another run of ${what} is in progress${held}; this run ${waited(wait.waitMs)} and did nothing: run again later, or pass --wait SECONDS`,
      );
    }
    if (attempt === 0) wait.notice(`${what} is being run by another process: waiting up to ${wait.waitMs / 1000} s for it`);
    await new Promise((r) => setTimeout(r, lockRowTiming.retryMs));
  }
  let renewing = Promise.resolve();
  const timer = setInterval(() => {
    // A renewal that fails is said and tried again at the next tick; the row holds for minutes meanwhile.
    renewing = renewing
      // Outside the session where the engine can (BigQuery): its jobs run one at a time, so a renewal in it would wait behind a long script.
      .then(() => untilDone(() => run(sql.renew, 'aside')))
      .then(
        () => undefined,
        (e: unknown) =>
          wait.notice(
            `${what}: renewing its lock row in ${lock.table} failed (${String((e as Error)?.message ?? e).slice(0, 300)}); trying again in ${lockRowTiming.renewMs / 1000} s, the row holds ${lockRowTiming.seconds} s from its last renewal`,
          ),
      );
  }, lockRowTiming.renewMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await renewing;
    await untilDone(() => run(sql.release));
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
