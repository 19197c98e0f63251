/**
 * The embedded database's folder is opened by one process at a time: a lock file beside it
 * (`<folder>.lock`) holds the process id. A second process waits up to `--wait` seconds for
 * it, then stops with SyncBusy; a lock left by a process that no longer exists is taken over.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** The pid a lock file holds (0 for none, or an empty file), or undefined when there is no file. */
function pidIn(file: string): number | undefined {
  try {
    return Number(readFileSync(file, 'utf8')) || 0;
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether a file was last written more than `ms` ago (false when it is gone). */
function olderThan(file: string, ms: number): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st !== undefined && Date.now() - st.mtimeMs > ms;
}

/**
 * Creates the lock with its pid already in it, or false when it exists: linked from a file
 * written first, so no reader sees it empty. Where the file system makes no hard link, it is
 * created and written, and a reader may see it empty for a moment (`holder` waits that out).
 */
function create(lock: string): boolean {
  const temp = `${lock}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, String(process.pid), { flag: 'wx' });
  try {
    linkSync(temp, lock);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
  } finally {
    rmSync(temp, { force: true });
  }
  // No hard link made here: the exclusive write.
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  }
}

/** How long a takeover may hold its guard: it reads and removes one file, so longer means its process died. */
const guardStaleMs = 2000;

/**
 * Removes the lock of `dead`, a process that no longer exists, unless another process has taken
 * it over since. Two processes that both read the dead pid both removed the lock, the later one
 * the first's new lock, and both went on. A takeover is done under a guard file that one
 * process at a time creates; under it the lock is read again and removed only if it still holds
 * `dead`. A live lock is never moved or removed. False when another takeover holds the guard.
 */
function removeStale(lock: string, dead: number): boolean {
  const guard = `${lock}.takeover`;
  try {
    writeFileSync(guard, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
    // A guard left by a process that died within its takeover.
    if (olderThan(guard, guardStaleMs)) rmSync(guard, { force: true });
    return false;
  }
  try {
    if (pidIn(lock) === dead) rmSync(lock, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
  return true;
}

/**
 * Who holds the lock: its pid; undefined once it is free (or was left by a dead process, and is
 * removed); 'again' when that cannot be told yet (another takeover under way, or a lock being
 * written on a file system without hard links).
 */
function holder(lock: string): number | undefined | 'again' {
  if (heldHere.has(lock)) return process.pid;
  const pid = pidIn(lock);
  if (pid === undefined) return undefined;
  if (pid && pid !== process.pid && alive(pid)) return pid;
  // Empty: being written, unless it has been so for a while.
  if (pid === 0 && !olderThan(lock, guardStaleMs)) return 'again';
  return removeStale(lock, pid) ? undefined : 'again';
}

/** Takes the folder's lock, waiting at most `waitMs`, and returns its release. */
export async function lockFolder(dir: string, wait: Wait): Promise<() => void> {
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  const { waitMs } = wait;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    if (create(lock)) {
      heldHere.add(lock);
      return () => {
        heldHere.delete(lock);
        // Only its own: a lock this process no longer holds is another's.
        if (pidIn(lock) === process.pid) rmSync(lock, { force: true });
      };
    }
    const pid = holder(lock);
    if (pid === undefined) continue;
    if (pid === 'again') {
      await sleep(5);
      continue;
    }
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
