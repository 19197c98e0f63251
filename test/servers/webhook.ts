/**
 * A generic webhook receiver: POST or PUT on any path, a JSON object (one row) or array (a
 * batch). An Idempotency-Key of a request carried out before gets the same answer again and
 * changes nothing, as payment APIs document. With a secret, X-Signature must be the hex HMAC-SHA256 of the body.
 * Refused rows get a 422.
 */
import { createHmac } from 'node:crypto';
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export interface WebhookOptions {
  secret?: string;
  signatureHeader?: string;
  /** What precedes the hex digest in the header, e.g. "sha256=". */
  signaturePrefix?: string;
  reject?: (body: unknown) => string | undefined;
}

export interface Delivery {
  path: string;
  body: unknown;
  key?: string;
}

export class FakeWebhook extends FakeService {
  protected override readonly contract = 'webhook';
  readonly deliveries: Delivery[] = [];
  private readonly answered = new Map<string, Reply>();
  replays = 0;

  constructor(readonly options: WebhookOptions = {}) {
    super();
  }

  protected handle(req: Recorded): Reply {
    if (req.method !== 'POST' && req.method !== 'PUT') return { status: 405, body: { error: 'method not allowed' } };
    if (this.options.secret) {
      const header = this.options.signatureHeader ?? 'x-signature';
      const want = (this.options.signaturePrefix ?? '') + createHmac('sha256', this.options.secret).update(req.raw).digest('hex');
      if (req.headers[header.toLowerCase()] !== want) return { status: 401, body: { error: 'bad signature' } };
    }
    const key = req.headers['idempotency-key'] as string | undefined;
    const earlier = key === undefined ? undefined : this.answered.get(key);
    if (earlier) {
      this.replays++;
      return earlier;
    }
    const why = this.options.reject?.(req.body);
    const reply: Reply = why ? { status: 422, body: { error: why } } : { status: 200, body: { received: Array.isArray(req.body) ? req.body.length : 1 } };
    if (!why) this.deliveries.push({ path: req.path, body: req.body, ...(key === undefined ? {} : { key }) });
    // Like payment APIs, only a request that was carried out is remembered: a refused one may be fixed and sent again.
    if (key !== undefined && !why) this.answered.set(key, reply);
    return reply;
  }
}

export async function startWebhook(options?: WebhookOptions): Promise<FakeWebhook> {
  return new FakeWebhook(options).start();
}
