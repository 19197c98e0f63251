/**
 * The change set of an API sync, dialect-free: where the model's rows come from, how each
 * becomes a row key and a payload, and the state tables that hold the snapshot. Rendered to
 * changes.sql, read.sql and commit.sql by src/emit/api-sql.ts.
 */
import type { Expr, Ident } from '../syntax/ast.js';
import { findColumn } from '../check/expr.js';
import type { CheckedSync, Dialect, FieldMap } from '../check/model.js';
import type { ChangeKind } from '../contract/api-steps.js';
import { getDialect, storedName } from '../dialect/index.js';
import { generatedName } from '../dialect/quote.js';
import {
  keyCaseOf,
  objectKindOf,
  requireDestinationType,
  resolveField,
  type ColumnType,
  type FieldEncoding,
  type FieldRules,
  type NormaliseStep,
} from '../catalog/index.js';
import { plainNormalisation } from '../catalog/fields.js';

export interface ChangeSetValue {
  /** The model column, as the warehouse names it. */
  column: string;
  type: ColumnType;
  /** The destination field (a JSON key of the payload), as the request names it. */
  field: string;
  /** Normalisation steps, before hashing when hashed; empty when the value is sent as it is. */
  normalise: NormaliseStep[];
  hashed: boolean;
  /** How a value of a column type that is not sent as its JSON value is encoded. */
  encode?: FieldEncoding;
  /** NULL is sent as "" (HubSpot clears a property with it; Meta leaves an unknown key blank). */
  nullAsEmpty: boolean;
}

export interface ChangeSet {
  sync: string;
  /** Where the sync is written, for the files' headers. */
  origin: Pick<CheckedSync, 'name' | 'kind' | 'mode' | 'file' | 'line'>;
  dialect: Dialect;
  destination: string;
  /** The state tables, in `schema`; `changes` is a temporary table of the run's session. */
  tables: { schema: string; snapshot: string; accepted: string; changes: string };
  relation: { kind: 'table'; path: string[] } | { kind: 'sql'; query: string };
  /** The audience's condition, over model columns, and the type each column is declared with (literals are written as it reads them). */
  where?: { condition: Expr; columnType: (name: Ident) => ColumnType | undefined };
  /** The identifier; absent for insert without one (every row is new on every run). */
  key?: ChangeSetValue;
  /**
   * `insensitive`: the destination matches the identifier without case, so keys are folded to
   * lower case, those of a snapshot kept before they were folded too.
   */
  keyCase?: 'insensitive';
  fields: ChangeSetValue[];
  /** Model columns (name as written -> warehouse name) handed to the message template. */
  messageColumns: { name: string; column: string }[];
  orderBy: { column: string; descending: boolean }[];
  /** Change kinds the plan reads. */
  reads: ChangeKind[];
  /** Every row changes after this many days (`ModePlan.refreshDays`): the payload hash takes the period of the warehouse's clock. */
  refreshDays?: number;
  /**
   * The key of the delivery last recorded for each row, in a state table of its own (`<sync>_keys`):
   * a keyed plan whose requests carry idempotency keys (Amplitude's insert_id, Mixpanel's
   * $insert_id, a webhook's Idempotency-Key) makes each row's key from it, so that a delivery
   * never repeats an earlier one's key (a destination that deduplicates by it would drop a value
   * changed back) while a row sent again after a lost answer carries the same key.
   */
  keys?: string;
  /**
   * The rows of each job an earlier run ran whose outcome is not known yet, by the job's name,
   * in a state table of its own (`<sync>_jobs`): a plan that asks how its jobs ended (`JobsStep`).
   */
  jobs?: string;
}

export const defaultStateSchema = 'syncwright';

/** The field rules of the sync's destination and object kind (src/catalog/fields.ts), where it has them. */
export function fieldRulesOf(sync: Pick<CheckedSync, 'destination' | 'objectKind' | 'kind'>): FieldRules | undefined {
  const type = requireDestinationType(sync.destination.type);
  return objectKindOf(type, sync.objectKind, sync.kind)?.fields;
}

/**
 * A value as the destination's rules want it: normalised (and hashed) where the field says,
 * or encoded where the column's JSON value is not what the API takes. Timestamps go as ISO
 * 8601 UTC text unless the field says otherwise, so every dialect sends the same text. Ad
 * platforms take only hashed identifiers, so theirs are hashed with or without `hashed`.
 */
function value(sync: CheckedSync, rules: FieldRules | undefined, f: FieldMap, isKey: boolean): ChangeSetValue {
  const { name, spec } = resolveField(rules, f.field.text);
  const hashed = f.hashed || (isKey && rules?.hashIdentifier === true && spec?.hashed !== 'never');
  const normalise = spec?.normalise ?? (hashed ? plainNormalisation : []);
  const encode = spec?.encode ?? rules?.encode ?? (f.column.type === 'timestamp' ? 'text' : undefined);
  return {
    column: storedName(getDialect(sync.model.source.dialect), f.column.name),
    type: f.column.type,
    field: name,
    normalise: [...normalise],
    hashed,
    ...(hashed || normalise.length > 0 || encode === undefined ? {} : { encode }),
    nullAsEmpty: rules?.nullAsEmpty === true && !isKey,
  };
}

/** The mapped fields the destination receives, under the names its requests use. */
export function sentFields(sync: CheckedSync): string[] {
  const rules = fieldRulesOf(sync);
  return sync.fields.map((f) => resolveField(rules, f.field.text).name);
}

export function changeSetOf(sync: CheckedSync, reads: ChangeKind[], refreshDays?: number, chainedKeys = false, jobs = false): ChangeSet {
  const { model } = sync;
  const dialect = model.source.dialect;
  const spec = getDialect(dialect);
  const name = (ident: { text: string; quoted: boolean }) => storedName(spec, ident);
  // Named after the sync, shortened with a hash where the warehouse's limit asks (a long sync name).
  const stateTable = (suffix: string) => generatedName(spec, 'table', sync.name, suffix);
  const schemaSetting = model.source.settings.state_schema;
  // The state tables are named in the generated SQL, so their schema must be known when compiling.
  if (schemaSetting !== undefined && typeof schemaSetting !== 'string') {
    throw new Error(`source ${model.source.name}: state_schema must be a literal name, not ${JSON.stringify(schemaSetting)}`);
  }
  const schema = schemaSetting ?? defaultStateSchema;
  const rules = fieldRulesOf(sync);
  const keyCase = sync.identifier ? keyCaseOf(rules, resolveField(rules, sync.identifier.field.text).name) : undefined;
  return {
    sync: sync.name,
    origin: { name: sync.name, kind: sync.kind, mode: sync.mode, file: sync.file, line: sync.line },
    dialect,
    destination: sync.destination.name,
    // Earlier versions kept accepted rows in `<sync>_accepted`, without their change and payload
    // hash: a new name, so that such a table (empty unless a run was killed) is never written in
    // the wrong shape.
    tables: { schema, snapshot: stateTable('_snapshot'), accepted: stateTable('_accepted_rows'), changes: stateTable('_changes') },
    relation: model.relation.kind === 'table' ? { kind: 'table', path: model.relation.path.map(name) } : model.relation,
    ...(sync.audience ? { where: { condition: sync.audience.where, columnType: (n: Ident) => findColumn(model, n)?.type } } : {}),
    ...(sync.identifier ? { key: value(sync, rules, sync.identifier, true) } : {}),
    ...(keyCase ? { keyCase } : {}),
    // A key compared lower-cased that the destination stores as sent also goes in the payload as the model has it.
    fields: [
      ...sync.fields.map((f) => value(sync, rules, f, false)),
      ...(keyCase && rules?.keysKeepCase && sync.identifier ? [value(sync, rules, sync.identifier, false)] : []),
    ],
    messageColumns: sync.message === undefined ? [] : model.columns.map((c) => ({ name: c.name.text, column: name(c.name) })),
    orderBy: model.orderBy.map((o) => ({ column: name(o.column), descending: o.descending })),
    reads,
    ...(refreshDays === undefined ? {} : { refreshDays }),
    ...(chainedKeys && sync.identifier ? { keys: stateTable('_keys') } : {}),
    ...(jobs && sync.identifier ? { jobs: stateTable('_jobs') } : {}),
  };
}
