/** When to try a request again: exponential backoff with full jitter, floored by Retry-After. */

export interface RetryPolicy {
  /** Tries in all, the first included. */
  maxAttempts: number;
  /** Backoff before the second try; doubles each time up to `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Statuses worth another try (429, 5xx); network errors and timeouts always are. */
  retryStatuses: readonly number[];
  /** A Retry-After longer than this fails the batch instead of stalling the run for hours. */
  maxRetryAfterMs: number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  retryStatuses: [408, 429, 500, 502, 503, 504],
  maxRetryAfterMs: 300_000,
};

/**
 * Full jitter (a uniform draw below the exponential ceiling) spreads the retries of
 * concurrent batches apart instead of sending them back in lockstep.
 * `retry` counts from 1: the delay before the second try.
 */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
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

/** The wait before the next try: the server's Retry-After when it gave one, else the jittered backoff. */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined, random?: () => number): number {
  const jittered = backoffDelay(policy, retry, random);
  return retryAfterMs === undefined ? jittered : Math.max(retryAfterMs, jittered);
}
