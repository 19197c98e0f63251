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
  /** `unsure`: the answer does not say whether the destination applied the row (a network error, a 5xx, results that name no row). */
  rejected: { index: number; reason: string; unsure?: true }[];
  /** Rows to send again after a backoff (a transient failure). */
  retry: number[];
  /**
   * The request was refused whole (too large, or one bad row spoils a batch the API takes
   * atomically): send `retry` again in two halves, at once, until the bad rows stand alone;
   * a row alone that is still refused is rejected with `reason`.
   */
  split?: boolean;
  /**
   * With `split`: the answer does not say the rows were not applied (a 207 Multi-Status, some
   * parts taken perhaps): the halves go as perhaps applied, and a row alone is refused so.
   */
  unsure?: true;
  /** Why rows were retried, split or failed, for the report. */
  reason?: string;
  /**
   * Rows not taken by this request that go through the exchange's `fallback` instead: accepted
   * if it accepts them, else refused with `reason` before its own.
   */
  fallback?: { index: number; reason: string }[];
  /** Rows the answer shows are done already (a lookup that finds no record to remove): accepted by the whole chain, sent to no later exchange. */
  done?: number[];
  /** Values of the batch the answer gave (a job's id), which later requests of the batch are built with (`RequestContext.captured`). */
  captured?: Record<string, string>;
  /**
   * The job the request asks about has not ended (`JobPoll`): the same request again, later and
   * later, until the exchange's `pollMs` have passed since the first answer; then the rows fail.
   */
  pending?: string;
  /**
   * The answer goes on at this URL (a next page of a job's errors): asked for with the same
   * request, and read as the rest of this one. The rows it refuses stay refused; only those no
   * page refuses are taken.
   */
  next?: string;
}

export interface RequestContext {
  seq: number;
  last: boolean;
  /** 1 for the first try. */
  attempt: number;
  /** What earlier requests of the batch captured (`Verdict.captured`). */
  captured: Readonly<Record<string, string>>;
  /** The URL of the next page of an answer (`Verdict.next`), in place of the request's own. */
  page?: string;
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
  /** Rows this exchange is not made for: they go on to the next as if it accepted them (a lookup of an id the row has already). */
  skips?(row: R): boolean;
  /** Why this exchange may not send a row (an id of a kind it may not name), or undefined: such a row is refused, sent by no exchange of the chain. */
  refuses?(row: R): string | undefined;
  /** How long it asks again about a job that has not ended (`Verdict.pending`). */
  pollMs?: number;
}

/** The first wait before asking again about a job, and the longest (it doubles in between). */
const pollFirstMs = 1000;
const pollLongestMs = 30_000;

export type RowFate = 'rejected' | 'failed';

export interface Refusal<R> {
  row: R;
  reason: string;
  /** rejected: the API refused the row; failed: it could not be delivered (retries exhausted). */
  fate: RowFate;
  /**
   * The destination surely applied nothing of the row: a definite answer refused it before any
   * other exchange of its batch took it (or it was never sent). Else it may have been applied.
   */
  unapplied: boolean;
}

export interface DeliveryEvents<R> {
  /** A batch's rows before its first request leaves; the batch is not sent until this resolves (the write-ahead record of the rows sent). */
  sending?(rows: R[]): Promise<void> | void;
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

/** Where a batch is in its chain of exchanges. */
interface Settling<R> {
  batch: Batch<R>;
  /** No exchange of the chain took its rows yet. */
  first: boolean;
  /** Rows done for the whole chain (`Verdict.done`). */
  done: R[];
  /**
   * What the batch's requests captured (`Verdict.captured`), by row: the values of the request
   * that took the row (a batch sent in parts queues a job per part), which the later requests
   * for that row are built with.
   */
  captured: Map<R, Readonly<Record<string, string>>>;
}

export interface DeliveryStats {
  batches: number;
  requests: number;
  retries: number;
  accepted: number;
  rejected: number;
  failed: number;
}

/**
 * Redirects that say the request was carried out: a 303 See Other points at its result (RFC 9110
 * §15.4.4, the usual answer to a POST), so its rows may have been applied. Any other redirect
 * says the request was not handled at this address.
 */
const carriedOutRedirects = new Set([303]);

/** 0 to n - 1, by a loop: Array.from with a mapping function took a share of a large batch's time. */
export function range(n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(i);
  return out;
}

/** How the engine itself judges what an Exchange does not: transport failures, redirects and retry statuses. */
function transportVerdict(outcome: HttpOutcome, count: number, policy: RetryPolicy): Verdict | undefined {
  if (outcome.kind !== 'response') {
    return policy.networkErrors
      ? { accepted: [], rejected: [], retry: range(count), reason: outcome.reason }
      : { accepted: [], rejected: range(count).map((index) => ({ index, reason: outcome.reason, unsure: true as const })), retry: [] };
  }
  const { status, headers } = outcome.response;
  if (status >= 300 && status < 400) {
    const location = headers.get('location');
    const unsure = carriedOutRedirects.has(status);
    const carriedOut = unsure ? ' (See Other: the request was likely carried out, so whether the rows were applied is unknown, and they are sent again)' : '';
    const reason = `HTTP ${status}: the server redirects ${location ? `to ${clip(location, snippetLength)}` : 'elsewhere (no Location)'}${carriedOut}; deliveries never follow a redirect (a POST would arrive as a GET without its rows): point the destination's URL, or --endpoint, at the address itself`;
    return { accepted: [], rejected: range(count).map((index) => ({ index, reason, ...(unsure ? { unsure } : {}) })), retry: [] };
  }
  if (policy.statuses.includes(status)) return { accepted: [], rejected: [], retry: range(count), reason: snippet(outcome.response) };
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

  /**
   * One exchange for a group of rows, until each is accepted, rejected, failed or done (into
   * `at.done`); returns the accepted. A refused row's reason follows what `before` says of it.
   * `at.first`: no exchange before this one took the rows; a queued item's `unsure`: an earlier
   * attempt of this exchange sent its rows and had no definite answer (a network error, a 5xx:
   * it may have been applied). A definite refusal means nothing of the rows was applied only
   * when neither holds.
   */
  // A row's reason, after what the exchange before said of it (a fallback's refusal follows the first exchange's).
  const afterBefore = (before: Map<R, string> | undefined, row: R, reason: string): string => (before?.has(row) ? `${before.get(row)}: ${reason}` : reason);
  const settleRequest = async (exchange: Exchange<R>, group: R[], at: Settling<R>, before?: Map<R, string>): Promise<R[]> => {
    const { batch } = at;
    // `definite`: the answer refused the row outright; it was applied by none of the attempts only when none was `unsure`.
    const refuse = (refusals: (Omit<Refusal<R>, 'unapplied'> & { definite?: boolean })[], unsure = false): Promise<void> =>
      refuseRows(
        refusals.map(({ definite, ...r }) => ({
          ...r,
          reason: afterBefore(before, r.row, r.reason),
          unapplied: at.first && !unsure && definite === true,
        })),
      );
    const accepted: R[] = [];
    // `page`: the next page of an answer, and `refused`, the rows its pages before refused; `polls`, when the first answer about a job came and how many since.
    type Item = { rows: R[]; attempt: number; unsure: boolean; page?: string; refused?: ReadonlySet<R>; polls?: { since: number; count: number } };
    const queue: Item[] = [{ rows: group, attempt: 1, unsure: false }];
    // A 207 to one row alone before any answer took a row: the receiver may answer 207 to everything
    // (its per-part statuses are not read), and halving would send each row about log2(n) times a run.
    // So from then on, until an answer takes a row (`accepted`), a half answered 207 is refused as unsure, not split.
    let lone207 = false;
    // Rows sent in halves, next, until a bad one stands alone; a lone row, or those of a numbered batch (`whole`), refused. The halves keep what was unsure of the whole.
    const split = async (rows: R[], attempt: number, reason: string, unsure: boolean): Promise<void> => {
      if (rows.length > 1 && !exchange.whole) {
        const half = Math.ceil(rows.length / 2);
        queue.unshift({ rows: rows.slice(0, half), attempt, unsure }, { rows: rows.slice(half), attempt, unsure });
        return;
      }
      // A smaller batch helps a batch too large or refused whole, not one answered 207 (`unsure`).
      const why =
        rows.length > 1 && !unsure
          ? `${reason} (the request numbers its batch, so its rows are not sent in parts: a smaller batch setting makes smaller requests)`
          : reason;
      await refuse(
        rows.map((row) => ({ row, reason: why, fate: 'rejected', definite: true })),
        unsure,
      );
    };
    for (let item = queue.shift(); item; item = queue.shift()) {
      const { rows, attempt, unsure } = item;
      const captured = at.captured.get(rows[0] as R) ?? {};
      const request = exchange.request(rows, { seq: batch.seq, last: batch.last, attempt, captured, ...(item.page ? { page: item.page } : {}) });
      if (options.maxBodyBytes !== undefined && request.body !== undefined && Buffer.byteLength(request.body) > options.maxBodyBytes) {
        await split(rows, attempt, `the request body exceeds ${options.maxBodyBytes} bytes`, unsure);
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
      if (verdict.captured) {
        const values = { ...captured, ...verdict.captured };
        for (const row of pick(verdict.accepted)) at.captured.set(row, values);
      }
      if (verdict.pending !== undefined) {
        const polls = item.polls ?? { since: clock.now(), count: 0 };
        const waited = clock.now() - polls.since;
        const pollMs = exchange.pollMs ?? 0;
        if (waited >= pollMs) {
          await refuse(
            rows.map((row) => ({
              row,
              reason: `${verdict.pending} after ${Math.round(waited / 1000)} s of asking: it may still take the rows, which the next run sends again`,
              fate: 'failed',
            })),
            true,
          );
          continue;
        }
        await clock.sleep(Math.min(pollFirstMs * 2 ** polls.count, pollLongestMs, pollMs - waited));
        queue.unshift({ ...item, polls: { since: polls.since, count: polls.count + 1 } });
        continue;
      }
      // Each page of an answer (`Verdict.next`) is read against every row of the request: a row is refused by the first page that names it.
      const earlier = item.refused ?? new Set<R>();
      const rejected = verdict.rejected.filter((r) => !earlier.has(rows[r.index] as R));
      const refuseRejected = () =>
        refuse(
          rejected.map((r) => ({ row: rows[r.index] as R, reason: r.reason, fate: 'rejected', definite: r.unsure !== true })),
          unsure,
        );
      if (verdict.next !== undefined) {
        // A page naming none not named before would go on for ever: which rows the rest refuses is unknown.
        if (rejected.length === 0) {
          const reason = 'a page of refusals names no row not named before, yet another follows: which were refused is unknown';
          await refuse(
            rows.filter((row) => !earlier.has(row)).map((row) => ({ row, reason, fate: 'rejected' })),
            true,
          );
          continue;
        }
        await refuseRejected();
        queue.unshift({ ...item, page: verdict.next, refused: new Set([...earlier, ...rejected.map((r) => rows[r.index] as R)]) });
        continue;
      }
      accepted.push(...pick(verdict.accepted).filter((row) => !earlier.has(row)));
      at.done.push(...pick(verdict.done ?? []));
      await refuseRejected();
      const fallback = verdict.fallback ?? [];
      // A fallback's rows are there already: whatever it answers, they were not refused for certain.
      if (fallback.length && exchange.fallback) {
        const reasons = new Map(fallback.map((f) => [rows[f.index] as R, f.reason]));
        accepted.push(...(await settleRows(exchange.fallback, [...reasons.keys()], { ...at, first: false }, reasons)));
      } else await refuse(fallback.map((f) => ({ row: rows[f.index] as R, reason: f.reason, fate: 'rejected' })));
      const again = pick(verdict.retry);
      if (!again.length) continue;
      const reason = verdict.reason ?? 'the API asked for the rows again';
      if (verdict.split) {
        const multiStatus = verdict.unsure === true;
        if (multiStatus && lone207 && accepted.length === 0) {
          await refuse(
            again.map((row) => ({ row, reason, fate: 'rejected' })),
            true,
          );
          continue;
        }
        if (multiStatus && again.length === 1) lone207 = true;
        await split(again, attempt, reason, unsure || multiStatus);
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
      // Sent again: this attempt may have been applied, unless the server said it took nothing (429: too many requests).
      const refusedOutright = outcome.kind === 'response' && outcome.response.status === 429;
      // A page or a job's polling goes on where it was.
      queue.push({ ...item, rows: again, attempt: attempt + 1, unsure: unsure || !refusedOutright });
    }
    return accepted;
  };

  // Rows through one exchange: in one request, or one each; those it `skips` pass as they are, those it `refuses` go no further.
  const settleRows = async (exchange: Exchange<R>, all: R[], at: Settling<R>, before?: Map<R, string>): Promise<R[]> => {
    const barred = new Map<R, string>();
    const refuses = exchange.refuses;
    if (refuses)
      for (const row of all) {
        const reason = refuses(row);
        if (reason !== undefined) barred.set(row, afterBefore(before, row, reason));
      }
    // Not sent by this exchange: applied by none only if no exchange before it took the row.
    await refuseRows([...barred].map(([row, reason]) => ({ row, reason, fate: 'rejected', unapplied: at.first })));
    const rows = barred.size ? all.filter((row) => !barred.has(row)) : all;
    const skips = exchange.skips;
    const accepted: R[] = skips ? rows.filter((r) => skips(r)) : [];
    const sent = skips ? rows.filter((r) => !skips(r)) : rows;
    if (!sent.length) return accepted;
    // One request per set of captured values: the rows of each part of a batch sent in parts go on with their own part's (its job).
    const parts = new Map<object | undefined, R[]>();
    for (const row of sent) {
      const key = at.captured.get(row);
      const part = parts.get(key);
      if (part) part.push(row);
      else parts.set(key, [row]);
    }
    for (const group of exchange.perRow ? sent.map((r) => [r]) : [...parts.values()]) accepted.push(...(await settleRequest(exchange, group, at, before)));
    return accepted;
  };

  // A batch through the whole chain, once its rows are recorded as sent: what one exchange accepted goes on to the next.
  const settle = async (batch: Batch<R>): Promise<void> => {
    await events.sending?.(batch.rows);
    const at: Settling<R> = { batch, first: true, done: [], captured: new Map() };
    let alive = batch.rows;
    for (const exchange of chain) {
      alive = await settleRows(exchange, alive, at);
      at.first = false;
      if (!alive.length) break;
    }
    const accepted = [...at.done, ...alive];
    if (!accepted.length) return;
    stats.accepted += accepted.length;
    await events.accepted(accepted);
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
