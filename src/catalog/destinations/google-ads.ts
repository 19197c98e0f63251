import { defineDestination } from '../define.js';
import { pattern, secret, settingsSchema, text } from '../settings.js';

// Customer ids are ten digits, shown in the UI as 123-456-7890.
const customerId = (description: string) => pattern('^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$', description);

export const googleAds = defineDestination({
  type: 'google_ads',
  title: 'Google Ads Customer Match',
  category: 'advertising',
  objectKinds: [{ kind: 'audience', describes: 'a Customer Match user list name', audience: true }],
  // Only identifiers are uploaded, hashed: there is nothing else to send.
  fieldTypes: ['string'],
  settings: settingsSchema(
    {
      customer_id: customerId('the Google Ads customer id that owns the list'),
      login_customer_id: customerId('the manager account id, when access goes through one'),
      developer_token: secret('the Google Ads API developer token'),
      client_id: text('the OAuth client id'),
      client_secret: secret('the OAuth client secret'),
      refresh_token: secret('an OAuth refresh token'),
    },
    ['customer_id', 'developer_token', 'client_id', 'client_secret', 'refresh_token'],
  ),
  // AddOfflineUserDataJobOperations takes at most 100,000 identifiers per request; Google recommends 10,000.
  limits: { maxBatch: 100_000, defaultBatch: 10_000 },
  hashing: 'google',
  docs: 'https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started',
});
