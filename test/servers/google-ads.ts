/**
 * Google Ads Customer Match as documented (API v24), and Google's OAuth token endpoint:
 * POST /token exchanges a refresh token (form: grant_type=refresh_token, client_id,
 * client_secret, refresh_token) for an access token. Every Ads call needs that token as a
 * Bearer header and a `developer-token` header. POST /v24/customers/{id}/googleAds:search
 * runs a GAQL query (here only `SELECT user_list.resource_name FROM user_list WHERE
 * user_list.name = '...'`; an empty result has no `results` field); POST
 * /v24/customers/{id}/userLists:mutate creates a CRM-based list; POST
 * /v24/customers/{id}/offlineUserDataJobs:create makes a job for a list; POST
 * /v24/{job}:addOperations queues `create` / `remove` operations of `userIdentifiers`
 * (hashedEmail, hashedPhoneNumber: SHA-256 hex) or one `removeAll`, at most 100,000 per call,
 * with partial failure when `enablePartialFailure` is set; POST /v24/{job}:run answers a
 * long-running operation and the job then applies its operations in order. A job runs once.
 * Its status (OfflineUserDataJobStatus) is PENDING until it runs, then, as `outcome` says,
 * SUCCESS (applied at once, by default), FAILED (nothing applied; `failureReason` as given) or
 * RUNNING until the test ends it (`finish`). The search also answers `SELECT
 * offline_user_data_job.resource_name, offline_user_data_job.status,
 * offline_user_data_job.failure_reason FROM offline_user_data_job WHERE
 * offline_user_data_job.resource_name = '...'` with a GoogleAdsRow per job found, in the proto3
 * JSON mapping (lowerCamelCase; an enum at its default, UNSPECIFIED, left out).
 */
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export interface GoogleAdsOptions {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  developerToken: string;
  /** A create or remove operation Google cannot use (by its hashed email): the reason; it fails alone under partial failure. */
  refuse?: (hashedEmail: string) => string | undefined;
  /** How a job that is run ends (by default SUCCESS): RUNNING leaves it to `finish`. */
  outcome?: (job: Job) => Outcome | { status: 'RUNNING' };
}

export type JobStatus = 'PENDING' | 'RUNNING' | 'SUCCESS' | 'FAILED';
/** How a job ends. */
export type Outcome = { status: 'SUCCESS' } | { status: 'FAILED'; failureReason?: string };

export interface Job {
  resourceName: string;
  list: string;
  operations: ({ removeAll: true } | { create: string } | { remove: string })[];
  ran: boolean;
  status: JobStatus;
  failureReason?: string;
}

const sha256Hex = /^[0-9a-f]{64}$/;
const error = (status: number, code: string, message: string): Reply => ({ status, body: { error: { code: status, message, status: code } } });

/** A request as a test reads it: a search by its GAQL query, any other by its path. */
const askedOf = (q: Recorded): string => (q.path.endsWith('googleAds:search') ? String((q.body as { query?: unknown } | undefined)?.query ?? '') : q.path);

/** Whether a request asks how an offline user data job ended (the jobs step's search). */
export const isJobQuestion = (q: Recorded): boolean => / FROM offline_user_data_job WHERE /.test(askedOf(q));

export class FakeGoogleAds extends FakeService {
  protected override readonly contract = 'google_ads';
  /** User lists by resource name: the name and the members' hashed emails. */
  readonly lists = new Map<string, { name: string; members: Set<string> }>();
  readonly jobs = new Map<string, Job>();
  private readonly accessToken = 'ya29.local-access-token';
  private next = 1;

  constructor(readonly options: GoogleAdsOptions) {
    super();
  }

  /** The requests since the `from`th, each as a test reads it: a search by its GAQL query, any other by its path. */
  asked(from = 0): string[] {
    return this.api.requests.slice(from).map(askedOf);
  }

  /** The hashed emails in the list named `name`, sorted. */
  members(name: string): string[] {
    return [...([...this.lists.values()].find((l) => l.name === name)?.members ?? [])].sort();
  }

  protected handle(req: Recorded): Reply {
    if (req.path === '/token' && req.method === 'POST') return this.token(req.body as Record<string, unknown>);
    if (req.headers.authorization !== `Bearer ${this.accessToken}`)
      return error(401, 'UNAUTHENTICATED', 'Request is missing required authentication credential.');
    if (req.headers['developer-token'] !== this.options.developerToken) return error(401, 'UNAUTHENTICATED', 'The developer token is not valid.');
    if (req.method !== 'POST') return error(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const customer = /^\/v24\/customers\/(\d+)\/(googleAds:search|userLists:mutate|offlineUserDataJobs:create)$/.exec(req.path);
    if (customer?.[2] === 'googleAds:search') return this.search(customer[1]!, String(body.query ?? ''));
    if (customer?.[2] === 'userLists:mutate') return this.createList(customer[1]!, body);
    if (customer?.[2] === 'offlineUserDataJobs:create') return this.createJob(customer[1]!, body);
    const job = /^\/v24\/(customers\/\d+\/offlineUserDataJobs\/\d+):(addOperations|run)$/.exec(req.path);
    const found = job ? this.jobs.get(job[1]!) : undefined;
    if (!job || !found) return error(404, 'NOT_FOUND', `no route ${req.method} ${req.path}`);
    return job[2] === 'run' ? this.run(found) : this.addOperations(found, body);
  }

  private token(form: Record<string, unknown>): Reply {
    const o = this.options;
    if (
      form.grant_type !== 'refresh_token' ||
      form.client_id !== o.clientId ||
      form.client_secret !== o.clientSecret ||
      form.refresh_token !== o.refreshToken
    ) {
      return { status: 400, body: { error: 'invalid_grant', error_description: 'Bad Request' } };
    }
    return { status: 200, body: { access_token: this.accessToken, expires_in: 3599, token_type: 'Bearer', scope: 'https://www.googleapis.com/auth/adwords' } };
  }

  /** Ends a RUNNING job: SUCCESS applies its operations, FAILED applies none. */
  finish(resourceName: string, outcome: Outcome): void {
    const job = this.jobs.get(resourceName);
    if (job?.status !== 'RUNNING') throw new Error(`${resourceName} is not running`);
    this.end(job, outcome);
  }

  private end(job: Job, outcome: Outcome): void {
    job.status = outcome.status;
    if (outcome.status === 'FAILED') {
      if (outcome.failureReason) job.failureReason = outcome.failureReason;
      return;
    }
    const members = this.lists.get(job.list)!.members;
    for (const op of job.operations) {
      if ('removeAll' in op) members.clear();
      else if ('create' in op) members.add(op.create);
      else members.delete(op.remove);
    }
  }

  private jobSearch(customer: string, query: string): Reply | undefined {
    const m =
      /^SELECT offline_user_data_job\.resource_name, offline_user_data_job\.status, offline_user_data_job\.failure_reason FROM offline_user_data_job WHERE offline_user_data_job\.resource_name = '((?:[^'\\]|\\.)*)'$/.exec(
        query,
      );
    if (!m) return undefined;
    const name = m[1]!.replace(/\\(.)/g, '$1');
    const job = name.startsWith(`customers/${customer}/`) ? this.jobs.get(name) : undefined;
    const fieldMask = 'offlineUserDataJob.resourceName,offlineUserDataJob.status,offlineUserDataJob.failureReason';
    if (!job) return { status: 200, body: { fieldMask } };
    const row = { resourceName: job.resourceName, status: job.status, ...(job.failureReason ? { failureReason: job.failureReason } : {}) };
    return { status: 200, body: { results: [{ offlineUserDataJob: row }], fieldMask } };
  }

  private search(customer: string, query: string): Reply {
    const jobs = this.jobSearch(customer, query);
    if (jobs) return jobs;
    const m = /^SELECT user_list\.resource_name FROM user_list WHERE user_list\.name = '((?:[^'\\]|\\.)*)'$/.exec(query);
    if (!m) return error(400, 'INVALID_ARGUMENT', `unsupported query: ${query}`);
    const name = m[1]!.replace(/\\(.)/g, '$1');
    const results = [...this.lists].filter(([, l]) => l.name === name).map(([resourceName]) => ({ userList: { resourceName } }));
    return { status: 200, body: results.length ? { results, fieldMask: 'userList.resourceName' } : { fieldMask: 'userList.resourceName' } };
  }

  private createList(customer: string, body: Record<string, unknown>): Reply {
    const create = (body.operations as { create?: { name?: string; crmBasedUserList?: { uploadKeyType?: string } } }[] | undefined)?.[0]?.create;
    if (!create?.name || create.crmBasedUserList?.uploadKeyType !== 'CONTACT_INFO')
      return error(400, 'INVALID_ARGUMENT', 'a CRM-based list needs a name and uploadKeyType CONTACT_INFO');
    if ([...this.lists.values()].some((l) => l.name === create.name)) return error(400, 'INVALID_ARGUMENT', 'DUPLICATE_NAME');
    const resourceName = `customers/${customer}/userLists/${this.next++}`;
    this.lists.set(resourceName, { name: create.name, members: new Set() });
    return { status: 200, body: { results: [{ resourceName }] } };
  }

  private createJob(customer: string, body: Record<string, unknown>): Reply {
    const job = body.job as { type?: string; customerMatchUserListMetadata?: { userList?: string } } | undefined;
    const list = job?.customerMatchUserListMetadata?.userList;
    if (job?.type !== 'CUSTOMER_MATCH_USER_LIST' || !list || !this.lists.has(list))
      return error(400, 'INVALID_ARGUMENT', 'a Customer Match job needs an existing user list');
    const resourceName = `customers/${customer}/offlineUserDataJobs/${this.next++}`;
    this.jobs.set(resourceName, { resourceName, list, operations: [], ran: false, status: 'PENDING' });
    return { status: 200, body: { resourceName } };
  }

  private addOperations(job: Job, body: Record<string, unknown>): Reply {
    if (job.ran) return error(400, 'FAILED_PRECONDITION', 'the job has already run');
    const operations = body.operations as Record<string, unknown>[] | undefined;
    if (!Array.isArray(operations) || operations.length === 0) return error(400, 'INVALID_ARGUMENT', 'operations must be a non-empty array');
    if (operations.length > 100_000) return error(400, 'INVALID_ARGUMENT', 'TOO_MANY_OPERATIONS');
    const failed: { index: number; message: string }[] = [];
    operations.forEach((op, i) => {
      if (op.removeAll === true) return void job.operations.push({ removeAll: true });
      const kind = op.create ? 'create' : op.remove ? 'remove' : undefined;
      const ids = ((op.create ?? op.remove) as { userIdentifiers?: Record<string, unknown>[] } | undefined)?.userIdentifiers ?? [];
      const email = ids.find((id) => 'hashedEmail' in id)?.hashedEmail;
      const valid =
        kind &&
        typeof email === 'string' &&
        sha256Hex.test(email) &&
        ids.every((id) => Object.values(id).every((v) => v === undefined || (typeof v === 'string' && sha256Hex.test(v))));
      if (!valid) return void failed.push({ index: i, message: 'The SHA256 encoded value is malformed.' });
      const refused = this.options.refuse?.(email);
      if (refused) return void failed.push({ index: i, message: refused });
      job.operations.push(kind === 'create' ? { create: email } : { remove: email });
    });
    if (failed.length && body.enablePartialFailure !== true)
      return error(400, 'INVALID_ARGUMENT', `invalid user identifiers at ${failed.map((f) => f.index).join(', ')}`);
    // partial_failure_error is a google.rpc.Status: its details a GoogleAdsFailure, each error located by the operation's field path.
    const failure = {
      '@type': 'type.googleapis.com/google.ads.googleads.v24.errors.GoogleAdsFailure',
      errors: failed.map(({ index, message }) => ({
        errorCode: { offlineUserDataJobError: 'INVALID_SHA256_FORMAT' },
        message,
        location: { fieldPathElements: [{ fieldName: 'operations', index }, { fieldName: 'create' }, { fieldName: 'user_identifiers', index: 0 }] },
      })),
    };
    return {
      status: 200,
      body: failed.length ? { partialFailureError: { code: 3, message: failed.map((f) => f.message).join(', '), details: [failure] } } : {},
    };
  }

  private run(job: Job): Reply {
    if (job.ran) return error(400, 'FAILED_PRECONDITION', 'the job has already run');
    job.ran = true;
    const outcome = this.options.outcome?.(job) ?? { status: 'SUCCESS' };
    if (outcome.status === 'RUNNING') job.status = 'RUNNING';
    else this.end(job, outcome);
    return { status: 200, body: { name: `${job.resourceName.replace(/offlineUserDataJobs\/\d+$/, 'operations/')}${this.next++}` } };
  }
}

export async function startGoogleAds(options: GoogleAdsOptions): Promise<FakeGoogleAds> {
  return new FakeGoogleAds(options).start();
}
