/**
 * The change set of an API sync, dialect-free: where the model's rows come from, how each
 * becomes a row key and a payload, and the state tables that hold the snapshot. Rendered to
 * changes.sql, read.sql and commit.sql by src/emit/api-sql.ts.
 */
import type { Expr } from '../syntax/ast.js';
import type { CheckedSync, Dialect, FieldMap } from '../check/model.js';
import type { ChangeKind } from './api-steps.js';
import { getDialect, storedName } from '../dialect/index.js';
import { generatedName } from '../dialect/quote.js';
import { requireDestinationType } from '../catalog/index.js';
import { normalisationFor, type NormaliseStep } from '../catalog/api/hashing.js';

export interface ChangeSetValue {
  /** The model column, as the warehouse names it. */
  column: string;
  /** The destination field (a JSON key of the payload). */
  field: string;
  /** Normalisation before hashing; empty when the value is sent as it is. */
  normalise: NormaliseStep[];
  hashed: boolean;
}

export interface ChangeSet {
  sync: string;
  /** Where the sync is written, for the files' headers. */
  origin: Pick<CheckedSync, 'name' | 'kind' | 'mode' | 'file' | 'line'>;
  dialect: Dialect;
  destination: string;
  tables: { schema: string; snapshot: string; accepted: string; changes: string };
  relation: { kind: 'table'; path: string[] } | { kind: 'sql'; query: string };
  /** The audience's condition, over model columns. */
  where?: Expr;
  /** The identifier; absent for insert without one (every row is new on every run). */
  key?: ChangeSetValue;
  fields: ChangeSetValue[];
  /** Model columns (name as written -> warehouse name) handed to the message template. */
  messageColumns: { name: string; column: string }[];
  orderBy: { column: string; descending: boolean }[];
  /** Change kinds the plan reads. */
  reads: ChangeKind[];
}

const defaultStateSchema = 'syncwright';

/** Ad platforms take only hashed identifiers, so theirs are always normalised and hashed. */
function value(sync: CheckedSync, f: FieldMap, isKey: boolean): ChangeSetValue {
  const dialect = sync.model.source.dialect;
  const hashing = requireDestinationType(sync.destination.type).hashing;
  const hashed = f.hashed || (isKey && (hashing === 'meta' || hashing === 'google'));
  return {
    column: storedName(getDialect(dialect), f.column.name),
    field: f.field.text,
    normalise: hashed ? normalisationFor(hashing, f.field.text) : [],
    hashed,
  };
}

/**
 * The mapped fields the destination receives. Ad lists carry no attributes: only hashed
 * fields (further identifiers such as a phone) go to advertising destinations, so a sync
 * without `map` sends the identifier alone.
 */
export function sentFields(sync: CheckedSync): FieldMap[] {
  return sync.destination.category === 'advertising' ? sync.fields.filter((f) => f.hashed) : sync.fields;
}

export function changeSetOf(sync: CheckedSync, reads: ChangeKind[]): ChangeSet {
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
  return {
    sync: sync.name,
    origin: { name: sync.name, kind: sync.kind, mode: sync.mode, file: sync.file, line: sync.line },
    dialect,
    destination: sync.destination.name,
    tables: { schema, snapshot: stateTable('_snapshot'), accepted: stateTable('_accepted'), changes: stateTable('_changes') },
    relation: model.relation.kind === 'table' ? { kind: 'table', path: model.relation.path.map(name) } : model.relation,
    ...(sync.audience ? { where: sync.audience.where } : {}),
    ...(sync.identifier ? { key: value(sync, sync.identifier, true) } : {}),
    fields: sentFields(sync).map((f) => value(sync, f, false)),
    messageColumns: sync.message === undefined ? [] : model.columns.map((c) => ({ name: c.name.text, column: name(c.name) })),
    orderBy: model.orderBy.map((o) => ({ column: name(o.column), descending: o.descending })),
    reads,
  };
}
