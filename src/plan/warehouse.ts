/**
 * From a checked sync into a warehouse destination to what its SQL must do, without any SQL:
 * which rows, which columns, which key, which writes (insert, update, delete), which guards.
 * src/emit/warehouse.ts turns this into SQL for the destination's dialect.
 */
import { membershipColumn } from '../catalog/membership.js';
import type { CheckedColumn, CheckedSync, Dialect, ResolvedValue } from '../check/model.js';
import type { ColumnType } from '../catalog/types.js';
import type { Expr, Ident } from '../syntax/ast.js';
import { findColumn } from '../check/expr.js';
import type { PlanOptions } from '../contract/options.js';
import { lockKeyOf, warehouseEndpoint } from './head.js';

/** One column of the staging table: a model column (maybe hashed) under its destination name. */
export interface StagedColumn {
  field: Ident;
  column: Ident;
  type: ColumnType;
  precision?: number;
  scale?: number;
  hashed: boolean;
}

/** What the apply may do to the target. */
export interface Writes {
  /** Insert every staged row (no identifier). */
  append: boolean;
  /** Insert staged rows whose identifier is not in the target. */
  insert: boolean;
  /** Update matched rows whose mapped values differ. */
  update: boolean;
  /** Delete target rows (in scope) whose identifier is not staged. */
  delete: boolean;
}

export interface WarehouseEndpoint {
  name: string;
  dialect: Dialect;
  version?: number;
  settings: Record<string, ResolvedValue>;
}

export interface WarehouseSyncPlan {
  kind: 'warehouse';
  sync: CheckedSync;
  source: WarehouseEndpoint;
  destination: WarehouseEndpoint & { type: string; target: Ident[]; sameWarehouse: boolean };
  relation: { kind: 'table'; path: Ident[] } | { kind: 'sql'; query: string };
  filter?: Expr;
  /**
   * The identifier first, when there is one. Staging keeps one row per identifier even when
   * it is the model's declared primary key: a declaration does not stop the data breaking it.
   */
  key?: StagedColumn;
  fields: StagedColumn[];
  orderBy: { column: CheckedColumn; descending: boolean }[];
  /** Audience membership rows carry the audience's name in this column. */
  scope?: { column: Ident; value: string };
  writes: Writes;
  guards: { emptyAborts: boolean; maxDeletes?: { value: number; percent: boolean } };
  /** A stable 64-bit number naming the sync, for Postgres advisory locks. */
  lockKey: bigint;
  /** Rows per load into the destination's staging table, when it is another warehouse. */
  batch: number;
}

const defaultBatch = 100_000;

function writesOf(sync: CheckedSync, hasFields: boolean): Writes {
  const none = { append: false, insert: false, update: false, delete: false };
  const keyed = sync.identifier !== undefined;
  // Audience modes act on the audience's rows of the membership table.
  switch (sync.mode) {
    case 'insert':
      return keyed ? { ...none, insert: true } : { ...none, append: true };
    case 'add':
      return { ...none, insert: true };
    case 'upsert':
      return { ...none, insert: true, update: hasFields };
    case 'update':
      return { ...none, update: hasFields };
    case 'mirror':
      return { ...none, insert: true, update: hasFields, delete: true };
    case 'remove':
      return { ...none, delete: true };
  }
}

function staged(f: { column: CheckedColumn; field: Ident; hashed: boolean }): StagedColumn {
  const c: StagedColumn = { field: f.field, column: f.column.name, type: f.hashed ? 'string' : f.column.type, hashed: f.hashed };
  if (!f.hashed && f.column.precision !== undefined) c.precision = f.column.precision;
  if (!f.hashed && f.column.scale !== undefined) c.scale = f.column.scale;
  return c;
}

function orderColumn(sync: CheckedSync, name: Ident): CheckedColumn {
  const c = findColumn(sync.model, name);
  if (!c) throw new Error(`model ${sync.model.name}: order by an unknown column ${name.text}`);
  return c;
}

export function planWarehouse(sync: CheckedSync, options: PlanOptions): WarehouseSyncPlan {
  const { model, destination } = sync;
  if (destination.category !== 'warehouse') throw new Error(`sync ${sync.name}: ${destination.type} is not a warehouse`);
  if (!sync.target || sync.target.length === 0) throw new Error(`sync ${sync.name}: no target table`);
  const source = warehouseEndpoint(model.source.name, model.source.dialect, model.source.settings, options);
  const destDialect = destination.type as Dialect;
  // Into the model's own source, one script reads and writes; into another source, even of the same engine, the rows are
  // extracted and loaded, as into a destination: that script would read the model's table in the wrong database.
  const sameWarehouse = destination.source !== undefined && destination.source.name === model.source.name;
  const fields = sync.fields.map(staged);
  const plan: WarehouseSyncPlan = {
    kind: 'warehouse',
    sync,
    source,
    destination: {
      ...warehouseEndpoint(destination.name, destDialect, destination.settings, options),
      type: destination.type,
      target: sync.target,
      sameWarehouse,
    },
    relation: model.relation,
    fields,
    orderBy: model.orderBy.map((o) => ({ column: orderColumn(sync, o.column), descending: o.descending })),
    writes: writesOf(sync, fields.length > 0),
    guards: { emptyAborts: !sync.guard.allowEmpty },
    lockKey: lockKeyOf(sync.name),
    batch: sync.batch ?? defaultBatch,
  };
  if (sync.audience) {
    plan.filter = sync.audience.where;
    plan.scope = { column: { text: membershipColumn, quoted: false, span: sync.span }, value: sync.audience.name };
  }
  if (sync.identifier) plan.key = staged(sync.identifier);
  if (sync.guard.maxDeletes) plan.guards.maxDeletes = sync.guard.maxDeletes;
  return plan;
}
