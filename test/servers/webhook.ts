/**
 * A generic webhook receiver: POST or PUT on any path, a JSON object (one row) or array (a
 * batch). An Idempotency-Key of a request carried out before gets the same answer again and
 * changes nothing, as payment APIs document. With a secret, the signature header must be
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` with t within the tolerance of
 * the receiver's clock, verified as docs/run.md tells receivers to (Stripe's scheme): a request
 * replayed later is refused. Refused rows get a 422; rows it cannot take one by one
 * (`refuseRow`) a 207 Multi-Status, the others carried out.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { FakeService, type Recorded, type Reply } from './fake-api.js';

export interface WebhookOptions {
  secret?: string;
  signatureHeader?: string;
  /** Seconds a signature's timestamp may differ from the receiver's clock (default 300). */
  tolerance?: number;
  /** The receiver's clock, in unix seconds. */
  now?: () => number;
  reject?: (body: unknown) => string | undefined;
  /**
   * Why it cannot take a row: the request's other rows are carried out, and the answer is 207
   * Multi-Status with each row's own status in the body (RFC 4918 §13), in request order.
   */
  refuseRow?: (row: unknown) => string | undefined;
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
      const why = this.signatureProblem(req, this.options.secret);
      if (why) return { status: 401, body: { error: why } };
    }
    const key = req.headers['idempotency-key'] as string | undefined;
    const earlier = key === undefined ? undefined : this.answered.get(key);
    if (earlier) {
      this.replays++;
      return earlier;
    }
    const rows = Array.isArray(req.body) ? (req.body as unknown[]) : [req.body];
    const refused = rows.map((r) => this.options.refuseRow?.(r));
    if (refused.some((r) => r !== undefined)) {
      const taken = rows.filter((_, i) => refused[i] === undefined);
      if (taken.length) this.deliveries.push({ path: req.path, body: Array.isArray(req.body) ? taken : taken[0], ...(key === undefined ? {} : { key }) });
      // Not remembered under its key: carried out only in part, it is sent again.
      return { status: 207, body: refused.map((error) => (error === undefined ? { status: 200 } : { status: 422, error })) };
    }
    const why = this.options.reject?.(req.body);
    const reply: Reply = why ? { status: 422, body: { error: why } } : { status: 200, body: { received: Array.isArray(req.body) ? req.body.length : 1 } };
    if (!why) this.deliveries.push({ path: req.path, body: req.body, ...(key === undefined ? {} : { key }) });
    // Like payment APIs, only a request that was carried out is remembered: a refused one may be fixed and sent again.
    if (key !== undefined && !why) this.answered.set(key, reply);
    return reply;
  }

  private signatureProblem(req: Recorded, secret: string): string | undefined {
    const header = req.headers[(this.options.signatureHeader ?? 'x-syncwright-signature').toLowerCase()];
    const m = typeof header === 'string' ? /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header) : null;
    if (!m) return 'no signature';
    const now = this.options.now?.() ?? Math.floor(Date.now() / 1000);
    if (Math.abs(now - Number(m[1])) > (this.options.tolerance ?? 300)) return 'signature timestamp outside the tolerance';
    const want = createHmac('sha256', secret).update(`${m[1]}.${req.raw}`).digest();
    return timingSafeEqual(want, Buffer.from(m[2] as string, 'hex')) ? undefined : 'bad signature';
  }
}

export async function startWebhook(options?: WebhookOptions): Promise<FakeWebhook> {
  return new FakeWebhook(options).start();
}
