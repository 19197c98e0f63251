/**
 * Klaviyo (JSON:API, revision header): profiles through bulk import jobs (10,000 per job),
 * list membership through the import's list relationship and the list's profile relationships.
 * https://developers.klaviyo.com/en/reference/bulk_import_profiles
 */
import type { ApiContext, DestinationApi, ModePlan } from '../types.js';
import type { CallStep, SendRequest, Template } from '../../../contract/api-steps.js';
import { asJson, concat, each, fieldsOf, findOrCreate, jsonRequest, perBatch, placedFields, ref, required, row, send } from '../http.js';

const base = 'https://a.klaviyo.com/api';
// The API revision when the destination names none.
const defaultRevision = '2024-10-15';
// Profile searches return at most 100 profiles per page, so removals go 100 at a time.
const searchPage = 100;

const headers = (ctx: ApiContext): Record<string, Template> => ({
  'Content-Type': 'application/vnd.api+json',
  Accept: 'application/vnd.api+json',
  Authorization: concat('Klaviyo-API-Key ', required(ctx, 'api_key')),
  revision: ctx.setting('revision') ?? defaultRevision,
});

/** The identifier (email, phone_number, external_id) and the standard attributes as attributes, every other field a custom property. */
function profile(ctx: ApiContext): Template {
  const { top, rest } = placedFields(ctx);
  return { type: 'profile', attributes: { ...fieldsOf(top), ...(ctx.identifierField ? { [ctx.identifierField]: row.key } : {}), properties: fieldsOf(rest) } };
}

/** How long a run waits for an import job to end before it leaves its rows to the next run. */
const jobWaitSeconds = 900;

/**
 * An import job per batch: Klaviyo answers 202 once the job is queued, then validates each
 * profile and imports the valid ones. So a batch's rows are taken only when the job is
 * `complete`, but for the profiles its import errors name, which are refused with Klaviyo's
 * reason (sent again by every run until mended); a `cancelled` job takes none. A job not ended
 * after `jobWaitSeconds` takes none either: the next run imports them again (an import of a
 * profile it has already is an update to the same values).
 */
function bulkImport(ctx: ApiContext, toList: boolean): SendRequest[] {
  const data: Record<string, Template> = { type: 'profile-bulk-import-job', attributes: { profiles: { data: each(profile(ctx)) } } };
  if (toList) data.relationships = { lists: { data: [{ type: 'list', id: ref('vars.list_id') }] } };
  const job = (suffix: string) => concat(`${base}/profile-bulk-import-jobs/`, ref('batch.job'), suffix);
  // An import error holds the profile as sent (`original_payload`): its identifier, in its attributes or beside them.
  const field = ctx.identifierField ?? 'email';
  return [
    { ...perBatch(jsonRequest('POST', `${base}/profile-bulk-import-jobs`, headers(ctx), { data })), captureBatch: { job: '/data/id' } },
    {
      ...perBatch(jsonRequest('GET', job(''), headers(ctx))),
      poll: { status: '/data/attributes/status', done: ['complete'], failed: ['cancelled'], waitSeconds: jobWaitSeconds },
    },
    perBatch(jsonRequest('GET', job('/import-errors'), headers(ctx)), {
      by: 'errors',
      items: '/data',
      key: [`/attributes/original_payload/attributes/${field}`, `/attributes/original_payload/${field}`],
      reason: '/attributes/detail',
      next: '/links/next',
    }),
  ];
}

/**
 * Find the leaving profiles' ids by the identifier, then take them off the list. One not found
 * is refused, not taken as off the list already: an import job that adds it may still be queued
 * (Klaviyo answers 202 before it runs), and a lookup by another spelling than Klaviyo keeps
 * would find none.
 */
function removal(ctx: ApiContext): SendRequest[] {
  const field = ctx.identifierField ?? 'email';
  return [
    perBatch(
      jsonRequest('GET', `${base}/profiles`, headers(ctx), undefined, {
        filter: concat(`any(${field},`, asJson(each(row.key)), ')'),
        'page[size]': searchPage,
      }),
      { by: 'items', items: '/data', match: 'key', key: `/attributes/${field}` },
      { destination_id: '/id' },
    ),
    perBatch(
      jsonRequest('DELETE', concat(`${base}/lists/`, ref('vars.list_id'), '/relationships/profiles'), headers(ctx), {
        data: each({ type: 'profile', id: row.destinationId }),
      }),
    ),
  ];
}

function listSetup(ctx: ApiContext): CallStep[] {
  const name = ctx.target ?? ctx.sync;
  return findOrCreate(ctx, {
    call: 'list',
    into: 'list_id',
    name,
    find: {
      noun: 'list',
      // List names need not be unique: the oldest of a name is the one every run takes.
      request: jsonRequest('GET', `${base}/lists`, headers(ctx), undefined, { filter: `equals(name,${JSON.stringify(name)})`, sort: 'created' }),
      pointer: '/data/0/id',
      matches: { items: '/data' },
    },
    create: {
      noun: 'list',
      request: jsonRequest('POST', `${base}/lists`, headers(ctx), { data: { type: 'list', attributes: { name } } }),
      pointer: '/data/id',
    },
  });
}

const step = (ctx: ApiContext, operation: string, changes: ModePlan['reads'], requests: SendRequest[], description: string, size = ctx.batch) =>
  send({ operation, description, changes, batch: { size }, requests });

const addMembers = (ctx: ApiContext, changes: ModePlan['reads']) => step(ctx, 'add_members', changes, bulkImport(ctx, true), 'import profiles into the list');
const removeMembers = (ctx: ApiContext) =>
  step(ctx, 'remove_members', ['removed'], removal(ctx), 'find leaving profiles, then remove them from the list', Math.min(ctx.batch, searchPage));

export const klaviyoApi: DestinationApi = {
  setup: (ctx) => (ctx.kind === 'audience' ? listSetup(ctx) : []),
  modes: {
    'record:upsert': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [step(ctx, 'upsert', ['added', 'changed'], bulkImport(ctx, false), 'import new and changed profiles')],
    }),
    'record:insert': (ctx) => ({ reads: ['added'], steps: [step(ctx, 'create', ['added'], bulkImport(ctx, false), 'import new profiles')] }),
    'audience:add': (ctx) => ({ reads: ['added'], steps: [addMembers(ctx, ['added'])] }),
    'audience:upsert': (ctx) => ({ reads: ['added', 'changed'], steps: [addMembers(ctx, ['added', 'changed'])] }),
    'audience:remove': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        { kind: 'accept', description: 'remember entering members without sending them, so their leaving is seen', changes: ['added'], when: 'always' },
        removeMembers(ctx),
      ],
    }),
    'audience:mirror': (ctx) => ({ reads: ['added', 'removed'], steps: [addMembers(ctx, ['added']), removeMembers(ctx)] }),
  },
};
