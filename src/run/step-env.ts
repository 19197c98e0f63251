/** What every step of one plan's run shares: the session, the variables calls captured, the options, the tallies. */
import { createHash, randomInt, randomUUID } from 'node:crypto';
import type { Plan, SessionSql } from '../contract/plan.js';
import type { ChangeKind, RateLimit, ReadStep } from '../contract/api-steps.js';
import type { Ledger } from './ledger.js';
import { silentProgress, type Progress } from './output/progress.js';
import { Redactor } from './output/redact.js';
import { maxListedRejections, type MaxRefused, type PlanReport, type RejectedRow } from './output/report.js';
import type { SqlSession } from './engines/sql-session.js';
import type { HeldLock } from './locks/sync-lock.js';
import type { Outlets } from './sinks/outlets.js';
import { outletsFor } from './sinks/services.js';
import { RateLimiter } from './http/rate-limit.js';
import type { RenderContext, RenderOptions } from './template.js';

export interface ExecOptions {
  /** Send nothing, commit nothing: count and show. */
  dryRun: boolean;
  /** Base URL overrides by destination name. */
  endpoints: Readonly<Record<string, string>>;
  /** Where storage objects and stream messages go: a folder, `-` for stdout, or undefined for the services themselves. */
  sink?: string;
  /** The object stores and producers of storage and streaming steps (by default as `sink` says). */
  outlets: Outlets;
  /** Requests in flight per send step (1 for ordered steps). */
  concurrency: number;
  timeoutMs: number;
  /** A Retry-After longer than this fails the rows instead of stalling. */
  maxRetryAfterMs: number;
  /**
   * The draw, from [0, 1), of each retry's jitter (a share of the plan's backoff ceiling):
   * Math.random. A test passes a small constant, so that its retries wait milliseconds.
   */
  jitter?: () => number;
  /** Rows per cursor fetch. */
  pageSize: number;
  /** Rendered payloads shown per step in a dry run. */
  samples: number;
  /** How long to wait for another run that holds a sync's lock (or the embedded database); 0: stop at once. */
  waitMs: number;
  /** A line for stderr: what the run is waiting for. */
  notice(text: string): void;
  /** Refused rows a plan may leave for its next run and still count as ok. */
  maxRefused: MaxRefused;
  env: NodeJS.ProcessEnv;
  /**
   * Where the run registers its secrets (the values of the environment variables its plans
   * name, credential headers as sent) for whoever prints or writes what it reports.
   */
  secrets: Redactor;
  /** Lines for stdout (dry-run payloads; `--sink -` without `sinkWrite`). */
  out(text: string): void;
  /**
   * `--sink -` to a pipe or a file: stdout as it is, no line break added, for the objects and
   * messages as a folder holds them, where `out` is the run's own words (secrets redacted,
   * controls escaped, a line at a time).
   */
  sinkWrite?: (text: string) => void;
  /** Resolves once stdout accepted what `out` wrote; rejects when it refused it (src/cli/output.ts). */
  flushed(): Promise<void>;
  progress: Progress;
  rateLimits: RateLimits;
}

/** Options for a run: the defaults of the command line (`syncwright run --help`), overridden. */
export function execOptions(overrides: Partial<ExecOptions>): ExecOptions {
  const out = overrides.out ?? (() => undefined);
  const flushed = overrides.flushed ?? (() => Promise.resolve());
  return {
    dryRun: false,
    concurrency: 4,
    timeoutMs: 30_000,
    maxRetryAfterMs: 15 * 60_000,
    pageSize: 1000,
    samples: 3,
    waitMs: 0,
    maxRefused: { value: 0, percent: false },
    env: {},
    secrets: new Redactor(),
    out,
    flushed,
    outlets: outletsFor(overrides.sink, out, flushed, overrides.sinkWrite),
    notice: () => undefined,
    progress: silentProgress,
    rateLimits: new RateLimits(),
    ...overrides,
    endpoints: byName(overrides.endpoints ?? {}),
  };
}

/**
 * A map of names without Object's prototype: a source or destination may be called
 * `constructor` or `__proto__`, which a plain object already has.
 */
export function byName<T>(values: Readonly<Record<string, T>>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, values);
}

/** Rate limits shared by every step and plan of one run that calls the same destination. */
export class RateLimits {
  private readonly map = new Map<string, RateLimiter>();

  /** The destination's (or target's) limiter, holding this limit's windows besides any it held already. */
  for(destination: string, target: string | undefined, limit: RateLimit | undefined): RateLimiter {
    const key = limit?.scope === 'target' ? `${destination}\u0000${target ?? ''}` : destination;
    let l = this.map.get(key);
    if (!l) {
      l = new RateLimiter();
      this.map.set(key, l);
    }
    if (limit) l.honour([limit, ...(limit.also ?? [])].map((w) => ({ requests: w.requests, ms: w.perSeconds * 1000 })));
    return l;
  }
}

export interface StepEnv {
  plan: Plan;
  /** SQL files by name. */
  files: ReadonlyMap<string, string>;
  session: SqlSession;
  options: ExecOptions;
  render: RenderOptions;
  vars: Record<string, unknown>;
  run: Record<string, unknown>;
  /** read.sql (as a query) and the plan's queries over it, once the read step has run. */
  read?: { query: string; queries: ReadStep['queries'] };
  /** The source's session statements (the plan's). */
  sql: SessionSql;
  ledger?: Ledger;
  report: PlanReport;
  /** No row refused so far (an `accept` step with `when: all_accepted` needs it). */
  allAccepted: boolean;
  /** The change kinds of each `deferAccept` step that ran: recorded before the commit if all was accepted. */
  deferred: ChangeKind[][];
  /** The sync's lock, once taken (a dry run beside real runs takes none): checked before each write. */
  lock?: HeldLock;
}

/** The `run` values templates see: fixed for the whole run. */
export function runValues(now: Date): Record<string, unknown> {
  return { id: randomUUID(), session: randomInt(1, 2 ** 48), timestamp: now.toISOString(), epoch_ms: now.getTime() };
}

export function sqlFile(env: StepEnv, file: string): string {
  const text = env.files.get(file);
  if (text === undefined) throw new Error(`the plan names ${file}, which is not beside it`);
  return text;
}

export function baseContext(env: StepEnv): RenderContext {
  return { vars: env.vars, run: env.run };
}

/** The batch values templates see (`batch.index`, `batch.idempotency_key`, ...). */
export function batchValues(rows: readonly { idempotency_key?: unknown }[], seq: number, last: boolean, total: number): Record<string, unknown> {
  const key = createHash('sha256')
    .update(rows.map((r) => String(r.idempotency_key ?? '')).join('\n'))
    .digest('hex');
  return { index: seq, last, rows: rows.length, total_rows: total, idempotency_key: key };
}

export function noteRefusals(env: StepEnv, rows: Omit<RejectedRow, 'operation'>[], operation: string): void {
  if (!rows.length) return;
  env.allAccepted = false;
  env.report.rejectedTotal += rows.length;
  const room = maxListedRejections - env.report.rejected.length;
  for (const r of rows.slice(0, Math.max(0, room))) env.report.rejected.push({ ...r, operation });
}
