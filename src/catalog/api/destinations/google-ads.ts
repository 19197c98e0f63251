/**
 * Google Ads Customer Match through OfflineUserDataJobService: create a job for the user list,
 * add operations (hashed identifiers) in batches, then run it. Mirror starts the job with
 * remove_all, so the list ends up exactly the current members (none, when every member left:
 * the job then holds remove_all alone); it runs only when some row was added, changed or
 * removed, and only when every operation was added. Google carries a job out after `:run`
 * answered, and it may then fail: each run first asks how the jobs of earlier runs ended
 * (`jobStatus`), and sends the rows of one that failed again.
 * https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started
 */
import type { ApiContext, DestinationApi, ModePlan } from '../types.js';
import type { Acceptance, CallStep, ChangeKind, JobsStep, SendStep, Template } from '../../../contract/api-steps.js';
import {
  accessToken,
  bearer,
  call,
  compact,
  standardRetry,
  concat,
  each,
  findOrCreate,
  jsonHeaders,
  jsonRequest,
  oauthRefresh,
  payloadField,
  perBatch,
  quoted,
  ref,
  replace,
  required,
  row,
  send,
} from '../http.js';

// Google sunsets each API version about a year after its release: bump with the releases.
const apiVersion = 'v24';
const base = `https://googleads.googleapis.com/${apiVersion}/`;

/** Customer ids go in paths and headers without dashes: a literal's taken out here, one from env() when the run renders it. */
function customerId(ctx: ApiContext, name: string): Template | undefined {
  const v = ctx.setting(name);
  if (v === undefined) return undefined;
  return typeof v === 'string' ? v.replaceAll('-', '') : replace(v, '-', '');
}

function headers(ctx: ApiContext): Record<string, Template> {
  const login = customerId(ctx, 'login_customer_id');
  return jsonHeaders({
    ...bearer(accessToken),
    'developer-token': required(ctx, 'developer_token'),
    ...(login === undefined ? {} : { 'login-customer-id': login }),
  });
}

const customer = (ctx: ApiContext, suffix: string): Template =>
  concat(base, 'customers/', customerId(ctx, 'customer_id') ?? required(ctx, 'customer_id'), suffix);
const job = (suffix: string): Template => concat(base, ref('vars.job'), suffix);

/** Mirror replaces the whole list, so its job is opened, filled and run only when some row was added, changed or removed. */
const replaceOnly = (ctx: ApiContext): Pick<CallStep, 'when'> => (ctx.mode === 'mirror' ? { when: 'changed' } : {});

function listSetup(ctx: ApiContext): CallStep[] {
  const name = ctx.target ?? ctx.sync;
  return [
    oauthRefresh(ctx, 'https://oauth2.googleapis.com/token'),
    ...findOrCreate(ctx, {
      call: 'user_list',
      into: 'list',
      name,
      find: {
        noun: 'user list',
        request: jsonRequest('POST', customer(ctx, '/googleAds:search'), headers(ctx), {
          query: concat('SELECT user_list.resource_name FROM user_list WHERE user_list.name = ', quoted(name)),
        }),
        pointer: '/results/0/userList/resourceName',
      },
      create: {
        noun: 'Customer Match list',
        request: jsonRequest('POST', customer(ctx, '/userLists:mutate'), headers(ctx), {
          // Members stay 540 days after their latest upload, the longest v24 allows ("between 0 and 540 inclusive");
          // each is uploaded again every `refreshDays`, well within it.
          operations: [{ create: { name, crmBasedUserList: { uploadKeyType: 'CONTACT_INFO' }, membershipLifeSpan: 540 } }],
        }),
        pointer: '/results/0/resourceName',
      },
    }),
    call({
      name: 'create_job',
      description: 'create an offline user data job for the list',
      ...replaceOnly(ctx),
      request: jsonRequest('POST', customer(ctx, '/offlineUserDataJobs:create'), headers(ctx), {
        job: { type: 'CUSTOMER_MATCH_USER_LIST', customerMatchUserListMetadata: { userList: ref('vars.list') } },
      }),
      capture: { job: '/resourceName' },
      requires: ['job'],
    }),
  ];
}

/**
 * One user per row: the identifier and the row's other identifiers, each a UserIdentifier of
 * exactly one field (hashedEmail, hashedPhoneNumber); one the row has no value for is left out.
 */
function user(ctx: ApiContext): Template {
  return { userIdentifiers: compact([{ [ctx.identifierField ?? 'hashedEmail']: row.key }, ...ctx.fields.map((f) => ({ [f]: payloadField(f) }))]) };
}

/**
 * A 200 with `partialFailureError` (a google.rpc.Status whose details are GoogleAdsFailures)
 * applied every operation but those its errors locate: the field path's first element is the
 * request's `operations` with the operation's index. Those rows are refused.
 */
export const partlyApplied: Acceptance = {
  by: 'status',
  refusals: {
    items: '/partialFailureError/details/*/errors/*',
    index: '/location/fieldPathElements/0/index',
    where: { pointer: '/location/fieldPathElements/0/fieldName', equals: 'operations' },
    reason: '/message',
    flag: '/partialFailureError',
  },
};

function operations(ctx: ApiContext, operation: 'create' | 'remove', changes: ModePlan['reads'], replace = false): SendStep {
  return send({
    operation: operation === 'create' ? 'add_members' : 'remove_members',
    description: `${operation} operations on the job's user list`,
    ...(replace ? { when: 'changed' as const } : {}),
    changes,
    // Google applies a job's operations only when the job runs, and the run may fail or never
    // come (a kill before :run): in every mode a row counts once its job has run. A job left
    // unrun or half-filled commits none of its rows; the next run sends them in a new job. An
    // operation refused under partial failure holds back the job's others too: they are sent
    // again, and adding or removing a member twice is harmless.
    deferAccept: true,
    batch: { size: ctx.batch },
    // Partial failure: Google drops the operations it cannot use and applies the rest.
    requests: [
      perBatch(
        jsonRequest('POST', job(':addOperations'), headers(ctx), { enablePartialFailure: true, operations: each({ [operation]: user(ctx) }) }),
        partlyApplied,
      ),
    ],
  });
}

/**
 * A mirror's job begins with remove_all, so it runs only if every operation was added: run with
 * one missing, it would drop that member while the snapshot kept it, and an unchanged next run
 * would never send it again. Add, remove and upsert jobs run with what they hold: nothing else
 * of the list is touched, and the rows left out (none is committed) go in the next run's job.
 * Google runs the job after `:run` answered, for hours at times, and it may then fail: the rows
 * it carries (`carried`; a mirror's, every member and every member who left) are recorded as the
 * job's, and the next run asks how it ended (`jobStatus`).
 */
const runJob = (ctx: ApiContext, carried: ChangeKind[]): CallStep =>
  call({
    name: 'run_job',
    description: 'run the job; Google applies its operations asynchronously',
    ...replaceOnly(ctx),
    ...(ctx.mode === 'mirror' ? { onlyIfAllAccepted: true as const } : {}),
    request: jsonRequest('POST', job(':run'), headers(ctx), {}),
    job: { var: 'job', changes: carried },
  });

/**
 * How the jobs of earlier runs ended: the job read by GoogleAdsService.Search, since "the
 * processing results of the job can only be read using GoogleAdsService.Search/SearchStream"
 * (https://developers.google.com/google-ads/api/fields/v24/offline_user_data_job), as Google's
 * example does (googleads/google-ads-python examples/remarketing/add_customer_match_user_list.py,
 * `check_job_status`). OfflineUserDataJobStatus (enums/offline_user_data_job_status.proto):
 * PENDING "created and pending for uploading", RUNNING "data is being processed", SUCCESS
 * "Uploaded data has been successfully processed", FAILED "Uploaded data has failed to be
 * processed. Some operations may have been successfully processed." A failed job's rows are
 * sent again (adding or removing a member twice is harmless), and so are those of a job the
 * search does not find or whose status is UNKNOWN: whether they reached the list is not known.
 * `failure_reason` (resources/offline_user_data_job.proto: "Reason for the processing failure,
 * if status is FAILED") goes in the report.
 */
function jobStatus(ctx: ApiContext): Omit<JobsStep, 'sql'> {
  return {
    kind: 'jobs',
    description: 'ask how the jobs of earlier runs ended; the rows of one that failed are sent again',
    calls: [oauthRefresh(ctx, 'https://oauth2.googleapis.com/token')],
    request: jsonRequest('POST', customer(ctx, '/googleAds:search'), headers(ctx), {
      query: concat(
        'SELECT offline_user_data_job.resource_name, offline_user_data_job.status, offline_user_data_job.failure_reason ' +
          'FROM offline_user_data_job WHERE offline_user_data_job.resource_name = ',
        quoted(ref('vars.job')),
      ),
    }),
    status: '/results/0/offlineUserDataJob/status',
    done: ['SUCCESS'],
    pending: ['PENDING', 'RUNNING'],
    reason: '/results/0/offlineUserDataJob/failureReason',
    // Jobs on one list are carried out in no promised order: a mirror's, which empties the list first, waits for the one before it.
    ...(ctx.mode === 'mirror' ? { exclusive: true as const } : {}),
    retry: standardRetry,
  };
}

/**
 * A member leaves a list `membershipLifeSpan` days after its latest upload (540 for the lists
 * made here), whatever the snapshot says: every member still in the model is uploaded again
 * every 180 days (changed, in the modes that upload), a third of the lifespan, so a run that
 * fails for months still comes in time. A list made by hand keeps its own lifespan (docs/run.md).
 */
const refreshDays = 180;

function mirror(ctx: ApiContext): ModePlan {
  const current: ModePlan['reads'] = ['added', 'changed', 'unchanged'];
  return {
    refreshDays,
    reads: [...current, 'removed'],
    steps: [
      // remove_all removes the members who left: an audience that became empty (every row
      // removed, none to add) still gets its job, holding remove_all alone, and its run.
      call({
        name: 'remove_all',
        description: 'start the job by emptying the list',
        when: 'changed',
        changes: ['removed'],
        request: jsonRequest('POST', job(':addOperations'), headers(ctx), { operations: [{ removeAll: true }] }),
      }),
      operations(ctx, 'create', current, true),
      runJob(ctx, [...current, 'removed']),
      { kind: 'accept', description: 'remove_all removed the members who left', changes: ['removed'], when: 'all_accepted' },
    ],
  };
}

export const googleAdsApi: DestinationApi = {
  setup: listSetup,
  jobs: jobStatus,
  modes: {
    'record:upsert': (ctx) => ({
      refreshDays,
      reads: ['added', 'changed'],
      steps: [operations(ctx, 'create', ['added', 'changed']), runJob(ctx, ['added', 'changed'])],
    }),
    'record:mirror': mirror,
    // Changed members are uploaded again too: their membership is renewed (`refreshDays`), and new identifiers of theirs added.
    'audience:add': (ctx) => ({
      refreshDays,
      reads: ['added', 'changed'],
      steps: [operations(ctx, 'create', ['added', 'changed']), runJob(ctx, ['added', 'changed'])],
    }),
    'audience:remove': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        { kind: 'accept', description: 'remember entering members without sending them, so their leaving is seen', changes: ['added'], when: 'always' },
        operations(ctx, 'remove', ['removed']),
        runJob(ctx, ['removed']),
      ],
    }),
    'audience:mirror': mirror,
  },
};
