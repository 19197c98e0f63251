import { columnTypesExcept, defineDestination } from '../define.js';
import type { FieldRules } from '../fields.js';
import { httpsUrl, pattern, secret, settingsSchema, text } from '../settings.js';

// sObject fields are the org's own; what the API fixes is how records are matched, and field
// API names are letters, digits and underscores (they are written into SOQL unquoted).
const apiNames = { pattern: '^[A-Za-z][A-Za-z0-9_]*$', what: 'an sObject field API name: letters, digits and _' };
// The standard Email field is matched without case, by an upsert (an idLookup field) and by
// SOQL; whether a custom field is, is the org's metadata, so those are compared exactly.
const keysWithoutCase = ['Email'];
const sobjectFields: FieldRules = {
  describes: 'sObject fields',
  docs: 'https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-update.html',
  closed: false,
  fields: {},
  names: apiNames,
  keysWithoutCase,
  keysKeepCase: true,
  identifiers: { fields: ['Id'], modes: ['update'], why: 'sObject Collections update records by their record id' },
};

export const salesforce = defineDestination({
  type: 'salesforce',
  title: 'Salesforce',
  category: 'crm',
  recordModes: ['upsert', 'insert', 'update', 'mirror'],
  modesWhy: 'sObject collections delete by id, so a tracked mirror can delete the records this sync created',
  objectKinds: [
    { kind: 'object', describes: 'an sObject API name such as Contact, Account or Custom__c', fields: sobjectFields },
    {
      kind: 'list',
      describes: 'a campaign name; members become campaign members',
      audience: true,
      records: false,
      fields: {
        describes: 'Contact fields',
        docs: sobjectFields.docs,
        closed: false,
        fields: {},
        names: apiNames,
        keysWithoutCase,
        // Not \`keysKeepCase\`: a list's modes but upsert never send a changed row, so a payload holding the email's case would
        // count a case change (and every row, once, after an upgrade) as changed on every run; entering contacts are written
        // with the email lower-cased.
        unmappedIn: { modes: ['remove'], why: 'removing campaign members deletes them by id' },
      },
    },
  ],
  fieldTypes: columnTypesExcept('json'),
  settings: settingsSchema(
    {
      instance_url: httpsUrl('the org URL, e.g. https://acme.my.salesforce.com'),
      client_id: text('the connected app consumer key'),
      client_secret: secret('the connected app consumer secret'),
      refresh_token: secret('an OAuth refresh token'),
      api_version: pattern('^[0-9]{2,3}\\.0$', 'a REST API version such as 62.0'),
    },
    ['instance_url', 'client_id', 'client_secret', 'refresh_token'],
  ),
  // sObject collections take 200 records per call; Salesforce limits API calls per day, not per second.
  limits: { maxBatch: 200, defaultBatch: 200 },
  docs: 'https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm',
});
