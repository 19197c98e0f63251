// `check` and `compile` at the scale of a real company's project: 10,000 syncs mixing every
// destination type and mode as the example projects do (about a third warehouse syncs, the
// rest API; bench/mixed-project.js), in 100 files; and 1,000 such syncs in 10 files. Whole CLI
// runs: wall time, the CLI's own CPU time (and its main thread's: the rest is V8's compiler and
// garbage collector threads and the file system threads), page faults and peak RSS, each against
// its target. The mirror and delivery rows of the same table are bench/mirror.bench.js and
// bench/deliver.bench.js.
import { mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { timeCli } from './cli-timer.js';
import { writeMixedProject } from './mixed-project.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const mb = (bytes) => Math.round(bytes / 2 ** 20);
let missed = 0;

function row(name, r, target) {
  const ok = r.median < target.ms && (target.mb === undefined || mb(r.rss) < target.mb);
  if (!ok) missed++;
  const limit = `target < ${target.ms} ms${target.mb === undefined ? '' : `, < ${target.mb} MB`}`;
  console.log(
    `  ${ok ? 'ok  ' : 'MISS'} ${name.padEnd(44)} median ${r.median.toFixed(0).padStart(6)} ms [${r.min.toFixed(0)}-${r.max.toFixed(0)}], cpu ${r.cpu.toFixed(0)} ms (user ${r.user.toFixed(0)}, system ${r.system.toFixed(0)}${r.main === undefined ? '' : `; main thread ${r.main.toFixed(0)}`}), ${Math.round(r.faults / 1000)}k page faults, peak ${mb(r.rss)} MB  (${limit})`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'syncwright-scale-bench-'));
// The file system the compiles write to, by its magic number (statfs(2)). The system time is
// mostly the kernel making the output's files and folders: on ext4 several times what it is in
// memory (tmpfs), and more the more files were deleted there lately, which its inode allocator
// looks through.
const fileSystems = { ef53: 'ext4', 1021994: 'tmpfs', 58465342: 'xfs', '9123683e': 'btrfs', '794c7630': 'overlayfs' };
const fsType = statfsSync(dir).type.toString(16);
/** An output and the folder behind its link, as if never compiled. */
const clear = (out) => {
  rmSync(join(dir, out), { recursive: true, force: true });
  rmSync(join(dir, `.${out}.syncwright`), { recursive: true, force: true });
};
try {
  const big = join(dir, 'big');
  const small = join(dir, 'small');
  const syncs = writeMixedProject(big, { syncs: 10_000, files: 100 });
  const fewer = writeMixedProject(small, { syncs: 1_000, files: 10 });
  console.log(
    `scale: ${syncs.toLocaleString('en')} mixed syncs in 100 files, ${fewer.toLocaleString('en')} in 10 files; whole CLI runs, ${RUNS} each, in ${dir} (${fileSystems[fsType] ?? `file system 0x${fsType}`}; TMPDIR picks it)`,
  );

  // A whole check (nothing kept from an earlier one), then checks that resume from what the last one kept (src/cli/check-cache.ts).
  row(`check ${syncs.toLocaleString('en')} syncs, --no-cache`, timeCli(['check', 'big', '--no-cache'], { cwd: dir, runs: RUNS }), { ms: 1000 });
  const file = join(big, 'f042.sync');
  const text = readFileSync(file, 'utf8');
  let n = 0;
  timeCli(['check', 'big'], { cwd: dir, runs: 1 });
  row(`check again, nothing changed`, timeCli(['check', 'big'], { cwd: dir, runs: RUNS }), { ms: 1000 });
  row(
    `check again, one file of 100 changed`,
    timeCli(['check', 'big'], { cwd: dir, runs: RUNS, before: () => writeFileSync(file, `# edit ${++n}\n${text}`) }),
    { ms: 1000 },
  );
  // Each first compile into a folder of its own: nothing kept from an earlier one.
  row(
    `compile ${syncs.toLocaleString('en')} syncs, empty folder`,
    timeCli(['compile', 'big', '--out', 'fresh'], { cwd: dir, runs: RUNS, before: () => clear('fresh') }),
    { ms: 5000, mb: 400 },
  );
  timeCli(['compile', 'big', '--out', 'kept'], { cwd: dir, runs: 1 });
  row(`recompile, nothing changed`, timeCli(['compile', 'big', '--out', 'kept'], { cwd: dir, runs: RUNS }), { ms: 1500 });
  row(
    `recompile, one file of 100 changed`,
    timeCli(['compile', 'big', '--out', 'kept'], { cwd: dir, runs: RUNS, before: () => writeFileSync(file, `# edit ${++n}\n${text}`) }),
    { ms: 1000 },
  );
  row(
    `compile ${fewer.toLocaleString('en')} syncs, empty folder`,
    timeCli(['compile', 'small', '--out', 'small-out'], { cwd: dir, runs: RUNS, before: () => clear('small-out') }),
    { ms: 1000 },
  );
  console.log(
    `  load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} (2 cores: above 2, the wall times include waiting for a core; the CPU times do not)`,
  );
} finally {
  if (process.env.BENCH_KEEP === '1') console.log(`  kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
process.exitCode = missed > 0 ? 1 : 0;
