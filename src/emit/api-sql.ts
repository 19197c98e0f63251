/**
 * Renders a change set to its SQL files through templates/api/*.sql.hbs: changes.sql (build
 * the change set, a temporary table of the session), read.sql (the rows the plan sends) and
 * commit.sql (accepted rows into the snapshot; absent without an identifier, since there is
 * nothing to remember).
 */
import { normaliseSql } from '../dialect/normalise.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChangeSet, ChangeSetValue } from '../plan/api-changes.js';
import { changesKey, refusedChange, sentChange, type ApiStep, type CommitStep, type JobsSql } from '../contract/api-steps.js';
import { changeQueries, insertArrays, withLockTable, withSession } from './session-sql.js';
import type { SyncArtifacts } from '../contract/plan.js';
import type { ApiSyncPlan } from '../plan/api.js';
import { lockKeyOf } from '../plan/head.js';
import { apiSqlDialect, type ApiSqlDialect } from './api-dialect.js';
import { whereSql } from './where.js';
import type { SqlFormatter } from './format.js';
import type { Dialect } from '../contract/dialect-names.js';
import { sqlHeader } from './header.js';
import { getDialect, storedName } from '../dialect/index.js';
import { quoteIdent } from '../dialect/quote.js';
import { fillSnippet } from '../dialect/snippet.js';
import { queryInParentheses } from '../dialect/sql-text.js';
import { templateEnvironment } from './precompiled-templates.js';
import { statementHelpers } from './templates.js';

const templates = new Map<string, HandlebarsTemplateDelegate>();

function template(name: string): HandlebarsTemplateDelegate {
  let t = templates.get(name);
  if (!t) {
    const url = new URL(`../../templates/api/${name}.sql.hbs`, import.meta.url);
    const text = readFileSync(fileURLToPath(url), 'utf8');
    const { env, template } = templateEnvironment([text]);
    statementHelpers(env);
    t = template(text);
    templates.set(name, t);
  }
  return t;
}

/** Column names of the state tables, and the table aliases of the templates. */
const columns = ['seq', 'change', 'row_key', 'payload', 'payload_hash', 'idempotency_key', 'destination_id', 'columns', 'rank'] as const;
const aliases = ['model', 'mapped', 'hashed', 'ranked', 'folded', 'classified', 'r', 's', 'a', 'n'] as const;

const summary = [
  { name: 'model_rows', test: "<> 'removed'" },
  { name: 'null_keys', test: "= 'null_key'" },
  { name: 'duplicate_keys', test: "= 'duplicate_key'" },
  { name: 'added', test: "= 'added'" },
  { name: 'changed', test: "= 'changed'" },
  { name: 'removed', test: "= 'removed'" },
  { name: 'unchanged', test: "= 'unchanged'" },
];

/**
 * The payload hash of a snapshot row whose last request was sent but never answered: no
 * payload hashes to it (hashes are hex), so the next change set sends the row again.
 */
const unknownHash = 'unknown';

type Named<N extends string> = Record<N, string>;

interface Names {
  c: Named<(typeof columns)[number]>;
  t: Named<(typeof aliases)[number]>;
  r: Named<(typeof columns)[number]>;
  s: Named<(typeof columns)[number]>;
  a: Named<(typeof columns)[number]>;
  n: Named<(typeof columns)[number]>;
}

/** The state tables and the types every file of a change set names (`commonOf`). */
interface StateNames {
  schema: string;
  foldedKey: string;
  snapshot: string;
  accepted: string;
  changes: string;
  textType: string;
  jsonType: string;
  destination: string;
  unknownHash: string;
}

/** What every template refers to: the fixed names and the state tables. */
type Common = Readonly<Names & StateNames>;

/** The parts every file of a change set begins with, made once for its files, and the values of their placeholders. */
interface Start {
  names: Common;
  values: readonly string[];
}

/** The fixed names of a dialect's files: columns, aliases and alias-qualified columns, as placeholders, and their values. */
interface FixedNames {
  values: readonly string[];
  names: Names;
  /** The parts every file of a change set begins with (`common`), one object each, by their JSON. */
  common: Map<string, Common>;
}

const fixed = new Map<Dialect, FixedNames>();

/**
 * Every file of a dialect names the same columns and aliases first, as the same placeholders
 * with the same values: written once per dialect, and taken by each file's writer
 * (`SqlWriter.start`). They are placeholders all the same, so that the formatted shapes do
 * not depend on them (format.ts numbers a statement's placeholders afresh).
 */
function fixedNames(dialect: Dialect): FixedNames {
  let f = fixed.get(dialect);
  if (!f) {
    const d = apiSqlDialect(dialect);
    const c = Object.fromEntries(columns.map((n) => [n, d.ident(n)])) as Named<(typeof columns)[number]>;
    const t = Object.fromEntries(aliases.map((n) => [n, d.ident(n)])) as Named<(typeof aliases)[number]>;
    const qualified = (alias: string) => Object.fromEntries(columns.map((n) => [n, `${d.ident(alias)}.${c[n]}`])) as Named<(typeof columns)[number]>;
    const names = { c, t, r: qualified('r'), s: qualified('s'), a: qualified('a'), n: qualified('n') };
    for (const part of Object.values(names)) Object.freeze(part);
    f = { values: [...d.writer.values], names, common: new Map() };
    fixed.set(dialect, f);
  }
  return f;
}

/** A key as the destination compares it: lower-cased where it ignores case. */
function keyAsCompared(d: ApiSqlDialect, cs: ChangeSet, key: string): string {
  return cs.keyCase === 'insensitive' ? d.fill(d.snippets.normalise.lower, { v: key }) : key;
}

/** What every template of a change set refers to: columns, aliases, alias-qualified columns and the state tables. */
function commonOf(cs: ChangeSet): Start {
  const d = apiSqlDialect(cs.dialect);
  const f = fixedNames(d.name);
  const { names } = f;
  d.writer.start(f.values);
  const table = (name: string) => `${d.ident(cs.tables.schema)}.${d.ident(name)}`;
  const own: StateNames = {
    schema: d.ident(cs.tables.schema),
    // A snapshot key folded where keys are: commit.sql replaces those kept before keys were folded.
    foldedKey: cs.keyCase ? keyAsCompared(d, cs, names.c.row_key) : '',
    snapshot: table(cs.tables.snapshot),
    accepted: table(cs.tables.accepted),
    changes: d.fill(d.snippets.temporaryTable.name, { schema: d.ident(cs.tables.schema), name: d.ident(cs.tables.changes) }),
    textType: d.spec.types.string,
    jsonType: d.spec.types.json,
    // A placeholder, so the comment naming it does not make each sync a shape of its own.
    destination: d.writer.raw(cs.destination),
    unknownHash: d.string(unknownHash),
  };
  // One frozen object for all change sets that write the same placeholders: the formatter keys shapes by its identity (`SqlFormatter.shaped`).
  const key = JSON.stringify(own);
  let common = f.common.get(key);
  if (!common) f.common.set(key, (common = Object.freeze({ ...names, ...own })));
  return { names: common, values: d.writer.values };
}

/** The dialect of one file of the change set, its writer holding the placeholders of `start`. */
function fileDialect(cs: ChangeSet, start: Start): ApiSqlDialect {
  const d = apiSqlDialect(cs.dialect);
  d.writer.start(start.values);
  return d;
}

/**
 * A mapped value: the column normalised step by step and hashed where the field says, else
 * encoded where the destination wants another form than the column's JSON value; NULL as ""
 * where the destination says so. A key is always text.
 */
function valueSql(d: ApiSqlDialect, v: ChangeSetValue, asText: boolean): string {
  const column = d.ident(v.column);
  const normalised = v.hashed || v.normalise.length > 0;
  const encoding = v.encode === undefined ? undefined : d.snippets.encode[v.encode][v.type];
  let sql = column;
  if (normalised) {
    sql = normaliseSql(d.snippets.normalise, v.normalise, d.text(column));
    if (v.hashed) sql = d.sha256(sql);
  } else if (encoding) sql = d.fill(encoding, { v: column });
  const text = normalised || (encoding !== undefined && v.encode === 'text') || (encoding === undefined && v.type === 'string');
  if (asText && !(text && (normalised || encoding))) sql = d.text(sql);
  return v.nullAsEmpty && (text || asText) ? d.fill(d.snippets.emptyIfNull, { v: sql }) : sql;
}

function jsonObject(d: ApiSqlDialect, entries: [string, string][]): string {
  return d.fill(d.snippets.jsonObject, { args: entries.map(([k, v]) => `${d.string(k)}, ${v}`).join(', ') });
}

/** A file of the change set: its header, then its template rendered and formatted once per shape (`SqlFormatter.shaped`), filled. */
function finish(d: ApiSqlDialect, cs: ChangeSet, what: string, name: string, base: Common, context: object, fmt: SqlFormatter): string {
  const shape = fmt.shaped(d.spec, `api/${name}`, context, template(name), base);
  return fmt.file(sqlHeader(cs.origin, what), shape, d.writer);
}

function changesSql(cs: ChangeSet, start: Start, fmt: SqlFormatter): string {
  const d = fileDialect(cs, start);
  const base = start.names;
  const { snippets, spec } = d;
  const relation =
    cs.relation.kind === 'table'
      ? cs.relation.path.map((p) => d.ident(p)).join('.')
      : `(${d.writer.raw(queryInParentheses(spec, cs.relation.query))}) AS ${d.ident('source')}`;
  const orderNames = cs.orderBy.map((_, i) => d.ident(`order_${i + 1}`));
  const payloadText = d.fill(snippets.jsonText, { v: base.c.payload });
  const rankOrder = [
    ...cs.orderBy.map((o, i) => `${orderNames[i]} ${o.descending ? 'DESC' : 'ASC'} NULLS LAST`),
    // Ties, and models without `order by`, resolve on the payload (its hash, without the clock's
    // period, which would change the winner when a period ends), then on the columns a message
    // shows: the same row wins whatever order the warehouse returns them in.
    cs.refreshDays === undefined ? base.c.payload_hash : d.sha256(payloadText),
    ...(cs.messageColumns.length > 0 ? [d.fill(snippets.jsonText, { v: base.c.columns })] : []),
  ].join(', ');
  const previousKey = d.ident('previous_key');
  const hashInput = cs.keys
    ? chainedKeyInput(d, cs, `CASE WHEN ${base.c.change} = 'removed' THEN 'removed' ELSE 'sent' END`, base.c.row_key, base.c.payload_hash, previousKey)
    : [d.string(`${cs.sync}:`), base.c.change, d.string(':'), base.c.row_key, d.string(':'), base.c.payload_hash].join(' || ');
  // Runs of syncs that share the state schema (and a dry run beside a run) create its tables
  // one at a time: CREATE ... IF NOT EXISTS alone fails in the second of two at once.
  const stateKey = { key: d.writer.number(lockKeyOf(`state schema ${cs.tables.schema}`)) };
  const stateLock = spec.lock ? fillSnippet(spec.lock, stateKey) : '';
  const { waitFirst, afterLock } = snippets.stateSchema;
  const context = {
    snapshotRows: base.foldedKey ? base.t.folded : base.snapshot,
    // Qualified: a bare name in GROUP BY could also mean the column the CTE names so (BigQuery).
    snapshotKey: keyAsCompared(d, cs, base.s.row_key),
    stateLock,
    begin: spec.transaction.begin,
    commit: spec.transaction.commit,
    primaryKey: snippets.primaryKey,
    createSchema: d.fill(snippets.stateSchema.create, { schema: base.schema }),
    waitFirst: waitFirst === undefined ? '' : fillSnippet(waitFirst, stateKey),
    afterLock: afterLock === undefined ? '' : fillSnippet(afterLock, stateKey),
    createChanges: d.fill(snippets.temporaryTable.create, { table: base.changes }),
    sharedChanges: snippets.temporaryTable.shared === true,
    relation,
    where: cs.where
      ? d.writer.block(whereSql(cs.where.condition, spec, (name) => ({ sql: quoteIdent(spec, storedName(spec, name)), type: cs.where!.columnType(name) })))
      : '',
    keyed: cs.key !== undefined,
    keyExpr: cs.key ? keyAsCompared(d, cs, valueSql(d, cs.key, true)) : `CAST(NULL AS ${spec.types.string})`,
    payloadExpr: jsonObject(
      d,
      cs.fields.map((f) => [f.field, valueSql(d, f, false)]),
    ),
    columnsExpr:
      cs.messageColumns.length > 0
        ? jsonObject(
            d,
            cs.messageColumns.map((c) => [c.name, d.ident(c.column)]),
          )
        : `CAST(NULL AS ${spec.types.json})`,
    orderExprs: cs.orderBy.map((o) => d.ident(o.column)),
    orderNames,
    payloadHash: d.sha256(
      cs.refreshDays === undefined
        ? payloadText
        : // The clock's period goes with the payload: at each period's end every row is changed, and sent again.
          `${payloadText} || ${d.string(':')} || ${d.text(d.fill(snippets.period, { seconds: String(cs.refreshDays * 86_400) }))}`,
    ),
    refreshDays: cs.refreshDays,
    rankOrder,
    rankText: d.text(base.r.rank!),
    idempotencyKey: d.sha256(hashInput),
    ...keysNames(d, cs),
    createJobs: cs.jobs ? createJobsSql(d, cs) : '',
    previousKey,
    summary: summary.map((s) => ({ name: d.ident(s.name), test: s.test })),
    synced: d.ident('synced'),
  };
  return finish(d, cs, `the change set against the snapshot of what ${cs.destination} accepted; ends with a one-row summary`, 'changes', base, context, fmt);
}

function readSql(cs: ChangeSet, start: Start, fmt: SqlFormatter): string {
  const d = fileDialect(cs, start);
  const base = start.names;
  const context = {
    // Drivers hand JSON back as text or as objects; text is the one form all three return alike.
    payload: d.fill(d.snippets.jsonText, { v: base.c.payload }),
    columns: d.fill(d.snippets.jsonText, { v: base.c.columns }),
    changeList: cs.reads.map((k) => d.string(k)).join(', '),
  };
  return finish(d, cs, `the ${cs.reads.join(', ')} rows of the change set, in seq order`, 'read', base, context, fmt);
}

function commitSql(cs: ChangeSet, start: Start, fmt: SqlFormatter): string {
  const d = fileDialect(cs, start);
  const { transaction } = d.spec;
  const base = start.names;
  const count = (test: string) => `COUNT(CASE WHEN ${base.a.change} ${test} THEN 1 END)`;
  // A row sent more often than it was settled (accepted or refused): whether the destination applied it is unknown.
  const unsettled = `${count(`= ${d.string(sentChange)}`)} > ${count(`<> ${d.string(sentChange)}`)}`;
  // The id an accepted row brought, else the one the row had when it was sent (a key folded
  // onto another spelling, whose row gives way to it, keeps its record's id so).
  const unrecorded = [sentChange, refusedChange].map((c) => d.string(c)).join(', ');
  const destinationId = `COALESCE(MAX(CASE WHEN ${base.a.change} NOT IN (${unrecorded}) THEN ${base.a.destination_id} END), MAX(${base.a.destination_id}))`;
  const keys = keysNames(d, cs);
  const changed = (test: string) => `COUNT(CASE WHEN ${base.a.change} ${test} THEN 1 END) > 0`;
  const deliveredKey = keys.p
    ? d.sha256(
        chainedKeyInput(
          d,
          cs,
          `CASE WHEN ${changed("= 'removed'")} THEN 'removed' ELSE 'sent' END`,
          base.a.row_key,
          `MAX(CASE WHEN ${base.a.change} IN ('added', 'changed', 'removed') THEN ${base.a.payload_hash} END)`,
          keys.p.idempotency_key,
        ),
      )
    : '';
  const context = {
    ...keys,
    deliveredKey,
    unsettled,
    destinationId,
    begin: transaction.begin,
    commit: transaction.commit,
  };
  return finish(d, cs, 'moves the accepted rows, and those sent without an answer, into the snapshot', 'commit', base, context, fmt);
}

/**
 * A keyed row's idempotency key where they are chained (`ChangeSet.keys`): the sync, whether it
 * removes the row or sends it (added or changed alike, so that a row added again after a lost
 * answer carries its first try's key), its key and payload hash, and the key of the delivery
 * recorded before it; changes.sql and commit.sql make it alike.
 */
function chainedKeyInput(d: ApiSqlDialect, cs: ChangeSet, kind: string, rowKey: string, payloadHash: string, previous: string): string {
  return [d.string(`${cs.sync}:`), kind, d.string(':'), rowKey, d.string(':'), payloadHash, d.string(':'), `COALESCE(${previous}, '')`].join(' || ');
}

/**
 * The keys table (`ChangeSet.keys`), the statement that makes it (changes.sql and commit.sql,
 * which may run first) and its aliases, where the plan chains its keys.
 */
function keysNames(d: ApiSqlDialect, cs: ChangeSet) {
  if (!cs.keys) return { keys: '' };
  const { c } = fixedNames(d.name).names;
  const keys = `${d.ident(cs.tables.schema)}.${d.ident(cs.keys)}`;
  const text = d.spec.types.string;
  const of = (alias: string) => ({
    alias: d.ident(alias),
    row_key: `${d.ident(alias)}.${c.row_key}`,
    idempotency_key: `${d.ident(alias)}.${c.idempotency_key}`,
  });
  return {
    keys,
    createKeys: `CREATE TABLE IF NOT EXISTS ${keys} (${c.row_key} ${text} NOT NULL${d.snippets.primaryKey}, ${c.idempotency_key} ${text} NOT NULL)`,
    k: of('k'),
    p: of('p'),
  };
}

/** What the executor binds, in order, when it inserts an accepted row. */
export const acceptedParameters: CommitStep['acceptedInsert']['parameters'] = ['row_key', 'change', 'payload_hash', 'destination_id'];

/** The executor's INSERT of one accepted row into the accepted table, with the driver's placeholders. */
function acceptedInsertSql(cs: ChangeSet): string {
  const spec = getDialect(cs.dialect);
  const { placeholder } = apiSqlDialect(cs.dialect).snippets;
  const q = (n: string) => quoteIdent(spec, n);
  const values = acceptedParameters.map((_, i) => fillSnippet(placeholder, { n: String(i + 1) }));
  return `INSERT INTO ${q(cs.tables.schema)}.${q(cs.tables.accepted)} (${acceptedParameters.map(q).join(', ')}) VALUES (${values.join(', ')})`;
}

/** The executor's INSERT of many accepted rows: each parameter an array of the rows' values (text); undefined where the dialect has no such insert. */
function acceptedRowsSql(cs: ChangeSet): string | undefined {
  const spec = getDialect(cs.dialect);
  const q = (n: string) => quoteIdent(spec, n);
  return insertArrays(
    spec,
    `${q(cs.tables.schema)}.${q(cs.tables.accepted)}`,
    acceptedParameters.map(q),
    acceptedParameters.map(() => spec.types.string),
  );
}

/** The jobs table (`ChangeSet.jobs`): a row per row of a job whose outcome is not known yet. */
const jobColumns = ['job', 'row_key'] as const;

function createJobsSql(d: ApiSqlDialect, cs: ChangeSet): string {
  // Names through the writer, as placeholders: each sync's own name would make its changes.sql a shape of its own, formatted anew.
  const text = d.spec.types.string;
  return `CREATE TABLE IF NOT EXISTS ${d.ident(cs.tables.schema)}.${d.ident(cs.jobs!)} (${jobColumns.map((c) => `${d.ident(c)} ${text} NOT NULL`).join(', ')})`;
}

/** The executor's statements on the jobs table (`JobsSql`), with the driver's placeholders; undefined without one. */
function jobsSql(cs: ChangeSet): JobsSql | undefined {
  if (!cs.jobs) return undefined;
  const spec = getDialect(cs.dialect);
  const { placeholder } = apiSqlDialect(cs.dialect).snippets;
  const q = (n: string) => quoteIdent(spec, n);
  const p = (n: number) => fillSnippet(placeholder, { n: String(n) });
  const jobs = `${q(cs.tables.schema)}.${q(cs.jobs)}`;
  const accepted = `${q(cs.tables.schema)}.${q(cs.tables.accepted)}`;
  const text = `CAST(NULL AS ${spec.types.string})`;
  const rows = insertArrays(
    spec,
    jobs,
    jobColumns.map(q),
    jobColumns.map(() => spec.types.string),
  );
  return {
    pending: `SELECT DISTINCT ${q('job')} AS ${q('job')} FROM ${jobs} ORDER BY ${q('job')}`,
    insert: {
      statement: `INSERT INTO ${jobs} (${jobColumns.map(q).join(', ')}) VALUES (${p(1)}, ${p(2)})`,
      ...(rows ? { rows } : {}),
      parameters: [...jobColumns],
    },
    forget: `DELETE FROM ${jobs} WHERE ${q('job')} = ${p(1)}`,
    failed:
      `INSERT INTO ${accepted} (${acceptedParameters.map(q).join(', ')}) ` +
      `SELECT DISTINCT ${q('row_key')}, '${sentChange}', ${text}, ${text} FROM ${jobs} WHERE ${q('job')} = ${p(1)}`,
  };
}

export interface ChangeSetFiles {
  changes: string;
  read: string;
  commit?: string;
  acceptedInsert: string;
  acceptedRows?: string;
}

export function renderChangeSet(cs: ChangeSet, fmt: SqlFormatter): ChangeSetFiles {
  const start = commonOf(cs);
  return {
    changes: changesSql(cs, start, fmt),
    read: readSql(cs, start, fmt),
    ...(cs.key ? { commit: commitSql(cs, start, fmt) } : {}),
    acceptedInsert: acceptedInsertSql(cs),
    acceptedRows: acceptedRowsSql(cs),
  };
}

/** An API sync's plan.json and SQL files: the change set rendered, the executor's queries, and the commit of accepted rows added. */
export function emitApiSync({ changeSet, plan }: ApiSyncPlan, fmt: SqlFormatter): SyncArtifacts {
  const sql = renderChangeSet(changeSet, fmt);
  const files = [
    { name: 'changes.sql', content: sql.changes },
    { name: 'read.sql', content: sql.read },
  ];
  // Each set of change kinds a later step takes its rows by (a call acting on rows as a whole counts them).
  // A job's rows (`CallStep.job`) are read by their kinds too.
  const kinds = new Map(
    plan.steps.flatMap((s) => [
      ...(s.kind !== 'read' && 'changes' in s && s.changes ? [[changesKey(s.changes), s.changes] as const] : []),
      ...(s.kind === 'call' && s.job ? [[changesKey(s.job.changes), s.job.changes] as const] : []),
    ]),
  );
  const jobs = jobsSql(changeSet);
  const steps: ApiStep[] = plan.steps.flatMap((s): ApiStep[] => {
    if (s.kind === 'read') return [{ ...s, queries: Object.fromEntries([...kinds].map(([key, k]) => [key, changeQueries(changeSet.dialect, k)])) }];
    if (s.kind === 'jobs') return jobs ? [{ ...s, sql: jobs }] : [];
    return [s];
  });
  if (sql.commit) {
    steps.push({
      kind: 'commit',
      file: 'commit.sql',
      on: 'source',
      description: 'record the accepted rows, then move them into the snapshot',
      acceptedInsert: { statement: sql.acceptedInsert, ...(sql.acceptedRows ? { rows: sql.acceptedRows } : {}), parameters: acceptedParameters },
      // A plan that reads only added rows (insert; add, but Google Ads') keeps no write-ahead record: a row sent
      // without an answer is added again next run whether the snapshot has it with the unknown
      // hash or not at all, and no step of the plan reads it once it leaves the model.
      ...(changeSet.reads.some((kind) => kind !== 'added') ? { writeAhead: true as const } : {}),
    });
    files.push({ name: 'commit.sql', content: sql.commit });
  }
  return {
    plan: { ...plan, source: withSession({ ...plan.source }), lock: withLockTable(plan.lock, changeSet.dialect, [changeSet.tables.schema]), steps },
    files,
  };
}
