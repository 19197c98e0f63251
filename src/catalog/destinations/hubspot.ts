import { columnTypesExcept, defineDestination } from '../define.js';
import { secret, settingsSchema } from '../settings.js';

export const hubspot = defineDestination({
  type: 'hubspot',
  title: 'HubSpot',
  category: 'crm',
  recordModes: ['upsert', 'insert', 'update', 'mirror'],
  modesWhy: 'HubSpot archives records through its batch archive call, so a tracked mirror can delete what the sync wrote',
  objectKinds: [
    { kind: 'object', describes: 'a HubSpot object type such as contacts, companies, deals or a custom object' },
    { kind: 'list', describes: 'a HubSpot static list name', audience: true, records: false },
  ],
  // CRM properties are scalars: there is no property type for a JSON document.
  fieldTypes: columnTypesExcept('json'),
  settings: settingsSchema({ token: secret('a private app access token') }, ['token']),
  // Batch create/update/upsert/archive take 100 inputs; private apps get 100 requests per 10 s (Free/Starter).
  limits: { maxBatch: 100, defaultBatch: 100, rateLimit: { requests: 100, perSeconds: 10 } },
  docs: 'https://developers.hubspot.com/docs/api/crm/understanding-the-crm',
});
