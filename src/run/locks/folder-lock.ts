/**
 * The embedded database's folder is opened by one process at a time: a lock file beside it
 * (`<folder>.lock`) names the process that holds it. A second process waits up to `--wait`
 * seconds for it, then stops with SyncBusy; a lock left by a process that no longer exists is
 * taken over.
 *
 * The file names its process by pid, host name and, where Linux's /proc tells them, the boot id
 * and the process's start time (`{"pid":..,"host":..,"boot":..,"start":..}`): a pid alone is
 * another process's once the kernel gives it again (a busy host, a container restarted on a kept
 * volume, a reboot), and a killed run's lock then kept every later run out for as long as that
 * process lived. On the same host the lock is held while its pid is alive with the same start
 * time since the same boot; where /proc tells nothing, while its pid is alive, as a lock file of
 * a pid alone (an older version's) is judged. A lock from another host (a folder shared over the
 * network) is never judged by its pid, which says nothing here: it is kept, and the message says
 * to remove it if no run is alive there. It has no lease either: the embedded engine runs its
 * statements on the main thread, so no renewal could be promised in any time, and a lease that
 * lapsed under a live run would let two processes open one database.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
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

/** What a lock file says of its process; `host`, `boot` and `start` are absent in a file of a pid alone. */
interface Holder {
  pid: number;
  host?: string;
  /** Linux's boot id (/proc/sys/kernel/random/boot_id) when the process started. */
  boot?: string;
  /** The process's start time, in clock ticks since that boot (field 22 of /proc/<pid>/stat). */
  start?: string;
}

/** A file's text, or undefined when it cannot be read. */
function textOf(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** This boot's id, or undefined without /proc. */
const bootId = (): string | undefined => textOf('/proc/sys/kernel/random/boot_id')?.trim() || undefined;

/**
 * When the process `pid` started, in clock ticks since boot: the 22nd field of /proc/<pid>/stat,
 * counted after the command's name (the 2nd field, in parentheses, which may hold spaces and
 * parentheses). Undefined when that cannot be read (no such process, no /proc, not allowed).
 */
function startOf(pid: number): string | undefined {
  const stat = textOf(`/proc/${pid}/stat`);
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields?.[22 - 3];
  return start && /^\d+$/.test(start) ? start : undefined;
}

/** This host's name, and this process as its lock file names it. */
let here: { host: string; text: string } | undefined;
function me(): { host: string; text: string } {
  if (!here) {
    const host = hostname();
    const boot = bootId();
    const start = boot === undefined ? undefined : startOf(process.pid);
    const holder: Holder = { pid: process.pid, host, ...(boot !== undefined && start !== undefined ? { boot, start } : {}) };
    here = { host, text: JSON.stringify(holder) };
  }
  return here;
}

/** A lock file's holder, or 0 for none: an empty file (being written), or one this cannot read. */
function parseHolder(text: string): Holder | 0 {
  const t = text.trim();
  if (!t.startsWith('{')) return Number.isSafeInteger(Number(t)) && Number(t) > 0 ? { pid: Number(t) } : 0;
  try {
    const { pid, host, boot, start } = JSON.parse(t) as Record<string, unknown>;
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return 0;
    const h: Holder = { pid };
    if (typeof host === 'string') h.host = host;
    if (typeof boot === 'string' && typeof start === 'string') Object.assign(h, { boot, start });
    return h;
  } catch {
    // Cut short: being written, where the file system makes no hard link.
    return 0;
  }
}

/** Whether the holder is on another host, where its pid says nothing. */
const elsewhere = (h: Holder): boolean => h.host !== undefined && h.host !== me().host;

/**
 * Whether the process a lock file names may still hold it. On another host: yes, whatever its
 * pid. Here: not when it is this process's own pid (this process holds no such lock: it was
 * left by an earlier process given the same pid), nor since another boot, nor when its pid is
 * gone or is now another process's (another start time); a start time that cannot be read (a
 * process of another user where /proc hides them) leaves it to the pid.
 */
function mayHold(h: Holder): boolean {
  if (elsewhere(h)) return true;
  if (h.pid === process.pid || !alive(h.pid)) return false;
  if (h.boot === undefined || h.start === undefined) return true;
  const boot = bootId();
  if (boot === undefined) return true;
  if (boot !== h.boot) return false;
  const start = startOf(h.pid);
  return start === undefined || start === h.start;
}

/** Lock files this process holds: a second open here waits like any other process. */
const heldHere = new Set<string>();

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/** A lock file's text, or undefined when there is no file. */
function read(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
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
 * Creates the lock with its holder already in it, or false when it exists: linked from a file
 * written first, so no reader sees it empty. Where the file system makes no hard link, it is
 * created and written, and a reader may see it empty for a moment (`holder` waits that out).
 */
function create(lock: string): boolean {
  const temp = `${lock}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, me().text, { flag: 'wx' });
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
    writeFileSync(lock, me().text, { flag: 'wx' });
    return true;
  } catch (e) {
    if (code(e) === 'EEXIST') return false;
    throw e;
  }
}

/** How long a takeover may hold its guard: it reads and removes one file, so longer means its process died. */
const guardStaleMs = 2000;

/**
 * Removes the lock `left` (its text), left by a process that no longer holds it, unless another
 * process has taken it over since. Two processes that both read the dead holder both removed the
 * lock, the later one the first's new lock, and both went on. A takeover is done under a guard
 * file that one process at a time creates; under it the lock is read again and removed only if
 * it still says `left`. A live lock is never moved or removed. False when another takeover holds
 * the guard.
 */
function removeStale(lock: string, left: string): boolean {
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
    if (read(lock) === left) rmSync(lock, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
  return true;
}

/**
 * Who holds the lock; undefined once it is free (or was left by a process that no longer holds
 * it, and is removed); 'again' when that cannot be told yet (another takeover under way, or a
 * lock being written on a file system without hard links).
 */
function holder(lock: string): Holder | undefined | 'again' {
  if (heldHere.has(lock)) return { pid: process.pid };
  const text = read(lock);
  if (text === undefined) return undefined;
  const h = parseHolder(text);
  if (h && mayHold(h)) return h;
  // Empty: being written, unless it has been so for a while.
  if (h === 0 && !olderThan(lock, guardStaleMs)) return 'again';
  return removeStale(lock, text) ? undefined : 'again';
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
        if (read(lock) === me().text) rmSync(lock, { force: true });
      };
    }
    const h = holder(lock);
    if (h === undefined) continue;
    if (h === 'again') {
      await sleep(5);
      continue;
    }
    const who = elsewhere(h) ? `process ${h.pid} on host ${h.host}` : `process ${h.pid}`;
    if (Date.now() >= deadline) {
      // Never taken over from another host: only someone who knows that no run is alive there may remove it.
      const left = elsewhere(h) ? ` (a lock from another host is never taken over: if no run is alive there, remove ${lock})` : '';
      throw new SyncBusy(
        `the embedded database ${dir} is in use by ${who}${left}, and it takes one process at a time, whatever syncs they run; this run ${waited(waitMs)} and did nothing: run again later, pass --wait SECONDS, or give each run a database server (--database)`,
      );
    }
    if (!told) {
      told = true;
      wait.notice(`the embedded database ${dir} is in use by ${who}: waiting up to ${waitMs / 1000} s for it`);
    }
    // Polled: a file lock has no wake-up. A fifth of a second is nothing beside a run.
    await sleep(Math.min(200, Math.max(1, deadline - Date.now())));
  }
}
