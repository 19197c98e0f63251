import { defineDestination } from '../define.js';
import type { FieldRules, FieldSpec } from '../fields.js';
import { pattern, secret, settingsSchema } from '../settings.js';

const attribute: FieldSpec = { types: ['string'], top: true };

/**
 * A profile's standard attributes (strings) go in its attributes, any other field in its custom
 * `properties`; a profile is identified by email, phone number (E.164) or external id.
 */
const profile: FieldRules = {
  describes: 'Klaviyo profile attributes',
  docs: 'https://developers.klaviyo.com/en/reference/bulk_import_profiles',
  closed: false,
  fields: Object.fromEntries(
    ['email', 'phone_number', 'external_id', 'first_name', 'last_name', 'organization', 'title', 'locale', 'image'].map((f) => [f, attribute]),
  ),
  identifiers: { fields: ['email', 'phone_number', 'external_id'], why: 'Klaviyo finds a profile by its email, phone_number or external_id' },
};

/**
 * x-klaviyo-ratelimit of the calls a plan makes: profile-bulk-import-jobs, the list's profile
 * relationships and list creation "Burst: 10/s, Steady: 150/m"; the lookups (GET lists,
 * profiles) allow more (75/s, 750/m) and share the stricter budget. List creation's "Daily:
 * 150/d" is left to the server: a run creates one list at most.
 */
const klaviyoRate = { requests: 10, perSeconds: 1, also: [{ requests: 150, perSeconds: 60 }] };

/**
 * The GA revisions Klaviyo has published: klaviyo/openapi keeps one branch per revision (its
 * README); its branch list at f0a30ba41254904dc410d84ca497df68f8872276. A revision may carry a
 * suffix (`2024-10-15.pre`, a pre-release of that revision): "format: YYYY-MM-DD[.suffix]", the
 * revision header's description in each revision's OpenAPI document.
 */
const revisions = {
  what: 'API revision',
  values: [
    '2022-10-17',
    '2023-01-24',
    '2023-02-22',
    '2023-06-15',
    '2023-07-15',
    '2023-08-15',
    '2023-09-15',
    '2023-10-15',
    '2023-12-15',
    '2024-02-15',
    '2024-05-15',
    '2024-06-15',
    '2024-07-15',
    '2024-10-15',
    '2025-01-15',
    '2025-04-15',
    '2025-07-15',
    '2025-10-15',
    '2026-01-15',
    '2026-04-15',
    '2026-07-15',
  ],
  source: 'klaviyo/openapi, its branches at f0a30ba (one per revision)',
  part: '^[0-9]{4}-[0-9]{2}-[0-9]{2}',
};

export const klaviyo = defineDestination({
  type: 'klaviyo',
  title: 'Klaviyo',
  category: 'marketing',
  objectKinds: [
    { kind: 'object', describes: 'profiles (written through the bulk profile import)', fields: profile },
    {
      kind: 'list',
      describes: 'a Klaviyo list name',
      audience: true,
      records: false,
      fields: { ...profile, unmappedIn: { modes: ['remove'], why: 'removing list members sends profile ids only' } },
      // List relationship calls take 1,000 profiles; members enter through the bulk import (5 MB).
      limits: { maxBatch: 1_000, defaultBatch: 1_000, rateLimit: klaviyoRate, maxPayloadBytes: 5_000_000 },
    },
  ],
  settings: settingsSchema(
    {
      api_key: secret('a private API key'),
      revision: pattern('^[0-9]{4}-[0-9]{2}-[0-9]{2}(\\.[A-Za-z0-9]+)?$', 'the API revision sent as the revision header: YYYY-MM-DD[.suffix]'),
    },
    ['api_key'],
  ),
  published: { revision: revisions },
  // The bulk profile import takes 10,000 profiles and 5 MB per job.
  limits: { maxBatch: 10_000, defaultBatch: 10_000, rateLimit: klaviyoRate, maxPayloadBytes: 5_000_000 },
  docs: 'https://developers.klaviyo.com/en/reference/bulk_import_profiles',
});
