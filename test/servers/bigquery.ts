/**
 * BigQuery's REST API v2, the part a session uses, on 127.0.0.1: jobs.insert
 * (POST /bigquery/v2/projects/{p}/jobs), jobs.get (GET .../jobs/{id}) and jobs.getQueryResults
 * (GET .../queries/{id}), per https://cloud.google.com/bigquery/docs/reference/rest/v2/jobs.
 * It holds each request to the contract and refuses what breaks it (400 invalid, recorded in
 * `refused`): a Bearer token it issued, a query job in standard SQL (useLegacySql false) with
 * the expected location and valid labels, NAMED parameters each typed, a BigQuery session
 * created by the first job and named by the others (connectionProperties session_id), or none.
 * A job is PENDING when inserted, RUNNING while it executes (and at least once when polled),
 * then DONE, with errorResult on failure; its results come in pages (maxResults, pageToken,
 * totalRows, schema, rows as {f:[{v}]}, TIMESTAMP as microseconds under
 * formatOptions.useInt64Timestamp).
 *
 * It cannot run BigQuery SQL, so it runs a twin: every statement it accepts is one the test
 * registered (`know`: the BigQuery text as the plan has it, and the Postgres text the same
 * project compiled for Postgres has in its place), and it executes the Postgres twin on PGlite,
 * answering with that engine's rows in BigQuery's shapes. A text it does not know is refused:
 * the executor sends exactly the plan's statements. Tokens: POST /token answers the token
 * exchange of an external-account credential file (GOOGLE_APPLICATION_CREDENTIALS).
 */
import { randomUUID } from 'node:crypto';
import type { PGlite, Results } from '@electric-sql/pglite';
import { FakeService, bearer, type Recorded, type Reply } from './fake-api.js';

interface Statement {
  name: string;
  pg: string;
}

interface Job {
  id: string;
  statement: string;
  session: string;
  labels: Record<string, string>;
  /** The query's time zone (connection property time_zone); the project's default where none. */
  zone?: string;
  state: 'PENDING' | 'RUNNING' | 'DONE';
  polls: number;
  finished: boolean;
  error?: { reason: string; message: string };
  fields: { name: string; type: string }[];
  rows: unknown[][];
  /** The rows a statement without a result set changed (PGlite's affectedRows). */
  affected?: number;
}

/** Postgres type oids as BigQuery field types. */
const types: Record<number, string> = {
  16: 'BOOLEAN',
  20: 'INTEGER',
  21: 'INTEGER',
  23: 'INTEGER',
  700: 'FLOAT',
  701: 'FLOAT',
  1700: 'NUMERIC',
  114: 'JSON',
  3802: 'JSON',
  1082: 'DATE',
  1114: 'TIMESTAMP',
  1184: 'TIMESTAMP',
};

function cell(type: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'TIMESTAMP') return String(BigInt((v as Date).getTime()) * 1000n);
  if (type === 'DATE') return v instanceof Date ? v.toISOString().slice(0, 10) : String(v);
  if (type === 'JSON') return typeof v === 'string' ? v : JSON.stringify(v);
  return String(v);
}

const invalid = (message: string): Reply => ({ status: 400, body: { error: { code: 400, message, errors: [{ reason: 'invalid', message }] } } });
const labelPattern = /^[a-z0-9_-]{0,63}$/;

/** A query parameter's value as the Postgres twin binds it. */
function paramValue(p: {
  parameterType: { type: string; arrayType?: { type: string } };
  parameterValue?: { value?: string; arrayValues?: { value?: string }[] };
}): unknown {
  const { type } = p.parameterType;
  const value = p.parameterValue?.value;
  if (type === 'ARRAY') {
    if (p.parameterType.arrayType?.type !== 'JSON') throw new Error('array parameters here are ARRAY<JSON>');
    return (p.parameterValue?.arrayValues ?? []).map((v) => JSON.parse(v.value ?? 'null') as unknown);
  }
  if (value === undefined || value === null) return null;
  if (type === 'INT64') return Number(value);
  if (type === 'BOOL') return value === 'true';
  if (type === 'STRING') return value;
  throw new Error(`parameter type ${type} is not used by the plans`);
}

export class FakeBigQuery extends FakeService {
  readonly jobs = new Map<string, Job>();
  /** Requests refused for breaking the contract, with why. */
  readonly refused: string[] = [];
  /** The statements run, by name, in the order received, with the session and labels of their job. */
  readonly ran: { name: string; session: string; sync: string | undefined }[] = [];
  /** Keeps a job RUNNING after its statement ran until the promise settles (a long script), without holding up other jobs. */
  running?: (statement: string, sync: string | undefined) => Promise<void> | undefined;
  readonly sessions = new Set<string>();
  readonly ended = new Set<string>();
  /** The error a job of a known statement ends with instead of running (by the statement's name), as BigQuery reports a failed job. */
  jobError: ((statement: string) => { reason: string; message: string } | undefined) | undefined;
  /**
   * Results of a job (by its statement's name and sync) answered cut short: a page's rows less its
   * last, and no pageToken, while totalRows still counts every row (a result read in part).
   */
  cut: ((statement: string, sync: string | undefined) => boolean) | undefined;
  /**
   * Answers a job without a result set (DML, DDL) with the rows it changed as its totalRows, as
   * BigQuery's clients have been seen to read it; by the REST reference, it is the result's rows (none).
   */
  affectedAsTotal = false;
  /** The largest jobs.insert body received, in bytes. */
  largestInsert = 0;
  private readonly statements = new Map<string, Statement>();
  private readonly patterns: { re: RegExp; name: string; pg: string; slots: string[] }[] = [];
  private readonly tokens = new Set<string>();
  /** The TEMP tables each BigQuery session has made. */
  private readonly temp = new Map<string, Set<string>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** The statement ending a session: the server's own (BQ.ABORT_SESSION), nothing of the twin. */
  private closeStatement: string | undefined;

  constructor(
    readonly db: PGlite,
    readonly project: string,
    readonly location: string,
    /** The subject token a credential file must present to get an access token. */
    readonly subjectToken: string,
  ) {
    super();
  }

  /** A BigQuery statement the executor may send, and its Postgres twin. */
  know(name: string, bq: string, pg: string): void {
    const known = this.statements.get(bq);
    if (known && known.pg !== pg) throw new Error(`${name}: the same BigQuery text has two twins (${known.name})`);
    this.statements.set(bq, { name, pg });
  }

  /** A statement with whole-number slots ({{from}}, {{to}}) that the executor fills: matched by pattern, the twin filled alike. */
  knowSlots(name: string, bq: string, pg: string): void {
    const slots: string[] = [];
    const parts = bq.split(/\{\{(\w+)\}\}/).map((part, i) => {
      if (i % 2 === 0) return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      slots.push(part);
      return '(\\d+)';
    });
    const source = parts.join('');
    this.patterns.push({ re: new RegExp(`^${source}$`), name, pg, slots });
  }

  private lookup(text: string): Statement | undefined {
    const known = this.statements.get(text);
    if (known) return known;
    for (const p of this.patterns) {
      const m = p.re.exec(text);
      if (m) return { name: p.name, pg: p.pg.replace(/\{\{(\w+)\}\}/g, (all, slot: string) => m[p.slots.indexOf(slot) + 1] ?? all) };
    }
    return undefined;
  }

  /** The statement ending a BigQuery session. */
  closing(bq: string): void {
    this.closeStatement = bq;
  }

  protected handle(req: Recorded): Reply {
    const reply = this.route(req);
    if (reply.status === 400 || reply.status === 401) this.refused.push(`${req.method} ${req.path}: ${JSON.stringify(reply.body)}`);
    return reply;
  }

  private route(req: Recorded): Reply {
    if (req.method === 'POST' && req.path === '/token') return this.token(req);
    const token = bearer(req);
    if (token === undefined || !this.tokens.has(token))
      return {
        status: 401,
        body: { error: { code: 401, message: 'Request is missing valid authentication credentials.', errors: [{ reason: 'authError' }] } },
      };
    const base = `/bigquery/v2/projects/${this.project}`;
    if (req.method === 'POST' && req.path === `${base}/jobs`) return this.insert(req);
    const get = new RegExp(`^${base}/jobs/([^/]+)$`).exec(req.path);
    if (req.method === 'GET' && get) return this.get(decodeURIComponent(get[1] as string), req);
    const results = new RegExp(`^${base}/queries/([^/]+)$`).exec(req.path);
    if (req.method === 'GET' && results) return this.results(decodeURIComponent(results[1] as string), req);
    return { status: 404, body: { error: { code: 404, message: `not part of this server: ${req.method} ${req.path}` } } };
  }

  /** The token exchange of an external account (STS, RFC 8693): the subject token for an access token. */
  private token(req: Recorded): Reply {
    const form = req.body as Record<string, string>;
    if (form.grant_type !== 'urn:ietf:params:oauth:grant-type:token-exchange' || form.subject_token !== this.subjectToken)
      return invalid('token exchange refused');
    const access = `ya29.${randomUUID()}`;
    this.tokens.add(access);
    return {
      status: 200,
      body: { access_token: access, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: 3600 },
    };
  }

  private insert(req: Recorded): Reply {
    const body = req.body as {
      jobReference?: { jobId?: string; location?: string };
      configuration?: {
        labels?: Record<string, string>;
        query?: {
          query?: string;
          useLegacySql?: boolean;
          createSession?: boolean;
          connectionProperties?: { key: string; value: string }[];
          parameterMode?: string;
          queryParameters?: { name?: string; parameterType: { type: string }; parameterValue?: { value?: string } }[];
        };
      };
    };
    // "The request size can be up to 10 MB, including additional properties like query parameters" (BigQuery's quotas, query jobs).
    if (req.bytes.length > 10_000_000) return invalid(`Request payload size exceeds the limit: 10485760 bytes (${req.bytes.length})`);
    this.largestInsert = Math.max(this.largestInsert, req.bytes.length);
    const q = body.configuration?.query;
    const id = body.jobReference?.jobId;
    if (!q?.query || !id) return invalid('a query job needs configuration.query.query and jobReference.jobId');
    if (q.useLegacySql !== false) return invalid('useLegacySql must be false: the plans are standard SQL');
    if (body.jobReference?.location !== this.location) return invalid(`location must be ${this.location}, not ${body.jobReference?.location}`);
    const labels = body.configuration?.labels ?? {};
    for (const [k, v] of Object.entries(labels))
      if (!/^[a-z][a-z0-9_-]{0,62}$/.test(k) || !labelPattern.test(v)) return invalid(`label ${k}=${v} breaks the label rules`);
    if (this.jobs.has(id)) return { status: 409, body: { error: { code: 409, message: `Already Exists: Job ${this.project}:${this.location}.${id}` } } };
    const params = q.queryParameters ?? [];
    // The REST reference spells it NAMED; the service takes it in any case, and the client sends `named`.
    if (params.length && q.parameterMode?.toUpperCase() !== 'NAMED') return invalid('parameterMode must be NAMED');
    for (const [i, p] of params.entries())
      if (p.name !== `p${i + 1}` || !p.parameterType?.type) return invalid(`parameter ${i + 1} must be named p${i + 1} and typed`);
    // "Specifying multiple connection properties with the same key returns an error" (ConnectionProperty).
    const keys = (q.connectionProperties ?? []).map((c) => c.key);
    if (new Set(keys).size !== keys.length) return invalid(`connection properties name a key twice: ${keys.join(', ')}`);
    const zone = q.connectionProperties?.find((c) => c.key === 'time_zone')?.value;
    let session: string;
    const named = q.connectionProperties?.find((c) => c.key === 'session_id')?.value;
    if (q.createSession) {
      if (named) return invalid('createSession with a session_id');
      session = randomUUID();
      this.sessions.add(session);
    } else if (!named) {
      // A job of no session: it waits behind no session's jobs and sees no session's TEMP tables.
      session = '';
    } else {
      if (!this.sessions.has(named)) return invalid(`a job must name a session of this server's (${named})`);
      if (this.ended.has(named)) return invalid(`session ${named} has ended`);
      session = named;
    }
    const job: Job = {
      id,
      statement: '',
      session,
      labels,
      ...(zone === undefined ? {} : { zone }),
      state: 'PENDING',
      polls: 0,
      finished: false,
      fields: [],
      rows: [],
    };
    this.jobs.set(id, job);
    if (q.query === this.closeStatement) {
      job.statement = 'close';
      this.ended.add(session);
      // The session's TEMP tables end with it. The twin's are its one connection's, shared by every
      // session: dropped when no other session is open (a killed run's never ends).
      if ([...this.sessions].every((x) => this.ended.has(x))) this.queue = this.queue.then(() => this.db.exec('DISCARD TEMP'));
      this.ran.push({ name: 'close', session, sync: labels.syncwright_sync });
      job.finished = true;
      return { status: 200, body: this.resource(job) };
    }
    const statement = this.lookup(q.query);
    if (!statement) {
      // Refused as BigQuery refuses a query: the job ends with an error.
      this.refused.push(`unknown statement: ${q.query.slice(0, 300)}`);
      job.error = { reason: 'invalidQuery', message: 'the test server does not know this statement' };
      job.finished = true;
      return { status: 200, body: this.resource(job) };
    }
    job.statement = statement.name;
    this.ran.push({ name: statement.name, session, sync: labels.syncwright_sync });
    const error = this.jobError?.(statement.name) ?? this.tempTables(session, q.query);
    if (error) {
      job.error = error;
      job.finished = true;
      return { status: 200, body: this.resource(job) };
    }
    let values: unknown[];
    try {
      values = params.map(paramValue as (p: unknown) => unknown);
    } catch (e) {
      return invalid((e as Error).message);
    }
    this.queue = this.queue.then(() => this.execute(job, statement.pg, values));
    return { status: 200, body: this.resource(job) };
  }

  /**
   * A script's TEMP tables live as long as its BigQuery session: creating one the session
   * already has (without OR REPLACE) fails. The twin's temporary tables cannot say so (the
   * Postgres twins drop theirs at COMMIT), so the session's names are kept here.
   */
  private tempTables(session: string, query: string): { reason: string; message: string } | undefined {
    const made = this.temp.get(session) ?? new Set<string>();
    this.temp.set(session, made);
    for (const m of query.matchAll(/\bCREATE\s+(OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+TABLE\s+`?(\w+)`?/gi)) {
      const name = m[2] as string;
      if (made.has(name) && !m[1]) return { reason: 'duplicate', message: `Already Exists: Table _SESSION.${name}` };
      made.add(name);
    }
    return undefined;
  }

  private async execute(job: Job, pg: string, values: unknown[]): Promise<void> {
    job.state = 'RUNNING';
    try {
      const results: Results[] = values.length ? [await this.db.query(pg, values)] : await this.db.exec(pg);
      // A script's results are those of its last SELECT, DML or DDL statement (jobs.getQueryResults
      // on a script job); BEGIN and COMMIT are none of those, and on the twin they have no columns.
      const last = results.filter((r) => r.fields.length > 0).at(-1);
      if (last?.fields.length) {
        job.fields = last.fields.map((f) => ({ name: f.name, type: types[f.dataTypeID] ?? 'STRING' }));
        job.rows = (last.rows as Record<string, unknown>[]).map((r) => job.fields.map((f) => cell(f.type, r[f.name])));
      } else job.affected = results.reduce((n, r) => n + (r.affectedRows ?? 0), 0);
    } catch (e) {
      const err = e as { code?: string; message: string };
      const missing = err.code === '42P01' || err.code === '3F000';
      job.error = { reason: missing ? 'notFound' : 'invalidQuery', message: missing ? `Not found: ${err.message}` : err.message };
      await this.db.exec('ROLLBACK').catch(() => undefined);
    }
    const running = this.running?.(job.statement, job.labels.syncwright_sync);
    if (running) void running.then(() => (job.finished = true));
    else job.finished = true;
  }

  private resource(job: Job): Record<string, unknown> {
    return {
      kind: 'bigquery#job',
      id: `${this.project}:${this.location}.${job.id}`,
      jobReference: { projectId: this.project, jobId: job.id, location: this.location },
      configuration: { jobType: 'QUERY', labels: job.labels },
      ...(job.session ? { statistics: { sessionInfo: { sessionId: job.session } } } : {}),
      status: { state: job.state, ...(job.state === 'DONE' && job.error ? { errorResult: job.error, errors: [job.error] } : {}) },
    };
  }

  private get(id: string, req: Recorded): Reply {
    const job = this.jobs.get(id);
    if (!job) return { status: 404, body: { error: { code: 404, message: `Not found: Job ${this.project}:${id}` } } };
    if (req.query.get('location') !== this.location) return invalid(`jobs.get needs location ${this.location}`);
    job.polls++;
    // Polled at least once while RUNNING, as a job that takes time is.
    if (job.finished && job.polls > 1) job.state = 'DONE';
    else if (job.state === 'PENDING') job.state = 'RUNNING';
    return { status: 200, body: this.resource(job) };
  }

  private results(id: string, req: Recorded): Reply {
    const job = this.jobs.get(id);
    if (!job) return { status: 404, body: { error: { code: 404, message: `Not found: Job ${this.project}:${id}` } } };
    if (req.query.get('formatOptions.useInt64Timestamp') !== 'true') return invalid('formatOptions.useInt64Timestamp must be true');
    const reference = { projectId: this.project, jobId: job.id, location: this.location };
    if (job.state !== 'DONE') return { status: 200, body: { kind: 'bigquery#getQueryResultsResponse', jobReference: reference, jobComplete: false } };
    if (job.error) return { status: 400, body: { error: { code: 400, message: job.error.message, errors: [job.error] } } };
    const start = Number(req.query.get('pageToken') ?? 0);
    const max = Number(req.query.get('maxResults') ?? 100_000);
    const cut = this.cut?.(job.statement, job.labels.syncwright_sync) === true;
    const rows = job.rows.slice(start, start + max).slice(0, cut ? -1 : undefined);
    const next = !cut && start + rows.length < job.rows.length ? String(start + rows.length) : undefined;
    return {
      status: 200,
      body: {
        kind: 'bigquery#getQueryResultsResponse',
        jobReference: reference,
        jobComplete: true,
        totalRows: String(this.affectedAsTotal && !job.fields.length ? (job.affected ?? 0) : job.rows.length),
        ...(job.fields.length ? { schema: { fields: job.fields.map((f) => ({ ...f, mode: 'NULLABLE' })) } } : {}),
        ...(rows.length ? { rows: rows.map((r) => ({ f: r.map((v) => ({ v })) })) } : {}),
        ...(next ? { pageToken: next } : {}),
      },
    };
  }

  /** Names of the statements run for `sync`, in order. */
  ranFor(sync: string): string[] {
    return this.ran.filter((r) => r.sync === sync).map((r) => r.name);
  }
}
