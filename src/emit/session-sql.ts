/**
 * The SQL an executor runs besides a plan's files, written here so that the executor holds
 * none: its session's statements (the dialect record's `session`), the queries over read.sql
 * each step takes its rows with, the loads of a cross-warehouse sync, the target's check, and
 * the many-row insert of accepted rows. Absent for a dialect without a `session` record.
 */
import type { ChangeKind, ChangeQueries } from '../contract/api-steps.js';
import type { Dialect } from '../contract/dialect-names.js';
import type { PlanEndpoint, PlanLock, SessionSql, TargetCheck } from '../contract/plan.js';
import type { TargetColumn } from '../contract/warehouse-steps.js';
import { getDialect, type DialectSpec } from '../dialect/index.js';
import { quoteIdent, quoteLiteral } from '../dialect/quote.js';
import { fillSnippet } from '../dialect/snippet.js';

const sessions = new Map<Dialect, SessionSql | undefined>();

/** The dialect's session statements as plans carry them (without the record's `why` notes). */
export function sessionSql(dialect: Dialect): SessionSql | undefined {
  if (!sessions.has(dialect)) {
    const record = getDialect(dialect).session;
    let sql: SessionSql | undefined;
    if (record) {
      const { why: _why, errors, lockRow, ...statements } = record;
      const { why: _errorsWhy, ...codes } = errors;
      const { why: _lockWhy, ...lockStatements } = lockRow ?? {};
      sql = { ...statements, ...(lockRow ? { lockRow: lockStatements as NonNullable<SessionSql['lockRow']> } : {}), errors: codes };
    }
    sessions.set(dialect, sql);
  }
  return sessions.get(dialect);
}

/** The endpoint with its session's statements, where its dialect has them. */
export function withSession<E extends PlanEndpoint>(endpoint: E): E {
  const session = endpoint.dialect === undefined ? undefined : sessionSql(endpoint.dialect);
  if (session) endpoint.session = session;
  return endpoint;
}

/** The table of lock rows, in `schema`, where the dialect has no advisory locks. */
export const lockTable = 'syncwright_locks';

/** The plan's lock with its table, where the dialect takes locks as rows (`lockRow`) in `schema` (its parts: [database.]schema). */
export function withLockTable(lock: PlanLock, dialect: Dialect | undefined, schema: readonly string[]): PlanLock {
  if (dialect === undefined || !sessionSql(dialect)?.lockRow || schema.length === 0) return lock;
  const spec = getDialect(dialect);
  const quotedSchema = schema.map((p) => quoteIdent(spec, p)).join('.');
  return { ...lock, schema: quotedSchema, table: `${quotedSchema}.${quoteIdent(spec, lockTable)}` };
}

/** The queries over read.sql (`{{query}}`) that give a step the rows of its change kinds. */
export function changeQueries(dialect: Dialect, kinds: readonly ChangeKind[]): ChangeQueries {
  const spec = getDialect(dialect);
  const q = (name: string) => quoteIdent(spec, name);
  const read = `${q('read')}.`;
  const of = `FROM (\n{{query}}\n) AS ${q('read')} WHERE ${read}${q('change')} IN (${kinds.map((k) => quoteLiteral(spec, k)).join(', ')})`;
  const rows = `SELECT * ${of} ORDER BY ${read}${q('seq')}`;
  return {
    rows,
    count: `SELECT CAST(COUNT(*) AS ${spec.types.bigint}) AS ${q('n')} ${of}`,
    range: `SELECT * FROM (${rows}) AS ${q('r')} WHERE ${q('r')}.${q('seq')} BETWEEN {{from}} AND {{to}} ORDER BY ${q('r')}.${q('seq')}`,
  };
}

/** One INSERT of many rows into `table`: each column's values bound as one array of `types`. */
export function insertArrays(spec: DialectSpec, table: string, columns: readonly string[], types: readonly string[]): string | undefined {
  if (!spec.insertArrays || !spec.arrayParameter) return undefined;
  const parameter = spec.arrayParameter;
  const arrays = types.map((type, i) => fillSnippet(parameter, { n: String(i + 1), type }));
  return fillSnippet(spec.insertArrays, { table, columns: columns.join(', '), arrays: arrays.join(', ') });
}

/** A cross-warehouse load's temporary table: its creation and the insert of a batch. */
export function loadStatements(
  dialect: Dialect,
  table: string,
  columns: readonly { name: string; type: string }[],
): { create: string; insert: string; maxBytes?: number } | undefined {
  const spec = getDialect(dialect);
  const q = (name: string) => quoteIdent(spec, name);
  const insert = insertArrays(
    spec,
    q(table),
    columns.map((c) => q(c.name)),
    columns.map((c) => c.type),
  );
  if (!insert || !spec.session || !spec.loadTable) return undefined;
  const create = fillSnippet(spec.loadTable.create, { table: q(table), columns: columns.map((c) => `${q(c.name)} ${c.type}`).join(', ') });
  return { create, insert, ...(spec.insertArraysMaxBytes ? { maxBytes: spec.insertArraysMaxBytes.value } : {}) };
}

/** The target as its check takes it, and the SQL its messages suggest. */
export function targetCheck(dialect: Dialect, target: readonly string[], columns: readonly TargetColumn[]): TargetCheck | undefined {
  const spec = getDialect(dialect);
  if (!spec.session?.targetExists) return undefined;
  const q = (name: string) => quoteIdent(spec, name);
  const table = target.map(q).join('.');
  return {
    table,
    create: `CREATE TABLE ${table} (${columns.map((c) => `${q(c.name)} ${c.type}`).join(', ')})`,
    addColumn: Object.fromEntries(columns.map((c) => [c.name, `ALTER TABLE ${table} ADD COLUMN ${q(c.name)} ${c.type}`])),
  };
}
