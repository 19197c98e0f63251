/**
 * `syncwright run [paths..]`: compile (in memory, and into --out when given) and run the
 * plans, or run compiled plans with `--plan`. Every option is checked before anything runs (a bad one is a usage
 * error, exit 2); what the run prints or writes passes through one redaction of its secrets
 * and one escaping of terminal controls. Exit codes: `runExitCodes`.
 */
import { accessSync, constants, statSync, writeFileSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { compileProject } from './compile-command.js';
import { readWholeFile } from '../whole-file.js';
import type { Build } from '../index.js';
import { UsageError } from '../files.js';
import type { Io } from './output.js';
import type { OutputFormat } from '../diagnostics/render.js';
import {
  byName,
  execOptions,
  loadPlan,
  planInMemory,
  runPlans,
  type Databases,
  type LoadedPlan,
  type ExecOptions,
  type MaxRefused,
  type PlanStatus,
  type RunReport,
} from '../run/index.js';
import { defaultDbFolder } from '../run/engines/pglite-session.js';
import { urlFilePassword } from '../run/engines/pg-settings.js';
import { cleanProgress, lineProgress, terminalProgress } from '../run/output/progress.js';
import { Redactor } from '../run/output/redact.js';
import { stringifyJson } from '../run/exact-json.js';
import { jsonText, printable } from '../printable.js';
import { planSummary, runSummary } from '../run/output/summary.js';

/**
 * What the exit code of `run` says, in the README's table. When syncs end differently the
 * highest code wins: a failure over a guard, a guard over a held lock, a held lock over refused rows.
 */
export const runExitCodes = {
  /** Every row accepted (or the refused ones within --max-refused). */
  ok: 0,
  /** Errors in the .sync files: nothing ran. */
  errors: 1,
  /** A usage error (a bad option) or an I/O error: nothing ran, or the report could not be written. */
  usage: 2,
  /** Rows were refused beyond --max-refused; they are sent again by the next run. */
  refused: 3,
  /** Another run holds the sync (or the embedded database): this run did nothing. */
  busy: 4,
  /** A guard stopped a sync: nothing was sent or changed. */
  guarded: 5,
  /** A step failed (what was accepted before it is committed), or syncwright itself failed. */
  failed: 6,
} as const;

export interface RunOptions {
  paths: string[];
  syncs: string[];
  /** With `syncs` and no `out`: the check resumes from the check's cache and keeps it (src/cli/check-cache.ts); default true. */
  cache?: boolean;
  plans: string[];
  /** Where to keep the compiled plans; undefined: a private folder, removed after the run. */
  out?: string;
  format: OutputFormat;
  strict: boolean;
  /** The dbt target (see check). */
  target?: string;
  postgresVersion?: number;
  databases: string[];
  db?: string;
  endpoints: string[];
  sink?: string;
  dryRun: boolean;
  report?: string;
  concurrency: number;
  timeoutSeconds: number;
  waitSeconds: number;
  maxRefused: string;
}

/**
 * `NAME=VALUE` pairs; a value with no name (a bare URL) goes under ''. A name given twice is refused: either could be the one meant.
 * Without Object's prototype (`byName`), so that `constructor` is not found given already.
 */
export function namedValues(values: readonly string[], what: string): Record<string, string> {
  const out = byName<string>({});
  for (const v of values) {
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)=(.+)$/.exec(v);
    const name = m ? (m[1] as string) : /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? '' : undefined;
    if (name === undefined) throw new UsageError(`${what} takes NAME=URL or a URL, not ${JSON.stringify(v.replace(/:\/\/[^@/]*@/, '://***@'))}`);
    if (name in out) throw new UsageError(name ? `${what} names ${name} twice` : `${what} gives two URLs without a name`);
    out[name] = m ? (m[2] as string) : v;
  }
  return out;
}

/** A URL of one of the schemes, or a usage error naming the option (never the URL: it may hold a password). */
function checkUrl(value: string, schemes: readonly string[], what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${what} is not a URL`);
  }
  if (!schemes.includes(url.protocol))
    throw new UsageError(`${what} must be a ${schemes.map((s) => s.replace(/:$/, '://')).join(' or ')} URL, not ${url.protocol}//`);
  return url;
}

function checkNumber(value: number, what: string, min: number, max: number, integer: boolean): number {
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new UsageError(`${what} takes ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, not ${Number.isNaN(value) ? 'that' : value}`);
  }
  return value;
}

/** `--max-refused N` or `N%`. */
export function parseMaxRefused(text: string): MaxRefused {
  const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(text.trim());
  if (!m) throw new UsageError(`--max-refused takes a count of rows (5) or a percentage (0.5%), not ${JSON.stringify(text)}`);
  const percent = m[2] === '%';
  const value = Number(m[1]);
  if (percent) checkNumber(value, '--max-refused', 0, 100, false);
  else checkNumber(value, '--max-refused', 0, Number.MAX_SAFE_INTEGER, true);
  return { value, percent };
}

/** A file the run can write at its end: its folder exists and is writable, and it is not a folder. */
function checkWritableFile(path: string, what: string): void {
  const problem = (why: string) => new UsageError(`${what} ${path}: ${why}`);
  let st: Stats;
  try {
    st = statSync(dirname(path));
  } catch {
    throw problem('its folder does not exist');
  }
  if (!st.isDirectory()) throw problem('its folder is not a folder');
  try {
    accessSync(dirname(path), constants.W_OK);
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) throw problem('it is a folder');
    if (statSync(path, { throwIfNoEntry: false })) accessSync(path, constants.W_OK);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw problem('not writable');
  }
}

/** A folder the run may create or fill: if it exists, it is a folder. */
function checkFolder(path: string, what: string): void {
  if (statSync(path, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`${what} ${path} is a file, not a folder`);
}

interface Checked {
  databases: Record<string, string>;
  endpoints: Record<string, string>;
  maxRefused: MaxRefused;
  report?: string;
}

/** Every option, checked before anything runs: a bad one is a usage error, not a failure midway. */
function checkOptions(opts: RunOptions, io: Io): Checked {
  checkNumber(opts.concurrency, '--concurrency', 1, 1000, true);
  checkNumber(opts.timeoutSeconds, '--timeout', 0.001, 3600, false);
  checkNumber(opts.waitSeconds, '--wait', 0, 86_400, false);
  const maxRefused = parseMaxRefused(opts.maxRefused);
  const databases = namedValues(opts.databases, '--database');
  for (const [name, url] of Object.entries(databases)) checkUrl(url, ['postgres:', 'postgresql:'], name ? `--database ${name}=` : '--database');
  if (databases[''] === undefined && process.env.DATABASE_URL) checkUrl(process.env.DATABASE_URL, ['postgres:', 'postgresql:'], 'DATABASE_URL');
  const endpoints = namedValues(opts.endpoints, '--endpoint');
  if (endpoints['']) throw new UsageError(`--endpoint takes NAME=URL, the destination's name first`);
  for (const [name, value] of Object.entries(endpoints)) {
    const url = checkUrl(value, ['http:', 'https:'], `--endpoint ${name}=`);
    // An override keeps its origin and path alone (overrideBase, src/run/http/request.ts): credentials or a query would be dropped, credentials shown where the address is.
    if (url.username || url.password)
      throw new UsageError(
        `--endpoint ${name}= has credentials in its URL, which the run would drop and show where it names the address: give them through the destination's settings (env("X"))`,
      );
    if (url.search || url.hash)
      throw new UsageError(
        `--endpoint ${name}= has a query or fragment, which the run would drop: it keeps the URL's scheme, host and path, and each request's own query`,
      );
  }
  if (opts.plans.length && opts.syncs.length) throw new UsageError('--sync picks from compiled .sync files; with --plan, name the plans to run');
  if (opts.db !== undefined) checkFolder(resolve(io.cwd, opts.db), '--db');
  if (opts.sink !== undefined && opts.sink !== '-') checkFolder(resolve(io.cwd, opts.sink), '--sink');
  const report = opts.report === undefined ? undefined : resolve(io.cwd, opts.report);
  if (report) checkWritableFile(report, '--report');
  return { databases, endpoints, maxRefused, ...(report ? { report } : {}) };
}

/** The compiled plans in the manifest's order, narrowed to `--sync` names (each a sync of the project: `compileProject`); each named by where it is (or would be) written. */
function plansOf(build: Build, syncs: readonly string[], out: string | undefined): LoadedPlan[] {
  const bySync = new Map(build.artifacts.map((a) => [a.plan.sync.name, a]));
  return build.manifest.syncs
    .filter((s) => !syncs.length || syncs.includes(s.name))
    .map((s) => planInMemory(bySync.get(s.name)!, out === undefined ? s.plan : join(out, s.plan)));
}

function planExitCode(status: PlanStatus, refusedWithinLimit: boolean): number {
  switch (status) {
    case 'ok':
      return runExitCodes.ok;
    case 'rejected':
      return refusedWithinLimit ? runExitCodes.ok : runExitCodes.refused;
    case 'busy':
    case 'guarded':
    case 'failed':
      return runExitCodes[status];
  }
}

export function exitCodeOf(report: RunReport): number {
  return Math.max(runExitCodes.ok, ...report.plans.map((p) => planExitCode(p.status, p.refusedWithinLimit === true)));
}

export async function runRun(opts: RunOptions, io: Io): Promise<number> {
  const checked = checkOptions(opts, io);
  if (opts.plans.length)
    return execute(
      opts.plans.map((p) => resolve(io.cwd, p)),
      opts,
      checked,
      io,
    );
  // Compiled in memory, and written only where --out names a folder: runs of different syncs
  // never wait for each other's compile. Compile output is for the record, not for stdout,
  // which carries the run's results.
  const quiet: Io = { ...io, out: (t) => io.err(t) };
  const build = await compileProject(
    {
      paths: opts.paths,
      format: opts.format,
      strict: opts.strict,
      ...(opts.target ? { target: opts.target } : {}),
      ...(opts.out === undefined ? {} : { out: opts.out }),
      ...(opts.postgresVersion ? { postgresVersion: opts.postgresVersion } : {}),
      syncs: opts.syncs,
      cache: opts.cache,
    },
    quiet,
  );
  if (!build) return runExitCodes.errors;
  return execute(plansOf(build, opts.syncs, opts.out === undefined ? undefined : resolve(io.cwd, opts.out)), opts, checked, io, build.endpoints);
}

/**
 * Which endpoints each override applies to, by the engine or type the plans give them; what
 * to use for the others. The run reads `--database` for Postgres sessions only, and `--endpoint`
 * everywhere else but Kafka, which its `brokers` setting points.
 */
type Override = '--database' | '--endpoint';
const overrides: Record<Override, { applies(engine: string): boolean; otherwise: string }> = {
  '--database': { applies: (e) => e === 'postgres', otherwise: 'it names Postgres sources and destinations; --endpoint points others elsewhere' },
  '--endpoint': {
    applies: (e) => e !== 'postgres' && e !== 'kafka',
    otherwise: "a Postgres one takes --database NAME=URL, and a Kafka one's brokers setting says where it sends",
  },
};

/**
 * Every NAME of `--endpoint NAME=URL` and `--database NAME=URL` must be a source or destination
 * of the project (of the plans run, and of the manifest beside each plan's folder), and one the
 * option applies to: a misspelt name, or one of another kind, would leave that endpoint's rows
 * going to its real address, or its SQL to the default database. A plan that cannot be read
 * stays a path: the run fails it.
 */
function checkNames(
  plans: readonly (string | LoadedPlan)[],
  declared: readonly string[],
  named: readonly [Override, Record<string, string>][],
): (string | LoadedPlan)[] {
  const loaded = plans.map((p) => {
    if (typeof p !== 'string') return p;
    try {
      return loadPlan(p);
    } catch {
      return p;
    }
  });
  // Each name, with its engine or type where a plan or a manifest says it (the outline of .sync files does not).
  const known = new Map<string, string | undefined>(declared.map((name) => [name, undefined]));
  const add = (name: string, engine: string | undefined) => known.set(name, engine ?? known.get(name));
  for (const [i, p] of loaded.entries()) {
    if (typeof p === 'string') continue;
    add(p.plan.source.name, p.plan.source.dialect);
    add(p.plan.destination.name, p.plan.destination.type);
    // A plan compiled in memory has a path relative to a folder never written: `declared` has its project's names.
    if (typeof plans[i] === 'string')
      for (const s of manifestBeside(p.path)) {
        add(s.source.name, typeof s.source.dialect === 'string' ? s.source.dialect : undefined);
        add(s.destination.name, typeof s.destination.type === 'string' ? s.destination.type : undefined);
      }
  }
  const unread = loaded.filter((p) => typeof p === 'string').length;
  for (const [option, values] of named)
    for (const name of Object.keys(values)) {
      if (name === '') continue;
      if (!known.has(name))
        throw new UsageError(
          `${option} ${name}=: the project has no source or destination named ${name}; it has ${[...known.keys()].sort().join(', ') || 'none'}${unread ? ` (${unread} plan${unread === 1 ? '' : 's'} could not be read)` : ''}`,
        );
      const engine = known.get(name);
      const rule = overrides[option];
      if (engine !== undefined && !rule.applies(engine))
        throw new UsageError(`${option} ${name}=: ${name} is ${engine}, which ${option} does not point elsewhere: ${rule.otherwise}`);
    }
  return loaded;
}

/** The syncs of the manifest.json of the build a plan.json is in (`<build>/<sync>/plan.json`); none when there is none to read. */
function manifestBeside(plan: string): { source: { name: string; dialect?: unknown }; destination: { name: string; type?: unknown } }[] {
  try {
    const m = JSON.parse(readWholeFile(join(dirname(dirname(plan)), 'manifest.json'))) as { syncs?: unknown };
    return Array.isArray(m.syncs) ? m.syncs.filter((s) => typeof s?.source?.name === 'string' && typeof s?.destination?.name === 'string') : [];
  } catch {
    return [];
  }
}

async function execute(given: (string | LoadedPlan)[], opts: RunOptions, checked: Checked, io: Io, declared: readonly string[] = []): Promise<number> {
  const { databases, endpoints, maxRefused } = checked;
  const plans = checkNames(given, declared, [
    ['--endpoint', endpoints],
    ['--database', databases],
  ]);
  const fallback = databases[''] ?? process.env.DATABASE_URL;
  const dbs: Databases = {
    ...(fallback ? { default: fallback } : {}),
    byName: Object.fromEntries(Object.entries(databases).filter(([k]) => k !== '')),
    folder: resolve(io.cwd, opts.db ?? defaultDbFolder('.')),
    ...(opts.db === undefined ? {} : { embedded: true }),
  };
  const secrets = new Redactor();
  for (const url of [fallback, ...Object.values(dbs.byName)]) {
    if (!url) continue;
    const password = new URL(url).password;
    secrets.add(password);
    secrets.add(decodeURIComponent(password));
    // A URL without one: \`pg\` sends PGPASSWORD's (below) or the password file's, which it reads itself.
    secrets.add(await urlFilePassword(url, process.env));
  }
  secrets.add(process.env.PGPASSWORD);
  // The one way out for what the run says: secrets redacted, terminal controls escaped.
  const clean = (t: string) => printable(secrets.redact(t));
  const say: Io = { ...io, out: (t) => io.out(clean(t)), err: (t) => io.err(clean(t)) };
  const tty = process.stderr.isTTY === true;
  const options: ExecOptions = execOptions({
    dryRun: opts.dryRun,
    endpoints,
    ...(opts.sink === undefined ? {} : { sink: opts.sink === '-' ? '-' : resolve(io.cwd, opts.sink) }),
    concurrency: opts.concurrency,
    timeoutMs: opts.timeoutSeconds * 1000,
    waitMs: opts.waitSeconds * 1000,
    maxRefused,
    env: process.env,
    secrets,
    out: (t) => say.out(t),
    // --sink - delivers data: to a pipe or file byte for byte (redacting a value that equals a variable's, escaping controls or line ends changed the rows, and they were committed); to a terminal, line by line as all the run shows.
    ...(process.stdout.isTTY !== true && io.write ? { sinkWrite: io.write } : {}),
    ...(io.flushed ? { flushed: io.flushed } : {}),
    notice: (t) => say.err(t),
    progress: cleanProgress(tty ? terminalProgress((t) => process.stderr.write(t)) : lineProgress((t) => io.err(t)), clean),
  });
  let report: RunReport;
  try {
    report = await runPlans(plans, dbs, options, (r) => say.out(planSummary(r)));
  } catch (e) {
    say.err(`syncwright: internal error: ${(e as Error).stack ?? String(e)}`);
    return runExitCodes.failed;
  }
  report.exitCode = exitCodeOf(report);
  say.err(runSummary(report));
  if (checked.report) {
    try {
      writeFileSync(checked.report, `${jsonText(stringifyJson(secrets.redactValues(report), 2))}\n`);
    } catch (e) {
      say.err(`syncwright: cannot write the report to ${checked.report}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return runExitCodes.usage;
    }
  }
  return report.exitCode;
}
