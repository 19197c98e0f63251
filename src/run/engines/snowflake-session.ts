/**
 * Snowflake through its SQL API v2 (POST /api/v2/statements, documented by Snowflake), not the
 * Node driver: the API is a documented contract (so a local server can follow it faithfully in
 * the tests), needs no dependency (the driver brings some thirty, cloud SDKs among them), and
 * gives what the executor needs: a multi-statement script per request (MULTI_STATEMENT_COUNT 0,
 * one result per statement through `statementHandles`), asynchronous execution (202, then
 * polling the statement's URL), and results in partitions read one at a time.
 *
 * Each request is a session of its own (`sessionPerRequest`): a script's temporary tables and
 * open transaction end with it. Snowflake has no cursors WITH HOLD; reading a query's result
 * partition by partition (GET ...?partition=n) is the equivalent: the result stays readable
 * after its request while other statements (the accepted rows) run and commit, and only one
 * partition at a time is in memory.
 */
import { randomUUID } from 'node:crypto';
import { clip } from '../output/redact.js';
import { parseRetryAfter } from '../http/backoff.js';
import { SnowflakeAuth, type SnowflakeConfig } from './snowflake-auth.js';
import { jsonText, sessionOf, type SqlRow, type SqlSession } from './sql-session.js';
import { dateOfDays, timestampOfSeconds } from './exact-text.js';

/** A column of `resultSetMetaData.rowType`. */
interface RowType {
  name: string;
  type: string;
  scale?: number | null;
}

/** The SQL API's answer to a statement (200), or its parts for a partition. */
interface ResultSet {
  /** Snowflake's code for the answer: 090001 for success, 391908 where the result set was too large for it to give whole. */
  code?: string;
  statementHandle?: string;
  statementHandles?: string[];
  resultSetMetaData?: { numRows?: number; rowType: RowType[]; partitionInfo?: { rowCount: number }[] };
  data?: (string | null)[][];
}

/** A statement that failed (422), with Snowflake's SQLSTATE as `code` (what the plan's error kinds name). */
export class SnowflakeError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    /** Snowflake's own error number, e.g. 002003. */
    readonly snowflakeCode: string | undefined,
  ) {
    super(message);
  }
}

/** How long one HTTP request may take: Snowflake answers a POST within 45 s (then 202), so a minute and a half. */
const requestMs = 90_000;
/** Seconds a statement may run before Snowflake cancels it (the request body's `timeout`). */
const statementSeconds = 3600;
const retryStatuses = new Set([429, 500, 502, 503, 504]);
const maxAttempts = 6;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A value of the documented JSON result format (every value a string): DATE days since the epoch,
 * TIMESTAMP_NTZ and _LTZ seconds since the epoch with their fraction, TIMESTAMP_TZ those seconds
 * (UTC), a space and the offset in minutes plus 1440.
 */
function valueFrom(column: RowType, v: string | null): unknown {
  if (v === null) return null;
  switch (column.type.toLowerCase()) {
    case 'fixed': {
      if (column.scale) return v;
      const n = Number(v);
      return Number.isSafeInteger(n) ? n : v;
    }
    case 'real':
      return Number(v);
    case 'boolean':
      return v === 'true' || v === '1' || v === 'TRUE';
    case 'date':
      return new Date(Number(v) * 86_400_000).toISOString().slice(0, 10);
    case 'timestamp_ntz':
    case 'timestamp_ltz':
      return new Date(Number(v.split(' ')[0]) * 1000).toISOString();
    default:
      return v;
  }
}

/** The same value as exact text (exact-text.ts): every digit the string has, no Date or double between. */
export function textFrom(column: RowType, v: string | null): string | null {
  if (v === null) return null;
  switch (column.type.toLowerCase()) {
    case 'boolean':
      return String(valueFrom(column, v));
    case 'date':
      return dateOfDays(v);
    case 'timestamp_ntz':
      return timestampOfSeconds(v);
    case 'timestamp_ltz':
      // An instant: written in UTC with its offset, so no session's zone reads it otherwise.
      return timestampOfSeconds(v, 0);
    case 'timestamp_tz': {
      const [seconds = '', offset = ''] = v.split(' ');
      return timestampOfSeconds(seconds, Number(offset) - 1440);
    }
    default:
      return v;
  }
}

/**
 * A statement's own status in place of rows (DDL, BEGIN, COMMIT: one `status` column; DML: the
 * `number of rows ...` it changed). Postgres drivers give no rows for such statements, and
 * neither does this session, so that a script's last rows are its last query's.
 */
function statusOnly(types: readonly RowType[]): boolean {
  return (types.length === 1 && types[0]?.name === 'status') || (types.length > 0 && types.every((t) => t.name.startsWith('number of rows ')));
}

function rowsOf(types: readonly RowType[], data: readonly (string | null)[][] | undefined, text = false): SqlRow[] {
  const value = text ? textFrom : valueFrom;
  return (data ?? []).map((values) => Object.fromEntries(types.map((t, i) => [t.name, value(t, values[i] ?? null)])));
}

/** A value as bound text: a timestamp in ISO 8601 (which Snowflake's AUTO format reads), a JSON value (a source's json column) as its JSON text. */
function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return jsonText(v);
  return String(v);
}

/** A bound value as the SQL API takes it: `{type, value}`, an array (one row per element) for array binding. */
function binding(v: unknown): { type: string; value: unknown } {
  if (Array.isArray(v)) return { type: 'TEXT', value: v.map(text) };
  if (typeof v === 'number' && Number.isInteger(v)) return { type: 'FIXED', value: String(v) };
  if (typeof v === 'number') return { type: 'REAL', value: String(v) };
  if (typeof v === 'boolean') return { type: 'BOOLEAN', value: String(v) };
  return { type: 'TEXT', value: text(v) };
}

/** A statement's error answer (422) as the error it is. */
function failure(j: Record<string, unknown>): SnowflakeError {
  return new SnowflakeError(
    clip(String(j.message ?? 'the statement failed'), 1000),
    typeof j.sqlState === 'string' ? j.sqlState : undefined,
    typeof j.code === 'string' ? j.code : undefined,
  );
}

export class SqlApi {
  private readonly auth: SnowflakeAuth;

  constructor(
    private readonly config: SnowflakeConfig,
    secret: (value: string) => void,
  ) {
    this.auth = new SnowflakeAuth(config, secret);
  }

  /**
   * One HTTP exchange, retried as the SQL API documents: 429 and 5xx with backoff (Retry-After
   * honoured), a lost connection again (a POST with its requestId and retry=true, so Snowflake
   * does not run it twice), a 401 once more with a new JWT.
   */
  private async call(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    let renewed = false;
    let retried = false;
    for (let attempt = 1; ; attempt++) {
      const url = `${this.config.base}${path}${retried && method === 'POST' ? '&retry=true' : ''}`;
      let res: Response;
      try {
        res = await fetch(url, {
          method,
          headers: {
            ...this.auth.headers(),
            Accept: 'application/json',
            'User-Agent': 'syncwright',
            ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(requestMs),
          redirect: 'error',
        });
      } catch (e) {
        if (attempt >= maxAttempts) throw new Error(`Snowflake at ${this.config.base} did not answer: ${(e as Error).message}`);
        retried = true;
        await sleep(Math.min(8000, 100 * 2 ** attempt));
        continue;
      }
      const raw = await res.text();
      let json: Record<string, unknown> = {};
      try {
        json = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        json = { message: raw };
      }
      if (res.status === 401 && !renewed && this.auth.renew()) {
        renewed = true;
        continue;
      }
      if (retryStatuses.has(res.status) && attempt < maxAttempts) {
        // Read as HTTP delivery reads it (delay-seconds or an HTTP-date), capped at a minute.
        const after = parseRetryAfter(res.headers.get('retry-after'));
        retried = true;
        await sleep(after !== undefined && after > 0 ? Math.min(after, 60_000) : Math.min(8000, 100 * 2 ** attempt));
        continue;
      }
      if (res.status === 200 || res.status === 202 || res.status === 422) return { status: res.status, json };
      const said = typeof json.message === 'string' ? json.message : raw;
      throw new Error(
        `Snowflake's SQL API at ${this.config.base} answered ${res.status}${res.status === 401 ? ' (authentication refused: check the user, its key or token)' : ''}: ${clip(said, 300)}`,
      );
    }
  }

  /** The statement's finished result: polls while it runs (202), throws its error (422). */
  private async settle(first: { status: number; json: Record<string, unknown> }): Promise<ResultSet> {
    let answer = first;
    let wait = 50;
    while (answer.status === 202) {
      await sleep(wait);
      wait = Math.min(1000, wait * 2);
      const handle = String(answer.json.statementHandle ?? '');
      answer = await this.call('GET', `/api/v2/statements/${encodeURIComponent(handle)}`);
    }
    if (answer.status === 422) throw failure(answer.json);
    return answer.json as ResultSet;
  }

  /** Runs `statement` (a script when `script`), bound parameters `?` in order. */
  async submit(statement: string, params: readonly unknown[] | undefined, script: boolean): Promise<ResultSet> {
    const body = {
      statement,
      timeout: statementSeconds,
      ...this.config.context,
      ...(params?.length ? { bindings: Object.fromEntries(params.map((p, i) => [String(i + 1), binding(p)])) } : {}),
      // 0: however many statements the script holds; 1: exactly one, so a single statement is never run as a script.
      // TIMEZONE: a timestamp without zone written to (or compared with) TIMESTAMP_LTZ or _TZ is read in the
      // session's zone (the account's default, often America/Los_Angeles); UTC, as the run's Postgres sessions.
      parameters: { MULTI_STATEMENT_COUNT: script ? '0' : '1', TIMEZONE: 'UTC' },
    };
    return this.settle(await this.call('POST', `/api/v2/statements?requestId=${randomUUID()}`, body));
  }

  /** A finished statement's result, by its handle. */
  async result(handle: string): Promise<ResultSet> {
    return this.settle(await this.call('GET', `/api/v2/statements/${encodeURIComponent(handle)}`));
  }

  /**
   * The rows of partition `n` of a result (partition 0 came with the result). An error answer, or
   * fewer or more rows than the result's `partitionInfo` gave it, fails the read: taken as the
   * partition's rows, it would leave rows out of a change set or a load without a word.
   */
  async partition(handle: string, types: readonly RowType[], n: number, text: boolean, rowCount: number | undefined): Promise<SqlRow[]> {
    const answer = await this.call('GET', `/api/v2/statements/${encodeURIComponent(handle)}?partition=${n}`);
    if (answer.status === 422) throw failure(answer.json);
    if (answer.status !== 200)
      throw new Error(
        `Snowflake's SQL API at ${this.config.base} answered ${answer.status} for partition ${n} of statement ${handle}, whose result was complete`,
      );
    return this.whole(handle, rowsOf(types, (answer.json as ResultSet).data, text), n, rowCount);
  }

  /** A partition's rows, where there are as many as the result said. */
  private whole(handle: string | undefined, rows: SqlRow[], n: number, rowCount: number | undefined): SqlRow[] {
    if (rowCount !== undefined && rows.length !== rowCount)
      throw new Error(
        `Snowflake's SQL API at ${this.config.base} gave ${rows.length} rows for partition ${n} of statement ${handle ?? ''}, where the result said ${rowCount}: the result was not read whole`,
      );
    return rows;
  }

  /** Every partition of a result, one at a time; `text`: values as exact text (textFrom). */
  async *partitions(result: ResultSet, text = false): AsyncGenerator<SqlRow[]> {
    const meta = result.resultSetMetaData;
    if (!meta) return;
    const rowCount = (n: number) => meta.partitionInfo?.[n]?.rowCount;
    // Checked before any row is given: a step must not act on part of a result as if it were all of it.
    const listed = meta.partitionInfo?.reduce((n, p) => n + p.rowCount, 0);
    if (result.code === '391908' || (listed !== undefined && meta.numRows !== undefined && listed !== meta.numRows))
      throw new Error(
        `Snowflake's SQL API at ${this.config.base} did not give the whole result of statement ${result.statementHandle ?? ''} (code ${result.code ?? 'none'}: ${meta.numRows ?? '?'} rows, ${listed ?? '?'} in its partitions), as it does for a result set too large for its answer; nothing of it is taken as read`,
      );
    yield this.whole(result.statementHandle, rowsOf(meta.rowType, result.data, text), 0, rowCount(0));
    const count = meta.partitionInfo?.length ?? 1;
    for (let n = 1; n < count; n++) yield await this.partition(String(result.statementHandle), meta.rowType, n, text, rowCount(n));
  }

  async all(result: ResultSet): Promise<SqlRow[]> {
    const rows: SqlRow[] = [];
    for await (const part of this.partitions(result)) for (const r of part) rows.push(r);
    return rows;
  }
}

/** A session on the Snowflake account the endpoint's settings name (snowflake-auth.ts). */
export function openSnowflakeSession(config: SnowflakeConfig, secret: (value: string) => void): SqlSession {
  const api = new SqlApi(config, secret);
  return sessionOf({
    engine: 'snowflake',
    location: `${config.base} (account ${config.account}${config.context.database ? `, database ${config.context.database}` : ''})`,
    sessionPerRequest: true,
    query: async (sql, params) => api.all(await api.submit(sql, params, false)),
    exec: async (sql) => {
      const first = await api.submit(sql, undefined, true);
      if (!first.statementHandles) return [await api.all(first)];
      const results: SqlRow[][] = [];
      for (const handle of first.statementHandles) {
        const result = await api.result(handle);
        results.push(statusOnly(result.resultSetMetaData?.rowType ?? []) ? [] : await api.all(result));
      }
      return results;
    },
    async *pages(sql, pageSize, _serial, options) {
      const size = Math.max(1, Math.floor(pageSize));
      for await (const part of api.partitions(await api.submit(sql, undefined, false), options.text)) {
        for (let i = 0; i < part.length; i += size) yield part.slice(i, i + size);
      }
    },
    close: async () => undefined,
  });
}
