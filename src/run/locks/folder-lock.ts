/**
 * The embedded database's folder is opened by one process at a time: a lock file beside it
 * (`<folder>.lock`) holds the process id. A second process waits up to `--wait` seconds for
 * it, then stops with SyncBusy; a lock left by a process that no longer exists is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SyncBusy, waited, type Wait } from './sync-lock.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Lock files this process holds: a second open here waits like any other process. */
const heldHere = new Set<string>();

/** The pid in the lock file, or undefined once the lock is free (or was left by a dead process, and is removed). */
function holder(lock: string): number | undefined {
  if (heldHere.has(lock)) return process.pid;
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  if (pid && pid !== process.pid && alive(pid)) return pid;
  rmSync(lock, { force: true });
  return undefined;
}

/** Takes the folder's lock, waiting at most `waitMs`, and returns its release. */
export async function lockFolder(dir: string, wait: Wait): Promise<() => void> {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const { waitMs } = wait;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      heldHere.add(lock);
      return () => {
        heldHere.delete(lock);
        rmSync(lock, { force: true });
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = holder(lock);
    if (pid === undefined) continue;
    if (Date.now() >= deadline) {
      throw new SyncBusy(
        `the embedded database ${dir} is in use by process ${pid}, and it takes one process at a time, whatever syncs they run; this run ${waited(waitMs)} and did nothing: run again later, pass --wait SECONDS, or give each run a database server (--database)`,
      );
    }
    if (!told) {
      told = true;
      wait.notice(`the embedded database ${dir} is in use by process ${pid}: waiting up to ${waitMs / 1000} s for it`);
    }
    // Polled: a file lock has no wake-up. A fifth of a second is nothing beside a run.
    await sleep(Math.min(200, Math.max(1, deadline - Date.now())));
  }
}
