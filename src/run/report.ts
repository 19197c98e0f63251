/** The run report: what `--report FILE` writes and what the command line summarises. */
import type { Json } from './template.js';

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

export interface RejectedRow {
  key: string | null;
  change: string;
  operation: string;
  reason: string;
  /** rejected: the destination refused it; failed: it could not be delivered. Either way it is sent again next run. */
  fate: 'rejected' | 'failed';
}

export type PlanStatus = 'ok' | 'rejected' | 'failed';

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
  startedAt: string;
  ms: number;
}

export interface RunReport {
  reportVersion: 1;
  startedAt: string;
  ms: number;
  ok: boolean;
  plans: PlanReport[];
}

/** Refused rows listed per plan; the rest are counted. */
export const maxListedRejections = 1000;

export function statusOf(r: Pick<PlanReport, 'error' | 'rejectedTotal'>): PlanStatus {
  return r.error !== undefined ? 'failed' : r.rejectedTotal > 0 ? 'rejected' : 'ok';
}

export function runReport(plans: PlanReport[], startedAt: Date, ms: number): RunReport {
  return { reportVersion: 1, startedAt: startedAt.toISOString(), ms: Math.round(ms), ok: plans.every((p) => p.status === 'ok'), plans };
}
