/**
 * plan.json: the execution plan of one sync, the published contract with executors
 * (schemas/plan.schema.json describes it field by field). Steps run in order; SQL steps name
 * their file relative to the plan's folder.
 */
import type { Dialect, ResolvedValue } from '../check/model.js';
import type { WarehouseStep } from './warehouse-steps.js';
import type { ApiStep } from './api-steps.js';

export const planVersion = 1;

export interface PlanEndpoint {
  name: string;
  dialect?: Dialect;
  /** Postgres major version the SQL was generated for. */
  version?: number;
  /** Connection settings; secrets appear only as `{ "env": "NAME" }`. */
  settings: Record<string, ResolvedValue>;
}

export interface Plan {
  $schema: string;
  planVersion: typeof planVersion;
  sync: {
    name: string;
    kind: 'record' | 'audience';
    mode: string;
    file: string;
    line: number;
    schedule?: string;
  };
  source: PlanEndpoint;
  destination: PlanEndpoint & { type: string; category: string; objectKind?: string; target?: string[] };
  steps: PlanStep[];
}

export type PlanStep = WarehouseStep | ApiStep;

/** What compiling one sync produces: its plan and the files the plan names. */
export interface SyncArtifacts {
  plan: Plan;
  /** File name (relative to the sync's folder) -> content, in the order the plan runs them. */
  files: { name: string; content: string }[];
}
