import { defineDestination } from '../define.js';
import { envOr, pattern, secret, settingsSchema } from '../settings.js';

/** The setting prefix of a custom header: `header_x_api_key env("KEY")` sends `x-api-key`. */
export const headerSettingPrefix = 'header_';

// Headers the executor sets itself, and its own x-syncwright-* ones: a custom header may not replace them.
const ownHeaders = ['content_type', 'content_length', 'host', 'idempotency_key'];

export const webhook = defineDestination({
  type: 'webhook',
  title: 'Webhook',
  category: 'other',
  objectKinds: [
    { kind: 'path', describes: "a URL path appended to the base url's path (before its query), e.g. /users; absent = the url itself", target: 'optional' },
  ],
  settings: settingsSchema(
    {
      url: pattern('^https?://[^\\s/]+(/\\S*)?$', 'the base URL requests go to'),
      secret: secret('the key requests are signed with: HMAC-SHA256 of a timestamp and the body, as Stripe signs (docs/run.md)'),
      // Literals only: the plan is made with them (its requests' method, its batch size), so a
      // value from env() would be read by no run.
      method: { enum: ['POST', 'PUT'], default: 'POST' },
      // false: one request per row; true: one request per batch, a JSON array.
      batch: { type: 'boolean', default: false },
      timeout_seconds: envOr({ type: 'integer', minimum: 1, maximum: 300 }, { default: 30 }),
    },
    ['url'],
    {
      patternProperties: {
        [`^${headerSettingPrefix}(?!(${ownHeaders.join('|')})$|x_syncwright_)[a-z][a-z0-9_]*$`]: envOr(
          { type: 'string', pattern: '^[\\t\\x20-\\x7e]*$' },
          {
            description: `\`${headerSettingPrefix}<name>\` sends the header <name> (\`_\` read as \`-\`), its value a string or env("VAR"); not ${ownHeaders.join(', ')} or x_syncwright_*, which syncwright sets`,
          },
        ),
      },
    },
  ),
  limits: { maxBatch: 1_000, defaultBatch: 100 },
  message: 'optional',
  // The message is the request body: JSON whatever the data holds.
  messageFormat: 'json',
  docs: 'https://www.rfc-editor.org/rfc/rfc9110#name-post',
});
