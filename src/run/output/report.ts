/** The run report: what `--report FILE` writes and what the command line summarises. */
import type { Json } from '../template.js';

export interface StepReport {
  kind: string;
  /** The send step's operation (upsert, archive, ...), else the step kind. */
  operation: string;
  description: string;
  /** Rows the step took from the change set. */
  rows: number;
  accepted: number;
  rejected: number;
  failed: number;
  requests: number;
  retries: number;
  ms: number;
  /** A few rendered payloads (dry run). */
  samples?: Json[];
  /** The last statement's rows of a SQL step (the warehouse summary). */
  result?: Record<string, unknown>[];
  /** Where a sink wrote. */
  wrote?: string[];
  /** Why the step did not run (its `when` did not hold). */
  skipped?: string;
}

/** A step's report before it has done anything: every count zero. */
export function stepReport(kind: string, operation: string, description: string, rows = 0): StepReport {
  return { kind, operation, description, rows, accepted: 0, rejected: 0, failed: 0, requests: 0, retries: 0, ms: 0 };
}

export interface RejectedRow {
  key: string | null;
  change: string;
  operation: string;
  reason: string;
  /** rejected: the destination refused it; failed: it could not be delivered. Either way it is sent again next run. */
  fate: 'rejected' | 'failed';
}

/**
 * How a plan's run ended: every row accepted; some refused (sent again next run); stopped by
 * a guard, changing nothing; not run because another run holds the sync; or failed midway
 * (what was accepted before is committed).
 */
export type PlanStatus = 'ok' | 'rejected' | 'guarded' | 'busy' | 'failed';

export interface PlanReport {
  sync: string;
  plan: string;
  destination: { name: string; type: string };
  mode: string;
  dryRun: boolean;
  status: PlanStatus;
  error?: string;
  /** Why the plan was not run (a warehouse sync in a dry run). */
  skipped?: string;
  /** The change set's summary row (API plans). */
  changes?: Record<string, number>;
  steps: StepReport[];
  /** Accepted rows per operation. */
  operations: Record<string, number>;
  /** Rows committed to the snapshot. */
  committed: number;
  rejected: RejectedRow[];
  /** All refused rows, when more than the report lists. */
  rejectedTotal: number;
  /** Rows were refused, but no more than `--max-refused` allows: the run counts as ok. */
  refusedWithinLimit?: boolean;
  /** What the run did not stop for but someone should know (a lookup that found several objects of one name). */
  warnings?: string[];
  startedAt: string;
  ms: number;
}

export interface RunReport {
  reportVersion: 1;
  startedAt: string;
  ms: number;
  /** Every plan ok, or its refused rows within `--max-refused`. */
  ok: boolean;
  /** The command line's exit code (README, "Exit codes"), set by it. */
  exitCode?: number;
  plans: PlanReport[];
}

/** Refused rows listed per plan; the rest are counted. */
export const maxListedRejections = 1000;

/** `--max-refused`: how many refused rows a plan may leave for the next run and still count as ok. */
export interface MaxRefused {
  value: number;
  /** `value` is a percentage of the rows the plan's delivering steps took. */
  percent: boolean;
}

const delivering = new Set(['send', 'publish', 'write_object']);

export function refusedWithinLimit(r: Pick<PlanReport, 'rejectedTotal' | 'steps'>, max: MaxRefused): boolean {
  if (!max.percent) return r.rejectedTotal <= max.value;
  const tried = r.steps.reduce((n, s) => n + (delivering.has(s.kind) ? s.rows : 0), 0);
  return r.rejectedTotal * 100 <= max.value * tried;
}

/** The status of a plan that ran to its end (a stop sets its own). */
export function statusOf(r: Pick<PlanReport, 'rejectedTotal'>): PlanStatus {
  return r.rejectedTotal > 0 ? 'rejected' : 'ok';
}

export function runReport(plans: PlanReport[], startedAt: Date, ms: number): RunReport {
  const ok = plans.every((p) => p.status === 'ok' || (p.status === 'rejected' && p.refusedWithinLimit === true));
  return { reportVersion: 1, startedAt: startedAt.toISOString(), ms: Math.round(ms), ok, plans };
}
