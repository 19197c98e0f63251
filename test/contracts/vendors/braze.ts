/**
 * Braze POST /users/track, from Braze's documentation repository (no OpenAPI document is
 * published): attribute objects, each naming its user, at most 75 per request.
 */
import { bearerToken, headerSchema, jsonType, type JsonSchema, type VendorContract } from '../types.js';

const docs = { source: 'braze/users-track' } as const;

// user_attributes_object: "One of external_id or user_alias or braze_id or email or phone is
// required"; the typed standard attributes; "To remove a profile attribute, set it to null."
const attributes: JsonSchema = {
  type: 'object',
  anyOf: ['external_id', 'user_alias', 'braze_id', 'email', 'phone'].map((k) => ({ required: [k] })),
  properties: {
    external_id: { type: 'string', minLength: 1 },
    user_alias: { type: 'object', required: ['alias_name', 'alias_label'] },
    braze_id: { type: 'string' },
    email: { type: ['string', 'null'] },
    phone: { type: ['string', 'null'] },
    _update_existing_only: { type: 'boolean' },
    push_token_import: { type: 'boolean' },
    // Values are the data's (an ISO-3166-1 alpha-2 country, a gender letter); the types are the sync's.
    country: { type: ['string', 'null'] },
    // dob: "String in format "YYYY-MM-DD"".
    dob: { anyOf: [{ type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' }, { type: 'null' }] },
    email_subscribe: { type: ['string', 'null'] },
    gender: { type: ['string', 'null'] },
    first_name: { type: ['string', 'null'] },
    last_name: { type: ['string', 'null'] },
    home_city: { type: ['string', 'null'] },
    language: { type: ['string', 'null'] },
    time_zone: { type: ['string', 'null'] },
    image_url: { type: ['string', 'null'] },
    // "Date at which the user first used the app (String in ISO 8601 format ...)", and the like.
    date_of_first_session: { type: ['string', 'null'] },
    date_of_last_session: { type: ['string', 'null'] },
    marked_email_as_spam_at: { type: ['string', 'null'] },
    email_open_tracking_disabled: { type: ['boolean', 'null'] },
    email_click_tracking_disabled: { type: ['boolean', 'null'] },
    current_location: { anyOf: [{ type: 'object', required: ['longitude', 'latitude'] }, { type: 'null' }] },
    facebook: { type: ['object', 'null'] },
    twitter: { type: ['object', 'null'] },
    push_tokens: { type: ['array', 'null'] },
    subscription_groups: { type: ['array', 'null'] },
    _merge_objects: { type: 'boolean' },
  },
};

export const braze: VendorContract = {
  vendor: 'braze',
  operations: [
    {
      id: 'braze.users_track',
      cite: { ...docs, at: 'post_user_track: request body {attributes, events, purchases}; Authorization: Bearer' },
      method: 'POST',
      // The REST endpoint is per instance: rest.iad-01.braze.com, rest.fra-01.braze.eu, ...
      url: ['https://{instance}/users/track'],
      headers: headerSchema({ authorization: bearerToken, 'content-type': jsonType }),
      body: {
        encoding: 'json',
        schema: {
          type: 'object',
          minProperties: 1,
          properties: { attributes: { type: 'array', items: attributes }, events: { type: 'array' }, purchases: { type: 'array' } },
          additionalProperties: false,
        },
      },
      // rate_limits: "Each request to the /users/track endpoint can contain up to 75 events, 75 attribute updates, and 75 purchases."
      limits: { items: { pointer: '/attributes', max: 75, cite: { ...docs, at: 'rate_limits: "up to 75 ... attribute updates"' } } },
      // (A local server sees no host: the instance is checked where the request names one.)
      rules: [
        (req) =>
          req.params.instance === undefined || /^rest\.[a-z0-9-]+\.braze\.(com|eu)$/.test(req.params.instance)
            ? []
            : [`\`${req.params.instance}\` is not a Braze REST endpoint`],
      ],
    },
  ],
};
