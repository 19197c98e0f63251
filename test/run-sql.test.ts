// The executor's SQL sessions on both engines: scripts, parameters, cursors that survive
// commits, and the embedded database's folder lock. What a session runs besides a plan's
// files is the plan's (the dialect record's `session`, as the compiler copies it).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPglite } from './support/pglite-template.js';
import { openPgliteSession, rawRows } from '../src/run/engines/pglite-session.js';
import { openPgSession, redactUrl } from '../src/run/engines/pg-session.js';
import { lockFolder } from '../src/run/locks/folder-lock.js';
import { explainSqlError } from '../src/run/engines/sql-errors.js';
import type { Plan } from '../src/contract/plan.js';
import { compileFixture } from './servers/run-harness.js';
import { asSubquery, type SqlSession } from '../src/run/engines/sql-session.js';
import { Ledger, type Accepted } from '../src/run/ledger.js';
import type { CommitStep } from '../src/contract/api-steps.js';
import { insertArrays, sessionSql } from '../src/emit/session-sql.js';
import { getDialect } from '../src/dialect/index.js';
import { scratchEngines, scratchFolder, scratchPglite, type ScratchDb } from './servers/scratch-db.js';
import { exited, repoRoot, until } from './servers/run-harness.js';
import { ensureBuilt } from './support/build.js';
import { heapSettings } from '../src/heap.js';

const plan = sessionSql('postgres')!;
const open = (db: ScratchDb): Promise<SqlSession> => (db.url ? openPgSession(db.url) : openPgliteSession(db.folder));

for (const engine of scratchEngines) {
  describe(`sql session [${engine.name}]`, () => {
    let db: ScratchDb;
    let s: SqlSession;
    beforeAll(async () => {
      db = await engine.open();
      s = await open(db);
      await s.script('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 2500) g;');
    });
    afterAll(async () => {
      await s.close();
      await db.drop();
    });

    it('runs a script and returns the rows of each statement', async () => {
      const res = await s.script(
        `-- a header\nCREATE TEMP TABLE x (a int); INSERT INTO x VALUES (1), (2); SELECT count(*)::int AS n FROM x; SELECT 'done' AS what;`,
      );
      expect(res.at(-2)).toEqual([{ n: 2 }]);
      expect(res.at(-1)).toEqual([{ what: 'done' }]);
    });

    it('rolls back what a failed script left open, and stays usable', async () => {
      await expect(s.script(`BEGIN; INSERT INTO t VALUES (9001, 'x'); SELECT 1/0;`, plan.rollback)).rejects.toThrow(/division by zero/);
      expect(await s.query('SELECT count(*)::int AS n FROM t WHERE id = $1', [9001])).toEqual([{ n: 0 }]);
    });

    it('reads a query in pages while other statements commit between them', async () => {
      await s.script('CREATE TABLE seen (id int)');
      const sizes: number[] = [];
      for await (const page of s.pages<{ id: number }>('-- read\nSELECT id FROM t ORDER BY id;\n', 1000, plan)) {
        sizes.push(page.length);
        await s.query('INSERT INTO seen SELECT unnest($1::int[])', [page.map((r) => r.id)]);
      }
      expect(sizes).toEqual([1000, 1000, 500]);
      expect(await s.query('SELECT count(DISTINCT id)::int AS n FROM seen')).toEqual([{ n: 2500 }]);
      expect(await s.query("SELECT count(*)::int AS n FROM pg_cursors WHERE name LIKE 'syncwright%'")).toEqual([{ n: 0 }]);
    });

    it("records accepted rows in one INSERT per chunk (the plan's many-row form), or one per row without it", async () => {
      await s.script('CREATE TABLE acc ("row_key" text NOT NULL, "change" text, "payload_hash" text, "destination_id" text)');
      const columns = ['"row_key"', '"change"', '"payload_hash"', '"destination_id"'];
      const parameters: CommitStep['acceptedInsert']['parameters'] = ['row_key', 'change', 'payload_hash', 'destination_id'];
      const row = (key: string | null, destination_id: string | null): Accepted => ({ key, change: 'added', payload_hash: null, destination_id });
      const rows = Array.from({ length: 7001 }, (_, i) => row(`k${i}`, i % 2 ? `d${i}` : null));
      const many = insertArrays(getDialect('postgres'), 'acc', columns, ['TEXT', 'TEXT', 'TEXT', 'TEXT'])!;
      const ledger = new Ledger(s, {
        acceptedInsert: { statement: `INSERT INTO acc (${columns.join(', ')}) VALUES ($1, $2, $3, $4)`, rows: many, parameters },
      });
      await ledger.record([...rows, row(null, 'x')]);
      const perRow = new Ledger(s, {
        acceptedInsert: { statement: 'INSERT INTO acc ("destination_id", "change", "payload_hash", "row_key") SELECT $4, $2, $3, $1', parameters },
      });
      await perRow.record([row('solo', 'd')]);
      expect([ledger.total, perRow.total]).toEqual([7001, 1]);
      expect(await s.query('SELECT count(*)::int AS n, count("destination_id")::int AS ids FROM acc')).toEqual([{ n: 7002, ids: 3501 }]);
      expect(await s.query(`SELECT "destination_id" FROM acc WHERE "row_key" IN ('k3', 'solo') ORDER BY 1`)).toEqual([
        { destination_id: 'd' },
        { destination_id: 'd3' },
      ]);
    });

    it("gives a page's rows as a query gives them, whatever the types", async () => {
      // Every value through the engine's own parsers: numbers, JSON, dates, arrays, bytes, NULLs,
      // text that starts with a byte-order mark, a name given twice (the last one wins), a column named __proto__.
      const select = `SELECT g AS id, g::bigint * 3000000000 AS big, g / 7.0 AS ratio, g % 2 = 0 AS even, ('{"n": ' || g || ', "s": "é\\u00e9"}')::jsonb AS doc,
        '[1, {"a": null}]'::json AS raw, timestamp '2026-01-01' + g * interval '1 hour' AS at, timestamptz '2026-01-01 00:00:00+00' AS tz, date '2026-03-01' AS day,
        ARRAY[g, NULL, 3] AS ints, ARRAY['a,b', 'c"d', NULL] AS texts, '\\x00ff'::bytea AS bin, CASE WHEN g % 3 = 0 THEN NULL ELSE chr(65279) || 'bom ' || g END AS bom,
        '' AS empty, 'first' AS twice, 'second' AS twice, '😀 ☃' AS wide, 'own' AS "__proto__" FROM generate_series(1, 25) g ORDER BY g`;
      const paged: Record<string, unknown>[] = [];
      for await (const page of s.pages(select, 10, plan)) paged.push(...page);
      expect(paged).toHaveLength(25);
      // A leading byte-order mark is kept, as a server's client keeps it (PGlite's own reader drops it, and a key read so was another key).
      const kept = (await s.query(select)).map((r) => ({ ...r, bom: r.bom === null ? null : `\uFEFF${String(r.bom).replace(/^\uFEFF/, '')}` }));
      expect(paged).toEqual(kept);
      expect(paged[0]?.bom).toBe('\uFEFFbom 1');
      expect(Object.hasOwn(paged[0] ?? {}, '__proto__')).toBe(true);
    });

    it('closes the cursor when the reader stops early', async () => {
      for await (const page of s.pages('SELECT id FROM t', 10, plan)) {
        expect(page).toHaveLength(10);
        break;
      }
      expect(await s.query("SELECT count(*)::int AS n FROM pg_cursors WHERE name LIKE 'syncwright%'")).toEqual([{ n: 0 }]);
    });
  });
}

describe('embedded database folder', () => {
  it('persists between sessions and admits one process at a time', async () => {
    const scratch = scratchPglite();
    const folder = scratch.folder!;
    const a = await openPgliteSession(folder);
    await a.script('CREATE TABLE kept (a int); INSERT INTO kept VALUES (42);');
    expect(existsSync(`${folder}.lock`)).toBe(true);
    await a.close();
    expect(existsSync(`${folder}.lock`)).toBe(false);
    // Another live process holds it: refuse, naming the holder.
    writeFileSync(`${folder}.lock`, String(process.ppid));
    await expect(openPgliteSession(folder)).rejects.toThrow(`in use by process ${process.ppid}`);
    // A lock left by a process that is gone is taken over.
    writeFileSync(`${folder}.lock`, '999999999');
    const b = await openPgliteSession(folder);
    expect(await b.query('SELECT a FROM kept')).toEqual([{ a: 42 }]);
    await b.close();
    // A takeover's guard left by a process that died within it is old: cleared, and the lock taken over.
    writeFileSync(`${folder}.lock`, '999999999');
    writeFileSync(`${folder}.lock.takeover`, '999999998');
    const past = new Date(Date.now() - 60_000);
    utimesSync(`${folder}.lock.takeover`, past, past);
    const c = await openPgliteSession(folder);
    expect(existsSync(`${folder}.lock.takeover`)).toBe(false);
    await c.close();
    expect(existsSync(`${folder}.lock`)).toBe(false);
    await scratch.drop();
  });

  it('a lock left by a dead process is taken over by one of three processes that find it at once (two removed it, and both held it)', async () => {
    ensureBuilt();
    const work = scratchFolder('syncwright-lockrace-');
    const script = join(work.dir, 'take.mjs');
    // Each waits for the same instant, takes the lock without waiting, and says when it held it.
    writeFileSync(
      script,
      `import { lockFolder } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'run', 'locks', 'folder-lock.js')).href)};
const [dir, start] = [process.argv[2], Number(process.argv[3])];
while (Date.now() < start) {}
try {
  const release = await lockFolder(dir, { waitMs: 0, notice: () => {} });
  const from = performance.timeOrigin + performance.now();
  await new Promise((r) => setTimeout(r, 150));
  console.log(JSON.stringify([from, performance.timeOrigin + performance.now()]));
  release();
} catch (e) {
  if (!String(e.message).includes('in use by process')) throw e;
}`,
    );
    const held: [number, number][][] = [];
    for (let trial = 0; trial < 6; trial++) {
      const dir = join(work.dir, `db${trial}`);
      writeFileSync(`${dir}.lock`, '999999999');
      const start = Date.now() + 400;
      const runs = await Promise.all([0, 1, 2].map(() => exited(spawn(process.execPath, [script, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] }))));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      held.push(runs.flatMap((r) => (r.stdout.trim() ? [JSON.parse(r.stdout) as [number, number]] : [])));
    }
    // Never two at once (one may take it after another let go, on a slow machine).
    for (const spans of held) {
      expect(spans.length).toBeGreaterThan(0);
      const sorted = [...spans].sort((x, y) => x[0] - y[0]);
      for (let i = 1; i < sorted.length; i++) expect(sorted[i - 1]![1] <= sorted[i]![0], JSON.stringify(spans)).toBe(true);
    }
    work.remove();
  });

  it('holds the heap small while a session is open, and lets it be once the last is closed', async () => {
    const [one, two] = [scratchPglite(), scratchPglite()];
    expect(heapSettings()).toEqual({ growth: 0, small: false });
    const a = await openPgliteSession(one.folder);
    const b = await openPgliteSession(two.folder);
    expect(heapSettings()).toEqual({ growth: 20, small: true });
    await a.close();
    expect(heapSettings()).toEqual({ growth: 20, small: true });
    await b.close();
    expect(heapSettings()).toEqual({ growth: 0, small: false });
    await Promise.all([one.drop(), two.drop()]);
  });
});

describe('embedded database folder: the lock a killed run left', () => {
  // Where Linux's /proc gives a process's start time and the boot's id, the lock names its
  // process by them too: a pid alone is another process's once the kernel gives it again.
  const proc = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');
  const work = scratchFolder('syncwright-lockpid-');
  const script = join(work.dir, 'hold.mjs');
  beforeAll(() => {
    ensureBuilt();
    writeFileSync(
      script,
      `import { lockFolder } from ${JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'run', 'locks', 'folder-lock.js')).href)};
await lockFolder(process.argv[2], { waitMs: 0, notice: () => {} });
console.log('held');
setInterval(() => {}, 60_000);`,
    );
  });
  afterAll(() => work.remove());

  /** A run's process holding the folder's lock: resolves once it holds it. */
  async function holding(dir: string) {
    const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('held') && resolve());
      child.on('exit', (code) => reject(new Error(`the holder exited ${code}: ${err}`)));
    });
    return child;
  }
  const killed = async (child: ReturnType<typeof spawn>) => {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  };
  /** Another live process, unrelated to any lock. */
  const unrelated = () => spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)'], { stdio: 'ignore' });
  /** The lock file with these members changed (a lock of a pid alone: its pid). */
  const rewrite = (lock: string, change: { pid: number; host?: string; boot?: string }) => {
    const text = readFileSync(lock, 'utf8');
    writeFileSync(lock, text.trim().startsWith('{') ? JSON.stringify({ ...(JSON.parse(text) as object), ...change }) : String(change.pid));
  };
  const take = (dir: string) => lockFolder(dir, { waitMs: 0, notice: () => {} });

  it.skipIf(!proc)("is taken over once its pid is an unrelated live process's: every later run was refused while that process lived", async () => {
    const dir = join(work.dir, 'reused');
    await killed(await holding(dir));
    // The pid given again: emulated by naming a live process that started after the killed run.
    const other = unrelated();
    try {
      rewrite(`${dir}.lock`, { pid: other.pid as number });
      const release = await take(dir);
      expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
      release();
      expect(existsSync(`${dir}.lock`)).toBe(false);
    } finally {
      other.kill();
    }
  });

  it('is not taken over while its run lives, and is once the run is killed', async () => {
    const dir = join(work.dir, 'live');
    const run = await holding(dir);
    try {
      await expect(take(dir)).rejects.toThrow(`in use by process ${run.pid}, and it takes one process at a time`);
      expect(existsSync(`${dir}.lock`)).toBe(true);
    } finally {
      await killed(run);
    }
    const release = await take(dir);
    release();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it.skipIf(!proc)('is taken over when it was taken before the machine last booted, whatever process has its pid now', async () => {
    const dir = join(work.dir, 'rebooted');
    await killed(await holding(dir));
    const other = unrelated();
    try {
      rewrite(`${dir}.lock`, { pid: other.pid as number, boot: '00000000-0000-4000-8000-000000000000' });
      const release = await take(dir);
      release();
    } finally {
      other.kill();
    }
  });

  it('from another host (a shared folder) without a lease is never taken over, as its pid says nothing here; the message says what to do', async () => {
    const dir = join(work.dir, 'elsewhere');
    const lock = `${dir}.lock`;
    // A pid no process has here: judged by it, the lock of a live run there was taken over after 2 s.
    writeFileSync(lock, JSON.stringify({ pid: 999999999, host: 'elsewhere.invalid' }));
    // An hour old: without a lease, its age says nothing either.
    const past = new Date(Date.now() - 3600_000);
    utimesSync(lock, past, past);
    await expect(take(dir)).rejects.toThrow(
      `in use by process 999999999 on host elsewhere.invalid (a lock from another host without a lease is never taken over: if no run is alive there, remove ${lock})`,
    );
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toEqual({ pid: 999999999, host: 'elsewhere.invalid' });
  });
});

describe('embedded database folder: the lease of a lock from another host', () => {
  // A container recreated on a kept volume has another host name: its predecessor's lock was kept
  // until removed by hand. A holder renews its lock's mtime from a worker thread; a lock from
  // another host whose lease lapsed is taken over. Leases short here (renewed every 0.1 s, over
  // after 2 s); the default is 5 s and 60 s.
  const work = scratchFolder('syncwright-locklease-');
  const lockModule = JSON.stringify(pathToFileURL(join(repoRoot, 'dist', 'run', 'locks', 'folder-lock.js')).href);
  const holderScript = join(work.dir, 'hold-elsewhere.mjs');
  const contenderScript = join(work.dir, 'contend.mjs');
  const shareScript = join(work.dir, 'share.mjs');
  beforeAll(() => {
    ensureBuilt();
    // A run on another host: its host name changed before the lock module reads it. Its main
    // thread then stays busy (as in a long query of the embedded engine) until the file `stop` is made.
    writeFileSync(
      holderScript,
      `import os from 'node:os';
import { existsSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
os.hostname = () => 'elsewhere.invalid';
syncBuiltinESMExports();
const { lockFolder } = await import(${lockModule});
const [dir, stop] = process.argv.slice(2);
await lockFolder(dir, { waitMs: 0, notice: () => {} }, { renewMs: 100, lapseMs: 2000 });
console.log('held');
while (!existsSync(stop)) {
  const t = Date.now() + 20;
  while (Date.now() < t) {}
}
console.log('free');
setInterval(() => {}, 60_000);`,
    );
    // Waits for the same instant as the others, takes the lock without waiting, and keeps it.
    writeFileSync(
      contenderScript,
      `const { lockFolder } = await import(${lockModule});
const [dir, start] = [process.argv[2], Number(process.argv[3])];
while (Date.now() < start) {}
try {
  await lockFolder(dir, { waitMs: 0, notice: () => {} });
  console.log('won');
  setInterval(() => {}, 60_000);
} catch (e) {
  if (!String(e.message).includes('in use by process')) throw e;
  console.log('lost');
}`,
    );
    // In a process of its own, so that its count of renewal workers starts at none: takes two
    // locks one after the other and holds both, checks that each is renewed, releases them and
    // takes a third, which it holds as the process ends.
    writeFileSync(
      shareScript,
      `import { readFileSync, statSync, utimesSync } from 'node:fs';
const { lockFolder, renewersStarted } = await import(${lockModule});
const dirs = process.argv.slice(2);
const wait = { waitMs: 0, notice: () => {} };
const lease = { renewMs: 100, lapseMs: 2000 };
const started = [renewersStarted()];
const leases = [];
const take = async (dir) => {
  const release = await lockFolder(dir, wait, lease);
  started.push(renewersStarted());
  leases.push(JSON.parse(readFileSync(dir + '.lock', 'utf8')).lease);
  return release;
};
// Renewed: its mtime, set a minute back, comes back to now.
const renewed = async (dir) => {
  const past = new Date(Date.now() - 60_000);
  utimesSync(dir + '.lock', past, past);
  for (const end = Date.now() + 240_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    if (Date.now() - statSync(dir + '.lock').mtimeMs < 30_000) return true;
  }
  return false;
};
const releases = [await take(dirs[0]), await take(dirs[1])];
const renewals = [await renewed(dirs[0]), await renewed(dirs[1])];
for (const release of releases) release();
await take(dirs[2]);
renewals.push(await renewed(dirs[2]));
console.log(JSON.stringify({ started, leases, renewals }));`,
    );
  });
  afterAll(() => work.remove());

  const take = (dir: string, waitMs = 0, notice: (t: string) => void = () => {}) => lockFolder(dir, { waitMs, notice });
  /** A lock from another host whose holder promised a lease of `leaseMs`, last renewed `agoMs` ago. */
  const elsewhereLock = (lock: string, leaseMs: number, agoMs: number) => {
    writeFileSync(lock, JSON.stringify({ pid: 999999999, host: 'elsewhere.invalid', lease: leaseMs }));
    // A whole second: a file system's mtime keeps it exactly.
    const at = new Date(Math.floor((Date.now() - agoMs) / 1000) * 1000);
    utimesSync(lock, at, at);
    return at;
  };
  /** A child's first line of output. */
  const firstLine = (child: ReturnType<typeof spawn>) =>
    new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.on('exit', (code) => reject(new Error(`exited ${code} before a line: ${err}`)));
    });
  const killed = async (child: ReturnType<typeof spawn>) => {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  };

  it('is kept while its lease is renewed, and the message names the host and when the lease was last renewed', async () => {
    const dir = join(work.dir, 'fresh');
    const lock = `${dir}.lock`;
    const renewed = elsewhereLock(lock, 60_000, 5000).toISOString();
    const notices: string[] = [];
    // How many seconds ago, as the run counts them when it looks: 5 or a little more on a slow machine.
    const said = `in use by process 999999999 on host elsewhere.invalid \\(its lease last renewed ${renewed.replace(/\./g, '\\.')}, [5-9] s ago; it is taken over once not renewed for 60 s\\)`;
    await expect(take(dir, 300, (t) => notices.push(t))).rejects.toThrow(new RegExp(`${said}, and it takes one process at a time`));
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatch(new RegExp(`^the embedded database \\S+ is ${said}: waiting up to 0\\.3 s for it$`));
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toEqual({ pid: 999999999, host: 'elsewhere.invalid', lease: 60_000 });
  });

  it('is taken over once its lease has lapsed: it was kept until removed by hand', async () => {
    const dir = join(work.dir, 'lapsed');
    const lock = `${dir}.lock`;
    elsewhereLock(lock, 60_000, 61_000);
    const release = await take(dir);
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid, lease: 60_000 });
    release();
    expect(existsSync(lock)).toBe(false);
  });

  it("is renewed while held, only while it is this process's own, and is not removed by a release once it is another's", async () => {
    const dir = join(work.dir, 'renewed');
    const lock = `${dir}.lock`;
    const release = await lockFolder(dir, { waitMs: 0, notice: () => {} }, { renewMs: 100, lapseMs: 2000 });
    try {
      const past = new Date(Date.now() - 30_000);
      utimesSync(lock, past, past);
      await until(() => Date.now() - statSync(lock).mtimeMs < 10_000);
      // Taken over meanwhile (its lease lapsed under a stopped process): the new lock is not renewed by this one.
      rmSync(lock);
      elsewhereLock(lock, 2000, 30_000);
      const then = statSync(lock).mtimeMs;
      await new Promise((r) => setTimeout(r, 1000));
      expect(statSync(lock).mtimeMs).toBe(then);
    } finally {
      release();
    }
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ host: 'elsewhere.invalid' });
  });

  it('is renewed by one worker per process, shared by every lock it takes, which never keeps the process alive: each lock started its own', async () => {
    const dirs = ['shared-a', 'shared-b', 'shared-c'].map((d) => join(work.dir, d));
    const child = spawn(process.execPath, [shareScript, ...dirs], { stdio: ['ignore', 'pipe', 'pipe'] });
    // It ends on its own, its third lock held: a worker that kept it alive is killed here, and fails the test.
    const kill = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const { code, signal, stdout, stderr } = await exited(child).finally(() => clearTimeout(kill));
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
    // None before the first lock, one from then on; every lock promises a lease (the worker was ready) and is renewed.
    expect(JSON.parse(stdout)).toEqual({ started: [0, 1, 1, 1], leases: [2000, 2000, 2000], renewals: [true, true, true] });
  });

  it('is not taken over from a live holder whose main thread is busy for longer than the lapse: its worker renews it', async () => {
    const dir = join(work.dir, 'busy');
    const stop = join(work.dir, 'busy.stop');
    const holder = spawn(process.execPath, [holderScript, dir, stop], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      expect(await firstLine(holder)).toBe('held');
      // Waited for over two lapses, while the holder's main thread never stops: renewed on it, the lease was over after 2 s.
      await expect(take(dir, 4500)).rejects.toThrow(
        /in use by process \d+ on host elsewhere\.invalid \(its lease last renewed \S+, \d+ s ago; it is taken over once not renewed for 2 s\)/,
      );
      expect(out).toBe('held\n');
      expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: holder.pid, host: 'elsewhere.invalid', lease: 2000 });
    } finally {
      writeFileSync(stop, '');
      await killed(holder);
    }
  });

  it('whose lease lapsed is taken over by exactly one of three processes that find it at once', async () => {
    for (let trial = 0; trial < 4; trial++) {
      const dir = join(work.dir, `contended${trial}`);
      elsewhereLock(`${dir}.lock`, 60_000, 120_000);
      const start = Date.now() + 600;
      const runs = [0, 1, 2].map(() => spawn(process.execPath, [contenderScript, dir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'] }));
      try {
        const said = await Promise.all(runs.map(firstLine));
        expect([...said].sort(), `trial ${trial}`).toEqual(['lost', 'lost', 'won']);
        const winner = runs[said.indexOf('won')]!;
        expect(JSON.parse(readFileSync(`${dir}.lock`, 'utf8'))).toMatchObject({ pid: winner.pid });
      } finally {
        await Promise.all(runs.map(killed));
      }
    }
  });
});

describe('embedded database rows', () => {
  it("reads an error reply as the engine's query throws it", async () => {
    const db = await freshPglite();
    try {
      const caught = async (p: Promise<unknown>) =>
        p.then(
          () => undefined,
          (e: unknown) => e as { code?: string; message: string; query?: string },
        );
      const rows = rawRows(db);
      const raw = await caught(rows('FETCH 10 FROM no_such_cursor'));
      const query = await caught(db.query('FETCH 10 FROM no_such_cursor'));
      expect(raw).toBeInstanceOf(Error);
      expect([raw?.code, raw?.message, raw?.query]).toEqual([query?.code, query?.message, query?.query]);
      expect(raw?.code).toBe('34000');
      // The database is still usable after the error.
      expect(await rows('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    } finally {
      await db.close();
    }
  });
});

describe('helpers', () => {
  it('turns a SQL file into one statement', () => {
    expect(asSubquery('-- h\nSELECT 1\nFROM t;\n')).toBe('-- h\nSELECT 1\nFROM t');
    expect(asSubquery('SELECT 1;;\n\n')).toBe('SELECT 1');
    // Only the end is looked at: a `;` inside the text, however it is quoted, is the statement's.
    expect(asSubquery('SELECT \'a;b\' AS "x;--y", $q$;$q$ /* ; /* nested; */ ; */ FROM "t; --"\n;\n')).toBe(
      'SELECT \'a;b\' AS "x;--y", $q$;$q$ /* ; /* nested; */ ; */ FROM "t; --"',
    );
    expect(asSubquery("SELECT 'it''s;' -- no end")).toBe("SELECT 'it''s;' -- no end");
    // Postgres's backslash escape in an E'' string, a dollar quote whose tag holds a digit, Snowflake's backslash in '' strings.
    expect(asSubquery("SELECT E'it\\'s; x', $q1$;$q1$ FROM t;\n")).toBe("SELECT E'it\\'s; x', $q1$;$q1$ FROM t");
    expect(asSubquery("SELECT 'it\\'s;' FROM t;")).toBe("SELECT 'it\\'s;' FROM t");
  });

  it('renders the many-row accepted INSERT from the dialect record', () => {
    expect(insertArrays(getDialect('postgres'), '"s"."t"', ['"row_key"', '"change"'], ['TEXT', 'TEXT'])).toBe(
      'INSERT INTO "s"."t" ("row_key", "change") SELECT * FROM unnest(CAST($1 AS TEXT[]), CAST($2 AS TEXT[]))',
    );
    // Snowflake's SQL API binds an array to a ? as one row per element.
    expect(insertArrays(getDialect('snowflake'), '"s"."t"', ['"a"', '"b"'], ['VARCHAR', 'VARCHAR'])).toBe('INSERT INTO "s"."t" ("a", "b") VALUES (?, ?)');
  });

  it('never prints a password', () => {
    expect(redactUrl('postgres://u:secret@127.0.0.1:5432/db')).toBe('postgres://u:***@127.0.0.1:5432/db');
    expect(redactUrl('not a url')).toBe('the database URL');
  });
});

describe('a database error explained', () => {
  it("a unique key broken in a table not the target (a catalog's, a schema made twice) is the server's error, without advice about the identifier", async () => {
    const build = await compileFixture('test/fixtures/run/project');
    const plan = JSON.parse(readFileSync(join(build, 'people_to_billing', 'plan.json'), 'utf8')) as Plan;
    const err = Object.assign(new Error('duplicate key value violates unique constraint "pg_namespace_nspname_index"'), {
      code: '23505',
      schema: 'pg_catalog',
      table: 'pg_namespace',
      constraint: 'pg_namespace_nspname_index',
    });
    expect(explainSqlError(err, plan)).toBeUndefined();
  });
});
