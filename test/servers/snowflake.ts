/**
 * A local Snowflake SQL API v2 (POST /api/v2/statements, GET /api/v2/statements/{handle}) on
 * 127.0.0.1, following Snowflake's documented contract, checking what it receives and answering
 * in the documented shapes. It cannot run Snowflake SQL, so it runs a statement's Postgres twin:
 * the test compiles the same project for Snowflake and for Postgres, and tells the server, for
 * the Snowflake text of every plan file and every statement the executor may send, the Postgres
 * text of the same file or statement. A statement that is none of them is refused (422) and
 * recorded in `unexpected`. The twin runs on PGlite, and the rows the executor sees are that
 * engine's, in Snowflake's shapes (resultSetMetaData.rowType and partitionInfo, every value a
 * string). A script's statements do not align one to one with its twin's, so its last SELECT
 * answers with the rows of the twin's last statement that returns any, and every other
 * statement with Snowflake's status row (the executor reads only the rows).
 *
 * Checked: the Authorization bearer (a key-pair JWT verified against the public key: RS256
 * signature, iss ACCOUNT.USER.SHA256:<fingerprint>, sub, iat, exp within the hour; or the
 * OAuth/programmatic token), X-Snowflake-Authorization-Token-Type, the requestId, the body's
 * statement, timeout, context fields and bindings ({"1": {type, value}}), MULTI_STATEMENT_COUNT
 * against the statements sent. Answered: 200 with the result (partition 0), 202 with
 * statementStatusUrl while a statement runs (`longRunning`), 422 with sqlState and code,
 * 429/503 on request, 401 for a JWT issued before `expireTokens`.
 */
import { createHash, randomUUID, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PGlite, Results } from '@electric-sql/pglite';
import { getDialect } from '../../src/dialect/index.js';
import { statementEnds as endsIn } from '../../src/dialect/sql-text.js';

const statementEnds = (sql: string): number[] => endsIn(getDialect('snowflake'), sql);

export interface Twin {
  /** The Postgres statement or script to run. */
  pg: string;
  /** What it is, for the log (`sync/changes.sql`, `lockRow.take`, ...). */
  label: string;
}

export interface SnowflakeServerOptions {
  db: PGlite;
  /** The Snowflake text of each statement the executor may send, and its twin. */
  twins: ReadonlyMap<string, Twin>;
  account: string;
  user: string;
  /** Key-pair authentication: JWTs are checked against this key. */
  publicKey?: KeyObject;
  /** Token authentication: the token and its type. */
  token?: { value: string; type: 'OAUTH' | 'PROGRAMMATIC_ACCESS_TOKEN' };
  /** The context each request must carry. */
  context: Record<'database' | 'schema' | 'warehouse' | 'role', string>;
  /** Rows per result partition. */
  partitionRows?: number;
  /**
   * Statements (by label) shown as still running to the POST and the first status request
   * (202), as Snowflake shows a statement that outlasts the POST's 45 s: PGlite runs them too
   * fast to be caught running.
   */
  longRunning?: (label: string) => boolean;
}

interface Column {
  name: string;
  type: string;
  scale: number | null;
  nullable: boolean;
}

interface Done {
  rowType: Column[];
  data: (string | null)[][];
}

type Statement =
  | { state: 'running'; done: Promise<void> }
  | { state: 'done'; result: Done; children?: string[] }
  | { state: 'failed'; sqlState: string; code: string; message: string };

export interface Received {
  label: string;
  statement: string;
  bindings?: Record<string, { type: string; value: unknown }>;
  context: Record<string, unknown>;
  multi: string;
  /** The request's TIMEZONE session parameter, when it set one. */
  timezone?: string;
}

const dayMs = 86_400_000;

/** The session parameters a statement request may set (SQL API reference, Body of the POST request). */
const requestParameters = new Set([
  'BINARY_OUTPUT_FORMAT',
  'CLIENT_RESULT_CHUNK_SIZE',
  'DATE_OUTPUT_FORMAT',
  'MULTI_STATEMENT_COUNT',
  'QUERY_TAG',
  'ROWS_PER_RESULTSET',
  'TIME_OUTPUT_FORMAT',
  'TIMESTAMP_LTZ_OUTPUT_FORMAT',
  'TIMESTAMP_NTZ_OUTPUT_FORMAT',
  'TIMESTAMP_OUTPUT_FORMAT',
  'TIMESTAMP_TZ_OUTPUT_FORMAT',
  'TIMEZONE',
  'USE_CACHED_RESULT',
]);

/** Postgres type oids the twins return, as Snowflake's rowType names them. */
function columnOf(name: string, oid: number, values: unknown[]): Column {
  const scaleOf = () => Math.max(0, ...values.map((v) => (v === null || v === undefined ? 0 : (String(v).split('.')[1]?.length ?? 0))));
  switch (oid) {
    case 20:
    case 21:
    case 23:
      return { name, type: 'fixed', scale: 0, nullable: true };
    case 1700:
      return { name, type: 'fixed', scale: scaleOf(), nullable: true };
    case 700:
    case 701:
      return { name, type: 'real', scale: null, nullable: true };
    case 16:
      return { name, type: 'boolean', scale: null, nullable: true };
    case 1082:
      return { name, type: 'date', scale: null, nullable: true };
    case 1114:
    case 1184:
      return { name, type: 'timestamp_ntz', scale: 9, nullable: true };
    case 114:
    case 3802:
      return { name, type: 'variant', scale: null, nullable: true };
    default:
      return { name, type: 'text', scale: null, nullable: true };
  }
}

/** A value as the documented JSON format writes it: a string (dates in days, timestamps in seconds since the epoch). */
function textOf(column: Column, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (column.type === 'date') return String(Math.round((v as Date).getTime() / dayMs));
  if (column.type === 'timestamp_ntz') return `${((v as Date).getTime() / 1000).toFixed(3)}000000`;
  if (column.type === 'variant') return typeof v === 'string' ? v : JSON.stringify(v);
  return String(v);
}

function shaped(r: Results<Record<string, unknown>>): Done {
  const fields = r.fields;
  const rowType = fields.map((f) =>
    columnOf(
      f.name,
      f.dataTypeID,
      r.rows.map((row) => row[f.name]),
    ),
  );
  return { rowType, data: r.rows.map((row) => fields.map((f, i) => textOf(rowType[i] as Column, row[f.name]))) };
}

/** What Snowflake answers for a statement that returns no rows of its own (DDL, a transaction's BEGIN or COMMIT). */
const statusRow: Done = { rowType: [{ name: 'status', type: 'text', scale: null, nullable: true }], data: [['Statement executed successfully.']] };

/** Which statement of a script returns the rows: the last SELECT (or WITH), else the last. */
function queryIndex(sql: string): number {
  let from = 0;
  let found = -1;
  const ends = statementEnds(sql);
  ends.forEach((end, i) => {
    const text = sql
      .slice(from, end)
      .replace(/--[^\n]*/g, '')
      .trim();
    if (/^(SELECT|WITH)\b/i.test(text)) found = i;
    from = end + 1;
  });
  return found >= 0 ? found : statementCount(sql) - 1;
}

/** The number of statements of a script (the last may lack its semicolon). */
export function statementCount(sql: string): number {
  const ends = statementEnds(sql);
  const tail = sql
    .slice((ends.at(-1) ?? -1) + 1)
    .replace(/--[^\n]*/g, '')
    .trim();
  return ends.length + (tail ? 1 : 0);
}

export class SnowflakeServer {
  readonly received: Received[] = [];
  readonly unexpected: string[] = [];
  /** Every request's method, path and token type, in order. */
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Statuses the next POSTs get instead of running (429, 503), in order. */
  readonly faults: number[] = [];
  /** Tokens refused with 401 from now on, as an expired session's are. */
  private readonly expired = new Set<string>();
  private readonly seen = new Set<string>();
  private expireAt?: number;
  url = '';
  private server?: Server;
  private readonly statements = new Map<string, Statement>();
  private readonly byRequestId = new Map<string, string>();
  /** Statements still to be shown running, by handle: status requests left. */
  private readonly runningFor = new Map<string, number>();
  /** PGlite runs one statement at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly fingerprint?: string;

  constructor(private readonly options: SnowflakeServerOptions) {
    if (options.publicKey)
      this.fingerprint = `SHA256:${createHash('sha256')
        .update(options.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('base64')}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server?.close(() => r()));
  }

  /** Statements (by label) to fail as Snowflake cancels a statement that timed out (422, 57014), after letting `skip` of them run. */
  readonly cancel = new Map<string, { skip: number }>();

  /** Where it gives an answer, a request for partition `n` (n > 0) of a finished result gets it instead of the rows: a test fails one partition so. */
  partitionFault?: (n: number) => { status: number; body: unknown } | undefined;

  /**
   * Results of more than one partition answered as Snowflake answers a result set too large for
   * its response: code 391908, and partitionInfo naming only the first partition (numRows still
   * counts every row).
   */
  tooLarge = false;

  /** Where it gives a promise, the statement received waits for it before it runs: a test holds one run there while others go on. */
  hold?: (q: Received) => Promise<void> | undefined;

  /** After `n` more requests, every token presented so far expires (401, code 390318): the client must make a new one. */
  expireTokensAfter(n: number): void {
    this.expireAt = this.requests.length + n;
  }

  /** The labels of the statements received, in order. */
  labels(): string[] {
    return this.received.map((r) => r.label);
  }

  /** Why the request's credentials are refused, or undefined. */
  private authProblem(req: IncomingMessage): { status: number; code: string; message: string } | undefined {
    const type = req.headers['x-snowflake-authorization-token-type'];
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer) return { status: 401, code: '390101', message: 'Authorization header missing' };
    const { token, publicKey } = this.options;
    if (token) {
      if (type !== token.type) return { status: 401, code: '390101', message: `token type ${String(type)} is not ${token.type}` };
      return bearer === token.value ? undefined : { status: 401, code: '390303', message: 'Invalid OAuth access token' };
    }
    if (type !== 'KEYPAIR_JWT' || !publicKey) return { status: 401, code: '390101', message: `token type ${String(type)} is not KEYPAIR_JWT` };
    const [head, body, signature] = bearer.split('.');
    if (!head || !body || !signature) return { status: 401, code: '390144', message: 'JWT token is invalid' };
    const header = JSON.parse(Buffer.from(head, 'base64url').toString()) as { alg?: string };
    if (header.alg !== 'RS256' || !verify('sha256', Buffer.from(`${head}.${body}`), publicKey, Buffer.from(signature, 'base64url')))
      return { status: 401, code: '390144', message: 'JWT token is invalid' };
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as { iss?: string; sub?: string; iat?: number; exp?: number };
    const subject = `${this.options.account.toUpperCase()}.${this.options.user.toUpperCase()}`;
    const now = Date.now() / 1000;
    if (claims.sub !== subject || claims.iss !== `${subject}.${this.fingerprint}`) return { status: 401, code: '390144', message: 'JWT token is invalid' };
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number' || claims.exp <= now || claims.iat > now + 60 || claims.exp - claims.iat > 3600)
      return { status: 401, code: '390144', message: 'JWT token is invalid' };
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', this.url);
    const send = (status: number, body: unknown) => {
      this.requests.push({ method: req.method ?? '', path: url.pathname + url.search, status });
      res.writeHead(status, { 'Content-Type': 'application/json', ...(status === 429 ? { 'Retry-After': '1' } : {}) });
      res.end(JSON.stringify(body));
    };
    if (this.expireAt !== undefined && this.requests.length >= this.expireAt) {
      for (const t of this.seen) this.expired.add(t);
      this.expireAt = undefined;
    }
    const bearer = req.headers.authorization ?? '';
    if (this.expired.has(bearer)) return send(401, { code: '390318', message: 'The OAuth access token or JWT has expired' });
    this.seen.add(bearer);
    const problem = this.authProblem(req);
    if (problem) return send(problem.status, { code: problem.code, message: problem.message });
    if (req.headers.accept !== 'application/json') return send(400, { message: 'Accept must be application/json' });
    if (req.method === 'POST' && url.pathname === '/api/v2/statements') return this.post(url, Buffer.concat(chunks).toString(), send);
    const handle = /^\/api\/v2\/statements\/([^/]+)$/.exec(url.pathname)?.[1];
    if (req.method === 'GET' && handle) return this.get(handle, url.searchParams.get('partition'), send);
    send(404, { message: `no such endpoint ${req.method} ${url.pathname}` });
  }

  private async post(url: URL, raw: string, send: (status: number, body: unknown) => void): Promise<void> {
    const requestId = url.searchParams.get('requestId') ?? '';
    if (!/^[0-9a-f-]{36}$/.test(requestId)) return send(400, { message: 'requestId must be a UUID' });
    const earlier = this.byRequestId.get(requestId);
    if (earlier) {
      // A resubmission: Snowflake answers with the first submission's statement when retry=true.
      if (url.searchParams.get('retry') !== 'true')
        return send(422, { code: '000605', sqlState: '01000', message: 'requestId already used without retry=true' });
      return this.answer(earlier, send);
    }
    const status = this.faults.shift();
    if (status) return send(status, { code: '000000', message: status === 429 ? 'Too many requests' : 'Service unavailable' });
    const body = JSON.parse(raw) as {
      statement?: unknown;
      timeout?: unknown;
      bindings?: Record<string, { type: string; value: unknown }>;
      parameters?: Record<string, unknown>;
    } & Record<string, unknown>;
    const statement = body.statement;
    if (typeof statement !== 'string') return send(400, { message: 'statement is required' });
    if (typeof body.timeout !== 'number' || body.timeout < 0 || body.timeout > 604_800) return send(400, { message: 'timeout must be 0 to 604800 seconds' });
    for (const [k, v] of Object.entries(this.options.context))
      if (body[k] !== v) return send(400, { message: `${k} is ${JSON.stringify(body[k])}, expected ${v}` });
    // Session parameters the SQL API documents for a request (Body of the POST request, `parameters`); any other is refused.
    const unknown = Object.keys(body.parameters ?? {}).filter((k) => !requestParameters.has(k.toUpperCase()));
    if (unknown.length) return send(400, { message: `unknown parameters: ${unknown.join(', ')}` });
    const multi = String(body.parameters?.MULTI_STATEMENT_COUNT ?? '1');
    const count = statementCount(statement);
    if (multi !== '0' && Number(multi) !== count)
      return send(422, { code: '000008', sqlState: '0A000', message: `Actual statement count ${count} did not match the desired statement count ${multi}.` });
    const params = bindingsOf(body.bindings, send);
    if (params === undefined) return;
    this.byRequestId.set(requestId, '');
    const twin = this.twinOf(statement);
    this.received.push({
      label: twin?.label ?? 'unexpected',
      statement,
      ...(body.bindings ? { bindings: body.bindings } : {}),
      context: Object.fromEntries(Object.keys(this.options.context).map((k) => [k, body[k]])),
      multi,
      ...(body.parameters?.TIMEZONE === undefined ? {} : { timezone: String(body.parameters.TIMEZONE) }),
    });
    await this.hold?.(this.received.at(-1) as Received);
    const handle = randomUUID();
    this.byRequestId.set(requestId, handle);
    const fail = (sqlState: string, code: string, message: string) => {
      this.statements.set(handle, { state: 'failed', sqlState, code, message });
      this.answer(handle, send);
    };
    const cancel = twin && this.cancel.get(twin.label);
    if (cancel && cancel.skip-- <= 0) {
      this.cancel.delete(twin.label);
      return fail('57014', '000630', 'Statement reached its statement or warehouse timeout of 3,600 second(s) and was canceled.');
    }
    if (!twin) {
      this.unexpected.push(statement);
      return fail('42000', '001003', 'SQL compilation error: not a statement of the plan (the local server runs only the plan twins it was given)');
    }
    const done = this.run(handle, statement, twin.pg, params, multi === '0' ? count : 1);
    this.statements.set(handle, { state: 'running', done });
    if (this.options.longRunning?.(twin.label)) this.runningFor.set(handle, 2);
    await done;
    this.answer(handle, send);
  }

  /** The statement's twin: by its text, or a range read (`BETWEEN n AND m`) by its template, the numbers carried over. */
  private twinOf(statement: string): Twin | undefined {
    const exact = this.options.twins.get(statement);
    if (exact) return exact;
    const numbers: string[] = [];
    const template = statement.replace(/BETWEEN (\d+) AND (\d+)/, (_, from: string, to: string) => {
      numbers.push(from, to);
      return 'BETWEEN {{from}} AND {{to}}';
    });
    const ranged = numbers.length ? this.options.twins.get(template) : undefined;
    return ranged && { label: ranged.label, pg: ranged.pg.replace('{{from}}', numbers[0] as string).replace('{{to}}', numbers[1] as string) };
  }

  private run(handle: string, snowflakeText: string, pgText: string, params: unknown[], count: number): Promise<void> {
    const { db } = this.options;
    const work = async () => {
      try {
        const results: Results<Record<string, unknown>>[] = params.length ? [await db.query<Record<string, unknown>>(pgText, params)] : await db.exec(pgText);
        // The twin's last statement that returns rows (a script may end with COMMIT after its summary).
        const last = results.filter((r) => r.fields.length > 0).at(-1);
        const result = last ? shaped(last) : statusRow;
        if (count > 1) {
          const rowsAt = queryIndex(snowflakeText);
          const children = Array.from({ length: count }, (_, i) => {
            const h = randomUUID();
            this.statements.set(h, { state: 'done', result: i === rowsAt ? result : statusRow });
            return h;
          });
          this.statements.set(handle, {
            state: 'done',
            result: {
              rowType: [{ name: 'multiple statement execution', type: 'text', scale: null, nullable: false }],
              data: [['Multiple statements executed successfully.']],
            },
            children,
          });
        } else {
          this.statements.set(handle, { state: 'done', result });
        }
      } catch (e) {
        // The request was its session: what it left open ends with it.
        await db.exec('ROLLBACK').catch(() => undefined);
        const err = e as { code?: string; message: string };
        // Postgres SQLSTATEs the plans name mean the same in Snowflake's answers: an undefined table is 42S02 there,
        // and a table of a schema that does not exist is the schema's error, 02000 (002003, "Schema '...' does not exist or not authorized.").
        const schema =
          err.code === '3F000' ? /schema "([^"]+)"/.exec(err.message)?.[1] : err.code === '42P01' ? /relation "([^".]+)\./.exec(err.message)?.[1] : undefined;
        const schemaMissing =
          schema !== undefined &&
          (err.code === '3F000' ||
            (await db.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]).then(
              (r) => r.rows.length === 0,
              () => false,
            )));
        const sqlState = schemaMissing ? '02000' : err.code === '42P01' || err.code === '3F000' ? '42S02' : (err.code ?? '42000');
        const message = schemaMissing
          ? `SQL compilation error:\nSchema '${this.options.context.database}.${schema}' does not exist or not authorized.`
          : err.message;
        this.statements.set(handle, { state: 'failed', sqlState, code: sqlState === '42S02' || sqlState === '02000' ? '002003' : '100000', message });
      }
    };
    const next = this.queue.then(work, work);
    this.queue = next;
    return next;
  }

  private answer(handle: string, send: (status: number, body: unknown) => void, partition?: number) {
    const s = this.statements.get(handle);
    const statusUrl = `/api/v2/statements/${handle}`;
    if (!s) return send(404, { message: `no statement ${handle}` });
    const left = this.runningFor.get(handle) ?? 0;
    if (left > 0) this.runningFor.set(handle, left - 1);
    if (s.state === 'running' || left > 0)
      return send(202, {
        code: '333334',
        message: 'Asynchronous execution in progress. Use provided query id to perform query monitoring and management.',
        statementHandle: handle,
        statementStatusUrl: statusUrl,
      });
    if (s.state === 'failed')
      return send(422, { code: s.code, sqlState: s.sqlState, message: s.message, statementHandle: handle, statementStatusUrl: statusUrl });
    const size = this.options.partitionRows ?? 1000;
    const parts: (string | null)[][][] = [];
    for (let i = 0; i < s.result.data.length; i += size) parts.push(s.result.data.slice(i, i + size));
    if (parts.length === 0) parts.push([]);
    if (partition !== undefined && partition > 0) {
      if (partition >= parts.length) return send(422, { code: '000000', sqlState: '22000', message: `no partition ${partition}` });
      const fault = this.partitionFault?.(partition);
      if (fault) return send(fault.status, fault.body);
      return send(200, { data: parts[partition] });
    }
    const tooLarge = this.tooLarge && parts.length > 1;
    send(200, {
      resultSetMetaData: {
        numRows: s.result.data.length,
        format: 'jsonv2',
        rowType: s.result.rowType,
        partitionInfo: (tooLarge ? parts.slice(0, 1) : parts).map((p) => ({ rowCount: p.length, uncompressedSize: JSON.stringify(p).length })),
      },
      data: parts[0],
      code: tooLarge ? '391908' : '090001',
      statementStatusUrl: statusUrl,
      sqlState: '00000',
      statementHandle: handle,
      message: 'Statement executed successfully.',
      createdOn: Date.now(),
      ...(s.children ? { statementHandles: s.children } : {}),
    });
  }

  private async get(handle: string, partition: string | null, send: (status: number, body: unknown) => void): Promise<void> {
    this.answer(handle, send, partition === null ? undefined : Number(partition));
  }
}

const bindingTypes = new Set(['TEXT', 'FIXED', 'REAL', 'BOOLEAN']);

/** The bindings in order, as Postgres parameters; an array value (array binding) stays an array. Undefined when refused. */
function bindingsOf(
  bindings: Record<string, { type: string; value: unknown }> | undefined,
  send: (status: number, body: unknown) => void,
): unknown[] | undefined {
  if (bindings === undefined) return [];
  const keys = Object.keys(bindings);
  const params: unknown[] = [];
  for (let i = 1; i <= keys.length; i++) {
    const b = bindings[String(i)];
    const valueOk = (v: unknown) => v === null || typeof v === 'string';
    if (!b || !bindingTypes.has(b.type) || !(valueOk(b.value) || (Array.isArray(b.value) && b.value.every(valueOk)))) {
      send(400, { message: `binding ${i} is not {type, value} with a string value (or an array of them)` });
      return undefined;
    }
    params.push(b.value);
  }
  return params;
}

export async function startSnowflake(options: SnowflakeServerOptions): Promise<SnowflakeServer> {
  return new SnowflakeServer(options).start();
}
