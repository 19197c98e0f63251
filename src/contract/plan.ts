/**
 * plan.json: the execution plan of one sync, the published contract with executors
 * (schemas/plan.schema.json describes it field by field). Steps run in order; SQL steps name
 * their file relative to the plan's folder.
 */
import type { Dialect } from './dialect-names.js';
import type { TargetColumn, WarehouseStep } from './warehouse-steps.js';
import type { ApiStep } from './api-steps.js';
import type { IdentifierRule } from './quoting.js';

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
  /** How this warehouse reads names (its dialect's `identifiers`), where the plan has `nameVariables`: the rule by which an executor folds and quotes them (names.ts). */
  identifiers?: IdentifierRule;
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
  /** Ends the engine's own session (BigQuery's, where a script's TEMP tables live); absent: closing the connection ends it. */
  close?: string;
  /** Run once when the executor opens the session, before anything else: the settings its work assumes (Postgres: TimeZone UTC, and the server's TCP keepalives on the connection). */
  open?: string;
  /**
   * A script: opens the cursor {{cursor}} over {{query}}, kept across commits. The three cursor
   * statements are absent where the engine pages a finished query's results itself (BigQuery:
   * a query job's results read with getQueryResults; Snowflake: a statement's result partitions).
   */
  cursorOpen?: string;
  /** The next {{rows}} rows of {{cursor}}. */
  cursorFetch?: string;
  cursorClose?: string;
  /** Takes the session lock on the key $1 if it is free: one row, `taken`. Absent where the lock is a row (`lockRow`). */
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
  /** Where the engine has no advisory locks: one row per locked sync in the plan lock's `table`, with its owner and expiry. */
  lockRow?: LockRowSql;
  /**
   * One row, `ok`: whether the target exists. Absent: the target is not checked before its script.
   * The target statements bind what `targetBinds` names; without it, $1 the table (`check.table`),
   * then $2 the names and $3 the types of the columns written (arrays). `{{catalog}}`: `check.catalog`.
   */
  targetExists?: string;
  /** Per column written: name, type, present, actual, fits. */
  targetColumns?: string;
  /** NOT NULL columns of the target without a default that the sync does not write: rows of `name`. */
  targetRequired?: string;
  /** What each target statement binds, in order, where that is not $1 table, $2 names, $3 types (an engine that reads its catalog's views, or binds no arrays). */
  targetBinds?: Record<'exists' | 'columns' | 'required', TargetValue[]>;
  /** Error codes (SQLSTATE, or the engine's error reasons) by what they mean to a run; `code: text`: that code with a message containing text. */
  errors: Record<SqlErrorKind, string[]>;
}

/**
 * The sync's lock as a row (`lock_key`, `owner`, `expires_at`) of the table the plan's lock names
 * (`{{schema}}`, `{{table}}`, filled by the executor from `PlanLock`), for engines without
 * advisory locks. A row whose expiry has passed belongs to nobody (its run died): the next run
 * takes it over.
 */
export interface LockRowSql {
  /** A script without parameters: the schema and the lock table, run when `take`'s first statement finds the table missing. */
  create: string;
  /**
   * Run in order: the row given to the owner where nobody holds it, the owner already does or its
   * expiry passed; the last statement gives the key's rows (`owner`, `expires_at`). The lock is
   * taken when there is one and each names the owner. A statement that fails as `lockBusy` (a
   * concurrent take aborted it) counts as not taken. One statement each, since an engine may not
   * bind parameters in a script (Snowflake's SQL API).
   */
  take: LockRowStatement[];
  /**
   * The expiry moved `seconds` ahead while the owner holds the row (never where another run took
   * it over). The executor reads the row back with `take`'s last statement: a renewal that finds
   * the key's rows not all the owner's means the lock was lost.
   */
  renew: LockRowStatement;
  /** The row let go, if the owner holds it. */
  release: LockRowStatement;
}

/** One statement of a lock row and the values it binds, in the order of its parameters. */
export interface LockRowStatement {
  sql: string;
  /** `key`: the plan's lock key (decimal text); `owner`: the run's name for itself; `seconds`: until the row expires. */
  binds: LockRowValue[];
}

export type LockRowValue = 'key' | 'owner' | 'seconds';

/**
 * A value a target statement binds: `table`, `schema`, `name` of the check; `names`, `types`:
 * the columns written, as arrays; `columns`: the same as one JSON text, `[{"name", "type"}, ...]`,
 * for an engine that binds no arrays.
 */
export type TargetValue = 'table' | 'schema' | 'name' | 'names' | 'types' | 'columns';

export type SqlErrorKind = 'missingTable' | 'lockBusy' | 'notNull' | 'wrongValue' | 'unique' | 'duplicateKeys';

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
  /**
   * Variables whose values name tables or schemas (`env("X")` in a table path): the SQL and the
   * destination's target hold `{{env:X}}` for each, which an executor fills before it runs
   * anything (`fillNames` in names.ts). Absent: every name is in the SQL as compiled.
   */
  nameVariables?: string[];
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
  /** The target, quoted: the `table` the session's target statements bind. */
  table: string;
  /** Where an engine that reads its catalog's views finds them (quoted, e.g. `"DW".INFORMATION_SCHEMA`): the statements' `{{catalog}}`. */
  catalog?: string;
  /** The target's schema (dataset) and table as stored, for the catalog's rows: `schema` and `name` of `targetBinds`. */
  schema?: string;
  name?: string;
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
