/**
 * plan.json: the execution plan of one sync, the published contract with executors
 * (schemas/plan.schema.json describes it field by field). Steps run in order; SQL steps name
 * their file relative to the plan's folder.
 */
import { hash } from 'node:crypto';
import type { CheckedSync, Dialect, ResolvedValue } from '../check/model.js';
import { getDialect } from '../dialect/index.js';
import type { PlanOptions } from './options.js';
import type { TargetColumn, WarehouseStep } from './warehouse-steps.js';
import type { ApiStep } from './api-steps.js';

/** The `$schema` of every plan.json: the `$id` of schemas/plan.schema.json. */
export const planSchemaId = 'https://syncwright.dev/schemas/plan.v1.json';
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

/** First 8 bytes of SHA-256 over `syncwright:<name>`, as a signed 64-bit integer: a Postgres advisory lock key. */
export function lockKeyOf(name: string): bigint {
  return hash('sha256', `syncwright:${name}`, 'buffer').readBigInt64BE(0);
}

export type PlanStep = WarehouseStep | ApiStep;

/** What opens every plan, warehouse or API: the schema, the format version and the sync. */
export function planHead(sync: CheckedSync): Pick<Plan, '$schema' | 'planVersion' | 'sync'> {
  const head: Plan['sync'] = { name: sync.name, kind: sync.kind, mode: sync.mode, file: sync.file, line: sync.line };
  if (sync.schedule) head.schedule = sync.schedule;
  return { $schema: planSchemaId, planVersion, sync: head };
}

/**
 * The major version the SQL for a warehouse is generated for, where its dialect has versions
 * (Postgres): the compile option, else a literal `version` setting, else the dialect's default.
 */
function versionOf(dialect: Dialect, settings: Record<string, ResolvedValue>, options: PlanOptions): number | undefined {
  const versions = getDialect(dialect).versions;
  if (!versions) return undefined;
  const v = options.postgresVersion ?? (typeof settings.version === 'number' ? settings.version : versions.default);
  if (!versions.supported.includes(v)) throw new Error(`${dialect} ${v} is not supported (supported: ${versions.supported.join(', ')})`);
  return v;
}

/** A warehouse a plan's SQL runs on (every source; warehouse destinations), with its version. */
export function warehouseEndpoint(name: string, dialect: Dialect, settings: Record<string, ResolvedValue>, options: PlanOptions): PlanEndpoint & { dialect: Dialect } {
  const version = versionOf(dialect, settings, options);
  return version === undefined ? { name, dialect, settings } : { name, dialect, version, settings };
}

/** What compiling one sync produces: its plan and the files the plan names. */
export interface SyncArtifacts {
  plan: Plan;
  /** File name (relative to the sync's folder) -> content, in the order the plan runs them. */
  files: { name: string; content: string }[];
}
