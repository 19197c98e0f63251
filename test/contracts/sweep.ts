/**
 * Every request a plan makes, rendered from real change rows and held to the vendor contract.
 *
 * A sync is planned against a Postgres source (a Snowflake or BigQuery example is retargeted:
 * same columns, a seeded table, the audience's condition dropped so every row is a member),
 * its changes.sql runs twice on embedded Postgres around a change to the data (so read.sql
 * returns added, changed, removed and unchanged rows, the removed ones carrying the
 * destination ids the plan's earlier requests would have captured), and each step renders its
 * requests the way the executor does: calls once, send steps through the delivery engine in
 * batches of the plan's size (rows repeated to fill them, wide rows included so that a byte
 * limit is reached; bodies above the plan's `maxBytes` are split as the executor splits
 * them), messages and objects per row and batch.
 */
import type { CheckedColumn, CheckedSync } from '../../src/check/model.js';
import { limitsFor, objectKindOf, requireDestinationType } from '../../src/catalog/index.js';
import { getDialect, storedName } from '../../src/dialect/index.js';
import { quoteIdent } from '../../src/dialect/quote.js';
import type { ApiStep, CommitStep, SendRequest, SendStep } from '../../src/contract/api-steps.js';
import { planApiSync } from '../../src/plan/api.js';
import { emitSync } from '../../src/emit/index.js';
import { SqlFormatter } from '../../src/emit/format.js';
import type { Plan } from '../../src/contract/plan.js';
import { batches } from '../../src/run/http/batches.js';
import { changeRow, type ChangeRow } from '../../src/run/change-rows.js';
import { deliver, type Exchange } from '../../src/run/http/deliver.js';
import { Ledger } from '../../src/run/ledger.js';
import type { HttpRequest } from '../../src/run/http/http.js';
import { buildRequest } from '../../src/run/http/request.js';
import { batchValues } from '../../src/run/step-env.js';
import { asText, compileMessage, envPlaceholder, render, type Json, type RenderContext, type RenderOptions } from '../../src/run/template.js';
import { RateLimiter } from '../../src/run/http/rate-limit.js';
import type { Engine } from '../support/engines.js';
import { checkRequest } from './contract.js';
import { objectKeyProblems, publishProblems } from './vendors/storage-streaming.js';

/** What the calls of a plan capture, per destination type: plausible values of the vendor's formats. */
const captured: Record<string, Record<string, string>> = {
  hubspot: { list_id: '123456' },
  salesforce: { access_token: '00Dxx!token', instance_url: 'https://acme.my.salesforce.com', list_id: '701000000000001AAA' },
  klaviyo: { list_id: 'Y6nRLr' },
  facebook_ads: { list_id: '23850000000000' },
  google_ads: { access_token: 'ya29.token', list: 'customers/4821903375/userLists/42', job: 'customers/4821903375/offlineUserDataJobs/9' },
};

const runValues = {
  id: '5f0adeff-6668-4427-8d02-57d803a2b841',
  session: 4_503_599_627_370_497,
  timestamp: '2026-01-01T00:00:00.000Z',
  epoch_ms: 1_767_225_600_000,
};

/** A record id of the shape the CRM vendors use (Salesforce: 18 letters and digits). */
const destinationId = (n: number) => `003${String(n).padStart(15, '0')}`;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/**
 * Row `n`'s value of a column: realistic by the column's name (and the field it is sent to),
 * with quotes, dashes, accents and, in wide rows, long text.
 */
function valueOf(column: CheckedColumn, n: number, key: boolean, wide: boolean, field?: string): unknown {
  const name = column.name.text.toLowerCase();
  if (column.nullable && !key && n % 4 === 3) return null;
  switch (column.type) {
    case 'string': {
      // A Salesforce record id: 18 letters and digits.
      if (field === 'Id') return `001${pad(n, 15)}`;
      if (/e-?mail/.test(name)) return ` User.${n}+Tag@Example.COM `;
      if (/phone/.test(name)) return `+1 (555) 01${pad(n % 100, 2)}-${pad(n, 4)}`;
      if (/country/.test(name)) return ['US', 'ca', ' GB '][n % 3];
      if (/currency/.test(name)) return 'USD';
      if (/url/.test(name)) return `https://shop.example.com/c/${n}?a=1&b="2"`;
      if (key) return `id-${100000 + n}`;
      if (wide) return `${'Wide text '.repeat(90)}${n}`;
      return [`Mary-Jane O'Brien "Q" ${n}`, `San Francisco \\ ${n}`, `Zoë ✓ ${n}`, `value ${n}`][n % 4];
    }
    case 'int':
    case 'bigint':
      return key ? 100000 + n : n * 7;
    case 'float':
      return n + 0.5;
    case 'decimal': {
      const scale = column.scale ?? 0;
      return Number((n * 10 + 0.25).toFixed(scale));
    }
    case 'bool':
      return n % 2 === 0;
    case 'date':
      return `2024-0${(n % 9) + 1}-1${n % 9}`;
    case 'timestamp':
      return `2024-03-${10 + (n % 18)} 12:34:56.789`;
    case 'json':
      return { n, s: 'q"uote', list: [1, 'two'] };
  }
}

function literal(v: unknown, column: CheckedColumn): string {
  if (v === null) return 'NULL';
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  switch (column.type) {
    case 'string':
      return q(String(v));
    case 'date':
      return `DATE ${q(String(v))}`;
    case 'timestamp':
      return `TIMESTAMP ${q(String(v))}`;
    case 'json':
      return `${q(JSON.stringify(v))}::jsonb`;
    default:
      return String(v);
  }
}

const postgres = getDialect('postgres');
const ident = (name: string) => quoteIdent(postgres, name);

/** The sync planned against a Postgres table `sweep.<sync>`: the model's columns, every audience row a member. */
function retarget(sync: CheckedSync, batch?: number): CheckedSync {
  const span = sync.span;
  const table = {
    kind: 'table' as const,
    path: [
      { text: 'sweep', quoted: true, span },
      { text: sync.name, quoted: true, span },
    ],
  };
  const source = {
    ...sync.model.source,
    dialect: 'postgres' as const,
    settings: {
      database: 'sweep',
      ...(typeof sync.model.source.settings.state_schema === 'string' ? { state_schema: sync.model.source.settings.state_schema } : {}),
    },
  };
  const model = { ...sync.model, source, relation: table };
  const always = { kind: 'literal' as const, type: 'bool' as const, value: true, raw: 'true', span };
  return {
    ...sync,
    model,
    ...(sync.audience ? { audience: { ...sync.audience, model, where: always } } : {}),
    ...(batch === undefined ? {} : { batch }),
  };
}

/** The largest batch the checker lets the sync ask for (its rows' identifiers counted where the API counts them). */
export function maxBatchOf(sync: CheckedSync): number {
  const type = requireDestinationType(sync.destination.type);
  return limitsFor(type, objectKindOf(type, sync.objectKind, sync.kind), (sync.identifier ? 1 : 0) + sync.fields.length).maxBatch;
}

interface Model {
  columns: { column: CheckedColumn; name: string; key: boolean; field?: string }[];
}

function modelOf(sync: CheckedSync): Model {
  const keys = new Set([sync.identifier?.column.name.text, sync.model.primaryKey?.text].filter(Boolean));
  const fields = new Map([...(sync.identifier ? [sync.identifier] : []), ...sync.fields].map((f) => [f.column.name.text, f.field.text]));
  return {
    columns: sync.model.columns.map((column) => ({
      column,
      name: storedName(postgres, column.name),
      key: keys.has(column.name.text),
      field: fields.get(column.name.text),
    })),
  };
}

function insertRows(sync: CheckedSync, model: Model, ns: number[], salt = 0): string {
  const rows = ns.map(
    (n) => `(${model.columns.map((c) => literal(valueOf(c.column, c.key ? n : n + salt, c.key, n % 5 === 4, c.field), c.column)).join(', ')})`,
  );
  return `INSERT INTO "sweep".${ident(sync.name)} (${model.columns.map((c) => ident(c.name)).join(', ')}) VALUES ${rows.join(',\n')};`;
}

/** Change kinds whose rows some send step of the plan captures a destination id for. */
function capturing(plan: Plan): Set<string> {
  const kinds = new Set<string>();
  for (const s of plan.steps as ApiStep[]) if (s.kind === 'send' && s.requests.some((r) => r.captureRow)) for (const k of s.changes) kinds.add(k);
  return kinds;
}

const file = (files: { name: string; content: string }[], name: string) => files.find((f) => f.name === name)?.content;

/**
 * Runs the plan's SQL twice around a change of the data: the first run's rows are accepted
 * (with a destination id where the plan captures one) and committed, then rows are removed,
 * changed and added. Returns the second run's change rows.
 */
async function changeRows(engine: Engine, sync: CheckedSync, plan: Plan, files: { name: string; content: string }[]): Promise<ChangeRow[]> {
  const model = modelOf(sync);
  await engine.exec(`CREATE SCHEMA IF NOT EXISTS "sweep"; DROP TABLE IF EXISTS "sweep".${ident(sync.name)};
    CREATE TABLE "sweep".${ident(sync.name)} (${model.columns.map((c) => `${ident(c.name)} ${postgres.types[c.column.type]}`).join(', ')});
    ${insertRows(sync, model, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])}`);
  const changes = file(files, 'changes.sql')!;
  // Each target starts from state tables of its own: targets of one sync name share their names, and what another left there
  // (keys compared another way, rows recorded without an id) is no state this plan could have made.
  const stateTables = [...changes.matchAll(/CREATE TABLE IF NOT EXISTS ("[^"]+"\."[^"]+")/g)].map((m) => m[1]);
  if (stateTables.length > 0) await engine.exec(`DROP TABLE IF EXISTS ${stateTables.join(', ')};`);
  const read = file(files, 'read.sql')!;
  const commit = file(files, 'commit.sql');
  const commitStep = (plan.steps as ApiStep[]).find((s): s is CommitStep => s.kind === 'commit');
  await engine.exec(changes);
  const captures = capturing(plan);
  if (commit && commitStep) {
    // Every row accepted, recorded as the executor records it (its ledger, the plan's insert).
    const ledger = new Ledger({ query: (sql, params) => engine.query(sql, params && [...params]) }, commitStep);
    const rows = (await engine.query<Record<string, unknown>>(read)).map(changeRow);
    await ledger.record(rows.map((row) => ({ ...row, destination_id: captures.has(row.change) ? destinationId(row.seq) : null })));
    await engine.exec(commit);
  }
  const keyColumn = model.columns.find((c) => c.column.name.text === sync.identifier?.column.name.text) ?? model.columns.find((c) => c.key);
  const where = (ns: number[]) =>
    keyColumn
      ? `${ident(keyColumn.name)} IN (${ns.map((n) => literal(valueOf(keyColumn.column, n, true, false, keyColumn.field), keyColumn.column)).join(', ')})`
      : 'FALSE';
  await engine.exec(`DELETE FROM "sweep".${ident(sync.name)} WHERE ${where([1, 2, 3, 4])};
    ${insertRows(sync, model, [3, 4], 1000)}
    ${insertRows(sync, model, [11, 12, 13, 14])}`);
  await engine.exec(changes);
  return (await engine.query<Record<string, unknown>>(read)).map(changeRow);
}

export interface Rendered {
  /** What rendered it: `<step kind> <operation or name>`. */
  step: string;
  problems: string[];
}

const options: RenderOptions = { env: envPlaceholder };

/** `rows` repeated (as new rows with their own seq) to at least `count`. */
function fill(rows: ChangeRow[], count: number): ChangeRow[] {
  return Array.from({ length: count }, (_, i) => ({ ...rows[i % rows.length]!, seq: i + 1 }));
}

async function* once<T>(items: T[]): AsyncGenerator<T[]> {
  yield items;
}

/** A send step through the delivery engine: every request it sends (after any split for size), each held to the contract. */
async function sendStep(type: string, step: SendStep, rows: ChangeRow[], vars: Record<string, unknown>, out: Rendered[]): Promise<number> {
  const message = step.message === undefined ? undefined : compileMessage(step.message, step.escapeMessageValues);
  const render: RenderOptions = message ? { ...options, message } : options;
  const built = new Map<HttpRequest, { batch: readonly ChangeRow[]; perBatch: boolean }>();
  let sent = 0;
  // A request's `find` (what is there already) is rendered too, as if every row of the batch needed it.
  const requests = step.requests.flatMap((r) => [r, ...(r.accept.by === 'items' && r.accept.already?.find ? [r.accept.already.find] : [])]);
  const chain = requests.map(
    (r: SendRequest): Exchange<ChangeRow> => ({
      perRow: r.for === 'row',
      request: (batch, c) => {
        const ctx: RenderContext = {
          vars,
          run: runValues,
          batch: { ...c.captured, ...batchValues(batch, c.seq, c.last, rows.length) },
          rows: batch,
          ...(r.for === 'row' ? { row: batch[0] } : {}),
        };
        const req = buildRequest(r.request, ctx, render);
        built.set(req, { batch, perBatch: r.for === 'batch' });
        return req;
      },
      // Every row accepted; a request that captures record ids gives each row one, and one that captures values of the batch (a job's id) gives those, as the vendor would.
      read: (_res, batch) => {
        if (r.captureRow) batch.forEach((row, i) => (row.destination_id ??= destinationId(row.seq * 10 + i)));
        const captured = r.captureBatch && Object.fromEntries(Object.keys(r.captureBatch).map((name) => [name, `${name}-${batch[0]?.seq ?? 0}`]));
        return { accepted: batch.map((_, i) => i), rejected: [], retry: [], ...(captured ? { captured } : {}) };
      },
    }),
  );
  // What leaves the delivery engine is what the vendor would receive.
  const send = async (req: HttpRequest) => {
    const { batch, perBatch } = built.get(req)!;
    const messages = message && type === 'webhook' ? batch.map((row) => parseOr(message(row.columns))) : undefined;
    out.push({
      step: `send ${step.operation}`,
      problems: checkRequest(type, req, { context: { batch: perBatch, ...(messages ? { messages } : {}) } }).problems,
    });
    sent++;
    return { kind: 'response' as const, response: { status: 200, headers: new Headers(), body: '{}' } };
  };
  await deliver(
    batches(once(rows), step.batch.size),
    chain,
    {
      concurrency: 1,
      timeoutMs: 1000,
      retry: step.retry,
      maxRetryAfterMs: 0,
      limiter: new RateLimiter(),
      ...(step.batch.maxBytes === undefined ? {} : { maxBodyBytes: step.batch.maxBytes }),
      send,
    },
    {
      accepted: () => undefined,
      refused: (r) => void out.push({ step: `send ${step.operation}`, problems: r.map((x) => `a row was refused before sending: ${x.reason}`) }),
    },
  );
  return sent;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface SweepResult {
  rendered: Rendered[];
  /** Steps that sent no request although they read rows: a sweep that checked nothing. */
  silent: string[];
}

/**
 * Plans `sync` (at its own batch size, and at the largest the checker allows) and holds every
 * request, message and object of the plan to the contract. The engine is a scratch Postgres.
 */
export async function sweep(engine: Engine, sync: CheckedSync): Promise<SweepResult> {
  const type = sync.destination.type;
  const base = emitSync(planApiSync(retarget(sync), {}), new SqlFormatter());
  const rows = await changeRows(engine, sync, base.plan, base.files);
  const vars = captured[type] ?? {};
  const rendered: Rendered[] = [];
  const silent: string[] = [];
  const sizes = [...new Set([undefined, maxBatchOf(sync)])];
  for (const size of sizes) {
    const { plan } = size === undefined ? base : emitSync(planApiSync(retarget(sync, size), {}), new SqlFormatter());
    for (const step of plan.steps as ApiStep[]) {
      if (step.kind === 'call' && size === undefined) {
        const req = buildRequest(step.request, { vars, run: runValues }, options);
        rendered.push({ step: `call ${step.name}`, problems: checkRequest(type, req).problems });
      } else if (step.kind === 'send') {
        const own = rows.filter((r) => step.changes.includes(r.change));
        if (own.length === 0) continue;
        // The plan as compiled, over the change rows; at the largest batch, a full batch and one
        // more row (the last batch a short one), rows repeated to fill it.
        const count = await sendStep(type, step, size === undefined ? own.map((r) => ({ ...r })) : fill(own, step.batch.size + 1), { ...vars }, rendered);
        if (count === 0) silent.push(`send ${step.operation}`);
      } else if (step.kind === 'publish') {
        const own = rows.filter((r) => step.changes.includes(r.change));
        const all = size === undefined ? own : fill(own, step.batch.size + 1);
        for (let i = 0; i < all.length; i += step.batch.size) {
          const messages = all.slice(i, i + step.batch.size).map((row) => {
            const ctx = { vars, run: runValues, row };
            return { key: render(step.key, ctx, options), value: render(step.value, ctx, options) };
          });
          const destination = asText(render(step.destination, { vars, run: runValues }, options));
          rendered.push({ step: `publish ${step.transport}`, problems: publishProblems(step.transport, destination, messages) });
        }
      } else if (step.kind === 'write_object' && size === undefined) {
        const own = rows.filter((r) => step.changes.includes(r.change));
        for (const index of [1, 2]) {
          const key = asText(
            render(step.key, { vars, run: runValues, batch: { index, last: index === 2, rows: own.length, total_rows: own.length } }, options),
          );
          const records = own.map((row) => render(step.record, { vars, run: runValues, row }, options));
          const problems = [
            ...objectKeyProblems(step.service, key, step.format),
            ...records.flatMap((r, i) => (r !== null && typeof r === 'object' && !Array.isArray(r) ? [] : [`record ${i} is not an object`])),
          ];
          rendered.push({ step: `write_object ${step.service}`, problems });
        }
      }
    }
  }
  return { rendered, silent };
}

export type { Json };
