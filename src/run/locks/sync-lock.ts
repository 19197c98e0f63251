/**
 * One run of a sync at a time: the plan's lock (src/plan/plan.ts, `PlanLock`), a session-level
 * Postgres advisory lock held from the run's first statement to its last. A second run of the
 * same sync waits up to `--wait` seconds for it, then stops with SyncBusy. The lock belongs to
 * the session, so a run that dies (killed, connection lost) lets it go with its connection.
 * An engine without advisory locks (BigQuery, Snowflake) has the plan's `lockRow` statements
 * instead: a row with an owner and an expiry, renewed while the run lasts; a run that dies
 * lets it go when it expires. A lease can lapse under a run that is still alive (held up longer
 * than the lease) and pass to another run: the run learns it from a renewal or from its own
 * clock, and `HeldLock.check` stops it before its next write.
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

/** This run's lock lapsed and may be another run's now: the run stopped before its next write, with the code of a busy sync. */
export class LockLost extends SyncBusy {}

/** The lock as the run holds it. */
export interface HeldLock {
  /** Throws LockLost, saying the run stops before `next`, where the lock is no longer this run's (`lost`); called just before each write. */
  check(next: string): Promise<void>;
  /**
   * Why the lock is no longer surely this run's, or undefined. A renewal under way is waited for,
   * since its answer may be that the lock was lost. Cleanup asks it too: what the sync's tables
   * hold may be another run's now.
   */
  lost(): Promise<string | undefined>;
  release(): Promise<void>;
}

/** How long a run waits for what another run holds, and where it says that it waits. */
export interface Wait {
  waitMs: number;
  notice(text: string): void;
}

export function waited(waitMs: number): string {
  return waitMs > 0 ? `waited ${waitMs / 1000} s for it` : 'did not wait (--wait 0)';
}

/**
 * Takes the lock, waiting at most `waitMs` (0: not at all); throws SyncBusy naming `what` when
 * another session holds it.
 */
export async function holdSyncLock(session: SqlSession, sql: LockSql, lock: PlanLock, wait: Wait, what: string): Promise<HeldLock> {
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
  // The session holds the lock until it ends; a session that broke fails the run's next statement anyway.
  return {
    check: () => Promise.resolve(),
    lost: () => Promise.resolve(undefined),
    release: async () => {
      await session.query(lockRelease, key);
    },
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
 * renewed every minute while held, each renewal read back with that same last statement, let go
 * at the end. Waiting is trying again every second until `--wait` runs out.
 */
async function holdLockRow(
  session: SqlSession,
  sql: LockRowSql,
  errors: Pick<SessionSql, 'errors'>,
  lock: PlanLock,
  wait: Wait,
  what: string,
): Promise<HeldLock> {
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
  const seconds = Number(values.seconds);
  const mine = (holders: Holder[] | undefined) => holders !== undefined && holders.length > 0 && holders.every((h) => h.owner === values.owner);
  /**
   * Until when the lease is surely this run's, by its own clock: from the moment it asked for the
   * take or renewal the server confirmed (the server counts from later, so this ends first).
   */
  let heldUntil = 0;
  const deadline = Date.now() + wait.waitMs;
  for (let attempt = 0; ; attempt++) {
    const asked = Date.now();
    const holders = await take();
    if (mine(holders)) {
      heldUntil = asked + seconds * 1000;
      break;
    }
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
  const row = `the lock row in ${lock.table} on ${session.location}`;
  let lost: string | undefined;
  /**
   * Once the lease ran out unconfirmed, another run may have taken the row, written, and let it
   * go: whatever a later renewal finds, the run no longer counts on the lock.
   */
  const lapsed = () => {
    if (lost === undefined && Date.now() >= heldUntil)
      lost = `its lease on ${row} ran out (${seconds} s) before a renewal confirmed it: the run was held up longer than that, or its renewals failed, and another run may have taken the sync over`;
    return lost;
  };
  const holdersRead = sql.take[sql.take.length - 1] as LockRowStatement;
  // The renewal changes the row only while it names this run (`owner` in its WHERE), so a late one never takes it back; whether it did is read back.
  const renew = async () => {
    if (lapsed()) return;
    const asked = Date.now();
    const holders = await untilDone(async () => {
      // Outside the session where the engine can (BigQuery): its jobs run one at a time, so a renewal in it would wait behind a long script.
      await run(sql.renew, 'aside');
      return run<Holder>(holdersRead, 'aside');
    });
    if (lost !== undefined) return;
    if (mine(holders)) {
      heldUntil = asked + seconds * 1000;
      return;
    }
    const other = holders.find((h) => h.owner !== values.owner && h.owner !== '');
    lost = other
      ? `another run (${other.owner}) took ${row} over after this run's lease lapsed`
      : `${row} was let go or removed by another run after this run's lease lapsed`;
  };
  let renewing = Promise.resolve();
  const timer = setInterval(() => {
    if (lost !== undefined) return clearInterval(timer);
    // A renewal that fails is said and tried again at the next tick; the row holds for minutes meanwhile.
    renewing = renewing.then(renew).then(
      () => undefined,
      (e: unknown) =>
        wait.notice(
          `${what}: renewing its lock row in ${lock.table} failed (${String((e as Error)?.message ?? e).slice(0, 300)}); trying again in ${lockRowTiming.renewMs / 1000} s, the row holds ${seconds} s from its last renewal`,
        ),
    );
  }, lockRowTiming.renewMs);
  timer.unref();
  const held: HeldLock = {
    async check(next) {
      const why = await held.lost();
      if (why !== undefined)
        throw new LockLost(
          `${what} lost its lock: ${why}. This run stopped before ${next}; another run of the sync may be under way, and a later run picks up what this one left`,
        );
    },
    async lost() {
      await renewing;
      return lapsed();
    },
    async release() {
      clearInterval(timer);
      await renewing;
      // Where the row is another run's now, this changes nothing (`owner` in its WHERE).
      await untilDone(() => run(sql.release));
    },
  };
  return held;
}

/**
 * Runs `body` holding the lock, released however it ends. A body that ends while its lock is
 * known lost fails all the same: its last step ran while another run may have held the sync.
 */
export async function withSyncLock<T>(
  session: SqlSession,
  sql: LockSql,
  lock: PlanLock,
  wait: Wait,
  what: string,
  body: (lock: HeldLock) => Promise<T>,
): Promise<T> {
  const held = await holdSyncLock(session, sql, lock, wait, what);
  try {
    const result = await body(held);
    const why = await held.lost();
    if (why !== undefined)
      throw new LockLost(`${what} lost its lock while its last step ran: ${why}. What that step wrote may have crossed another run's: run the sync again`);
    return result;
  } finally {
    // A session that broke took its locks with it: nothing to release then.
    await held.release().catch(() => undefined);
  }
}
