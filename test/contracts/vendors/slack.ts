/** Slack chat.postMessage, from Slack's published Web API spec (Swagger 2.0). */
import { bearerToken, headerSchema, jsonType, type VendorContract } from '../types.js';

export const slack: VendorContract = {
  vendor: 'slack',
  operations: [
    {
      id: 'slack.chat_post_message',
      cite: { source: 'slack/web-api', at: 'chat_postMessage (token header required; channel required; text)' },
      method: 'POST',
      url: ['https://slack.com/api/chat.postMessage'],
      // The spec's `token` header is the bearer token, which a JSON body requires
      // ("you must provide your token value using an Authorization HTTP header").
      headers: headerSchema({ authorization: bearerToken, 'content-type': jsonType }),
      body: {
        encoding: 'json',
        schema: {
          type: 'object',
          required: ['channel', 'text'],
          properties: {
            channel: { type: 'string', minLength: 1 },
            // chat.postMessage documents 40,000 characters of text at most.
            text: { type: 'string', minLength: 1, maxLength: 40_000 },
            as_user: { type: 'boolean' },
            attachments: { type: 'string' },
            blocks: { type: 'string' },
            icon_emoji: { type: 'string' },
            icon_url: { type: 'string' },
            link_names: { type: 'boolean' },
            mrkdwn: { type: 'boolean' },
            parse: { type: 'string' },
            reply_broadcast: { type: 'boolean' },
            thread_ts: { type: 'string' },
            unfurl_links: { type: 'boolean' },
            unfurl_media: { type: 'boolean' },
            username: { type: 'string' },
          },
          additionalProperties: false,
        },
      },
    },
  ],
};
