import { defineDestination } from '../define.js';
import { pattern, secret, settingsSchema } from '../settings.js';

export const braze = defineDestination({
  type: 'braze',
  title: 'Braze',
  category: 'marketing',
  objectKinds: [
    { kind: 'object', describes: 'users (attributes written through /users/track)' },
    { kind: 'list', describes: 'a custom attribute that marks members, for segments to build on', audience: true, records: false },
  ],
  settings: settingsSchema(
    {
      api_key: secret('a REST API key with users.track'),
      // The REST endpoint is per instance: https://rest.iad-01.braze.com, https://rest.fra-01.braze.eu, ...
      rest_endpoint: pattern('^https://rest\\.[a-z0-9-]+\\.braze\\.(com|eu)/?$', 'the instance REST endpoint'),
    },
    ['api_key', 'rest_endpoint'],
  ),
  // /users/track takes 75 attribute objects per request and 3,000 requests per 3 seconds.
  limits: { maxBatch: 75, defaultBatch: 75, rateLimit: { requests: 3_000, perSeconds: 3 } },
  docs: 'https://www.braze.com/docs/api/endpoints/user_data/post_user_track/',
});
