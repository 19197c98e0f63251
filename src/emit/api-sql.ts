/**
 * Renders a change set to its three SQL files through templates/api/*.sql.hbs: changes.sql
 * (build the change table), read.sql (the rows the plan sends) and commit.sql (accepted rows
 * into the snapshot; absent without an identifier, since there is nothing to remember).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import type { ChangeSet, ChangeSetValue } from '../plan/api-changes.js';
import { apiSqlDialect, type ApiSqlDialect } from './api-dialect.js';
import { whereSql } from './api-where.js';

const templates = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  let t = templates.get(name);
  if (!t) {
    const url = new URL(`../../templates/api/${name}.sql.hbs`, import.meta.url);
    t = Handlebars.compile(readFileSync(fileURLToPath(url), 'utf8'), { noEscape: true, strict: true });
    templates.set(name, t);
  }
  return t;
}

/** Column names of the state tables, and the table aliases of the templates. */
const columns = ['seq', 'change', 'row_key', 'payload', 'payload_hash', 'idempotency_key', 'destination_id', 'columns', 'rank'] as const;
const aliases = ['model', 'mapped', 'hashed', 'ranked', 'classified', 'r', 's', 'a', 'ch', 'n'] as const;

const summary = [
  { name: 'model_rows', test: "<> 'removed'" },
  { name: 'null_keys', test: "= 'null_key'" },
  { name: 'duplicate_keys', test: "= 'duplicate_key'" },
  { name: 'added', test: "= 'added'" },
  { name: 'changed', test: "= 'changed'" },
  { name: 'removed', test: "= 'removed'" },
  { name: 'unchanged', test: "= 'unchanged'" },
];

function names(d: ApiSqlDialect) {
  const c = Object.fromEntries(columns.map((n) => [n, d.ident(n)])) as Record<(typeof columns)[number], string>;
  const t = Object.fromEntries(aliases.map((n) => [n, d.ident(n)])) as Record<(typeof aliases)[number], string>;
  const qualified = (alias: string) => Object.fromEntries(columns.map((n) => [n, `${d.ident(alias)}.${c[n]}`]));
  return { c, t, r: qualified('r'), s: qualified('s'), a: qualified('a'), ch: qualified('ch'), n: qualified('n') };
}

/** A mapped value: the column as text, normalised step by step, hashed when asked. */
function valueSql(d: ApiSqlDialect, v: ChangeSetValue, asText: boolean): string {
  const column = d.ident(v.column);
  if (!v.hashed && !asText) return column;
  const text = d.text(column);
  const normalised = v.normalise.reduce((sql, step) => d.fill(d.snippets.normalise[step], { v: sql }), text);
  return v.hashed ? d.sha256(normalised) : normalised;
}

function jsonObject(d: ApiSqlDialect, entries: [string, string][]): string {
  if (entries.length === 0) return d.fill(d.snippets.jsonObject, { args: '' });
  return d.fill(d.snippets.jsonObject, { args: entries.map(([k, v]) => `${d.string(k)}, ${v}`).join(', ') });
}

function tables(d: ApiSqlDialect, cs: ChangeSet) {
  const table = (name: string) => `${d.ident(cs.tables.schema)}.${d.ident(name)}`;
  return {
    schema: d.ident(cs.tables.schema),
    snapshot: table(cs.tables.snapshot),
    accepted: table(cs.tables.accepted),
    changes: table(cs.tables.changes),
  };
}

export interface ChangeSetFiles {
  changes: string;
  read: string;
  commit?: string;
  /** The executor's INSERT of one accepted row into the accepted table. */
  acceptedInsert: string;
}

export function renderChangeSet(cs: ChangeSet, header: (file: string) => string): ChangeSetFiles {
  const d = apiSqlDialect(cs.dialect);
  const n = names(d);
  const tbl = tables(d, cs);
  const { snippets } = d;
  const relation = cs.relation.kind === 'table' ? cs.relation.path.map((p) => d.ident(p)).join('.') : `(\n${cs.relation.query.trim()}\n) AS ${d.ident('source')}`;
  const orderNames = cs.orderBy.map((_, i) => d.ident(`order_${i + 1}`));
  const rankOrder = [
    ...cs.orderBy.map((o, i) => `${orderNames[i]} ${o.descending ? 'DESC' : 'ASC'} NULLS LAST`),
    // Ties, and models without `order by`, resolve on the payload: deterministic run to run.
    n.c.payload_hash,
  ].join(', ');
  const hashInput = [d.string(`${cs.sync}:`), n.c.change, `':'`, n.c.row_key, `':'`, n.c.payload_hash].join(' || ');
  const { types, transaction } = d.spec;
  const common = { ...n, ...tbl, textType: types.string, jsonType: types.json, destination: cs.destination };

  const changes = template('changes')({
    ...common,
    header: header('changes.sql'),
    primaryKey: snippets.primaryKey,
    replaceChanges: d.fill(snippets.replaceTable, { table: tbl.changes }),
    relation,
    where: cs.where ? whereSql(d, cs.where) : '',
    keyed: cs.key !== undefined,
    keyExpr: cs.key ? valueSql(d, cs.key, true) : `CAST(NULL AS ${types.string})`,
    payloadExpr: jsonObject(d, cs.fields.map((f) => [f.field, valueSql(d, f, false)])),
    columnsExpr: cs.messageColumns.length > 0 ? jsonObject(d, cs.messageColumns.map((c) => [c.name, d.ident(c.column)])) : `CAST(NULL AS ${types.json})`,
    orderExprs: cs.orderBy.map((o) => d.ident(o.column)),
    orderNames,
    payloadHash: d.sha256(d.fill(snippets.jsonText, { v: n.c.payload })),
    rankOrder,
    rankText: d.text(n.r.rank!),
    idempotencyKey: d.sha256(hashInput),
    summary: summary.map((s) => ({ name: d.ident(s.name), test: s.test })),
  });
  const read = template('read')({
    ...common,
    header: header('read.sql'),
    // Drivers hand JSON back as text or as objects; text is the one form all three return alike.
    payload: d.fill(snippets.jsonText, { v: n.c.payload }),
    columns: d.fill(snippets.jsonText, { v: n.c.columns }),
    changeList: cs.reads.map((k) => d.string(k)).join(', '),
  });
  const commit = cs.key ? template('commit')({ ...common, header: header('commit.sql'), begin: `${transaction.begin};`, commit: `${transaction.commit};` }) : undefined;
  const [p1, p2] = snippets.placeholders;
  const acceptedInsert = `INSERT INTO ${tbl.accepted} (${n.c.row_key}, ${n.c.destination_id}) VALUES (${p1}, ${p2})`;
  return { changes, read, ...(commit ? { commit } : {}), acceptedInsert };
}
