import { defineDestination } from '../define.js';
import { envOr, oneOfValues, secret, settingsSchema, text } from '../settings.js';

export const mixpanel = defineDestination({
  type: 'mixpanel',
  title: 'Mixpanel',
  category: 'analytics',
  objectKinds: [
    { kind: 'event', describes: 'an event name; each row is imported as one event' },
    { kind: 'object', describes: 'profile (user profile properties set through /engage)' },
  ],
  settings: settingsSchema(
    {
      project_token: secret('the project token'),
      project_id: envOr({ type: 'integer', minimum: 1 }, { description: 'the numeric project id, needed with a service account' }),
      api_secret: secret('the project API secret (legacy import authentication)'),
      service_account_username: text('a service account username'),
      service_account_secret: secret('the service account secret'),
      // EU and India residency projects have their own hosts.
      region: oneOfValues(['us', 'eu', 'in'], 'us'),
    },
    ['project_token'],
    {
      dependentRequired: {
        service_account_username: ['service_account_secret', 'project_id'],
        service_account_secret: ['service_account_username'],
      },
    },
  ),
  // /import takes 2,000 events and 10 MB uncompressed per request; /engage 2,000 updates.
  limits: { maxBatch: 2_000, defaultBatch: 2_000, maxPayloadBytes: 10 * 1024 * 1024 },
  docs: 'https://developer.mixpanel.com/reference/import-events',
});
