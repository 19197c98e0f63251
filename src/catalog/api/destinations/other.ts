/** Webhook and Slack: one request per row (or per batch for a batching webhook). */
import type { DestinationApi } from '../types.js';
import { concat, each, jsonRequest, jsonHeaders, bearer, message, perBatch, perRow, rateLimitOf, record, ref, required, row, standardRetry } from '../http.js';
import type { ApiContext } from '../types.js';
import type { Template } from '../../../plan/api-steps.js';

function webhookBody(ctx: ApiContext, withMessage: boolean): Template {
  const body: Record<string, Template> = { sync: ctx.sync, key: row.key, record: record(ctx) };
  return withMessage ? { ...body, message } : body;
}

/** Whether the webhook sends a JSON array per batch (`batch true`) rather than one request per row. */
const batching = (ctx: ApiContext): boolean => ctx.setting('batch') === true;

export const webhookApi: DestinationApi = {
  setup: () => [],
  modes: {
    'record:insert': (ctx) => {
      const url = ctx.target ? concat(required(ctx, 'url'), ctx.target) : required(ctx, 'url');
      const method = ctx.setting('method') === 'PUT' ? 'PUT' : 'POST';
      const secret = ctx.setting('secret');
      const signature = secret === undefined ? {} : { signature: { header: 'X-Syncwright-Signature', prefix: 'sha256=', key: secret } };
      const body = webhookBody(ctx, ctx.hasMessage);
      const perBatchCall = batching(ctx);
      // Receivers deduplicate on Idempotency-Key: per row its own key, per batch a key of the batch's rows.
      const request = {
        ...jsonRequest(method, url, jsonHeaders({ 'Idempotency-Key': perBatchCall ? ref('batch.idempotency_key') : row.idempotencyKey }), perBatchCall ? each(body) : body),
        ...signature,
      };
      return {
        reads: ['added'],
        steps: [
          {
            kind: 'send',
            operation: 'post',
            description: perBatchCall ? `${method} each batch of new rows as a JSON array` : `${method} each new row`,
            changes: ['added'],
            batch: { size: perBatchCall ? ctx.batch : 1 },
            requests: [perBatchCall ? perBatch(request) : perRow(request)],
            retry: standardRetry,
          },
        ],
      };
    },
  },
};

export const slackApi: DestinationApi = {
  setup: () => [],
  modes: {
    'record:insert': (ctx) => ({
      reads: ['added'],
      steps: [
        {
          kind: 'send',
          operation: 'post_message',
          description: 'chat.postMessage: one message per new row, rendered from the message template',
          changes: ['added'],
          batch: { size: 1 },
          requests: [
            perRow(
              jsonRequest(
                'POST',
                'https://slack.com/api/chat.postMessage',
                jsonHeaders(bearer(required(ctx, 'token'))),
                { channel: ctx.target ?? required(ctx, 'default_channel'), text: message },
              ),
              // Slack answers 200 with {"ok": false, "error": ...} when it refuses a message.
              { by: 'status', success: { pointer: '/ok', equals: true } },
            ),
          ],
          retry: standardRetry,
          // About one message per second per channel.
          ...(rateLimitOf(ctx, 'target') ? { rateLimit: rateLimitOf(ctx, 'target')! } : {}),
        },
      ],
    }),
  },
};
