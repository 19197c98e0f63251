/**
 * Running compiled fixture plans against scratch databases and the fake APIs, in process
 * (the executor's library entry) or as the real command line in a child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCompile } from '../../src/cli/compile-command.js';
import type { Io } from '../../src/cli/output.js';
import { main } from '../../src/cli/main.js';
import { execOptions as runOptions, runPlans, type ExecOptions, type PlanReport } from '../../src/run/index.js';
import { openPgliteSession } from '../../src/run/engines/pglite-session.js';
import { openPgSession } from '../../src/run/engines/pg-session.js';
import type { SqlSession } from '../../src/run/engines/sql-session.js';
import { afterAll, beforeAll, describe } from 'vitest';
import type { FakeApi } from './fake-api.js';
import { scratchEngines, scratchFolder, type ScratchDb } from './scratch-db.js';

export const repoRoot = join(import.meta.dirname, '..', '..');

/** Compiles a fixture project into a fresh folder; throws with the diagnostics when it fails. */
export async function compileFixture(project: string, postgresVersion?: number): Promise<string> {
  const out = join(scratchFolder('syncwright-build-').dir, 'build');
  const lines: string[] = [];
  const io: Io = { out: (t) => lines.push(t), err: (t) => lines.push(t), colour: false, cwd: repoRoot };
  const code = await runCompile({ paths: [project], out, format: 'text', strict: false, ...(postgresVersion ? { postgresVersion } : {}) }, io);
  if (code !== 0) throw new Error(`compiling ${project} failed:\n${lines.join('\n')}`);
  return out;
}

export function openDb(db: ScratchDb): Promise<SqlSession> {
  return db.url ? openPgSession(db.url) : openPgliteSession(db.folder);
}

/** Runs SQL on the scratch database in a session of its own, closed at once (the embedded one admits one at a time). */
export async function sql(db: ScratchDb, script: string): Promise<Record<string, unknown>[][]> {
  const s = await openDb(db);
  try {
    return await s.script(script);
  } finally {
    await s.close();
  }
}

/**
 * The command line's options for tests: a fresh sink, smaller pages, and retries that wait a
 * twentieth of the plan's backoff ceiling (the tests count retries, not seconds; a plan's 1 s
 * doubling would spend seconds of the suite on each failing request). A request's deadline is
 * the command line's own (30 s): a short one times out answers a loaded machine is slow to
 * give, and the retry makes the counts a test asserts wrong. A test of a request that never
 * answers gives a short one of its own.
 */
export function execOptions(overrides: Partial<ExecOptions> = {}): ExecOptions {
  return runOptions({
    sink: scratchFolder('syncwright-sink-').dir,
    maxRetryAfterMs: 60_000,
    pageSize: 500,
    jitter: () => 0.05,
    ...overrides,
  });
}

/** Compiles .sync text written to a fresh folder. */
export async function compileText(text: string, postgresVersion?: number): Promise<string> {
  const dir = scratchFolder('syncwright-project-').dir;
  writeFileSync(join(dir, 'project.sync'), text);
  return compileFixture(dir, postgresVersion);
}

/** Runs one compiled sync in process and returns its report. */
export async function runSync(db: ScratchDb, build: string, sync: string, options: Partial<ExecOptions> = {}): Promise<PlanReport> {
  const report = await runPlans(
    [join(build, sync, 'plan.json')],
    { ...(db.url ? { default: db.url } : {}), byName: {}, folder: db.folder ?? '', embedded: !db.url },
    execOptions(options),
  );
  return report.plans[0] as PlanReport;
}

/** The command line in a child process, as a scheduler would start it. */
export function spawnRun(db: ScratchDb, args: string[], env: Record<string, string>): ChildProcess {
  const dbArgs = db.url ? ['--database', db.url] : ['--db', db.folder as string];
  return spawn(process.execPath, [join(repoRoot, 'bin', 'syncwright.js'), 'run', ...dbArgs, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Resolves when the child has exited, with its code or signal and output. */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/**
 * Resolves once `condition` holds, checked every 20 ms. What it waits for is the work of another
 * process or server, which a busy machine slows many times over: it gives up only short of the
 * test's own timeout (vitest.config.ts), so that the failure says what was waited for.
 */
export async function until(condition: () => boolean, timeoutMs = 240_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The engine an API destination's tests keep their change set on: the PostgreSQL server where
 * the tests have one, else the embedded database. What such a file tests (requests, retries,
 * refusals, lists) does not depend on the engine, and the embedded one costs several times the
 * CPU; every destination's change set runs on the embedded database in run-destinations, and on
 * both in run-hubspot and run-crash.
 */
const apiEngines = scratchEngines.length > 1 ? scratchEngines.filter((e) => e.name !== 'pglite') : scratchEngines;

/**
 * The tests of an API destination on its engine (`apiEngines`): its database seeded with `seed`
 * and `start`'s service started before the tests, both closed after. `db()` and `service()` give
 * them to the tests.
 */
export function perEngine<S extends { api: FakeApi }>(
  title: string,
  seed: string,
  start: () => Promise<S>,
  tests: (t: { db: () => ScratchDb; service: () => S }) => void,
): void {
  for (const engine of apiEngines) {
    describe(`${title} [${engine.name}]`, () => {
      let db: ScratchDb | undefined;
      let service: S | undefined;
      beforeAll(async () => {
        db = await engine.open();
        await sql(db, seed);
        service = await start();
      });
      afterAll(async () => {
        await service?.api.close();
        await db?.drop();
      });
      tests({ db: () => db!, service: () => service! });
    });
  }
}

/** `syncwright ARGV` in this process, with these environment variables set for its duration, in folder `cwd`. */
export async function cli(argv: string[], env: Record<string, string> = {}, cwd = process.cwd()): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), colour: false, cwd };
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return { code: await main(argv, io), out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
