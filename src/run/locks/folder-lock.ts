/**
 * The embedded database's folder is opened by one process at a time: a lock file beside it
 * (`<folder>.lock`) names the process that holds it. A second process waits up to `--wait`
 * seconds for it, then stops with SyncBusy; a lock left by a process that no longer exists is
 * taken over.
 *
 * The file names its process by pid, host name and, where Linux's /proc tells them, the boot id
 * and the process's start time (`{"pid":..,"host":..,"boot":..,"start":..,"lease":..}`): a pid
 * alone is another process's once the kernel gives it again (a busy host, a container restarted
 * on a kept volume, a reboot), and a killed run's lock then kept every later run out for as long
 * as that process lived. On the same host the lock is held while its pid is alive with the same
 * start time since the same boot, and is taken over at once when it is not.
 *
 * Where its pid tells nothing (a lock from another host name, as a container recreated on a kept
 * volume finds its predecessor's; here without /proc, or with a start time hidden), a lock is
 * judged by its lease: its holder sets the file's mtime to now every `renewMs`, from a worker
 * thread, since the embedded engine runs its statements on the main thread and a timer there waits
 * out the longest query. The file's `lease` is the lapse its holder promised to renew within; a
 * lock not renewed for that long is taken over. A lock without one (its holder's worker did not
 * start; an earlier version's) is judged as before: here, a live pid keeps it; from another host
 * it is kept, and the message says to remove it if no run is alive there.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { SyncBusy, waited, type Wait } from './sync-lock.js';

/** How often a holder renews its lease, and the lapse after which a lease not renewed is over (ms). */
export interface Lease {
  renewMs: number;
  lapseMs: number;
}

/**
 * Renewed every 5 s, over after 60 s: a renewal late by many periods (a loaded machine, a slow
 * network file system, clocks a few seconds apart) loses nothing, and a recreated container waits
 * a minute at most for the lock its predecessor left.
 */
export const defaultLease: Lease = { renewMs: 5000, lapseMs: 60_000 };

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
  /** Its lease's lapse (ms): the holder renews the file's mtime well within it. Absent: no lease. */
  lease?: number;
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

/** This host's name, and this process as its lock file names it (without a lease). */
let here: { host: string; holder: Holder } | undefined;
function me(): { host: string; holder: Holder } {
  if (!here) {
    const host = hostname();
    const boot = bootId();
    const start = boot === undefined ? undefined : startOf(process.pid);
    here = { host, holder: { pid: process.pid, host, ...(boot !== undefined && start !== undefined ? { boot, start } : {}) } };
  }
  return here;
}

/** This process's lock file, with the lease's lapse when a worker renews it. */
const ownText = (lapseMs: number | undefined): string => JSON.stringify(lapseMs === undefined ? me().holder : { ...me().holder, lease: lapseMs });

/** A lock file's holder, or 0 for none: an empty file (being written), or one this cannot read. */
function parseHolder(text: string): Holder | 0 {
  const t = text.trim();
  if (!t.startsWith('{')) return Number.isSafeInteger(Number(t)) && Number(t) > 0 ? { pid: Number(t) } : 0;
  try {
    const { pid, host, boot, start, lease } = JSON.parse(t) as Record<string, unknown>;
    if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return 0;
    const h: Holder = { pid };
    if (typeof host === 'string') h.host = host;
    if (typeof boot === 'string' && typeof start === 'string') Object.assign(h, { boot, start });
    if (typeof lease === 'number' && Number.isFinite(lease) && lease > 0) h.lease = lease;
    return h;
  } catch {
    // Cut short: being written, where the file system makes no hard link.
    return 0;
  }
}

/** Whether the holder is on another host, where its pid says nothing. */
const elsewhere = (h: Holder): boolean => h.host !== undefined && h.host !== me().host;

/**
 * Whether the process a lock file names holds it, as far as its pid tells; undefined where it
 * tells nothing. On another host: nothing. Here: not when it is this process's own pid (this
 * process holds no such lock: it was left by an earlier process given the same pid), nor since
 * another boot, nor when its pid is gone or is now another process's (another start time); a live
 * pid with no start time to compare (no /proc, a file without one, a process of another user
 * where /proc hides them) tells nothing.
 */
function byPid(h: Holder): boolean | undefined {
  if (elsewhere(h)) return undefined;
  if (h.pid === process.pid || !alive(h.pid)) return false;
  if (h.boot === undefined || h.start === undefined) return undefined;
  const boot = bootId();
  if (boot === undefined) return undefined;
  if (boot !== h.boot) return false;
  const start = startOf(h.pid);
  return start === undefined ? undefined : start === h.start;
}

/** Whether a lease renewed at `renewed` (ms since the epoch) is over. */
const lapsed = (h: Holder, renewed: number): boolean => h.lease !== undefined && Date.now() - renewed > h.lease;

/**
 * Whether the process a lock file names may still hold it: as its pid tells; where it tells
 * nothing, until its lease lapses, and without a lease, always (it cannot be told dead).
 */
const mayHold = (h: Holder, renewed: number): boolean => byPid(h) ?? !lapsed(h, renewed);

/** Lock files this process holds: a second open here waits like any other process. */
const heldHere = new Set<string>();

const code = (e: unknown) => (e as NodeJS.ErrnoException).code;

/**
 * A lock file's text and when it was last written or renewed (its mtime), or undefined when there
 * is no file. Both from one open file, so they are one file's; and a network file system checks
 * a file's attributes with its server when it is opened, so the mtime is not an old cached one.
 */
function readLock(file: string): { text: string; renewed: number } | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    if (code(e) === 'ENOENT') return undefined;
    throw e;
  }
  try {
    return { text: readFileSync(fd, 'utf8'), renewed: fstatSync(fd).mtimeMs };
  } finally {
    closeSync(fd);
  }
}

/** Whether a file was last written more than `ms` ago (false when it is gone). */
function olderThan(file: string, ms: number): boolean {
  const st = statSync(file, { throwIfNoEntry: false });
  return st !== undefined && Date.now() - st.mtimeMs > ms;
}

/**
 * Creates the lock with `text` already in it, or false when it exists: linked from a file
 * written first, so no reader sees it empty. Where the file system makes no hard link, it is
 * created and written, and a reader may see it empty for a moment (`holder` waits that out).
 */
function create(lock: string, text: string): boolean {
  const temp = `${lock}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, text, { flag: 'wx' });
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
    writeFileSync(lock, text, { flag: 'wx' });
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
 * process has taken it over or its holder has renewed it since. Two processes that both read the
 * dead holder both removed the lock, the later one the first's new lock, and both went on. A
 * takeover is done under a guard file that one process at a time creates; under it the lock is
 * read again, judged again (a lease renewed meanwhile keeps it), and removed only if it still says
 * `left`; the lock is then taken by an exclusive create, which one process wins. A live lock is
 * never moved or removed. False when another takeover holds the guard.
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
    const now = readLock(lock);
    const h = now?.text === left ? parseHolder(left) : 0;
    if (now && now.text === left && !(h && mayHold(h, now.renewed))) rmSync(lock, { force: true });
  } finally {
    rmSync(guard, { force: true });
  }
  return true;
}

/** Who holds a lock, and when it last renewed it (ms since the epoch). */
interface Held {
  h: Holder;
  renewed: number;
}

/**
 * Who holds the lock; undefined once it is free (or was left by a process that no longer holds
 * it, and is removed); 'again' when that cannot be told yet (another takeover under way, or a
 * lock being written on a file system without hard links).
 */
function holder(lock: string): Held | undefined | 'again' {
  if (heldHere.has(lock)) return { h: { pid: process.pid }, renewed: Date.now() };
  const got = readLock(lock);
  if (got === undefined) return undefined;
  const h = parseHolder(got.text);
  if (h && mayHold(h, got.renewed)) return { h, renewed: got.renewed };
  // Empty: being written, unless it has been so for a while.
  if (h === 0 && Date.now() - got.renewed <= guardStaleMs) return 'again';
  return removeStale(lock, got.text) ? undefined : 'again';
}

/**
 * The worker that renews leases (CommonJS, evaluated: no file to find beside the compiled code),
 * one per process for every lock it holds: starting one costs about a tenth of a second, paid on
 * every open of an embedded database when each lock had its own. Told a lock held (`add`: an id,
 * its file, its text, how often to renew), it opens that file and sets its mtime every `renewMs`
 * through the open file: only the file this process created is ever touched, even once another
 * has replaced it. It stops renewing a lock on `remove` (its release), and once the path names
 * another file or none (the lock was taken over or removed: its lease is not this process's to
 * renew). A renewal that fails (a network file system's hiccup) is tried again at the next one.
 */
const renewerSource = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
const held = new Map();
function drop(id) {
  const l = held.get(id);
  if (!l) return;
  held.delete(id);
  clearInterval(l.timer);
  try { fs.closeSync(l.fd); } catch {}
}
parentPort.on('message', (m) => {
  if (m.op === 'remove') return drop(m.id);
  let fd;
  try {
    fd = fs.openSync(m.lock, 'r+');
    if (fs.readFileSync(fd, 'utf8') !== m.text) return fs.closeSync(fd);
    const own = fs.fstatSync(fd);
    const timer = setInterval(() => {
      try {
        const now = fs.statSync(m.lock, { throwIfNoEntry: false });
        if (!now || now.ino !== own.ino || now.dev !== own.dev) return drop(m.id);
        const t = Date.now() / 1000;
        fs.futimesSync(fd, t, t);
      } catch {}
    }, m.renewMs);
    held.set(m.id, { fd, timer });
  } catch {
    if (fd !== undefined) try { fs.closeSync(fd); } catch {}
  }
});
parentPort.postMessage('ready');
`;

/** How long a worker may take to start before the lock is taken without a lease. */
const renewerStartMs = 10_000;

/** How many renewal workers this process has started (at most one: tests check that it is shared). */
let starts = 0;
export const renewersStarted = (): number => starts;

/**
 * A worker ready to renew a lease, or undefined when none could be started. The first lock starts
 * it and every later lock shares it. Never started again: once it failed to start or died, later
 * locks are taken without a lease (judged by their pid, as an earlier version's), rather than each
 * paying a start that is likely to fail as well.
 */
let renewer: Promise<Worker | undefined> | undefined;
const sharedRenewer = (): Promise<Worker | undefined> => (renewer ??= startRenewer());

async function startRenewer(): Promise<Worker | undefined> {
  let worker: Worker;
  try {
    starts++;
    worker = new Worker(renewerSource, { eval: true });
  } catch {
    return undefined;
  }
  // Never thrown: a worker that fails renews nothing, and its leases lapse as a dead holder's would.
  worker.on('error', () => undefined);
  // Dead: later locks promise no lease.
  worker.once('exit', () => {
    renewer = Promise.resolve(undefined);
  });
  let timer: NodeJS.Timeout | undefined;
  // Ready once its code has run to the end: a worker merely online may yet fail on its first line.
  const ready = await new Promise<boolean>((resolve) => {
    worker.once('message', (m) => resolve(m === 'ready'));
    worker.once('exit', () => resolve(false));
    timer = setTimeout(() => resolve(false), renewerStartMs);
  });
  clearTimeout(timer);
  if (!ready) {
    void worker.terminate();
    return undefined;
  }
  // Unreferenced only now: awaited above, it keeps the process alive until it is ready.
  worker.unref();
  return worker;
}

/** One id per lock taken: a release ends its own lock's renewal, never that of a later lock on the same path. */
let lockIds = 0;

/**
 * Takes the folder's lock, waiting at most `waitMs`, and returns its release. `lease` (tests
 * shorten it) is how often this process renews its lease and the lapse its lock file promises.
 */
export async function lockFolder(dir: string, wait: Wait, lease: Lease = defaultLease): Promise<() => void> {
  if (!(lease.renewMs > 0 && lease.lapseMs >= 4 * lease.renewMs)) {
    throw new Error(`a lease must be renewed well within its lapse (renewMs ${lease.renewMs}, lapseMs ${lease.lapseMs})`);
  }
  const lock = `${dir}.lock`;
  mkdirSync(dirname(lock), { recursive: true });
  // Ready before the lock is taken: the lock file promises a lease only when a worker will renew it.
  const worker = await sharedRenewer();
  const text = ownText(worker ? lease.lapseMs : undefined);
  const { waitMs } = wait;
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    if (create(lock, text)) {
      heldHere.add(lock);
      const id = ++lockIds;
      worker?.postMessage({ op: 'add', id, lock, text, renewMs: lease.renewMs });
      return () => {
        heldHere.delete(lock);
        worker?.postMessage({ op: 'remove', id });
        // Only its own: a lock this process no longer holds is another's.
        if (readLock(lock)?.text === text) rmSync(lock, { force: true });
      };
    }
    const held = holder(lock);
    if (held === undefined) continue;
    if (held === 'again') {
      await sleep(5);
      continue;
    }
    const { h, renewed } = held;
    const who = elsewhere(h) ? `process ${h.pid} on host ${h.host}` : `process ${h.pid}`;
    // Where the pid tells nothing, the lease is what keeps it: when it was renewed says how long it may yet.
    const leased =
      h.lease !== undefined && byPid(h) === undefined
        ? ` (its lease last renewed ${new Date(renewed).toISOString()}, ${Math.max(0, Math.round((Date.now() - renewed) / 1000))} s ago; it is taken over once not renewed for ${h.lease / 1000} s)`
        : '';
    if (Date.now() >= deadline) {
      // Without a lease, never taken over from another host: only someone who knows that no run is alive there may remove it.
      const left =
        elsewhere(h) && h.lease === undefined
          ? ` (a lock from another host without a lease is never taken over: if no run is alive there, remove ${lock})`
          : '';
      throw new SyncBusy(
        `the embedded database ${dir} is in use by ${who}${leased}${left}, and it takes one process at a time, whatever syncs they run; this run ${waited(waitMs)} and did nothing: run again later, pass --wait SECONDS, or give each run a database server (--database)`,
      );
    }
    if (!told) {
      told = true;
      wait.notice(`the embedded database ${dir} is in use by ${who}${leased}: waiting up to ${waitMs / 1000} s for it`);
    }
    // Polled: a file lock has no wake-up. A fifth of a second is nothing beside a run.
    await sleep(Math.min(200, Math.max(1, deadline - Date.now())));
  }
}
