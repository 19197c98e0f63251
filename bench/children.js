// What the benches that run the executor against local services share: the TypeScript test
// servers bundled for the bench's process, and the executor run in a child of its own (so that
// its peak RSS is its own) while the services of this process keep answering.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** `exports` (name -> file under test/servers) bundled into `dir` and imported; their packages stay external. */
export async function testServers(dir, exports) {
  const { build } = await import('esbuild');
  const out = join(dir, 'servers.mjs');
  writeFileSync(
    join(dir, 'servers.ts'),
    Object.entries(exports)
      .map(([name, file]) => `export { ${name} } from ${JSON.stringify(join(root, 'test/servers', file))};\n`)
      .join(''),
  );
  await build({
    entryPoints: [join(dir, 'servers.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outfile: out,
    nodePaths: [join(root, 'node_modules')],
    logLevel: 'error',
  });
  return import(pathToFileURL(out).href);
}

/** Runs `script` with `args` in a child, asynchronously; its last line of stdout, parsed. */
export async function runChild(script, args, env) {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => child.on('exit', r));
  if (code !== 0) throw new Error(`run failed: ${err}`);
  return JSON.parse(out.trim().split('\n').at(-1));
}

/** In the child: awaits `run` (the executor), sampling RSS, and prints what its delivering step (of `kinds`) did as one JSON line. */
export async function reportRun(run, kinds) {
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const report = await run();
  clearInterval(sample);
  const plan = report.plans[0];
  const step = plan.steps.find((s) => kinds.includes(s.kind));
  console.log(
    JSON.stringify({
      status: plan.status,
      error: plan.error,
      rows: step?.accepted ?? 0,
      ms: step?.ms ?? 0,
      totalMs: plan.ms,
      requests: step?.requests ?? 0,
      committed: plan.committed,
      peakRss: Math.max(peak, process.resourceUsage().maxRSS * 1024),
    }),
  );
}
