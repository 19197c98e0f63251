/** Building blocks of API descriptions: template directives, retry policies, request shapes. */
import type { Acceptance, HttpRequest, RateLimit, RetryPolicy, SendRequest, Template } from '../../plan/api-steps.js';
import type { ApiContext } from './types.js';

export const ref = (path: string): Template => ({ $ref: path });
export const concat = (...parts: Template[]): Template => ({ $concat: parts });
export const merge = (...parts: Template[]): Template => ({ $merge: parts });
export const each = (template: Template): Template => ({ $each: template });
export const asJson = (template: Template): Template => ({ $json: template });
export const base64 = (template: Template): Template => ({ $base64: template });
export const message: Template = { $message: null };

export const row = {
  key: ref('row.key'),
  payload: ref('row.payload'),
  idempotencyKey: ref('row.idempotency_key'),
  destinationId: ref('row.destination_id'),
};

/** The payload with the identifier under its destination field, for destinations that take whole records. */
export function record(ctx: ApiContext): Template {
  return ctx.identifierField ? merge({ [ctx.identifierField]: row.key }, row.payload) : row.payload;
}

/** A setting the description cannot do without; the checker's schema guarantees required ones. */
export function required(ctx: ApiContext, name: string): Template {
  const v = ctx.setting(name);
  if (v === undefined) throw new Error(`setting ${name} is required by the API description`);
  return v;
}

// Statuses every HTTP API here documents as transient: throttling and server-side failures.
const transient = [408, 429, 500, 502, 503, 504];

/** Five attempts, 1 s doubling to 60 s, honouring Retry-After: what the vendors here recommend for 429/5xx. */
export const standardRetry: RetryPolicy = {
  statuses: transient,
  networkErrors: true,
  maxAttempts: 5,
  backoff: { initialSeconds: 1, multiplier: 2, maxSeconds: 60 },
  retryAfter: true,
};

export function retryWith(overrides: Partial<RetryPolicy>): RetryPolicy {
  return { ...standardRetry, ...overrides };
}

export function rateLimitOf(ctx: ApiContext, scope: RateLimit['scope'] = 'destination'): RateLimit | undefined {
  return ctx.rateLimit ? { ...ctx.rateLimit, scope } : undefined;
}

export const jsonHeaders = (auth: Record<string, Template>): Record<string, Template> => ({
  'Content-Type': 'application/json',
  Accept: 'application/json',
  ...auth,
});

export const bearer = (token: Template): Record<string, Template> => ({ Authorization: concat('Bearer ', token) });

export function jsonRequest(method: HttpRequest['method'], url: Template, headers: Record<string, Template>, body?: Template, query?: Record<string, Template>): HttpRequest {
  return { method, url, ...(query ? { query } : {}), headers, ...(body === undefined ? {} : { body: { encoding: 'json', template: body } }) };
}

export const byStatus: Acceptance = { by: 'status' };

export function perBatch(request: HttpRequest, accept: Acceptance = byStatus, captureRow?: SendRequest['captureRow']): SendRequest {
  return { for: 'batch', request, accept, ...(captureRow ? { captureRow } : {}) };
}

export function perRow(request: HttpRequest, accept: Acceptance = byStatus): SendRequest {
  return { for: 'row', request, accept };
}
