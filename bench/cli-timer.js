// Whole CLI runs of `node bin/syncwright.js ...`, timed: wall time, the child's own CPU time
// (on a shared machine the wall time includes waiting for a core, the CPU time does not), its
// user and system parts (system: mostly the kernel making the output's files and folders) and
// its peak RSS, written by the child at exit. Not a bench itself (no .bench.js).
// Also the main thread's own CPU time (Linux: /proc, in USER_HZ ticks of 10 ms): the rest is the
// other threads', V8's optimising compiler and garbage collector helpers and the file system
// threads, which on 2 cores take turns with it; and the minor page faults, each a first touch
// of memory (costly on a virtual machine, and counted in the system time).
import { readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'bin', 'syncwright.js');

const usageFile = join(tmpdir(), `syncwright-bench-usage-${process.pid}.json`);
const usageHook = `data:text/javascript,${encodeURIComponent(
  "import { readFileSync, writeFileSync } from 'node:fs'; " +
    "const mainThread = () => { try { const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; } catch { return null; } }; " +
    "process.on('exit', () => { const u = process.resourceUsage(); writeFileSync(process.env.SW_BENCH_USAGE, JSON.stringify({ user: u.userCPUTime / 1000, system: u.systemCPUTime / 1000, main: mainThread(), faults: u.minorPageFault, rss: u.maxRSS * 1024 })); });",
)}`;

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * `runs` runs of the CLI with `args` (after `before()`, if given, outside the timing): medians
 * of wall, CPU, user, system and main-thread milliseconds and of minor page faults, min and max wall, the largest peak RSS in bytes. Exits the
 * bench loudly on an unexpected exit code.
 */
export function timeCli(args, { runs, cwd = root, expectStatus = 0, before } = {}) {
  const wall = [];
  const cpu = [];
  const user = [];
  const system = [];
  const main = [];
  const faults = [];
  let rss = 0;
  let last;
  for (let i = 0; i < runs; i++) {
    before?.();
    const t0 = performance.now();
    last = spawnSync(process.execPath, ['--import', usageHook, cli, ...args], {
      cwd,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      env: { ...process.env, NO_COLOR: '1', SW_BENCH_USAGE: usageFile },
    });
    wall.push(performance.now() - t0);
    if (last.status !== expectStatus) {
      console.error(`syncwright ${args.join(' ')} exited ${last.status}, expected ${expectStatus}\n${(last.stderr ?? '').slice(0, 2000)}`);
      process.exit(1);
    }
    const usage = JSON.parse(readFileSync(usageFile, 'utf8'));
    cpu.push(usage.user + usage.system);
    user.push(usage.user);
    system.push(usage.system);
    if (usage.main !== null) main.push(usage.main);
    faults.push(usage.faults);
    rss = Math.max(rss, usage.rss);
  }
  rmSync(usageFile, { force: true });
  return {
    median: median(wall),
    min: Math.min(...wall),
    max: Math.max(...wall),
    cpu: median(cpu),
    user: median(user),
    system: median(system),
    /** The main thread's CPU milliseconds (undefined where /proc does not tell). */
    main: main.length > 0 ? median(main) : undefined,
    faults: median(faults),
    rss,
    stderr: last.stderr,
  };
}
