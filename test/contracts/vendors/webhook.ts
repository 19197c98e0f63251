/**
 * Webhooks have no vendor: the contract is syncwright's own payload model (docs/run.md) over
 * RFC 9110 POST and PUT. A JSON body, always valid JSON whatever the data holds; per row, or
 * per batch as a JSON array. Without a `message` each row is the envelope {sync, key, record};
 * with one, each row is exactly the JSON value the message renders to.
 */
import { compileSchema } from '../../../src/schema/compile.js';
import type { JsonSchema, ParsedRequest, VendorContract } from '../types.js';

const docs = { source: 'webhook/syncwright-docs' } as const;

const envelope: JsonSchema = {
  type: 'object',
  required: ['sync', 'key', 'record'],
  properties: { sync: { type: 'string', minLength: 1 }, key: { type: ['string', 'null'] }, record: { type: 'object' } },
  additionalProperties: false,
};

/** What the contract test knows of the step: whether it batches, and the bodies its rows' messages render to. */
export interface WebhookContext {
  batch: boolean;
  /** Per row of the request, the message's JSON value; absent without a message. */
  messages?: unknown[];
}

const envelopeValid = (row: unknown): boolean => compileSchema(envelope)(row);

function payloadModel(req: ParsedRequest): string[] {
  const ctx = req.context as WebhookContext | undefined;
  if (!ctx) return [];
  const rows = ctx.batch ? req.body : [req.body];
  if (!Array.isArray(rows)) return ['a batching webhook sends a JSON array'];
  if (ctx.messages) {
    const same = JSON.stringify(rows) === JSON.stringify(ctx.messages);
    return same ? [] : ['with a message, each row is the JSON value the message renders to'];
  }
  return rows.flatMap((row, i) => (envelopeValid(row) ? [] : [`row ${i} is not the envelope {sync, key, record}`]));
}

export const webhook: VendorContract = {
  vendor: 'webhook',
  operations: (['POST', 'PUT'] as const).map((method) => ({
    id: `webhook.${method.toLowerCase()}`,
    cite: { ...docs, at: `webhook ${method}: JSON body, Idempotency-Key, X-Syncwright-Signature` },
    method,
    url: ['{scheme}://{host}/{path**}', '{scheme}://{host}/'],
    // The url is the user's receiver: any query it holds (a token, a version) is the user's to give.
    query: { type: 'object', additionalProperties: { type: 'string' } },
    headers: {
      type: 'object',
      properties: {
        'content-type': { const: 'application/json' },
        'idempotency-key': { type: 'string', pattern: '^[0-9a-f]{64}$' },
        // With a secret: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>"> (docs/run.md, "Webhook signatures").
        'x-syncwright-signature': { type: 'string', pattern: '^t=[0-9]+,v1=[0-9a-f]{64}$' },
      },
      required: ['content-type', 'idempotency-key'],
    },
    // Any JSON value parses; its shape is the payload model's (payloadModel).
    body: { encoding: 'json', schema: {} },
    rules: [payloadModel],
  })),
};
