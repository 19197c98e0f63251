import { columnTypesExcept, defineDestination } from '../define.js';
import type { FieldRules } from '../fields.js';
import { secret, settingsSchema } from '../settings.js';

/**
 * CRM properties are strings in every batch call (`properties: {additionalProperties: {type:
 * string}}`): numbers in decimal, booleans "true"/"false", dates YYYY-MM-DD, datetimes ISO
 * 8601; "" clears a property. HubSpot keeps contact emails in lower case and matches them
 * without case.
 */
const properties: FieldRules = {
  describes: 'HubSpot object properties',
  docs: 'https://developers.hubspot.com/docs/api/crm/properties',
  closed: false,
  fields: {},
  encode: 'text',
  nullAsEmpty: true,
  keysWithoutCase: ['email'],
};

export const hubspot = defineDestination({
  type: 'hubspot',
  title: 'HubSpot',
  category: 'crm',
  recordModes: ['upsert', 'insert', 'update', 'mirror'],
  modesWhy: 'HubSpot archives records through its batch archive call, so a tracked mirror can delete what the sync wrote',
  objectKinds: [
    { kind: 'object', describes: 'a HubSpot object type such as contacts, companies, deals or a custom object', fields: properties },
    {
      kind: 'list',
      describes: 'a HubSpot static list name',
      audience: true,
      records: false,
      // Membership calls take record ids only: leaving contacts are found and taken off the list, nothing is written to them.
      fields: { ...properties, describes: 'HubSpot contact properties', unmappedIn: { modes: ['remove'], why: 'removing list members sends record ids only' } },
    },
  ],
  // CRM properties are scalars: there is no property type for a JSON document.
  fieldTypes: columnTypesExcept('json'),
  settings: settingsSchema({ token: secret('a private app access token') }, ['token']),
  // Batch create/update/upsert/archive take 100 inputs; private apps get 100 requests per 10 s
  // (Free/Starter). Their 250,000 a day is left to the server's 429: the day's count holds
  // whatever else the account called, which one run cannot see, and waiting it out would hold a
  // run for hours.
  limits: { maxBatch: 100, defaultBatch: 100, rateLimit: { requests: 100, perSeconds: 10 } },
  docs: 'https://developers.hubspot.com/docs/api/crm/understanding-the-crm',
});
