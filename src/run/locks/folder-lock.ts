/**
 * The embedded database's folder is opened by one process at a time: a lock file beside it
 * (`<folder>.lock`) holds the process id. A second process waits up to `--wait` seconds for
 * it, then stops with SyncBusy; a lock left by a process that no longer exists is taken over.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
const beside = (lock: string, what: string) => `${lock}.${what}-${process.pid}-${randomBytes(4).toString('hex')}`;

/**
 * Creates the lock with its pid already in it, or false when it exists: linked from a file
 * written first, so no reader sees it empty (an empty one read as a dead process's, and was
 * taken over). Where the file system has no hard links, it is created and written.
 */
function create(lock: string): boolean {
  const temp = beside(lock, 'new');
  writeFileSync(temp, String(process.pid), { flag: 'wx' });
  try {
    linkSync(temp, lock);
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    if (code(e) !== 'EPERM' && code(e) !== 'ENOTSUP' && code(e) !== 'ENOSYS') throw e;
  } finally {
    rmSync(temp, { force: true });
  }
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Removes a lock a dead process left, unless another process has taken it over since: two
 * processes that both read the dead pid both removed the lock, the later one the new lock of
 * the first, and both went on. The file is moved aside first (one process moves a given file),
 * and put back when a live process holds it. (Not told by its inode: a new file may get the
 * number of the one just removed.)
 */
function removeStale(lock: string): void {
  const aside = beside(lock, 'stale');
  try {
    renameSync(lock, aside);
  } catch (e) {
    if (code(e) === 'ENOENT') return;
    throw e;
  }
  try {
    const pid = Number(readFileSync(aside, 'utf8'));
    if (!pid || pid === process.pid || !alive(pid)) return;
    // Another process's lock, taken over since: where it was.
    linkSync(aside, lock);
  } catch (e) {
    if (code(e) !== 'EEXIST') throw e;
  } finally {
    rmSync(aside, { force: true });
  }
}

/** The pid in the lock file, or undefined once the lock is free (or was left by a dead process, and is removed). */
function holder(lock: string): number | undefined {
  if (heldHere.has(lock)) return process.pid;
  let pid: number;
  try {
    pid = Number(readFileSync(lock, 'utf8'));
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
  if (pid && pid !== process.pid && alive(pid)) return pid;
  removeStale(lock);
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
    if (create(lock)) {
      heldHere.add(lock);
      return () => {
        heldHere.delete(lock);
        rmSync(lock, { force: true });
      };
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
