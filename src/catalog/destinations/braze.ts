import { defineDestination } from '../define.js';
import type { FieldRules, FieldSpec } from '../fields.js';
import { pattern, secret, settingsSchema } from '../settings.js';

const text: FieldSpec = { types: ['string'] };
// Dates Braze takes as ISO 8601 text ("String in ISO 8601 format" or yyyy-MM-dd...).
const isoTime: FieldSpec = { types: ['date', 'timestamp', 'string'], encode: 'text' };
// Objects and arrays of objects: only a JSON column's value has their shape.
const object: FieldSpec = { types: ['json'] };
const flag: FieldSpec = { types: ['bool'] };

/**
 * The user attributes object: every standard attribute and reserved key Braze documents, typed,
 * and how a user is named. A list is a custom attribute in the same object, so it may take none
 * of these names: one left out is a list that sets that attribute to `true` on every member.
 * (braze-docs user_attributes_object @ fb70d7ce; `image_url` and `bio` from its revision 030cafd6;
 * `_merge_objects` from nested_custom_attribute_support.)
 */
const attributes: FieldRules = {
  describes: 'Braze user attributes',
  docs: 'https://www.braze.com/docs/api/objects_filters/user_attributes_object/',
  closed: false,
  fields: {
    ...Object.fromEntries(
      [
        'external_id',
        'braze_id',
        'email',
        'phone',
        'alias_name',
        'alias_label',
        'first_name',
        'last_name',
        'home_city',
        'country',
        'language',
        'time_zone',
        'gender',
        'image_url',
        'email_subscribe',
        'push_subscribe',
      ].map((f) => [f, text]),
    ),
    // "String in format YYYY-MM-DD".
    dob: { types: ['date', 'string'], encode: 'text' },
    date_of_first_session: isoTime,
    date_of_last_session: isoTime,
    marked_email_as_spam_at: isoTime,
    email_open_tracking_disabled: flag,
    email_click_tracking_disabled: flag,
    // {"longitude": ..., "latitude": ...}
    current_location: object,
    // Hashes of id, likes, num_friends / id, screen_name, followers_count, ...
    facebook: object,
    twitter: object,
    // Arrays of {app_id, token, device_id} and of {subscription_group_id, subscription_state}.
    push_tokens: object,
    subscription_groups: object,
    _update_existing_only: { setBy: 'syncwright sets `_update_existing_only` where a mode must not create users' },
    push_token_import: { setBy: 'push token imports are not a sync of attributes' },
    user_alias: { setBy: 'a user alias is an object of alias_name and alias_label, not a column' },
    _merge_objects: {
      setBy: '`_merge_objects` is a flag that changes how object attributes are written (deep merge), not an attribute; syncwright does not set it',
    },
    bio: { setBy: 'Braze removed the `bio` profile field and does not keep it as a custom attribute either: the value would be dropped' },
  },
  identifiers: { fields: ['external_id', 'braze_id', 'email', 'phone'], why: 'each attributes object names its user by external_id, braze_id, email or phone' },
};

export const braze = defineDestination({
  type: 'braze',
  title: 'Braze',
  category: 'marketing',
  objectKinds: [
    { kind: 'object', describes: 'users (attributes written through /users/track)', fields: attributes },
    {
      kind: 'list',
      describes: 'a custom attribute that marks members, for segments to build on',
      audience: true,
      records: false,
      fields: { ...attributes, unmappedIn: { modes: ['add', 'remove', 'mirror'], why: 'only `upsert` writes attributes besides the membership flag' } },
      // The flag is written in the same attributes object as the user's identifier and fields (and `_update_existing_only`).
      referenceIsField: "the list is the custom attribute of that name, written in each member's attributes object",
    },
  ],
  settings: settingsSchema(
    {
      api_key: secret('a REST API key with users.track'),
      // The REST endpoint is per instance: https://rest.iad-01.braze.com, https://rest.fra-01.braze.eu, ...
      rest_endpoint: pattern('^https://rest\\.[a-z0-9-]+\\.braze\\.(com|eu)/?$', 'the instance REST endpoint'),
    },
    ['api_key', 'rest_endpoint'],
  ),
  // /users/track takes 75 attribute objects per request, and "a base speed limit of 50,000 requests per minute";
  // accounts on the MAU plan of CY 24-25 "may batch up to 50 updates", so 50 unless the sync's `batch` says more.
  limits: { maxBatch: 75, defaultBatch: 50, rateLimit: { requests: 50_000, perSeconds: 60 } },
  docs: 'https://www.braze.com/docs/api/endpoints/user_data/post_user_track/',
});
