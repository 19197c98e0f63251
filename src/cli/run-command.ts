/**
 * `syncwright run [paths..]`: compile (as `compile` does) and run the plans, or run compiled
 * plans with `--plan`. Exit 0 when every row was accepted, 1 when a row was refused or a
 * step failed, 2 for a usage error.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { runCompile } from './compile-command.js';
import { UsageError } from './files.js';
import type { Io } from './output.js';
import type { OutputFormat } from '../diagnostics/render.js';
import { Buckets, runPlans, type Databases, type ExecOptions } from '../run/index.js';
import { defaultDbFolder } from '../run/pglite-session.js';
import { lineProgress, terminalProgress } from '../run/progress.js';
import { planSummary, runSummary } from '../run/summary.js';

export interface RunOptions {
  paths: string[];
  syncs: string[];
  plans: string[];
  out: string;
  format: OutputFormat;
  strict: boolean;
  postgresVersion?: number;
  databases: string[];
  db?: string;
  endpoints: string[];
  sink?: string;
  dryRun: boolean;
  report?: string;
  concurrency: number;
  timeoutSeconds: number;
}

/** `NAME=VALUE` pairs; a value with no name (a bare URL) goes under ''. */
export function namedValues(values: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)=(.+)$/.exec(v);
    if (m) out[m[1] as string] = m[2] as string;
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) out[''] = v;
    else throw new UsageError(`${what} takes NAME=URL or a URL: ${v}`);
  }
  return out;
}

/** The plans named by a compiled manifest, narrowed to `--sync` names. */
function plansFromManifest(out: string, syncs: readonly string[]): string[] {
  const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { syncs: { name: string; plan: string }[] };
  const names = manifest.syncs.map((s) => s.name);
  const unknown = syncs.filter((s) => !names.includes(s));
  if (unknown.length) throw new UsageError(`no sync named ${unknown.join(', ')}; the project has ${names.join(', ') || 'none'}`);
  return manifest.syncs.filter((s) => !syncs.length || syncs.includes(s.name)).map((s) => join(out, s.plan));
}

export async function runRun(opts: RunOptions, io: Io): Promise<number> {
  const databases = namedValues(opts.databases, '--database');
  const endpoints = namedValues(opts.endpoints, '--endpoint');
  if (endpoints['']) throw new UsageError(`--endpoint takes NAME=URL, the destination's name first: ${endpoints['']}`);
  let plans = opts.plans.map((p) => resolve(io.cwd, p));
  if (!plans.length) {
    // Compile output is for the record, not for stdout, which carries the run's results.
    const quiet: Io = { ...io, out: (t) => io.err(t) };
    const code = await runCompile({ paths: opts.paths, out: opts.out, format: opts.format, strict: opts.strict, ...(opts.postgresVersion ? { postgresVersion: opts.postgresVersion } : {}) }, quiet);
    if (code !== 0) return code;
    plans = plansFromManifest(resolve(io.cwd, opts.out), opts.syncs);
  } else if (opts.syncs.length) {
    throw new UsageError('--sync picks from compiled .sync files; with --plan, name the plans to run');
  }
  const fallback = databases[''] ?? process.env.DATABASE_URL;
  const dbs: Databases = {
    ...(fallback ? { default: fallback } : {}),
    byName: Object.fromEntries(Object.entries(databases).filter(([k]) => k !== '')),
    folder: resolve(io.cwd, opts.db ?? defaultDbFolder('.')),
  };
  const tty = process.stderr.isTTY === true;
  const options: ExecOptions = {
    dryRun: opts.dryRun,
    endpoints,
    sink: opts.sink === '-' ? '-' : resolve(io.cwd, opts.sink ?? join('.syncwright', 'sink')),
    concurrency: Math.max(1, opts.concurrency),
    timeoutMs: opts.timeoutSeconds * 1000,
    maxRetryAfterMs: 15 * 60_000,
    pageSize: 1000,
    samples: 3,
    env: process.env,
    out: (t) => io.out(t),
    progress: tty ? terminalProgress((t) => process.stderr.write(t)) : lineProgress((t) => io.err(t)),
    buckets: new Buckets(),
  };
  const report = await runPlans(plans, dbs, options, (r) => io.out(planSummary(r)));
  io.err(runSummary(report));
  if (opts.report) writeFileSync(resolve(io.cwd, opts.report), `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}
