import { defineDestination } from '../define.js';
import { protoField, type FieldRules } from '../fields.js';
import { pattern, secret, settingsSchema, text } from '../settings.js';

// Customer ids are ten digits, shown in the UI as 123-456-7890.
const customerId = (description: string) => pattern('^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$', description);

/**
 * The UserIdentifier fields a CONTACT_INFO Customer Match list takes (the lists syncwright
 * creates), by proto or JSON name: email and phone, normalised as Google's Customer Match guide
 * says, then SHA-256 hashed. mobile_id and third_party_user_id need lists of another upload key
 * type, address_info a nested message: none is offered.
 */
const identifiers: FieldRules = {
  describes: 'Google Customer Match identifiers of a contact-info list',
  docs: 'https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started#normalize-and-hash',
  closed: true,
  fields: {
    // gmail.com and googlemail.com local parts without dots or +suffix.
    ...protoField('hashed_email', { types: ['string'], hashed: 'required', normalise: ['trim', 'lower', 'gmail', 'non_empty'] }),
    // E.164: +, country code, digits (an international 00 prefix dropped).
    ...protoField('hashed_phone_number', { types: ['string'], hashed: 'required', normalise: ['digits', 'strip_leading_zeros', 'non_empty', 'plus'] }),
  },
  hashIdentifier: true,
};

export const googleAds = defineDestination({
  type: 'google_ads',
  title: 'Google Ads Customer Match',
  category: 'advertising',
  objectKinds: [{ kind: 'audience', describes: 'a Customer Match user list name', audience: true, fields: identifiers }],
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
  // AddOfflineUserDataJobOperations takes at most 100,000 identifiers per request, across all
  // users of its operations; Google recommends 10,000 users.
  limits: { maxBatch: 100_000, defaultBatch: 10_000, maxIdentifiers: 100_000 },
  docs: 'https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started',
});
