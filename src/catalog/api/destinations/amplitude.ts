/**
 * Amplitude: events through HTTP V2 (/2/httpapi, fewer than 2,000 per request, deduplicated on
 * insert_id), user properties through Identify. Fields the API documents as top-level keys
 * (user_id, time, revenue, ...) go at the top level, every other field into the event's
 * event_properties or the user's properties (src/catalog/destinations/amplitude.ts).
 * https://amplitude.com/docs/apis/analytics/http-v2 · https://amplitude.com/docs/apis/analytics/identify
 */
import type { ApiContext } from '../types.js';
import { analyticsApi } from '../analytics.js';
import type { SendRequest, Template } from '../../../contract/api-steps.js';
import {
  asJson,
  bySetting,
  compact,
  each,
  fieldsOf,
  jsonHeaders,
  jsonRequest,
  merge,
  onTop,
  perBatch,
  placedFields,
  required,
  retryWith,
  row,
} from '../http.js';

const hosts = { us: 'https://api2.amplitude.com', eu: 'https://api.eu.amplitude.com' };
const host = (ctx: ApiContext, path: string): Template => bySetting(ctx, 'region', { us: `${hosts.us}${path}`, eu: `${hosts.eu}${path}` });

/** The identifier and the mapped fields, split into top-level keys (absent ones left out) and the rest. */
function split(ctx: ApiContext): { top: Template; rest: Record<string, Template> } {
  const { top, rest } = placedFields(ctx);
  const key = ctx.identifierField ? { [ctx.identifierField]: row.key } : {};
  const keyOnTop = ctx.identifierField !== undefined && onTop(ctx, ctx.identifierField);
  return { top: compact({ ...fieldsOf(top), ...(keyOnTop ? key : {}) }), rest: { ...fieldsOf(rest), ...(keyOnTop ? {} : key) } };
}

function events(ctx: ApiContext): SendRequest {
  const { top, rest } = split(ctx);
  const event = merge(top, { event_type: ctx.target ?? ctx.sync, insert_id: row.idempotencyKey, event_properties: rest });
  // Amplitude refuses ids shorter than 5 characters unless min_id_length says otherwise; warehouse ids often are.
  return perBatch(
    jsonRequest('POST', host(ctx, '/2/httpapi'), jsonHeaders({}), { api_key: required(ctx, 'api_key'), events: each(event), options: { min_id_length: 1 } }),
  );
}

/** Identify is form-encoded: the key, and the identifications as a JSON array. It takes no options: user ids have 5 characters at least. */
function identify(ctx: ApiContext): SendRequest {
  const { top, rest } = split(ctx);
  return perBatch({
    method: 'POST',
    url: host(ctx, '/identify'),
    headers: {},
    body: { encoding: 'form', template: { api_key: required(ctx, 'api_key'), identification: asJson(each(merge(top, { user_properties: { $set: rest } }))) } },
  });
}

export const amplitudeApi = analyticsApi({
  event: { operation: 'track', description: 'send each row as one event', request: events },
  properties: { operation: 'identify', description: 'set user properties', request: identify },
  // Amplitude throttles a user that sends too fast with 429; it asks for a 30 s pause.
  retry: retryWith({ backoff: { initialSeconds: 30, multiplier: 2, maxSeconds: 300 } }),
});
