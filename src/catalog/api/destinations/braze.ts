/**
 * Braze /users/track: 75 attribute objects per call; update-only through
 * `_update_existing_only`; audiences as a boolean custom attribute named for the list.
 * https://www.braze.com/docs/api/endpoints/user_data/post_user_track/
 */
import type { ApiContext, DestinationApi, ModePlan } from '../types.js';
import type { Acceptance, Template } from '../../../contract/api-steps.js';
import { bearer, each, jsonHeaders, jsonRequest, merge, perBatch, required, row, send, withPath } from '../http.js';

/** Each row as a Braze attributes object, keyed by the identifier field (external_id, email, ...). */
function attributes(ctx: ApiContext, extra: Record<string, Template>, withPayload = true): Template {
  const id = ctx.identifierField ? { [ctx.identifierField]: row.key } : {};
  return withPayload ? merge(id, row.payload, extra) : merge(id, extra);
}

/**
 * A 201 applies every object but those its `errors` list by their index in `attributes`
 * (the only array sent): those rows are refused. An error without an index refuses the request,
 * and so do `errors` that are no list of errors read (an object, a text, a number: `flag`),
 * unless empty; without `errors`, every object was applied.
 */
export const applied: Acceptance = {
  by: 'status',
  refusals: { items: '/errors/*', index: '/index', where: { pointer: '/input_array', equals: 'attributes' }, reason: '/type', flag: '/errors' },
};

function track(ctx: ApiContext, operation: string, changes: ModePlan['reads'], attrs: Template, description: string) {
  return send({
    operation,
    description,
    changes,
    batch: { size: ctx.batch },
    requests: [
      perBatch(
        // The endpoint may end in `/` (the setting allows it): joined with one.
        jsonRequest('POST', withPath(required(ctx, 'rest_endpoint'), '/users/track'), jsonHeaders(bearer(required(ctx, 'api_key'))), {
          attributes: each(attrs),
        }),
        applied,
      ),
    ],
  });
}

const member = (ctx: ApiContext, value: boolean, withPayload: boolean) => attributes(ctx, { [ctx.target ?? ctx.sync]: value }, withPayload);

export const brazeApi: DestinationApi = {
  setup: () => [],
  modes: {
    'record:upsert': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [track(ctx, 'upsert', ['added', 'changed'], attributes(ctx, {}), 'track attributes of new and changed users')],
    }),
    'record:insert': (ctx) => ({ reads: ['added'], steps: [track(ctx, 'create', ['added'], attributes(ctx, {}), 'track attributes of new users')] }),
    'audience:add': (ctx) => ({ reads: ['added'], steps: [track(ctx, 'add_members', ['added'], member(ctx, true, false), 'mark entering users as members')] }),
    'audience:upsert': (ctx) => ({
      reads: ['added', 'changed'],
      steps: [track(ctx, 'add_members', ['added', 'changed'], member(ctx, true, true), 'mark entering users as members and update their attributes')],
    }),
    // Removal never creates a user: only existing profiles are unmarked.
    'audience:remove': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        { kind: 'accept', description: 'remember entering members without sending them, so their leaving is seen', changes: ['added'], when: 'always' },
        track(
          ctx,
          'remove_members',
          ['removed'],
          attributes(ctx, { [ctx.target ?? ctx.sync]: false, _update_existing_only: true }, false),
          'unmark leaving users',
        ),
      ],
    }),
    'audience:mirror': (ctx) => ({
      reads: ['added', 'removed'],
      steps: [
        track(ctx, 'add_members', ['added'], member(ctx, true, false), 'mark entering users as members'),
        track(
          ctx,
          'remove_members',
          ['removed'],
          attributes(ctx, { [ctx.target ?? ctx.sync]: false, _update_existing_only: true }, false),
          'unmark leaving users',
        ),
      ],
    }),
  },
};
