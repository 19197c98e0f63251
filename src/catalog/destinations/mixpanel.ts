import { defineDestination } from '../define.js';
import type { FieldRules } from '../fields.js';
import { envOr, oneOfValues, secret, settingsSchema, text } from '../settings.js';

/**
 * /import event properties: `time` is integer seconds or milliseconds since the epoch,
 * `distinct_id` a string (the identifier when no field is mapped to it), `$insert_id` the
 * deduplication key syncwright derives from each row.
 */
const eventProperties: FieldRules = {
  describes: 'Mixpanel event properties',
  docs: 'https://developer.mixpanel.com/reference/import-events',
  closed: false,
  fields: {
    time: { types: ['timestamp', 'date', 'int', 'bigint'], encode: 'epoch_ms' },
    distinct_id: { types: ['string', 'int', 'bigint'], encode: 'text' },
    $insert_id: { setBy: "syncwright sets $insert_id from each row's idempotency key (at most 36 letters, digits or -)" },
  },
  // Mixpanel counts two events as one when their event, distinct_id, time and $insert_id are equal (import-events).
  advisesOneOf: {
    fields: ['time'],
    why: "an event without one carries the clock of the run that sends it: sent again by a later run (its answer lost), it has another time, and Mixpanel's deduplication on $insert_id needs the same time",
  },
};

/** /engage $set: the profile is the identifier's ($distinct_id); every field a profile property. */
const profileProperties: FieldRules = {
  describes: 'Mixpanel profile properties',
  docs: 'https://developer.mixpanel.com/reference/profile-set',
  closed: false,
  fields: {
    $distinct_id: { identifierOnly: "the sync's identifier is the profile's $distinct_id" },
    $token: { setBy: "the project token comes from the destination's `project_token`" },
    $set: { setBy: 'every mapped field is set as a profile property' },
  },
};

export const mixpanel = defineDestination({
  type: 'mixpanel',
  title: 'Mixpanel',
  category: 'analytics',
  objectKinds: [
    { kind: 'event', describes: 'an event name; each row is imported as one event', fields: eventProperties },
    { kind: 'object', describes: 'profile (user profile properties set through /engage)', fields: profileProperties },
  ],
  settings: settingsSchema(
    {
      project_token: secret('the project token'),
      project_id: envOr({ type: 'integer', minimum: 1 }, { description: 'the numeric project id, needed with a service account' }),
      api_secret: secret('the project API secret (legacy import authentication)'),
      service_account_username: text('a service account username'),
      service_account_secret: secret('the service account secret'),
      // EU and India residency projects have their own hosts.
      region: oneOfValues(['us', 'eu', 'in'], 'us'),
    },
    ['project_token'],
    {
      dependentRequired: {
        service_account_username: ['service_account_secret', 'project_id'],
        service_account_secret: ['service_account_username'],
      },
    },
  ),
  // /import takes 2,000 events and 10 MB uncompressed per request; /engage 2,000 updates. Its
  // rate limit counts events and bytes (2 GB or about 30,000 events a second, per rolling minute),
  // not requests, so there is none here: a 429 is retried with backoff, as Mixpanel recommends.
  limits: { maxBatch: 2_000, defaultBatch: 2_000, maxPayloadBytes: 10 * 1024 * 1024 },
  docs: 'https://developer.mixpanel.com/reference/import-events',
});
