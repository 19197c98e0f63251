/**
 * Amplitude: events through HTTP V2 (/2/httpapi, 2,000 per request, deduplicated on
 * insert_id), user properties through Identify.
 * https://amplitude.com/docs/apis/analytics/http-v2 · https://amplitude.com/docs/apis/analytics/identify
 */
import type { ApiContext, DestinationApi } from '../types.js';
import { analyticsApi } from '../analytics.js';
import type { SendRequest, Template } from '../../../plan/api-steps.js';
import { asJson, bySetting, each, jsonHeaders, jsonRequest, perBatch, required, retryWith, row } from '../http.js';

const hosts = { us: 'https://api2.amplitude.com', eu: 'https://api.eu.amplitude.com' };
const host = (ctx: ApiContext, path: string): Template => bySetting(ctx, 'region', { us: `${hosts.us}${path}`, eu: `${hosts.eu}${path}` });
const user = (ctx: ApiContext): Record<string, Template> => (ctx.identifierField ? { user_id: row.key } : {});

function events(ctx: ApiContext): SendRequest {
  const event = { ...user(ctx), event_type: ctx.target ?? ctx.sync, insert_id: row.idempotencyKey, event_properties: row.payload };
  // Amplitude refuses ids shorter than 5 characters unless min_id_length says otherwise; warehouse ids often are.
  return perBatch(jsonRequest('POST', host(ctx, '/2/httpapi'), jsonHeaders({}), { api_key: required(ctx, 'api_key'), events: each(event), options: { min_id_length: 1 } }));
}

/** Identify is form-encoded: the key, and the identifications as a JSON array. */
function identify(ctx: ApiContext): SendRequest {
  return perBatch({
    method: 'POST',
    url: host(ctx, '/identify'),
    headers: {},
    body: { encoding: 'form', template: { api_key: required(ctx, 'api_key'), identification: asJson(each({ ...user(ctx), user_properties: { $set: row.payload } })) } },
  });
}

export const amplitudeApi: DestinationApi = analyticsApi({
  event: { operation: 'track', description: 'send each row as one event', request: events },
  properties: { operation: 'identify', description: 'set user properties', request: identify },
  // Amplitude throttles a user that sends too fast with 429; it asks for a 30 s pause.
  retry: retryWith({ backoff: { initialSeconds: 30, multiplier: 2, maxSeconds: 300 } }),
});
