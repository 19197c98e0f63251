/**
 * The delivery engine: sends batches of rows to an HTTP API with bounded concurrency, a shared
 * rate limit, a deadline per request and retries (exponential backoff with full jitter,
 * honouring Retry-After), and reports every row's fate: accepted, rejected by the API (with
 * its reason) or failed (retries exhausted). It knows nothing of any particular API: a chain
 * of `Exchange`s builds each request and reads its response; a row is accepted when every
 * exchange of the chain accepted it (or, where one sends it to its `fallback`, that did).
 */
import type { Batch } from './batches.js';
import { parseRetryAfter, retryDelay, type RetryPolicy } from './backoff.js';
import { sendOnce, snippet, snippetLength, type HttpOutcome, type HttpRequest, type HttpResponse } from './http.js';
import { clip } from '../output/redact.js';
import { realClock, type Clock, type RateLimiter } from './rate-limit.js';

/** What one response says about each row of its request, by index into the request's rows. */
export interface Verdict {
  accepted: number[];
  rejected: { index: number; reason: string }[];
  /** Rows to send again after a backoff (a transient failure). */
  retry: number[];
  /**
   * The request was refused whole (too large, or one bad row spoils a batch the API takes
   * atomically): send `retry` again in two halves, at once, until the bad rows stand alone;
   * a row alone that is still refused is rejected with `reason`.
   */
  split?: boolean;
  /** Why rows were retried, split or failed, for the report. */
  reason?: string;
  /**
   * Rows not taken by this request that go through the exchange's `fallback` instead: accepted
   * if it accepts them, else refused with `reason` before its own.
   */
  fallback?: { index: number; reason: string }[];
}

export interface RequestContext {
  seq: number;
  last: boolean;
  /** 1 for the first try. */
  attempt: number;
}

export interface Exchange<R> {
  /** One request per batch, or one per row of it. */
  perRow: boolean;
  /**
   * Its request numbers the batch (a replace session's batch_seq and last_batch_flag): two
   * halves would carry the same number, and the first to say "last" would end the session
   * with the other half's rows left out. A request too large or refused whole is not split;
   * its rows are refused.
   */
  whole?: boolean;
  request(rows: readonly R[], context: RequestContext): HttpRequest;
  /** Reads a response whose status is not one of the policy's retry statuses. */
  read(response: HttpResponse, rows: readonly R[]): Verdict;
  /** Where the rows of a verdict's `fallback` go (a lookup of what the destination has already). */
  fallback?: Exchange<R>;
}

export type RowFate = 'rejected' | 'failed';

export interface Refusal<R> {
  row: R;
  reason: string;
  /** rejected: the API refused the row; failed: it could not be delivered (retries exhausted). */
  fate: RowFate;
}

export interface DeliveryEvents<R> {
  accepted(rows: R[]): Promise<void> | void;
  refused(rows: Refusal<R>[]): Promise<void> | void;
  retrying?(info: { rows: number; attempt: number; delayMs: number; reason: string }): void;
  /** Every request as it leaves (counted by the report, shown by the progress line). */
  sent?(request: HttpRequest): void;
}

export interface DeliveryOptions {
  concurrency: number;
  timeoutMs: number;
  retry: RetryPolicy;
  /** A Retry-After longer than this fails the rows instead of stalling the run for hours. */
  maxRetryAfterMs: number;
  /** Every request takes its turn here, retries and split halves too, and says when its answer is in. */
  limiter: RateLimiter;
  /** A request body larger than this is not sent: its rows are split in halves first. */
  maxBodyBytes?: number;
  clock?: Clock;
  random?: () => number;
  send?: (request: HttpRequest, timeoutMs: number) => Promise<HttpOutcome>;
}

export interface DeliveryStats {
  batches: number;
  requests: number;
  retries: number;
  accepted: number;
  rejected: number;
  failed: number;
}

/** How the engine itself judges what an Exchange does not: transport failures, redirects and retry statuses. */
function transportVerdict(outcome: HttpOutcome, count: number, policy: RetryPolicy): Verdict | undefined {
  const all = Array.from({ length: count }, (_, i) => i);
  if (outcome.kind !== 'response') {
    return policy.networkErrors
      ? { accepted: [], rejected: [], retry: all, reason: outcome.reason }
      : { accepted: [], rejected: all.map((index) => ({ index, reason: outcome.reason })), retry: [] };
  }
  const { status, headers } = outcome.response;
  if (status >= 300 && status < 400) {
    const location = headers.get('location');
    const reason = `HTTP ${status}: the server redirects ${location ? `to ${clip(location, snippetLength)}` : 'elsewhere (no Location)'}; deliveries never follow a redirect (a POST would arrive as a GET without its rows): point the destination's URL, or --endpoint, at the address itself`;
    return { accepted: [], rejected: all.map((index) => ({ index, reason })), retry: [] };
  }
  if (policy.statuses.includes(status)) return { accepted: [], rejected: [], retry: all, reason: snippet(outcome.response) };
  return undefined;
}

export async function deliver<R>(
  source: AsyncIterable<Batch<R>>,
  chain: readonly Exchange<R>[],
  options: DeliveryOptions,
  events: DeliveryEvents<R>,
): Promise<DeliveryStats> {
  const clock = options.clock ?? realClock;
  const send = options.send ?? sendOnce;
  const policy = options.retry;
  const stats: DeliveryStats = { batches: 0, requests: 0, retries: 0, accepted: 0, rejected: 0, failed: 0 };

  const refuseRows = async (refusals: Refusal<R>[]): Promise<void> => {
    if (!refusals.length) return;
    for (const r of refusals) stats[r.fate]++;
    await events.refused(refusals);
  };

  // One exchange for a group of rows, until each is accepted, rejected or failed; returns the accepted. A refused row's reason follows what `before` says of it.
  const settleRequest = async (exchange: Exchange<R>, group: R[], batch: Batch<R>, before?: Map<R, string>): Promise<R[]> => {
    const refuse = (refusals: Refusal<R>[]): Promise<void> =>
      refuseRows(before ? refusals.map((r) => (before.has(r.row) ? { ...r, reason: `${before.get(r.row)}: ${r.reason}` } : r)) : refusals);
    const accepted: R[] = [];
    const queue: { rows: R[]; attempt: number }[] = [{ rows: group, attempt: 1 }];
    // Rows sent in halves, next, until a bad one stands alone; a lone row, or those of a numbered batch (`whole`), refused.
    const split = async (rows: R[], attempt: number, reason: string): Promise<void> => {
      if (rows.length > 1 && !exchange.whole) {
        const half = Math.ceil(rows.length / 2);
        queue.unshift({ rows: rows.slice(0, half), attempt }, { rows: rows.slice(half), attempt });
        return;
      }
      const why =
        rows.length > 1
          ? `${reason} (the request numbers its batch, so its rows are not sent in parts: a smaller batch setting makes smaller requests)`
          : reason;
      await refuse(rows.map((row) => ({ row, reason: why, fate: 'rejected' })));
    };
    for (let item = queue.shift(); item; item = queue.shift()) {
      const { rows, attempt } = item;
      const request = exchange.request(rows, { seq: batch.seq, last: batch.last, attempt });
      if (options.maxBodyBytes !== undefined && request.body !== undefined && Buffer.byteLength(request.body) > options.maxBodyBytes) {
        await split(rows, attempt, `the request body exceeds ${options.maxBodyBytes} bytes`);
        continue;
      }
      const answered = await options.limiter.take();
      let outcome: HttpOutcome;
      try {
        stats.requests++;
        events.sent?.(request);
        outcome = await send(request, options.timeoutMs);
      } finally {
        answered();
      }
      const verdict = transportVerdict(outcome, rows.length, policy) ?? exchange.read((outcome as { response: HttpResponse }).response, rows);
      const pick = (indices: number[]): R[] => indices.map((i) => rows[i] as R);
      accepted.push(...pick(verdict.accepted));
      await refuse(verdict.rejected.map((r) => ({ row: rows[r.index] as R, reason: r.reason, fate: 'rejected' })));
      const fallback = verdict.fallback ?? [];
      if (fallback.length && exchange.fallback) {
        const reasons = new Map(fallback.map((f) => [rows[f.index] as R, f.reason]));
        accepted.push(...(await settleRows(exchange.fallback, [...reasons.keys()], batch, reasons)));
      } else await refuse(fallback.map((f) => ({ row: rows[f.index] as R, reason: f.reason, fate: 'rejected' })));
      const again = pick(verdict.retry);
      if (!again.length) continue;
      const reason = verdict.reason ?? 'the API asked for the rows again';
      if (verdict.split) {
        await split(again, attempt, reason);
        continue;
      }
      if (attempt >= policy.maxAttempts) {
        await refuse(again.map((row) => ({ row, reason: `gave up after ${attempt} ${attempt === 1 ? 'try' : 'tries'}: ${reason}`, fate: 'failed' })));
        continue;
      }
      const retryAfterMs = outcome.kind === 'response' && policy.retryAfter ? parseRetryAfter(outcome.response.headers.get('retry-after')) : undefined;
      if (retryAfterMs !== undefined && retryAfterMs > options.maxRetryAfterMs) {
        await refuse(again.map((row) => ({ row, reason: `the server asked to wait ${Math.round(retryAfterMs / 1000)} s: ${reason}`, fate: 'failed' })));
        continue;
      }
      // The server's limit is per client: hold every request, not only this one.
      if (retryAfterMs !== undefined) options.limiter.pause(retryAfterMs);
      const delayMs = retryDelay(policy, attempt, retryAfterMs, options.random);
      stats.retries++;
      events.retrying?.({ rows: again.length, attempt, delayMs, reason });
      await clock.sleep(delayMs);
      queue.push({ rows: again, attempt: attempt + 1 });
    }
    return accepted;
  };

  // Rows through one exchange: in one request, or one each.
  const settleRows = async (exchange: Exchange<R>, rows: R[], batch: Batch<R>, before?: Map<R, string>): Promise<R[]> => {
    const accepted: R[] = [];
    for (const group of exchange.perRow ? rows.map((r) => [r]) : [rows]) accepted.push(...(await settleRequest(exchange, group, batch, before)));
    return accepted;
  };

  // A batch through the whole chain: what one exchange accepted goes on to the next.
  const settle = async (batch: Batch<R>): Promise<void> => {
    let alive = batch.rows;
    for (const exchange of chain) {
      alive = await settleRows(exchange, alive, batch);
      if (!alive.length) return;
    }
    stats.accepted += alive.length;
    await events.accepted(alive);
  };

  // A failure to record a fate (the database went away) stops the run: nothing may be lost.
  let failure: { error: unknown } | undefined;
  const inflight = new Set<Promise<void>>();
  const start = (batch: Batch<R>): void => {
    const p: Promise<void> = settle(batch)
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
  };
  try {
    for await (const batch of source) {
      stats.batches++;
      while (inflight.size >= Math.max(1, options.concurrency)) await Promise.race(inflight);
      if (failure) break;
      start(batch);
    }
  } finally {
    // Let sent requests settle so that their accepted rows are recorded, even on an error.
    await Promise.all(inflight);
  }
  if (failure) throw failure.error;
  return stats;
}
