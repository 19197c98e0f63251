import { defineDestination } from '../define.js';
import { envOr, flag, oneOfValues, pattern, secret, settingsSchema } from '../settings.js';

export const webhook = defineDestination({
  type: 'webhook',
  title: 'Webhook',
  category: 'other',
  objectKinds: [{ kind: 'path', describes: 'a URL path appended to the base url, e.g. /users; absent = the url itself', target: 'optional' }],
  settings: settingsSchema(
    {
      url: pattern('^https?://[^\\s/]+(/\\S*)?$', 'the base URL requests go to'),
      secret: secret('the key requests are signed with: HMAC-SHA256 of a timestamp and the body, as Stripe signs (docs/run.md)'),
      method: oneOfValues(['POST', 'PUT'], 'POST'),
      // false: one request per row; true: one request per batch, a JSON array.
      batch: flag(false),
      timeout_seconds: envOr({ type: 'integer', minimum: 1, maximum: 300 }, { default: 30 }),
    },
    ['url'],
  ),
  limits: { maxBatch: 1_000, defaultBatch: 100 },
  message: 'optional',
  docs: 'https://www.rfc-editor.org/rfc/rfc9110#name-post',
});
