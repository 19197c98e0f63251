/** Webhook and Slack: one request per row (or per batch for a batching webhook). */
import type { ApiContext, DestinationApi } from '../types.js';
import type { Acceptance, Template } from '../../../contract/api-steps.js';
import { headerSettingPrefix } from '../../destinations/webhook.js';
import {
  bearer,
  each,
  jsonHeaders,
  jsonMessage,
  jsonRequest,
  message,
  perBatch,
  perRow,
  rateLimitOf,
  record,
  ref,
  required,
  row,
  send,
  withPath,
} from '../http.js';

/** `header_x_api_key` settings as headers (`x-api-key`), their values literal or `$env`, in name order. */
function customHeaders(ctx: ApiContext): Record<string, Template> {
  const names = ctx.settingNames.filter((n) => n.startsWith(headerSettingPrefix)).sort();
  return Object.fromEntries(names.map((n) => [n.slice(headerSettingPrefix.length).replaceAll('_', '-'), ctx.setting(n) ?? '']));
}

export const webhookApi: DestinationApi = {
  setup: () => [],
  modes: {
    'record:insert': (ctx) => {
      const url = ctx.target ? withPath(required(ctx, 'url'), ctx.target) : required(ctx, 'url');
      const method = ctx.setting('method') === 'PUT' ? 'PUT' : 'POST';
      const secret = ctx.setting('secret');
      const timeout = ctx.setting('timeout_seconds');
      // A row's body: the JSON value its message renders to (values inserted with {{json column}}),
      // or without a message the envelope {sync, key, record}. Either is JSON by construction.
      const body: Template = ctx.message === undefined ? { sync: ctx.sync, key: row.key, record: record(ctx) } : jsonMessage;
      // `batch true`: one JSON array per batch; otherwise one request per row.
      const batching = ctx.setting('batch') === true;
      // Receivers deduplicate on Idempotency-Key: per row its own key, per batch a key of the batch's rows.
      const headers = jsonHeaders({ ...customHeaders(ctx), 'Idempotency-Key': batching ? ref('batch.idempotency_key') : row.idempotencyKey });
      const request = {
        ...jsonRequest(method, url, headers, batching ? each(body) : body),
        ...(secret === undefined ? {} : { signature: { header: 'X-Syncwright-Signature', key: secret } }),
      };
      return {
        reads: ['added'],
        steps: [
          send({
            operation: 'post',
            description: batching ? `${method} each batch of new rows as a JSON array` : `${method} each new row`,
            changes: ['added'],
            batch: { size: batching ? ctx.batch : 1 },
            requests: [batching ? perBatch(request) : perRow(request)],
            ...(timeout === undefined ? {} : { timeoutSeconds: timeout }),
            ...(ctx.message === undefined ? {} : { message: ctx.message }),
          }),
        ],
      };
    },
  },
};

/**
 * Slack answers 200 with {"ok": false, "error": ...} when it refuses a message; but after
 * `internal_error` or `fatal_error`, its docs say, some of the operation may have succeeded
 * before the error: the message perhaps posted.
 */
export const slackPosted: Acceptance = {
  by: 'status',
  success: { pointer: '/ok', equals: true },
  unsure: { code: '/error', codes: ['internal_error', 'fatal_error'] },
};

export const slackApi: DestinationApi = {
  setup: () => [],
  modes: {
    'record:insert': (ctx) => ({
      reads: ['added'],
      steps: [
        send({
          operation: 'post_message',
          description: 'chat.postMessage: one message per new row, rendered from the message template',
          changes: ['added'],
          batch: { size: 1 },
          requests: [
            perRow(
              jsonRequest('POST', 'https://slack.com/api/chat.postMessage', jsonHeaders(bearer(required(ctx, 'token'))), {
                channel: ctx.target ?? required(ctx, 'default_channel'),
                text: message,
              }),
              slackPosted,
            ),
          ],
          message: ctx.message ?? '',
          escapeMessageValues: 'slack',
          // About one message per second per channel.
          rateLimit: rateLimitOf(ctx, 'target'),
        }),
      ],
    }),
  },
};
