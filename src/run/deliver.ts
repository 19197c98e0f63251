/**
 * The delivery engine: sends batches of rows to an HTTP API with bounded concurrency, a shared
 * rate limit, a deadline per request and retries (exponential backoff with full jitter,
 * honouring Retry-After), and reports every row's fate: accepted, rejected by the API (with
 * its reason) or failed (retries exhausted, or the step stopped). It knows nothing of any
 * particular API: an `Exchange` builds the request and reads the response.
 */
import type { Batch } from './batches.js';
import { parseRetryAfter, retryDelay, type RetryPolicy } from './backoff.js';
import { sendOnce, type HttpOutcome, type HttpRequest, type HttpResponse } from './http.js';
import { realClock, type Clock, type TokenBucket } from './token-bucket.js';

/** What one response says about each row of its request, by index into the request's rows. */
export interface Verdict {
  accepted: number[];
  rejected: { index: number; reason: string }[];
  /** Rows to send again. */
  retry: number[];
  /**
   * true: a transient failure, back off before the next try. false: the API asks for the
   * rest to be sent again at once (Amplitude after dropping invalid events).
   */
  transient: boolean;
  /** The request was too large: send `retry` again in two halves. */
  split?: boolean;
  /** Why rows were retried or failed, for the report. */
  reason?: string;
  /** No later request can succeed either (bad credentials, unknown object): stop the step. */
  fatal?: string;
}

export interface RequestContext {
  seq: number;
  last: boolean;
  /** 1 for the first try. */
  attempt: number;
}

export interface Exchange<R> {
  request(rows: readonly R[], context: RequestContext): HttpRequest;
  /** Reads a response whose status is not one of the policy's retry statuses. */
  read(response: HttpResponse, rows: readonly R[]): Verdict;
  /** The last batch closes a session (Meta usersreplace): send it only after every other batch settled. */
  lastAlone?: boolean;
}

export type RowFate = 'rejected' | 'failed';

export interface DeliveryEvents<R> {
  accepted(rows: R[]): Promise<void> | void;
  /** rejected: the API refused the row; failed: it could not be delivered (retries exhausted, step stopped). */
  refused(rows: { row: R; reason: string; fate: RowFate }[]): Promise<void> | void;
  retrying?(info: { rows: number; attempt: number; delayMs: number; reason: string }): void;
}

export interface DeliveryOptions {
  concurrency: number;
  timeoutMs: number;
  retry: RetryPolicy;
  bucket: TokenBucket;
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
  /** Set when the step stopped early; rows not yet read were not sent. */
  fatal?: string;
}

/** How the engine itself judges what an Exchange does not: transport failures and retry statuses. */
function transportVerdict(outcome: HttpOutcome, count: number, policy: RetryPolicy): Verdict | undefined {
  const all = Array.from({ length: count }, (_, i) => i);
  if (outcome.kind !== 'response') return { accepted: [], rejected: [], retry: all, transient: true, reason: outcome.reason };
  const { status, body } = outcome.response;
  if (policy.retryStatuses.includes(status)) {
    return { accepted: [], rejected: [], retry: all, transient: true, reason: `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}` };
  }
  return undefined;
}

function retryAfterOf(outcome: HttpOutcome): number | undefined {
  return outcome.kind === 'response' ? parseRetryAfter(outcome.response.headers.get('retry-after')) : undefined;
}

export async function deliver<R>(
  source: AsyncIterable<Batch<R>>,
  exchange: Exchange<R>,
  options: DeliveryOptions,
  events: DeliveryEvents<R>,
): Promise<DeliveryStats> {
  const clock = options.clock ?? realClock;
  const send = options.send ?? sendOnce;
  const policy = options.retry;
  const stats: DeliveryStats = { batches: 0, requests: 0, retries: 0, accepted: 0, rejected: 0, failed: 0 };

  const refuse = async (rows: readonly R[], reason: string, fate: RowFate): Promise<void> => {
    if (!rows.length) return;
    stats[fate] += rows.length;
    await events.refused(rows.map((row) => ({ row, reason, fate })));
  };

  // Settles one batch completely: every row ends accepted, rejected or failed.
  const settle = async (batch: Batch<R>): Promise<void> => {
    const queue: { rows: R[]; attempt: number }[] = [{ rows: batch.rows, attempt: 1 }];
    for (let item = queue.shift(); item; item = queue.shift()) {
      const { rows, attempt } = item;
      if (stats.fatal) {
        await refuse(rows, `not sent: ${stats.fatal}`, 'failed');
        continue;
      }
      await options.bucket.take();
      stats.requests++;
      const outcome = await send(exchange.request(rows, { seq: batch.seq, last: batch.last, attempt }), options.timeoutMs);
      const verdict =
        transportVerdict(outcome, rows.length, policy) ?? exchange.read((outcome as { response: HttpResponse }).response, rows);
      if (verdict.fatal) {
        stats.fatal ??= verdict.fatal;
        await refuse(rows, verdict.fatal, 'failed');
        continue;
      }
      const pick = (indices: number[]): R[] => indices.map((i) => rows[i] as R);
      if (verdict.accepted.length) {
        stats.accepted += verdict.accepted.length;
        await events.accepted(pick(verdict.accepted));
      }
      if (verdict.rejected.length) {
        stats.rejected += verdict.rejected.length;
        await events.refused(verdict.rejected.map((r) => ({ row: rows[r.index] as R, reason: r.reason, fate: 'rejected' as const })));
      }
      const again = pick(verdict.retry);
      if (!again.length) continue;
      const reason = verdict.reason ?? 'the API asked for the rows again';
      if (verdict.split) {
        if (again.length === 1) await refuse(again, `too large to send: ${reason}`, 'rejected');
        else {
          const half = Math.ceil(again.length / 2);
          queue.unshift({ rows: again.slice(0, half), attempt }, { rows: again.slice(half), attempt });
        }
        continue;
      }
      // Resends count as attempts too, so that a reader that never settles a row still ends.
      if (attempt >= policy.maxAttempts) {
        await refuse(again, `gave up after ${attempt} tries: ${reason}`, 'failed');
        continue;
      }
      let delayMs = 0;
      if (verdict.transient) {
        const retryAfterMs = retryAfterOf(outcome);
        if (retryAfterMs !== undefined && retryAfterMs > policy.maxRetryAfterMs) {
          await refuse(again, `the server asked to wait ${Math.round(retryAfterMs / 1000)} s: ${reason}`, 'failed');
          continue;
        }
        if (retryAfterMs !== undefined) options.bucket.pause(retryAfterMs);
        delayMs = retryDelay(policy, attempt, retryAfterMs, options.random);
        stats.retries++;
        events.retrying?.({ rows: again.length, attempt, delayMs, reason });
        await clock.sleep(delayMs);
      }
      queue.push({ rows: again, attempt: attempt + 1 });
    }
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
      if (exchange.lastAlone && batch.last) await Promise.all(inflight);
      while (inflight.size >= Math.max(1, options.concurrency)) await Promise.race(inflight);
      if (failure) break;
      if (stats.fatal) {
        await refuse(batch.rows, `not sent: ${stats.fatal}`, 'failed');
        break;
      }
      start(batch);
    }
  } finally {
    // Let sent requests settle so that their accepted rows are recorded, even on an error.
    await Promise.all(inflight);
  }
  if (failure) throw failure.error;
  return stats;
}
