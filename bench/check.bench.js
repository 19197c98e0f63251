// `syncwright check` on a generated project of 10,000 syncs (with their sources, models,
// audiences and destinations, over 100 files) and on each project in examples/: wall time of the whole CLI
// run, median of several runs, against the targets of the front-end issue. Also shows the
// share of process start-up and module loading (`--version`) and of parse + check in process.
import { mkdtempSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { median, root, timeCli as timeRuns } from './cli-timer.js';
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(1);
}
const { check, parse } = await import('../dist/index.js');
const { findSyncFiles, readSources } = await import('../dist/files.js');
const { FILES, SYNCS, generateFile } = await import('./project.js');

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const targets = { generated: 2000, examples: 300 };

/** Wall and CPU time of `node bin/syncwright.js ...args`, medians of RUNS. */
const timeCli = (args) => timeRuns(args, { runs: RUNS });

const ms = (x) => `${x.toFixed(0).padStart(6)} ms`;
const verdict = (x, target) => (x <= target ? `ok (target ${target} ms)` : `MISSED (target ${target} ms)`);

const dir = mkdtempSync(join(tmpdir(), 'syncwright-bench-'));
try {
  let bytes = 0;
  for (let f = 0; f < FILES; f++) {
    const text = generateFile(f);
    bytes += text.length;
    writeFileSync(join(dir, `project_${String(f).padStart(3, '0')}.sync`), text);
  }
  const files = readSources(findSyncFiles([dir]).files, process.cwd());
  console.log(`generated ${SYNCS.toLocaleString('en-US')} syncs, ${FILES} files, ${(bytes / 1e6).toFixed(1)} MB in ${dir}`);
  console.log(
    `machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; median of ${RUNS} runs\n`,
  );

  // In process: parse + check only, after a warm-up run.
  const timedCheck = () => {
    const t0 = performance.now();
    const r = check(parse(files));
    return { ms: performance.now() - t0, r };
  };
  const warm = timedCheck();
  if (warm.r.diagnostics.length > 0 || warm.r.project?.syncs.length !== SYNCS) {
    console.error(
      `the generated project should check clean with ${SYNCS} syncs; got ${warm.r.diagnostics.length} diagnostics, first: ${JSON.stringify(warm.r.diagnostics[0])}`,
    );
    process.exit(1);
  }
  const inProcess = median(Array.from({ length: RUNS }, () => timedCheck().ms));
  globalThis.gc?.();

  const startup = timeCli(['--version']);
  const generated = timeCli(['check', dir, '--no-cache']);
  // Each example folder is a project of its own (their names may overlap), checked by its own run.
  const projects = readdirSync(join(root, 'examples'), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const examples = projects.map((p) => [p, timeCli(['check', join('examples', p), '--no-cache'])]);

  const line = (label, r, target) =>
    `${label.padEnd(38)}${ms(r.median)} wall (min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)}), ${ms(r.cpu)} cpu${target ? `   ${verdict(r.median, target)}` : ''}`;
  console.log(line('node start-up + imports (--version)', startup));
  console.log(`${'parse + check in process, warm'.padEnd(38)}${ms(inProcess)}`);
  console.log(line('check <generated 10k syncs> (CLI)', generated, targets.generated));
  for (const [p, r] of examples) {
    console.log(line(`check examples/${p} (CLI)`, r, targets.examples));
    console.log(`  (${r.stderr.trim().split('\n').pop()})`);
  }
} finally {
  // BENCH_KEEP=1 leaves the project in place, e.g. for `node --cpu-prof bin/syncwright.js check <dir>`.
  if (process.env.BENCH_KEEP) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
