/**
 * BigQuery through `@google-cloud/bigquery`: every statement and script is a query job
 * (jobs.insert, standard SQL, with the endpoint's location, its default dataset and labels
 * naming the sync), polled with jobs.get until DONE, its results read page by page with
 * getQueryResults (pageToken, maxResults), so that a change set never sits in memory.
 * All jobs of a session run in one BigQuery session (the first job creates it, the others carry
 * its session_id), where a script's TEMP tables live from changes.sql to commit.sql; closing
 * runs the plan's `close` statement. A multi-statement script's results are those of its last
 * SELECT, DML or DDL statement (a COMMIT is none of these), which is what a plan reads of a
 * script (the summary row).
 * Parameters are named (@p1, @p2, ...): strings STRING, whole numbers INT64, other numbers
 * FLOAT64, booleans BOOL; an array is bound as ARRAY<JSON> (each value its JSON text), since a
 * BigQuery array cannot hold NULL; the plan's statements read them with JSON_VALUE.
 * Credentials: the endpoint's `credentials` setting (a service account key, JSON, from the
 * environment), else Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS names a
 * key file, else gcloud's or the metadata server's). `--endpoint NAME=URL` points the client
 * at another server (tests, emulators).
 */
import type { Job, JobMetadata, Query } from '@google-cloud/bigquery';
import type { PlanEndpoint, SessionSql } from '../../contract/plan.js';
import { clip } from '../output/redact.js';
import { jsonText, sessionOf, type SqlRow, type SqlSession } from './sql-session.js';
import { settingText } from './endpoint-settings.js';
import { timestampOfMicros } from './exact-text.js';

/** A job that ended with an error: `code` is BigQuery's reason (notFound, invalidQuery, ...), as the plan's error codes name them. */
export class BigQueryJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Field {
  name: string;
  type: string;
  mode?: string;
  fields?: Field[];
}

type Cell = { v: unknown };

/**
 * A cell as the executor's other engines give it: INT64 and NUMERIC as text (exact), FLOAT64 a
 * number, BOOL a boolean, TIMESTAMP an ISO text, JSON its text. `text`: every scalar as exact
 * text (exact-text.ts), a TIMESTAMP to its microsecond.
 */
function decode(field: Field, v: unknown, text = false): unknown {
  if (v === null || v === undefined) return null;
  if (field.mode === 'REPEATED') return (v as Cell[]).map((c) => decode({ ...field, mode: 'NULLABLE' }, c.v, text));
  if (text && field.type === 'TIMESTAMP') return timestampOfMicros(String(v));
  if (text && field.type !== 'RECORD' && field.type !== 'STRUCT') return String(v);
  switch (field.type) {
    case 'RECORD':
    case 'STRUCT':
      return rowOf(field.fields ?? [], v as { f: Cell[] }, text);
    case 'FLOAT':
    case 'FLOAT64':
      return Number(v);
    case 'BOOLEAN':
    case 'BOOL':
      return v === true || v === 'true';
    case 'TIMESTAMP':
      // Microseconds since the epoch (formatOptions.useInt64Timestamp, the client's default).
      return new Date(Number(BigInt(String(v)) / 1000n)).toISOString();
    default:
      return String(v);
  }
}

function rowOf(fields: readonly Field[], row: { f: Cell[] }, text = false): SqlRow {
  const out: SqlRow = {};
  fields.forEach((field, i) => {
    out[field.name] = decode(field, row.f[i]?.v, text);
  });
  return out;
}

/** The client's parameter type for a value (named parameters need one for NULL). */
function typeOf(v: unknown): string | string[] {
  if (Array.isArray(v)) return ['JSON'];
  if (typeof v === 'number') return Number.isInteger(v) ? 'INT64' : 'FLOAT64';
  if (typeof v === 'boolean') return 'BOOL';
  return 'STRING';
}

function bound(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(jsonText);
  if (v === undefined) return null;
  return typeof v === 'bigint' ? String(v) : v;
}

/** BigQuery label values: lower-case letters, digits, _ and -, at most 63 characters. */
export function labelValue(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '_')
    .slice(0, 63);
}

export interface BigQueryPlace {
  /** `--endpoint NAME=URL`: the server the client talks to instead of bigquery.googleapis.com. */
  apiEndpoint?: string;
  env: NodeJS.ProcessEnv;
}

/** A session on the BigQuery project the endpoint's settings name. */
export async function openBigQuerySession(endpoint: PlanEndpoint, sql: Pick<SessionSql, 'close'>, place: BigQueryPlace): Promise<SqlSession> {
  const s = endpoint.settings;
  const setting = (name: string) => settingText(endpoint, name, place.env);
  const projectId = setting('project');
  if (!projectId) throw new Error(`${endpoint.name}: a BigQuery endpoint needs its project setting`);
  const location = setting('location');
  const dataset = setting('dataset');
  let credentials: Record<string, unknown> | undefined;
  const secret = s.credentials;
  if (secret !== undefined && typeof secret === 'object' && 'env' in secret) {
    const text = place.env[secret.env];
    if (text === undefined) throw new Error(`environment variable ${secret.env} is not set (the credentials of ${endpoint.name})`);
    try {
      credentials = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // The key's text is a secret: the message never shows it.
      throw new Error(`${endpoint.name}: the credentials in ${secret.env} are not a service account key in JSON`);
    }
  }
  const keyFilename = credentials ? undefined : place.env.GOOGLE_APPLICATION_CREDENTIALS;
  // Loaded on first use, as the sinks' SDKs are: a run without BigQuery never loads it.
  const { BigQuery } = await import('@google-cloud/bigquery');
  const client = new BigQuery({
    projectId,
    ...(location ? { location } : {}),
    ...(place.apiEndpoint ? { apiEndpoint: place.apiEndpoint } : {}),
    ...(credentials ? { credentials } : keyFilename ? { keyFilename } : {}),
    // rateLimitExceeded, backendError, 429 and 5xx are retried by the client with backoff.
    autoRetry: true,
    maxRetries: 5,
  });
  let sessionId: string | undefined;
  let labels: Record<string, string> = { syncwright: 'run' };

  /** Polls jobs.get until the job is DONE; its error, if any, thrown with BigQuery's reason. */
  async function finished(job: Job): Promise<JobMetadata> {
    let delay = 25;
    for (;;) {
      const [meta] = await job.getMetadata();
      const status = (meta as JobMetadata).status;
      if (status?.state === 'DONE') {
        // The session the job made, even where it failed (the first take finds no lock table): the
        // run's later jobs and its close name it, so that it does not outlive the run.
        sessionId ??= (meta as JobMetadata).statistics?.sessionInfo?.sessionId ?? undefined;
        const err = status.errorResult;
        if (err)
          throw new BigQueryJobError(
            err.reason ?? 'unknown',
            clip(`${err.reason ?? 'error'}: ${err.message ?? ''}${err.location ? ` (at ${err.location})` : ''}`, 2000),
          );
        return meta as JobMetadata;
      }
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(1000, delay * 2);
    }
  }

  /**
   * jobs.insert, again after rateLimitExceeded (403 or 429; the job was not created), with
   * backoff: the client retries 429 and 5xx itself but not a 403, whose reason is in its body.
   */
  async function insert(options: Query): Promise<Job> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await client.createQueryJob(options))[0];
      } catch (e) {
        const reasons = ((e as { errors?: { reason?: string }[] }).errors ?? []).map((x) => x.reason);
        if (attempt >= 6 || !reasons.includes('rateLimitExceeded')) throw e;
        await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** (attempt - 1))));
      }
    }
  }

  /** Runs one query job to its end: in the run's session, or (`inSession` false) in none. */
  async function run(query: string, params: readonly unknown[] | undefined, inSession = true): Promise<Job> {
    const named = params?.length ? Object.fromEntries(params.map((v, i) => [`p${i + 1}`, bound(v)])) : undefined;
    const types = params?.length ? Object.fromEntries(params.map((v, i) => [`p${i + 1}`, typeOf(v)])) : undefined;
    const options: Query = {
      query,
      useLegacySql: false,
      labels,
      ...(location ? { location } : {}),
      ...(dataset ? { defaultDataset: { projectId, datasetId: dataset } } : {}),
      ...(named ? { params: named, types } : {}),
      // In UTC whatever the project's or reservation's default_time_zone: a DATETIME cast to or compared with a TIMESTAMP is read in the query's zone.
      connectionProperties: [{ key: 'time_zone', value: 'UTC' }, ...(inSession && sessionId ? [{ key: 'session_id', value: sessionId }] : [])],
      ...(inSession && !sessionId ? { createSession: true } : {}),
    };
    const job = await insert(options);
    await finished(job);
    return job;
  }

  /**
   * One page of a finished job's results, the token of the next, and the result's totalRows where
   * the answer is of a result set (it has a schema): a DML or DDL statement's answer has no rows,
   * and its totalRows may be the rows it changed (as BigQuery's own clients have read it).
   */
  async function page(
    job: Job,
    maxResults: number | undefined,
    pageToken: string | undefined,
    text = false,
  ): Promise<{ rows: SqlRow[]; next?: string; total?: number }> {
    const [raw, , resp] = await job.getQueryResults({
      autoPaginate: false,
      skipParsing: true,
      ...(maxResults ? { maxResults } : {}),
      ...(pageToken ? { pageToken } : {}),
    });
    const fields = ((resp as { schema?: { fields?: Field[] } } | undefined)?.schema?.fields ?? []) as Field[];
    const next = (resp as { pageToken?: string } | undefined)?.pageToken;
    const total = Number((resp as { totalRows?: unknown } | undefined)?.totalRows ?? Number.NaN);
    return {
      rows: (raw as unknown as { f: Cell[] }[]).map((r) => rowOf(fields, r, text)),
      ...(next ? { next } : {}),
      ...(Number.isSafeInteger(total) && fields.length > 0 ? { total } : {}),
    };
  }

  /**
   * Counts a result's rows as its pages come, against the totalRows of its answers: pages that
   * end (no pageToken) before that many rows, or pass it, are a result read in part, which taken
   * as whole would leave rows out of a change set, an object or a load without a word.
   */
  function counted(job: Job) {
    let read = 0;
    let total: number | undefined;
    return (p: { rows: SqlRow[]; next?: string; total?: number }): void => {
      read += p.rows.length;
      total = p.total ?? total;
      if (total === undefined || (p.next !== undefined && read <= total) || read === total) return;
      throw new Error(
        `BigQuery gave ${read} rows of the result of job ${job.id ?? ''}${p.next === undefined ? ' and no further page' : ''}, where its totalRows is ${total}: the result was not read whole, and the read fails`,
      );
    };
  }

  /** Every row of a finished job (a statement's or a script's short result). */
  async function all(job: Job): Promise<SqlRow[]> {
    const rows: SqlRow[] = [];
    const check = counted(job);
    let token: string | undefined;
    do {
      const p = await page(job, undefined, token);
      check(p);
      rows.push(...p.rows);
      token = p.next;
    } while (token);
    return rows;
  }

  return sessionOf({
    engine: 'bigquery',
    location: `bigquery://${projectId}${location ? ` (${location})` : ''}`,
    query: async (text, params) => all(await run(text, params)),
    // A session runs its jobs one at a time: a lock renewal there would wait behind a long script.
    aside: async (text, params) => all(await run(text, params, false)),
    // A script's results are those of its last SELECT, DML or DDL statement.
    exec: async (text) => [await all(await run(text, undefined))],
    async *pages(query, pageSize, serial, options) {
      const job = await serial(() => run(query, undefined));
      const check = counted(job);
      let token: string | undefined;
      do {
        const p = await serial(() => page(job, Math.max(1, Math.floor(pageSize)), token, options.text));
        check(p);
        if (p.rows.length) yield p.rows;
        token = p.next;
      } while (token);
    },
    forSync: (name) => {
      labels = { syncwright: 'run', syncwright_sync: labelValue(name) };
    },
    close: async () => {
      if (sessionId && sql.close) await run(sql.close, undefined).catch(() => undefined);
    },
  });
}
