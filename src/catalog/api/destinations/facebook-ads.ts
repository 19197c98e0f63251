/**
 * Meta Marketing API custom audiences: identifiers normalised and SHA-256 hashed in the
 * warehouse, added or removed 10,000 per call, or the whole list replaced in one
 * usersreplace session (mirror; an audience that became empty has its members who left
 * deleted, since a session would carry no user).
 * https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
 */
import type { ApiContext, DestinationApi, ModePlan } from '../types.js';
import type { Acceptance, CallStep, SendRequest, StepCondition, Template } from '../../../contract/api-steps.js';
import { asJson, bearer, concat, each, findOrCreate, jsonHeaders, jsonRequest, payloadField, perBatch, ref, required, row, send } from '../http.js';

// The Graph API version when the destination names none.
const defaultVersion = 'v21.0';
const graph = (ctx: ApiContext, ...path: Template[]): Template => concat('https://graph.facebook.com/', ctx.setting('api_version') ?? defaultVersion, ...path);
const headers = (ctx: ApiContext) => jsonHeaders(bearer(required(ctx, 'token')));

/**
 * Meta's schema keys are the field names (EMAIL, PHONE, FN, ...), plain keys, so `is_raw` is
 * true ("If the keys are combinational keys like LN_FN_ZIP, set this to false, otherwise set
 * this to true"); one data row per member, an unknown key blank (the change set sends "").
 */
function payload(ctx: ApiContext, fields: string[]): Template {
  const schema = [ctx.identifierField ?? 'EMAIL', ...fields];
  return { schema, is_raw: true, data: each([row.key, ...fields.map(payloadField)]) };
}

/**
 * A 200 counts the rows Meta did not take in `num_invalid_entries`, and names some of them in
 * `invalid_entry_samples`: member names are data rows as sent (their hashed values joined by
 * commas, the identifier first), values the reasons. Those rows are refused; when the count
 * exceeds the rows named, the whole batch is refused and sent again (adding or removing a member
 * twice is harmless).
 */
export const invalidEntries = (values: number): Acceptance => ({
  by: 'status',
  invalid: { count: '/num_invalid_entries', samples: '/invalid_entry_samples', separator: ',', values },
});

/** Adds and replaces carry every key of the row; a removal only the identifier, all a leaving row is known by. */
const users = (ctx: ApiContext, method: 'POST' | 'DELETE', edge: string, extra: Record<string, Template> = {}): SendRequest =>
  perBatch(
    jsonRequest(method, graph(ctx, '/', ref('vars.list_id'), edge), headers(ctx), { payload: payload(ctx, method === 'DELETE' ? [] : ctx.fields), ...extra }),
    invalidEntries(1 + (method === 'DELETE' ? 0 : ctx.fields.length)),
  );

function audienceSetup(ctx: ApiContext): CallStep[] {
  const name = ctx.target ?? ctx.sync;
  const audiences = graph(ctx, '/', required(ctx, 'ad_account'), '/customaudiences');
  return findOrCreate(ctx, {
    call: 'audience',
    into: 'list_id',
    name,
    find: {
      noun: 'custom audience',
      request: jsonRequest('GET', audiences, headers(ctx), undefined, {
        fields: 'id,name,time_created',
        filtering: asJson([{ field: 'name', operator: 'EQUAL', value: name }]),
      }),
      pointer: '/data/0/id',
      // Audience names need not be unique, and the edge has no sort: the oldest (by its creation time) is taken.
      matches: { items: '/data', order: '/time_created' },
    },
    create: {
      noun: 'custom audience',
      request: jsonRequest('POST', audiences, headers(ctx), { name, subtype: 'CUSTOM', customer_file_source: 'USER_PROVIDED_ONLY' }),
      pointer: '/id',
    },
  });
}

const step = (ctx: ApiContext, operation: string, changes: ModePlan['reads'], request: SendRequest, description: string, when?: StepCondition) =>
  send({ operation, description, ...(when ? { when } : {}), changes, batch: { size: ctx.batch }, requests: [request] });

const add = (ctx: ApiContext, changes: ModePlan['reads']) =>
  step(ctx, 'add_members', changes, users(ctx, 'POST', '/users'), 'add hashed identifiers to the audience');
const remove = (ctx: ApiContext, when?: StepCondition, description = 'remove hashed identifiers from the audience') =>
  step(ctx, 'remove_members', ['removed'], users(ctx, 'DELETE', '/users'), description, when);

/**
 * A usersreplace session: every current member, batch by batch in order; the last batch ends it.
 * Only when something changed, and its rows count only once the session is complete; the members
 * who left are gone then. The reference documents no session without users (its `payload` is
 * required, its `data` the users' rows), so an audience that became empty (every row removed,
 * under `guard allow empty`) is not replaced: its members who left are deleted through the
 * users edge, as the audience remove mode deletes them, and each counts as removed once Meta
 * took its DELETE (one it refuses stays in the snapshot and is deleted again next run).
 */
function replace(ctx: ApiContext): ModePlan {
  const current: ModePlan['reads'] = ['added', 'changed', 'unchanged'];
  const session = {
    session_id: ref('run.session'),
    batch_seq: ref('batch.index'),
    last_batch_flag: ref('batch.last'),
    estimated_num_total: ref('batch.total_rows'),
  };
  return {
    reads: [...current, 'removed'],
    steps: [
      send({
        operation: 'replace_members',
        description: 'replace the audience with every current member in one session',
        when: 'changed',
        changes: current,
        deferAccept: true,
        batch: { size: ctx.batch },
        requests: [users(ctx, 'POST', '/usersreplace', { session })],
        ordered: true,
      }),
      remove(ctx, 'emptied', 'delete the members who left when the audience became empty (a replace session would carry no user)'),
      { kind: 'accept', description: 'the replace removed the members who left', changes: ['removed'], when: 'all_accepted', unless: 'emptied' },
    ],
  };
}

export const facebookAdsApi: DestinationApi = {
  setup: audienceSetup,
  modes: {
    'record:upsert': (ctx) => ({ reads: ['added', 'changed'], steps: [add(ctx, ['added', 'changed'])] }),
    'record:mirror': replace,
    'audience:add': (ctx) => ({ reads: ['added'], steps: [add(ctx, ['added'])] }),
    'audience:remove': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        { kind: 'accept', description: 'remember entering members without sending them, so their leaving is seen', changes: ['added'], when: 'always' },
        remove(ctx),
      ],
    }),
    'audience:mirror': replace,
  },
};
