/**
 * `syncwright demo` (`npm run demo`): the whole loop on the bundled examples/demo with nothing
 * to install: seed the shop's tables into an embedded database, compile, run a warehouse mirror
 * and a webhook sync against a local receiver, change some rows, run again, run once more,
 * and show what each run changed.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileProject } from './compile-command.js';
import type { Io } from './output.js';
import { execOptions, planInMemory, runPlans, type ExecOptions, type RunReport } from '../run/index.js';
import { openPgliteSession } from '../run/engines/pglite-session.js';
import { startReceiver, type Receiver } from '../run/receiver.js';
import { planSummary } from '../run/output/summary.js';

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const project = join(packageRoot, 'examples', 'demo');

const inside = (folder: string, path: string): boolean => {
  const r = relative(folder, path);
  return !r.startsWith('..') && !isAbsolute(r);
};

/** A word of a shell command: quoted when it holds anything but plain path characters. */
const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);

/**
 * How the user starts syncwright from `cwd`: through npx where this package lies under it (a
 * clone, or the project's node_modules) or where npm started it (`npx syncwright demo`), else
 * by its name (a global install puts it on PATH).
 */
function commandFrom(cwd: string): string {
  return inside(cwd, packageRoot) || process.env.npm_command !== undefined ? 'npx syncwright' : 'syncwright';
}

/** The comments of changes.sql's statements: what happened in the shop, in words. */
export function describeChanges(sql: string): string[] {
  return sql
    .split('\n')
    .filter((l) => !l.trimStart().startsWith('--') && l.includes('--'))
    .map((l) => l.slice(l.indexOf('--') + 2).trim());
}

async function onDatabase<T>(folder: string, work: (run: (sql: string) => Promise<Record<string, unknown>[][]>) => Promise<T>): Promise<T> {
  const s = await openPgliteSession(folder);
  try {
    return await work((sql) => s.script(sql));
  } finally {
    await s.close();
  }
}

export async function runDemo(io: Io): Promise<number> {
  const started = performance.now();
  const home = resolve(io.cwd, '.syncwright', 'demo');
  const folder = join(home, 'db');
  const build = join(home, 'build');
  // A path as the user can type it from here: relative under the working folder, else whole.
  const shown = (p: string) => (inside(io.cwd, p) ? relative(io.cwd, p) || '.' : p);
  const receiver: Receiver = await startReceiver();
  try {
    io.out(`syncwright demo: ${shown(project)} on an embedded database in ${shown(folder)}; the CRM's webhook is a local server at ${receiver.url}\n`);
    await onDatabase(folder, (run) => run(readFileSync(join(project, 'seed.sql'), 'utf8')));
    io.out(`Seeded shop.customers with 8 customers (${shown(join(project, 'seed.sql'))}).`);
    // The compiler's own lines are shown only if it fails.
    const said: string[] = [];
    const quiet: Io = { ...io, out: (t) => said.push(t), err: (t) => said.push(t) };
    const compiled = await compileProject({ paths: [project], out: build, format: 'text', strict: false }, quiet);
    if (!compiled) {
      io.err(said.join('\n'));
      return 1;
    }
    const plans = compiled.artifacts.map((a) => planInMemory(a, join(build, a.plan.sync.name, 'plan.json')));
    io.out(`Compiled ${compiled.manifest.syncs.map((s) => s.name).join(' and ')} into ${shown(build)}.\n`);

    const options: ExecOptions = execOptions({
      endpoints: { crm: receiver.url },
      sink: join(home, 'sink'),
      timeoutMs: 10_000,
      samples: 0,
      out: (t) => io.out(t),
    });
    let ok = true;
    const round = async (title: string): Promise<void> => {
      io.out(title);
      const before = receiver.received.length;
      const report: RunReport = await runPlans(plans, { byName: {}, folder, embedded: true }, options);
      ok &&= report.ok;
      for (const p of report.plans) io.out(planSummary(p).replace(/^/gm, '  '));
      const got = receiver.received.slice(before);
      const names = got.flatMap((r) => r.rows.map((row) => (row as { record?: { name?: string } }).record?.name ?? '?'));
      io.out(
        got.length
          ? `  The CRM received ${got.length} request${got.length === 1 ? '' : 's'} with ${names.length} new paying customer${names.length === 1 ? '' : 's'}: ${names.join(', ')}.`
          : '  The CRM received no request.',
      );
      const [[copy] = []] = await onDatabase(folder, (run) => run('SELECT count(*)::int AS n FROM crm.customers'));
      io.out(`  crm.customers holds ${String(copy?.n)} rows.\n`);
    };

    await round('1. First run: every customer is new.');
    const changes = readFileSync(join(project, 'changes.sql'), 'utf8');
    await onDatabase(folder, (run) => run(changes));
    await round(`2. After ${shown(join(project, 'changes.sql'))}: ${describeChanges(changes).join('; ')}.`);
    await round('3. Nothing changed since: nothing is written or sent.');
    const next = [commandFrom(io.cwd), 'run', shown(project), '--db', shown(folder), '--out', shown(build), '--dry-run']
      .map((w, i) => (i < 2 ? w : shellWord(w)))
      .join(' ');
    io.out(`Done in ${((performance.now() - started) / 1000).toFixed(1)} s. Next: change a row with your own SQL and see what would be sent, with\n  ${next}`);
    return ok ? 0 : 1;
  } finally {
    await receiver.close();
  }
}
