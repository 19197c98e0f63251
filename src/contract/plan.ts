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
  /** What an executor's session runs here besides the plan's files; absent where no SQL runs, or the dialect has none. */
  session?: SessionSql;
}

/**
 * The statements an executor's session runs on an endpoint besides the plan's files, in its
 * dialect (the `session` record of dialects/<dialect>.json): the executor holds no SQL of its
 * own. `{{slots}}` are the executor's to fill (`fillSlots`): `cursor` (a name it makes,
 * [a-z0-9_]), `rows`, `from`, `to` (whole numbers), `query` (a statement of the plan's files
 * without its final semicolon); `$n` are bound parameters.
 */
export interface SessionSql {
  /** Ends the transaction a failed script left open. */
  rollback: string;
  /** A script: opens the cursor {{cursor}} over {{query}}, kept across commits. Absent: the engine pages a statement's result itself (Snowflake's result partitions). */
  cursorOpen?: string;
  /** The next {{rows}} rows of {{cursor}}. */
  cursorFetch?: string;
  cursorClose?: string;
  /** Takes the session lock on the key $1 if it is free: one row, `taken`. Absent where the dialect has `lockRow`. */
  lockTry?: string;
  /** Takes the session lock on the key $1, waiting at most the wait limit. */
  lockWait?: string;
  lockRelease?: string;
  /** One row, `v`: the session's wait limit. */
  waitLimitRead?: string;
  /** Sets the wait limit to $1 milliseconds. */
  waitLimitSet?: string;
  /** Sets it back to $1, as waitLimitRead gave it. */
  waitLimitRestore?: string;
  /** Where the engine has no advisory locks: the lock as a row of the plan lock's `table`. */
  lockRow?: LockRowSql;
  /** One row, `ok`: whether the table $1 (quoted, as text) exists. Absent: the target is not checked. */
  targetExists?: string;
  /** Per column written ($2 names, $3 types): name, type, present, actual, fits. */
  targetColumns?: string;
  /** NOT NULL columns of $1 without a default, not among $2: rows of `name`. */
  targetRequired?: string;
  /** Error codes (SQLSTATE) by what they mean to a run. */
  errors: Record<SqlErrorKind, string[]>;
}

/**
 * The sync's lock as a row (owner, expiry) of a lock table, for engines without advisory locks.
 * `{{schema}}`, `{{table}}`: the plan lock's; `?` bound in the order each statement says.
 */
export interface LockRowSql {
  /** A script: the schema and the lock table where they do not exist. */
  create: string;
  /** The key's row, owned by nobody, where it has none (binds: key, key). */
  seed: string;
  /** The row given to the owner for some seconds where free, its own or expired (binds: owner, seconds, key, owner). */
  take: string;
  /** The key's rows: owner, expires_at (binds: key). */
  holders: string;
  /** The expiry moved ahead while the owner has it (binds: seconds, key, owner). */
  renew: string;
  /** The row let go, if the owner has it (binds: key, owner). */
  release: string;
}

export type SqlErrorKind = 'missingTable' | 'lockBusy' | 'notNull' | 'wrongValue' | 'unique';

/** A statement of the plan with its `{{slots}}` filled: each value is a number, a name or a statement of the plan, never quoted here. */
export function fillSlots(statement: string, values: Readonly<Record<string, string | number>>): string {
  return statement.replace(/\{\{(\w+)\}\}/g, (m, name: string) => (name in values ? String(values[name]) : m));
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
  destination: PlanEndpoint & { type: string; category: string; objectKind?: string; target?: string[]; columns?: TargetColumn[]; check?: TargetCheck };
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
  /** Where the engine has no advisory locks (`SessionSql.lockRow`): the lock table's schema and the table, quoted. */
  schema?: string;
  table?: string;
}

/** A warehouse target as its check takes it: quoted, and the SQL a message suggests. */
export interface TargetCheck {
  /** $1 of the session's target statements. */
  table: string;
  /** A CREATE TABLE of the columns written, suggested when the target does not exist. */
  create: string;
  /** Per column written, the ALTER TABLE that adds it. */
  addColumn: Record<string, string>;
}

export type PlanStep = WarehouseStep | ApiStep;

/** What compiling one sync produces: its plan and the files the plan names. */
export interface SyncArtifacts {
  plan: Plan;
  /** File name (relative to the sync's folder) -> content, in the order the plan runs them. */
  files: { name: string; content: string }[];
}
