/** When to try a request again: exponential backoff with full jitter, floored by Retry-After. */
import type { RetryPolicy } from '../../contract/api-steps.js';

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

/**
 * Retry-After in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or anything else, so that the policy's own backoff applies. `Date.parse` is no judge of
 * a date: V8 reads "-1", "1, 2" or "Dec 1" as dates long past, which would mean no wait at all.
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = httpDate(text, nowMs);
  return date === undefined ? undefined : Math.max(0, date - nowMs);
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const month = `(?<month>${months.join('|')})`;
const weekday = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const time = '(?<hour>\\d\\d):(?<minute>\\d\\d):(?<second>\\d\\d)';
/**
 * The three forms of an HTTP-date (RFC 9110 §5.6.7), case and spaces as written: IMF-fixdate,
 * `Sun, 06 Nov 1994 08:49:37 GMT`, and the obsolete ones a recipient must read too, rfc850-date,
 * `Sunday, 06-Nov-94 08:49:37 GMT`, and asctime-date, `Sun Nov  6 08:49:37 1994`.
 */
const httpDates = [
  new RegExp(`^(?:${weekday}), (?<day>\\d\\d) ${month} (?<year>\\d{4}) ${time} GMT$`),
  new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (?<day>\\d\\d)-${month}-(?<yy>\\d\\d) ${time} GMT$`),
  new RegExp(`^(?:${weekday}) ${month} (?<day>\\d\\d| \\d) ${time} (?<year>\\d{4})$`),
];

/** An HTTP-date in milliseconds since the epoch; undefined when the text is none or names no such time. */
function httpDate(text: string, nowMs: number): number | undefined {
  const g = httpDates.map((form) => form.exec(text)?.groups).find((groups) => groups !== undefined);
  if (!g) return undefined;
  let year = Number(g.year);
  if (g.yy !== undefined) {
    // A two-digit year: the one in this century, or the latest past year with those digits if that is more than 50 years ahead.
    const now = new Date(nowMs).getUTCFullYear();
    year = now - (now % 100) + Number(g.yy);
    if (year > now + 50) year -= 100;
  }
  const [mon, day, hour, minute, second] = [months.indexOf(g.month ?? ''), Number(g.day), Number(g.hour), Number(g.minute), Number(g.second)];
  // No 31 Nov, no 24:00; a second of 60 is a leap second.
  if (day < 1 || new Date(Date.UTC(year, mon, day)).getUTCDate() !== day || hour > 23 || minute > 59 || second > 60) return undefined;
  return Date.UTC(year, mon, day, hour, minute, second);
}

/** The wait before the next try: what the server's Retry-After says when the policy honours it, else the jittered backoff. */
export function retryDelay(policy: RetryPolicy, retry: number, retryAfterMs: number | undefined, random?: () => number): number {
  return retryAfterMs !== undefined && policy.retryAfter ? retryAfterMs : backoffDelay(policy, retry, random);
}
