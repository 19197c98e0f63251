/**
 * plan.json: the execution plan of one sync, the published contract with executors
 * (schemas/plan.schema.json describes it field by field). Steps run in order; SQL steps name
 * their file relative to the plan's folder.
 */
import type { Dialect } from './dialect-names.js';
import type { TargetColumn, WarehouseStep } from './warehouse-steps.js';
import type { ApiStep } from './api-steps.js';

/** The `$schema` of every plan.json: the `$id` of schemas/plan.schema.json. */
export const planSchemaId = 'https://syncwright.dev/schemas/plan.v1.json';
export const planVersion = 1;

/** A setting value after checking: a secret is carried as the name of its variable, never its value. */
export type ResolvedValue = string | number | boolean | { env: string } | { path: string[] };

export interface PlanEndpoint {
  name: string;
  dialect?: Dialect;
  /** Postgres major version the SQL was generated for. */
  version?: number;
  /** Connection settings; secrets appear only as `{ "env": "NAME" }`. */
  settings: Record<string, ResolvedValue>;
}

export interface Plan {
  $schema: typeof planSchemaId;
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
  /** `columns`: of a warehouse target, the columns its script writes (executors check them before running it). */
  destination: PlanEndpoint & { type: string; category: string; objectKind?: string; target?: string[]; columns?: TargetColumn[] };
  lock: PlanLock;
  steps: PlanStep[];
}

/**
 * The lock a run holds from its first statement to its last, so that one run of a sync at a
 * time reads and writes its state: on Postgres, a session-level advisory lock on `key` in the
 * session of `on` (a warehouse sync's script also takes it for its transaction, so a psql run
 * and an executor's run queue up behind each other).
 */
export interface PlanLock {
  /** A signed 64-bit integer, as decimal text (JSON numbers lose its low digits). */
  key: string;
  on: 'source' | 'destination';
}

export type PlanStep = WarehouseStep | ApiStep;

/** What compiling one sync produces: its plan and the files the plan names. */
export interface SyncArtifacts {
  plan: Plan;
  /** File name (relative to the sync's folder) -> content, in the order the plan runs them. */
  files: { name: string; content: string }[];
}
