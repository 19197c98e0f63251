// A lock row's lease (src/run/locks/sync-lock.ts) on PGlite: the Snowflake plan's lock statements
// with their Postgres twins (test/servers/snowflake-twin.ts), binds in the plan's order. A lease
// that lapses under a live run (one held up longer than the lease) may pass to another run: the
// first must learn it, from a renewal that reads the row back or from its own clock, and its
// check before a write must fail. The renewal timer is driven by hand (fake setInterval), and the
// clock is moved rather than waited for, so nothing here races.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LockRowSql, PlanLock } from '../src/contract/plan.js';
import { sessionSql } from '../src/emit/session-sql.js';
import { openPgliteSession } from '../src/run/engines/pglite-session.js';
import type { SqlSession } from '../src/run/engines/sql-session.js';
import { LockLost, holdSyncLock, lockRowTiming, withSyncLock } from '../src/run/locks/sync-lock.js';
import { lockRowTwin } from './servers/snowflake-twin.js';
import { pgliteScratch } from './support/pglite-template.js';

const planned = sessionSql('snowflake')?.lockRow as LockRowSql;
/** The plan's statements, each in its twin's text. */
const lockRow: LockRowSql = {
  create: lockRowTwin.create,
  take: planned.take.map((s, i) => ({ sql: lockRowTwin.take[i]?.pg as string, binds: s.binds })),
  renew: { sql: lockRowTwin.renew, binds: planned.renew.binds },
  release: { sql: lockRowTwin.release, binds: planned.release.binds },
};
const sql = { lockRow, errors: { missingTable: ['42P01'], lockBusy: [], notNull: [], wrongValue: [], unique: [], duplicateKeys: [] } };
const lock: PlanLock = { key: '42', on: 'destination', schema: 'locks', table: 'locks.syncwright_locks' };
const wait = { waitMs: 0, notice: () => undefined };

const scratch = pgliteScratch();
let session: SqlSession;
const row = async () => (await session.query<{ owner: string; expires_at: Date }>('SELECT owner, expires_at FROM locks.syncwright_locks'))[0];
/** The lease runs out server-side: as if the run holding it was paused longer than it. */
const lapse = () => session.query("UPDATE locks.syncwright_locks SET expires_at = now() - interval '1 second'");

beforeAll(async () => {
  session = await openPgliteSession(scratch.folder);
});
afterAll(async () => {
  await session?.close();
  scratch.remove();
});
afterEach(async () => {
  vi.useRealTimers();
  await session.query('DELETE FROM locks.syncwright_locks').catch(() => undefined);
});

describe('a lock row whose lease lapsed', () => {
  it('taken over by another run: the first run renewal finds it lost, does not take it back, and its check before a write fails', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const first = await holdSyncLock(session, sql, lock, wait, 'sync s');
    const firstOwner = (await row())?.owner;
    await lapse();
    const second = await holdSyncLock(session, sql, lock, wait, 'sync s');
    const secondOwner = (await row())?.owner;
    expect(secondOwner).not.toBe(firstOwner);
    // Both runs renew now: the first one's late renewal changes no row (its owner is in the WHERE), and it reads the row back.
    vi.advanceTimersByTime(lockRowTiming.renewMs);
    await expect(first.check('apply.sql')).rejects.toThrow(LockLost);
    await expect(first.check('apply.sql')).rejects.toThrow(
      /^sync s lost its lock: another run \(.+\) took the lock row in locks\.syncwright_locks on .+ over after this run's lease lapsed\. This run stopped before apply\.sql; /,
    );
    expect(await first.lost()).toMatch(/another run/);
    await expect(second.check('apply.sql')).resolves.toBeUndefined();
    expect((await row())?.owner).toBe(secondOwner);
    // Once lost, the first run renews no more; its release leaves the second run's row.
    vi.advanceTimersByTime(lockRowTiming.renewMs * 3);
    await first.release();
    expect(await row()).toMatchObject({ owner: secondOwner });
    expect((await row())?.expires_at.getTime()).toBeGreaterThan(Date.now());
    await second.release();
    expect((await row())?.owner).toBe('');
  });

  it('run out by the run own clock before a renewal confirmed it: lost, even though nobody took the row, and a renewal does not revive it', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const held = await holdSyncLock(session, sql, lock, wait, 'sync s');
    await expect(held.check('the load into crm.sw_load_s')).resolves.toBeUndefined();
    const expiry = (await row())?.expires_at.getTime();
    // The run was held up past its lease (a suspended machine, a stalled event loop): no renewal ran meanwhile.
    vi.setSystemTime(Date.now() + lockRowTiming.seconds * 1000 + 1);
    vi.advanceTimersByTime(lockRowTiming.renewMs);
    await expect(held.check('the load into crm.sw_load_s')).rejects.toThrow(
      /^sync s lost its lock: its lease on the lock row in locks\.syncwright_locks on .+ ran out \(600 s\) before a renewal confirmed it: .* This run stopped before the load into crm\.sw_load_s; /,
    );
    // The renewal that came too late did not move the expiry.
    expect((await row())?.expires_at.getTime()).toBe(expiry);
    await held.release();
  });

  it('a run whose last step ran while its lock was lost ends failed, not ok', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const ended = withSyncLock(session, sql, lock, wait, 'sync s', async () => {
      await lapse();
      const other = await holdSyncLock(session, sql, lock, wait, 'sync s');
      vi.advanceTimersByTime(lockRowTiming.renewMs);
      return other;
    });
    await expect(ended).rejects.toThrow(/^sync s lost its lock while its last step ran: another run/);
    // The other run's row was left to it.
    expect((await row())?.owner).not.toBe('');
  });
});
