/**
 * A warehouse sync plan (src/plan/warehouse.ts) as SQL files and plan.json steps. Same
 * warehouse: one apply.sql. Another warehouse: extract.sql on the source, a load of its rows
 * into a temporary table of the destination, then apply.sql there.
 */
import type { ColumnType } from '../catalog/types.js';
import type { Ident } from '../syntax/ast.js';
import { getDialect, storedName, type DialectSpec } from '../dialect/index.js';
import { fillSnippet } from '../dialect/snippet.js';
import { normaliseSql } from '../dialect/normalise.js';
import { plainNormalisation } from '../catalog/fields.js';
import { queryInParentheses } from '../dialect/sql-text.js';
import { generatedName, quoteIdent } from '../dialect/quote.js';
import type { StagedColumn, WarehouseSyncPlan } from '../plan/warehouse.js';
import type { TargetColumn, WarehouseStep } from '../contract/warehouse-steps.js';
import { SqlWriter } from './sql-writer.js';
import { renderTemplate } from './templates.js';
import type { SqlFormatter } from './format.js';
import { whereSql } from './where.js';
import { findColumn } from '../check/expr.js';
import { sqlHeader } from './header.js';
import { loadStatements } from './session-sql.js';

export interface WarehouseFiles {
  steps: WarehouseStep[];
  files: { name: string; content: string }[];
  /** The target's columns the script writes, as plan.json lists them for executors to check. */
  columns: TargetColumn[];
}

/** The temporary table a cross-warehouse load fills. */
export const loadTable = 'sw_load';
const slot = (i: number) => `sw_c${i}`;
const orderSlot = (j: number) => `sw_o${j}`;

function stagedColumns(plan: WarehouseSyncPlan): StagedColumn[] {
  return plan.key ? [plan.key, ...plan.fields] : plan.fields;
}

/** Names of the row slots: mapped values, then the model's order keys. */
function slotNames(plan: WarehouseSyncPlan): string[] {
  return [...stagedColumns(plan).map((_, i) => slot(i)), ...plan.orderBy.map((_, j) => orderSlot(j))];
}

/** A value in a form that has equality and ordering (JSON on Postgres and BigQuery). */
function comparable(spec: DialectSpec, type: ColumnType, expr: string): string {
  const snippet = spec.comparable[type];
  return snippet ? fillSnippet(snippet, { v: expr }) : expr;
}

function typeName(spec: DialectSpec, c: { type: ColumnType; precision?: number; scale?: number }): string {
  const type = spec.types[c.type];
  return c.type === 'decimal' && c.precision !== undefined ? `${type.replace(/\s*\(.*$/, '')}(${c.precision}, ${c.scale ?? 0})` : type;
}

/** The rows partial's context over the model: mapped (normalised, hashed) values and order keys. */
function modelRows(plan: WarehouseSyncPlan, w: SqlWriter) {
  const m = () => w.name('m');
  const col = (name: Pick<Ident, 'text' | 'quoted'>) => `${m()}.${w.ident(name)}`;
  const value = (c: StagedColumn) =>
    c.hashed ? fillSnippet(w.spec.hash, { v: normaliseSql(w.spec.changeSet.normalise, plainNormalisation, col(c.column)) }) : col(c.column);
  const relation = plan.relation.kind === 'table' ? w.path(plan.relation.path) : `(${w.raw(queryInParentheses(w.spec, plan.relation.query))})`;
  const filter = plan.filter
    ? w.block(
        whereSql(plan.filter, w.spec, (name) => ({
          sql: `${quoteIdent(w.spec, 'm')}.${quoteIdent(w.spec, storedName(w.spec, name))}`,
          type: findColumn(plan.sync.model, name)?.type,
        })),
      )
    : '';
  const slots = [
    ...stagedColumns(plan).map((c, i) => ({ name: slot(i), expr: value(c) })),
    ...plan.orderBy.map((o, j) => ({ name: orderSlot(j), expr: col(o.column.name) })),
  ];
  return { rows: { slots, relation, filter } };
}

/**
 * The table a cross-warehouse load fills, as the SQL names it (quoted) and as messages show it:
 * temporary to the session, or, where the dialect's requests are sessions of their own
 * (`loadTable`: Snowflake), a table of the target's schema named after the sync, whose lock
 * keeps two runs from sharing it.
 */
function loadTableOf(plan: WarehouseSyncPlan, spec: DialectSpec, quote: (exact: string) => string): { relation: string; shown: string } {
  const lasting = spec.loadTable?.name;
  if (!lasting) return { relation: quote(loadTable), shown: loadTable };
  const schema = plan.destination.target.slice(0, -1).map((p) => storedName(spec, p));
  // Within the dialect's limit for any sync name, as the state tables are.
  const name = generatedName(spec, 'table', `${loadTable}_${plan.sync.name}`);
  return { relation: fillSnippet(lasting, { schema: schema.map(quote).join('.'), name: quote(name) }), shown: [...schema, name].join('.') };
}

/** The same context over the loaded table, whose columns are the slots themselves. */
function loadedRows(plan: WarehouseSyncPlan, w: SqlWriter) {
  const ref = (name: string) => `${w.name('m')}.${w.name(name)}`;
  const { relation } = loadTableOf(plan, w.spec, (exact) => w.name(exact));
  const slots = slotNames(plan).map((name) => ({ name, expr: ref(name) }));
  return { rows: { slots, relation, filter: '' } };
}

function guards(plan: WarehouseSyncPlan, w: SqlWriter): string[] {
  if (!plan.writes.delete) return [];
  const c = (n: string) => w.name(n);
  const raise = (where: string, message: string) =>
    fillSnippet(w.spec.raiseIf, {
      query: `SELECT 1 FROM ${c('sw_summary')} WHERE ${where}`,
      message: w.literal(`syncwright guard: ${message}; nothing was changed`),
    });
  const out: string[] = [];
  if (plan.guards.emptyAborts) {
    out.push(raise(`${c('staged')} = 0 AND ${c('deleted')} > 0`, 'the model has no rows, so every row would be deleted (`guard allow empty` allows it)'));
  }
  const max = plan.guards.maxDeletes;
  if (max && max.percent) {
    out.push(
      raise(
        `${c('deleted')} * 100 > ${w.number(max.value)} * ${c('target_rows')}`,
        `more than ${max.value}% of the rows would be deleted (guard deletes <= ${max.value}%)`,
      ),
    );
  } else if (max) {
    out.push(raise(`${c('deleted')} > ${w.number(max.value)}`, `more than ${max.value} rows would be deleted (guard deletes <= ${max.value})`));
  }
  return out;
}

function applySql(plan: WarehouseSyncPlan, fmt: SqlFormatter, head: string): string {
  const spec = getDialect(plan.destination.dialect);
  const w = new SqlWriter(spec);
  const columns = stagedColumns(plan);
  const field = (c: StagedColumn) => w.ident(c.field);
  const r = () => w.name('r');
  // Of the rows of one identifier, the first in this order is kept: the model's `order by`, then
  // each column ascending, NULLs last, said in full (BigQuery puts NULLs first by default, and
  // Snowflake where an account's DEFAULT_NULL_ORDERING says so), so no engine's default decides
  // where NULLs go. Where a row is found to be a duplicate by the next row's identifier (`next`),
  // the last of them is kept: there the order is written reversed, so the same row is.
  const next = spec.duplicates.find === 'next';
  const direction = (descending: boolean) => `${descending !== next ? 'DESC' : 'ASC'} NULLS ${next ? 'FIRST' : 'LAST'}`;
  const order = [
    ...plan.orderBy.map((o, j) => `${comparable(spec, o.column.type, `${r()}.${w.name(orderSlot(j))}`)} ${direction(o.descending)}`),
    ...columns.slice(1).map((c, i) => `${comparable(spec, c.type, `${r()}.${w.name(slot(i + 1))}`)} ${direction(false)}`),
  ];
  // One test per field, joined by OR in the templates.
  const distinct = plan.fields.map((f) =>
    fillSnippet(spec.distinct, {
      a: comparable(spec, f.type, `${w.name('t')}.${w.ident(f.field)}`),
      b: comparable(spec, f.type, `${w.name('s')}.${w.ident(f.field)}`),
    }),
  );
  // With an identifier, one join of the model's rows with the target keeps only the rows to
  // insert, update or delete (and duplicates, to count) in sw_changes; the writes touch only them.
  const sourceRows = plan.destination.sameWarehouse ? modelRows(plan, w) : loadedRows(plan, w);
  const context = {
    inside: spec.transaction.staging === 'inside',
    begin: spec.transaction.begin,
    commit: spec.transaction.commit,
    settings: spec.transaction.settings?.sql ?? '',
    session: spec.transaction.session?.sql ?? '',
    lock: spec.lock ? fillSnippet(spec.lock, { key: w.number(plan.lockKey) }) : '',
    // A placeholder to the formatter, which would break `ON COMMIT DROP` over three lines.
    tempTable: { create: spec.tempTable.create, options: spec.tempTable.options ? w.raw(spec.tempTable.options) : '' },
    key: plan.key ? field(plan.key) : false,
    next,
    outer: plan.writes.insert || plan.writes.delete,
    columns: columns.map((c, i) => ({ slot: slot(i), field: field(c) })),
    fields: plan.fields.map(field),
    ...sourceRows,
    order: order.length > 0 ? order.join(', ') : `${r()}.${w.name(slot(0))}`,
    distinct,
    target: w.path(plan.destination.target),
    scope: plan.scope ? { column: w.ident(plan.scope.column), value: w.literal(plan.scope.value) } : false,
    writes: plan.writes,
    merge: plan.writes.insert || plan.writes.update,
    guards: guards(plan, w),
  };
  return fmt.file(
    head,
    fmt.shaped(spec, 'apply', context, (c) => renderTemplate(spec.name, 'apply', c)),
    w,
  );
}

function extractSql(plan: WarehouseSyncPlan, fmt: SqlFormatter, head: string): string {
  const spec = getDialect(plan.source.dialect);
  const w = new SqlWriter(spec);
  return fmt.file(
    head,
    fmt.shaped(spec, 'extract', modelRows(plan, w), (c) => renderTemplate(spec.name, 'extract', c)),
    w,
  );
}

/** The target's columns the script writes: name as stored, the type of the value written, and where it comes from. */
function targetColumns(plan: WarehouseSyncPlan): TargetColumn[] {
  const spec = getDialect(plan.destination.dialect);
  const columns: TargetColumn[] = stagedColumns(plan).map((c) => ({ name: storedName(spec, c.field), type: typeName(spec, c), from: c.column.text }));
  if (plan.scope) columns.unshift({ name: storedName(spec, plan.scope.column), type: spec.types.string, from: null });
  return columns;
}

export function emitWarehouse(plan: WarehouseSyncPlan, fmt: SqlFormatter): WarehouseFiles {
  const target = plan.destination.target.map((p) => p.text).join('.');
  const written = targetColumns(plan);
  const applyWhat = `stage the model's rows, check the guards, then ${plan.sync.mode} into ${target} in one transaction; returns the summary row`;
  const apply = { name: 'apply.sql', content: applySql(plan, fmt, sqlHeader(plan.sync, applyWhat)) };
  const applyStep = { kind: 'sql' as const, file: apply.name, on: 'destination' as const, description: applyWhat };
  if (plan.destination.sameWarehouse) return { steps: [applyStep], files: [apply], columns: written };

  const destSpec = getDialect(plan.destination.dialect);
  const extractWhat = `select the model's rows, mapped, on ${plan.source.name} for the load into ${plan.destination.name}`;
  const extract = { name: 'extract.sql', content: extractSql(plan, fmt, sqlHeader(plan.sync, extractWhat)) };
  const slotTypes = [...stagedColumns(plan), ...plan.orderBy.map((o) => o.column)];
  const columns = slotNames(plan).map((name, i) => ({ name, type: typeName(destSpec, slotTypes[i]!) }));
  const load = loadTableOf(plan, destSpec, (exact) => quoteIdent(destSpec, exact));
  return {
    steps: [
      { kind: 'sql', file: extract.name, on: 'source', description: extractWhat },
      {
        kind: 'load',
        on: 'destination',
        from: extract.name,
        table: load.shown,
        columns,
        batch: plan.batch,
        description: destSpec.loadTable?.name
          ? `create the table ${load.shown} on ${plan.destination.name} and insert the rows of ${extract.name}; ${apply.name} reads it next, and the run drops it at its end`
          : `create the temporary table ${loadTable} on ${plan.destination.name} and insert the rows of ${extract.name}; ${apply.name} runs next in the same session`,
        ...loadStatements(plan.destination.dialect, load.relation, columns),
      },
      applyStep,
    ],
    files: [extract, apply],
    columns: written,
  };
}
