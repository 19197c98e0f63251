/** When to try a request again: exponential backoff with full jitter, floored by Retry-After. */
import type { RetryPolicy } from '../../plan/api-steps.js';

export type { RetryPolicy };

/** Five tries, 1 s doubling up to 60 s: for requests whose plan names no policy (none do today). */
export const defaultRetryPolicy: RetryPolicy = {
  statuses: [408, 429, 500, 502, 503, 504],
  networkErrors: true,
  maxAttempts: 5,
  backoff: { initialSeconds: 1, multiplier: 2, maxSeconds: 60 },
  retryAfter: true,
};

/**
 * Full jitter (a uniform draw below the exponential ceiling) spreads the retries of
 * concurrent batches apart instead of sending them back in lockstep.
 * `retry` counts from 1: the delay before the second try.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const { initialSeconds, multiplier, maxSeconds } = policy.backoff;
  const ceiling = Math.min(maxSeconds, initialSeconds * multiplier ** (retry - 1)) * 1000;
  return Math.floor(random() * ceiling);
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** The wait before the next try: what the server's Retry-After says when the policy honours it, else the jittered backoff. */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined, random?: () => number): number {
  return retryAfterMs !== undefined && policy.retryAfter ? retryAfterMs : backoffDelay(policy, retry, random);
}
