import { defineDestination } from '../define.js';
import { pattern, secret, settingsSchema } from '../settings.js';

export const facebookAds = defineDestination({
  type: 'facebook_ads',
  title: 'Meta (Facebook) Custom Audiences',
  category: 'advertising',
  objectKinds: [{ kind: 'audience', describes: 'a custom audience name', audience: true }],
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
  hashing: 'meta',
  docs: 'https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences',
});
