import { defineDestination } from '../define.js';
import type { FieldRules, FieldSpec } from '../fields.js';
import { oneOfValues, secret, settingsSchema } from '../settings.js';

const top = (spec: FieldSpec = { types: ['string'] }): FieldSpec => ({ ...spec, top: true });
const numbers: FieldSpec = { types: ['int', 'bigint', 'float', 'decimal'] };
const integers: FieldSpec = { types: ['int', 'bigint'] };
// Ids are strings of at least min_id_length characters; a numeric id column is sent as its decimal text.
const id: FieldSpec = { encode: 'text', types: ['string', 'int', 'bigint'] };
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
const strings = (names: string[]) => Object.fromEntries(names.map((n) => [n, top()]));

/**
 * HTTP V2 event keys: the documented top-level keys go at the event's top level ("Ensure that
 * you include properties like session_id at the top level"), every other field in
 * event_properties. `time` and `session_id` are milliseconds since the epoch.
 */
const eventKeys: FieldRules = {
  describes: 'Amplitude event keys',
  docs: 'https://amplitude.com/docs/apis/analytics/http-v2#event-array-keys',
  closed: false,
  fields: {
    user_id: top(id),
    device_id: top(id),
    time: top({ types: ['timestamp', 'date', 'int', 'bigint'], encode: 'epoch_ms' }),
    session_id: top({ types: ['timestamp', 'int', 'bigint'], encode: 'epoch_ms' }),
    ...strings([...deviceKeys, 'productId', 'revenueType', 'currency', 'ip', 'idfa', 'idfv', 'android_app_set_id', 'adid', 'android_id', 'user_agent']),
    price: top(numbers),
    revenue: top(numbers),
    location_lat: top(numbers),
    location_lng: top(numbers),
    quantity: top(integers),
    event_id: top(integers),
    event_type: { setBy: 'the event type is the sync\'s target: `to amplitude event "Order Completed"`' },
    insert_id: { setBy: "syncwright sets insert_id from each row's idempotency key, so a resend is deduplicated" },
    event_properties: { setBy: 'fields that are not top-level keys go into event_properties by themselves' },
    user_properties: { setBy: 'user properties are written by `to amplitude object user`' },
    groups: { setBy: 'groups are objects, not columns' },
    group_properties: { setBy: 'group properties are objects, not columns' },
  },
  needsOneOf: { fields: ['user_id', 'device_id'], why: 'an event needs a user_id or a device_id' },
};

/**
 * Identify keys: the documented ones at the identification's top level, every other field a
 * user property ($set). Identify takes no options, so user ids keep the minimum of 5 characters.
 */
const identifyKeys: FieldRules = {
  describes: 'Amplitude identify keys',
  docs: 'https://amplitude.com/docs/apis/analytics/identify#identification-parameter-keys',
  closed: false,
  fields: {
    user_id: top({ ...id, minChars: 5 }),
    device_id: top({ ...id, minChars: 5 }),
    ...strings([...deviceKeys, 'paying', 'start_version']),
    user_properties: { setBy: 'fields that are not identify keys are set as user properties by themselves' },
    groups: { setBy: 'groups are objects, not columns' },
  },
  identifiers: { fields: ['user_id', 'device_id'], why: 'Identify finds the user by user_id or device_id' },
};

export const amplitude = defineDestination({
  type: 'amplitude',
  title: 'Amplitude',
  category: 'analytics',
  objectKinds: [
    { kind: 'event', describes: 'an event type name; each row is sent as one event', fields: eventKeys },
    { kind: 'object', describes: 'user (user properties set through Identify)', fields: identifyKeys },
  ],
  settings: settingsSchema(
    {
      api_key: secret('the project API key'),
      // EU projects live on a separate host.
      region: oneOfValues(['us', 'eu'], 'us'),
    },
    ['api_key'],
  ),
  // HTTP V2: "Keep request sizes under 1 MB with fewer than 2000 events per request", and on
  // the Starter plan "100 batches per second" (Identify follows HTTP V2's throttling). Its 1,000
  // events per second counts rows, not requests, and is not one of these limits.
  limits: { maxBatch: 1_999, defaultBatch: 1_000, maxPayloadBytes: 1_000_000, rateLimit: { requests: 100, perSeconds: 1 } },
  docs: 'https://amplitude.com/docs/apis/analytics/http-v2',
});
