import { defineDestination } from '../define.js';
import type { FieldRules, FieldSpec, NormaliseStep } from '../fields.js';
import { pattern, secret, settingsSchema } from '../settings.js';

/**
 * Meta's customer-file keys, each normalised as Meta's SDK does before SHA-256
 * (facebook-python-business-sdk, CustomAudienceMixin.format_params and normalize_key): every
 * key stripped of spaces, tabs, line breaks and dots at both ends and lower-cased, then per
 * key. Phone numbers also lose leading zeros (the Marketing API's hashing guide).
 */
const hashedKey = (...steps: NormaliseStep[]): FieldSpec => ({ types: ['string'], hashed: 'required', normalise: ['strip', 'lower', ...steps, 'non_empty'] });
const letters = hashedKey('letters');

const keys: FieldRules = {
  describes: 'Meta customer-file keys',
  docs: 'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash',
  closed: true,
  anyCase: true,
  fields: {
    EMAIL: hashedKey(),
    PHONE: hashedKey('digits', 'strip_leading_zeros'),
    FN: letters,
    LN: letters,
    FI: letters,
    CT: letters,
    ST: letters,
    ZIP: hashedKey('no_spaces', 'before_dash'),
    COUNTRY: hashedKey('letters', 'first_two'),
    DOBY: hashedKey('digits'),
    DOBM: hashedKey('digits', 'pad_two'),
    DOBD: hashedKey('digits', 'pad_two'),
    GEN: hashedKey('first_char'),
    // The SDK sends the external id normalised but not hashed.
    EXTERN_ID: { types: ['string'], hashed: 'never', normalise: ['strip', 'lower', 'non_empty'] },
  },
  // "In case a key is unknown, it should be left blank."
  nullAsEmpty: true,
  hashIdentifier: true,
};

export const facebookAds = defineDestination({
  type: 'facebook_ads',
  title: 'Meta (Facebook) Custom Audiences',
  category: 'advertising',
  objectKinds: [{ kind: 'audience', describes: 'a custom audience name', audience: true, fields: keys }],
  fieldTypes: ['string'],
  settings: settingsSchema(
    {
      ad_account: pattern('^act_[0-9]+$', 'the ad account id, e.g. act_1234567890'),
      token: secret('a system user access token with ads_management'),
      api_version: pattern('^v[0-9]+\\.0$', 'a Graph API version such as v21.0'),
    },
    ['ad_account', 'token'],
  ),
  // The audience users endpoint takes 10,000 identifiers per call.
  limits: { maxBatch: 10_000, defaultBatch: 10_000 },
  docs: 'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences',
});
