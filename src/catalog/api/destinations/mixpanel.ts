/**
 * Mixpanel: events through /import (2,000 per request, deduplicated on $insert_id), profile
 * properties through /engage $set.
 * https://developer.mixpanel.com/reference/import-events · https://developer.mixpanel.com/reference/profile-set
 */
import type { ApiContext, DestinationApi } from '../types.js';
import { analyticsApi } from '../analytics.js';
import type { Acceptance, SendRequest, Template } from '../../../contract/api-steps.js';
import { base64, bySetting, concat, each, jsonHeaders, jsonRequest, merge, perBatch, ref, required, row, slice } from '../http.js';

const host = (ctx: ApiContext, path: string): Template =>
  bySetting(ctx, 'region', { us: `https://api.mixpanel.com${path}`, eu: `https://api-eu.mixpanel.com${path}`, in: `https://api-in.mixpanel.com${path}` });

/** A service account (user:secret, with project_id) when there is one, else the API secret as the user. */
function auth(ctx: ApiContext): { headers: Record<string, Template>; query: Record<string, Template> } {
  const user = ctx.setting('service_account_username');
  if (user !== undefined) {
    return {
      headers: { Authorization: concat('Basic ', base64(concat(user, ':', required(ctx, 'service_account_secret')))) },
      query: { project_id: required(ctx, 'project_id') },
    };
  }
  return { headers: { Authorization: concat('Basic ', base64(concat(required(ctx, 'api_secret'), ':'))) }, query: {} };
}

/**
 * A 200 with `code: 200` imported every event, as its `num_records_imported` counts (a count
 * short of the batch, which strict mode would have answered 400, leaves unknown which were
 * taken: the batch goes again in halves within the run, $insert_id and the run's time keeping
 * each event once). Under `strict=1`, a batch some of whose events fail validation is answered
 * 400 naming each by `index` in `failed_records`, with the count of the others, which Mixpanel
 * ingested (import-events, Validation: "Please do not retry validation errors"): those named are
 * refused with Mixpanel's message, the others accepted, nothing sent again. A 400 not so read (no
 * event named, or a count that disagrees) is split as any other, safe here: $insert_id and the
 * run's time make a resent event a duplicate Mixpanel stores once.
 */
export const imported: Acceptance = {
  by: 'status',
  success: { pointer: '/code', equals: 200 },
  imported: '/num_records_imported',
  partial: { status: 400, refusals: { items: '/failed_records/*', index: '/index', reason: '/message' }, imported: '/num_records_imported' },
};

/**
 * Each row as one event: `time` the run's unless a field is mapped to it (the change set sends
 * it as milliseconds), `distinct_id` the identifier unless a field is mapped to it, the
 * identifier also under its own name, `$insert_id` from the row's idempotency key.
 */
function events(ctx: ApiContext): SendRequest {
  const { headers, query } = auth(ctx);
  const defaults = { time: ref('run.epoch_ms'), ...(ctx.identifierField ? { distinct_id: row.key, [ctx.identifierField]: row.key } : {}) };
  // $insert_id takes at most 36 characters: 32 hex digits of the key are enough to be unique.
  const properties = merge(defaults, row.payload, { $insert_id: slice(row.idempotencyKey, 0, 32) });
  return perBatch(
    jsonRequest('POST', host(ctx, '/import'), jsonHeaders(headers), each({ event: ctx.target ?? ctx.sync, properties }), { strict: '1', ...query }),
    imported,
  );
}

/**
 * Each row's properties set on its profile. `ip=0`: the request comes from the server a sync
 * runs on, and Mixpanel would otherwise set the profile's location from that server's address
 * (profile-set: "We recommend setting the ip to "0" when making requests from the server-side").
 */
function profiles(ctx: ApiContext): SendRequest {
  return perBatch(
    jsonRequest('POST', host(ctx, '/engage'), jsonHeaders({}), each({ $token: required(ctx, 'project_token'), $distinct_id: row.key, $set: row.payload }), {
      ip: '0',
      verbose: '1',
    }),
    // verbose=1 answers {"status": 1} when every update was applied.
    { by: 'status', success: { pointer: '/status', equals: 1 } },
  );
}

export const mixpanelApi: DestinationApi = analyticsApi({
  event: { operation: 'import', description: 'import each row as one event', request: events },
  properties: { operation: 'set_profiles', description: 'set profile properties', request: profiles },
});
