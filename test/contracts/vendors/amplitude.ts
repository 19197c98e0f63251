/**
 * Amplitude HTTP V2 (/2/httpapi) and Identify (/identify), from Amplitude's documentation
 * repository (it publishes no OpenAPI document for these APIs).
 */
import type { JsonSchema, ParsedRequest, VendorContract } from '../types.js';

const http = { source: 'amplitude/http-v2' } as const;
const identify = { source: 'amplitude/identify' } as const;
const hosts = (path: string) => [`https://api2.amplitude.com${path}`, `https://api.eu.amplitude.com${path}`];

// The device and place keys both APIs document.
const deviceKeys = [
  'app_version',
  'platform',
  'os_name',
  'os_version',
  'device_brand',
  'device_manufacturer',
  'device_model',
  'carrier',
  'country',
  'region',
  'city',
  'dma',
  'language',
];
const id = (min: number): JsonSchema => ({ type: 'string', minLength: min, maxLength: 1024 });

/**
 * Event array keys: the documented top-level keys with their types ("Ensure that you include
 * properties like session_id at the top level"); anything else belongs in event_properties.
 */
const eventKeys = (minId: number): Record<string, JsonSchema> => ({
  user_id: id(minId),
  device_id: id(minId),
  event_type: { type: 'string', minLength: 1 },
  // "You must send the time parameter in each event as millisecond since epoch."
  time: { type: 'integer' },
  event_properties: { type: 'object' },
  user_properties: { type: 'object' },
  groups: { type: 'object' },
  group_properties: { type: 'object' },
  $skip_user_properties_sync: { type: 'boolean' },
  ...Object.fromEntries(
    [...deviceKeys, 'productId', 'revenueType', 'ip', 'idfa', 'idfv', 'android_app_set_id', 'adid', 'android_id', 'insert_id', 'user_agent'].map((k) => [
      k,
      { type: 'string' },
    ]),
  ),
  currency: { type: 'string' },
  price: { type: 'number' },
  quantity: { type: 'integer' },
  revenue: { type: 'number' },
  location_lat: { type: 'number' },
  location_lng: { type: 'number' },
  event_id: { type: 'integer' },
  session_id: { type: 'integer' },
  plan: { type: 'object', properties: { branch: { type: 'string' }, source: { type: 'string' }, version: { type: 'string' } }, additionalProperties: false },
});

/** One of user_id or device_id is required; ids shorter than options.min_id_length (default 5) are refused. */
function minIdRule(req: ParsedRequest): string[] {
  const body = req.body as { events?: Record<string, unknown>[]; options?: { min_id_length?: number } } | undefined;
  const min = body?.options?.min_id_length ?? 5;
  return (body?.events ?? []).flatMap((e, i) =>
    ['user_id', 'device_id'].flatMap((k) =>
      typeof e[k] === 'string' && (e[k] as string).length < min ? [`events[${i}].${k} is shorter than min_id_length ${min}`] : [],
    ),
  );
}

/**
 * "Ensure that you include properties like session_id at the top level": who, when and how
 * much are read from the top level only; inside event_properties they are ordinary properties.
 */
const identity = ['user_id', 'device_id', 'time', 'session_id', 'insert_id', 'event_id', 'revenue', 'price', 'quantity', 'productId', 'revenueType'];
function topLevelRule(req: ParsedRequest): string[] {
  const events = (req.body as { events?: { event_properties?: Record<string, unknown> }[] } | undefined)?.events ?? [];
  return events.flatMap((e, i) =>
    Object.keys(e.event_properties ?? {})
      .filter((k) => identity.includes(k))
      .map((k) => `events[${i}].event_properties.${k}: a top-level key of the event`),
  );
}

export const amplitude: VendorContract = {
  vendor: 'amplitude',
  operations: [
    {
      id: 'amplitude.httpapi',
      cite: { ...http, at: 'HTTP V2: POST /2/httpapi, body parameters api_key, events, options; event array keys' },
      method: 'POST',
      url: hosts('/2/httpapi'),
      // "a Content-Type header must be set to application/json"
      headers: { type: 'object', properties: { 'content-type': { const: 'application/json' } }, required: ['content-type'] },
      body: {
        encoding: 'json',
        schema: {
          type: 'object',
          required: ['api_key', 'events'],
          properties: {
            api_key: { type: 'string', minLength: 1 },
            events: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                required: ['event_type'],
                anyOf: [{ required: ['user_id'] }, { required: ['device_id'] }],
                properties: eventKeys(1),
                additionalProperties: false,
              },
            },
            options: { type: 'object', properties: { min_id_length: { type: 'integer', minimum: 1 } }, additionalProperties: false },
          },
          additionalProperties: false,
        },
      },
      limits: {
        // "Keep request sizes under 1 MB with fewer than 2000 events per request."
        items: { pointer: '/events', max: 1_999, cite: { ...http, at: 'Upload limit: "fewer than 2000 events per request"' } },
        bytes: { max: 1_000_000, cite: { ...http, at: 'Upload limit: "Keep request sizes under 1 MB"' } },
      },
      rules: [minIdRule, topLevelRule],
    },
    {
      // Form-encoded: api_key, and identification (a JSON object or array of them). No options:
      // user ids keep the default minimum length of 5.
      id: 'amplitude.identify',
      cite: { ...identify, at: 'Identify API: POST /identify, api_key, identification; identification parameter keys' },
      method: 'POST',
      url: hosts('/identify'),
      body: {
        encoding: 'form',
        schema: {
          type: 'object',
          required: ['api_key', 'identification'],
          properties: {
            api_key: { type: 'string', minLength: 1 },
            identification: {
              type: 'array',
              minItems: 1,
              items: {
                type: 'object',
                anyOf: [{ required: ['user_id'] }, { required: ['device_id'] }],
                properties: {
                  ...Object.fromEntries([...deviceKeys, 'paying', 'start_version'].map((k) => [k, { type: 'string' }])),
                  user_id: id(5),
                  device_id: id(5),
                  user_properties: { type: 'object' },
                  groups: { type: 'object' },
                },
                additionalProperties: false,
              },
            },
          },
          additionalProperties: false,
        },
      },
      limits: {
        items: {
          pointer: '/identification',
          max: 1_999,
          cite: {
            ...http,
            at: 'Identify: "All throttling and status code guidance from Amplitude\'s HTTP V2 API applies"; HTTP V2: fewer than 2000 per request',
          },
        },
      },
    },
  ],
};
