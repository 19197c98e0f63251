// The delivery engine's parts: rate limiter, backoff, Retry-After, batching, and the engine
// itself against a local fake API with injected faults.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RateLimiter, type Clock } from '../src/run/http/rate-limit.js';
import { backoffDelay, defaultRetryPolicy, parseRetryAfter, retryDelay, type RetryPolicy } from '../src/run/http/backoff.js';
import { batches } from '../src/run/http/batches.js';
import { deliver, type DeliveryOptions, type Exchange, type Refusal, type Verdict } from '../src/run/http/deliver.js';
import { sendOnce } from '../src/run/http/http.js';
import { fault, startFakeApi, type FakeApi } from './servers/fake-api.js';

/** A clock whose sleeps advance time at once, recording what was asked. */
function fakeClock(): Clock & { slept: number[]; t: number } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: async (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
    },
  };
  return c;
}

async function* pagesOf<T>(rows: T[], pageSize: number): AsyncGenerator<T[]> {
  for (let i = 0; i < rows.length; i += pageSize) yield rows.slice(i, i + pageSize);
}

/** The most of `times` (sorted) that fall in any span of `ms`: a window [t, t + ms) opening at each start. */
function mostInAnyWindow(times: number[], ms: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[j] as number) <= (times[i] as number) - ms) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('rate limiter', () => {
  /** `n` takes, all queued at once as concurrent requests would be, each answered at once; the time each started. */
  async function starts(limiter: RateLimiter, clock: { now(): number }, n: number): Promise<number[]> {
    const at: number[] = [];
    await Promise.all(
      Array.from({ length: n }, () =>
        limiter.take().then((answered) => {
          at.push(clock.now());
          answered();
        }),
      ),
    );
    return at;
  }

  it('never lets more than N requests start in any window, and lets N start at once', async () => {
    const clock = fakeClock();
    const at = await starts(new RateLimiter([{ requests: 100, ms: 10_000 }], clock), clock, 450);
    expect(mostInAnyWindow(at, 10_000)).toBe(100);
    // The whole allowance at once, then the next hundred as the first ones leave the window.
    expect(at.slice(0, 100).every((t) => t === 0)).toBe(true);
    expect(at[100]).toBe(10_000);
    expect(at[449]).toBe(40_000);
  });

  it('holds a burst and a steady rate at once, neither exceeded', async () => {
    const clock = fakeClock();
    // Klaviyo: 10 per second, 150 per minute.
    const limiter = new RateLimiter(
      [
        { requests: 10, ms: 1000 },
        { requests: 150, ms: 60_000 },
      ],
      clock,
    );
    const at = await starts(limiter, clock, 400);
    expect(mostInAnyWindow(at, 1000)).toBe(10);
    expect(mostInAnyWindow(at, 60_000)).toBe(150);
    // The burst spends the minute's allowance in 15 s; the 151st waits for the first to age out.
    expect(at[149]).toBe(14_000);
    expect(at[150]).toBe(60_000);
  });

  it('every window of a shared limiter holds, the ones added later too', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter([{ requests: 5, ms: 1000 }], clock);
    // A second step of the same destination states a steady rate besides; the same window again adds nothing.
    limiter.honour([
      { requests: 5, ms: 1000 },
      { requests: 8, ms: 10_000 },
    ]);
    const at = await starts(limiter, clock, 30);
    expect(mostInAnyWindow(at, 1000)).toBe(5);
    expect(mostInAnyWindow(at, 10_000)).toBe(8);
    expect(at.slice(0, 9)).toEqual([0, 0, 0, 0, 0, 1000, 1000, 1000, 10_000]);
  });

  it('counts a request from its answer: whenever each arrived, no window at the server holds more than N', async () => {
    const clock = fakeClock();
    const windows = [
      { requests: 3, ms: 700 },
      { requests: 7, ms: 5000 },
    ];
    const limiter = new RateLimiter(windows, clock);
    const span: { start: number; answer: number }[] = [];
    // Requests of uneven length, taken at uneven moments, four in flight.
    const lengths = [0, 90, 400, 10, 1300, 50, 2200];
    let next = 0;
    const worker = async () => {
      while (next < 60) {
        const i = next++;
        const answered = await limiter.take();
        const start = clock.now();
        await clock.sleep(lengths[i % lengths.length] as number);
        span[i] = { start, answer: clock.now() };
        answered();
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    // A request reaches the server between its start and its answer: the latest arrival one
    // may have, against the earliest of the one N later, is still a window apart.
    for (const w of windows) {
      for (let i = 0; i + w.requests < span.length; i++) {
        expect((span[i + w.requests] as { start: number }).start - (span[i] as { answer: number }).answer).toBeGreaterThanOrEqual(w.ms);
      }
    }
  });

  it('a request not answered yet holds the one N starts later', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter([{ requests: 2, ms: 1000 }], clock);
    const first = await limiter.take();
    const second = await limiter.take();
    let third = false;
    const taken = limiter.take().then((answered) => {
      third = true;
      answered();
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(third).toBe(false);
    clock.t = 4000;
    first();
    second();
    await taken;
    expect(clock.t).toBe(5000);
  });

  it('a pause holds every taker until it ends', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter([{ requests: 5, ms: 1000 }], clock);
    limiter.pause(3000);
    (await limiter.take())();
    expect(clock.t).toBe(3000);
    limiter.pause(1000);
    limiter.pause(500);
    (await limiter.take())();
    expect(clock.t).toBe(4000);
  });

  it('without windows it never waits but still honours a pause', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter([], clock);
    for (let i = 0; i < 1000; i++) await limiter.take();
    expect(clock.t).toBe(0);
    limiter.pause(1500);
    await limiter.take();
    expect(clock.t).toBe(1500);
  });

  it('serves concurrent takers in order', async () => {
    const limiter = new RateLimiter([{ requests: 1, ms: 20 }]);
    const order: number[] = [];
    await Promise.all(
      [0, 1, 2, 3].map((i) =>
        limiter.take().then((answered) => {
          order.push(i);
          answered();
        }),
      ),
    );
    expect(order).toEqual([0, 1, 2, 3]);
  });

  it('refuses a window that admits nothing', () => {
    expect(() => new RateLimiter([{ requests: 0, ms: 1000 }])).toThrow(/requests >= 1/);
    expect(() => new RateLimiter([{ requests: 1, ms: 0 }])).toThrow(/window > 0/);
  });
});

describe('backoff', () => {
  const policy: RetryPolicy = { ...defaultRetryPolicy, backoff: { initialSeconds: 0.1, multiplier: 2, maxSeconds: 1 } };

  it('full jitter stays below a growing ceiling capped at the maximum', () => {
    expect(backoffDelay(policy, 1, () => 0.999)).toBe(99);
    expect(backoffDelay(policy, 3, () => 0.999)).toBe(399);
    expect(backoffDelay(policy, 10, () => 0.999)).toBe(999);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay({ ...policy, backoff: { initialSeconds: 0.1, multiplier: 3, maxSeconds: 10 } }, 3, () => 0.999)).toBe(899);
  });

  it('Retry-After, in seconds or as an HTTP date, replaces the backoff when the policy honours it', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(' 0 ')).toBe(0);
    const now = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(retryDelay(policy, 1, 2000, () => 0.5)).toBe(2000);
    expect(retryDelay(policy, 9, 200, () => 0.9)).toBe(200);
    expect(retryDelay(policy, 1, undefined, () => 0.5)).toBe(50);
    expect(retryDelay({ ...policy, retryAfter: false }, 1, 2000, () => 0.5)).toBe(50);
  });

  it('Retry-After is read only as delay-seconds or an HTTP date in one of its three forms; anything else is no Retry-After', () => {
    const now = Date.parse('Sun, 06 Nov 1994 08:49:00 GMT');
    expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(37_000);
    expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(37_000);
    expect(parseRetryAfter('Sun Nov  6 08:49:37 1994', now)).toBe(37_000);
    expect(parseRetryAfter('Sun Nov 16 08:49:37 1994', now)).toBe(10 * 86_400_000 + 37_000);
    // A date already past: try again now.
    expect(parseRetryAfter('Sat, 05 Nov 1994 08:49:37 GMT', now)).toBe(0);
    expect(parseRetryAfter('007')).toBe(7000);
    // V8's Date.parse reads most of these as some date long past, which would mean no wait at all.
    const nonsense = ['-1', '+5', '3.', '1.5', '1e3', '0x10', 'abc 2', '1, 2', 'Dec 1', '2 s', '', 'Sun, 06 Nov 1994 08:49:37', '06 Nov 1994 08:49:37 GMT'];
    // Nor is a date in no form of the three, nor one that names no time.
    const noDate = [
      'Sun, 6 Nov 1994 08:49:37 GMT',
      'sun, 06 nov 1994 08:49:37 gmt',
      'Sun Nov 6 08:49:37 1994',
      'Sun, 31 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 24:00:00 GMT',
    ];
    expect([...nonsense, ...noDate].filter((v) => parseRetryAfter(v, now) !== undefined)).toEqual([]);
  });
});

describe('batches', () => {
  const collect = async (rows: number[], page: number, size: number) => {
    const out = [];
    for await (const b of batches(pagesOf(rows, page), size)) out.push(b);
    return out;
  };

  it('re-cuts pages into batches and marks the last', async () => {
    const out = await collect([1, 2, 3, 4, 5, 6, 7], 3, 2);
    expect(out.map((b) => b.rows)).toEqual([[1, 2], [3, 4], [5, 6], [7]]);
    expect(out.map((b) => b.seq)).toEqual([1, 2, 3, 4]);
    expect(out.map((b) => b.last)).toEqual([false, false, false, true]);
  });

  it('marks an exactly full last batch, and yields nothing for no rows', async () => {
    const out = await collect([1, 2, 3, 4], 1, 2);
    expect(out.map((b) => b.last)).toEqual([false, true]);
    expect(await collect([], 5, 2)).toEqual([]);
  });
});

describe('sendOnce', () => {
  let api: FakeApi;
  beforeAll(async () => {
    api = await startFakeApi(() => ({ status: 200, body: { ok: true } }));
  });
  afterAll(() => api.close());

  it('returns a response, a timeout or a network error as data', async () => {
    const req = { method: 'POST', url: `${api.url}/x`, headers: { 'content-type': 'application/json' }, body: '{}' };
    expect(await sendOnce(req, 2000)).toMatchObject({ kind: 'response', response: { status: 200, body: '{"ok":true}' } });
    api.failNext(fault.hang());
    expect(await sendOnce(req, 200)).toMatchObject({ kind: 'timeout' });
    api.failNext(fault.reset());
    expect(await sendOnce(req, 2000)).toMatchObject({ kind: 'network' });
    const closed = await startFakeApi(() => ({ status: 200 }));
    await closed.close();
    expect(await sendOnce({ ...req, url: closed.url }, 2000)).toMatchObject({ kind: 'network', reason: expect.stringContaining('ECONNREFUSED') });
  });

  it('reads an answer up to its limit: a server answering without end is cut off, not held in memory until the deadline', async () => {
    let written = 0;
    let hungUp = false;
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const more = (): void => {
        while (!res.destroyed && res.write(chunk)) written += chunk.length;
      };
      res.on('drain', more);
      res.on('close', () => (hungUp = true));
      more();
    });
    await new Promise<void>((resolve) => endless.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(endless.address() as AddressInfo).port}/x`;
      const limit = 1024 * 1024;
      const out = await sendOnce({ method: 'POST', url, headers: {}, body: '{}' }, 30_000, limit);
      expect(out).toEqual({ kind: 'network', reason: `POST ${url}: the answer is larger than ${limit} bytes; not read` });
      await expect.poll(() => hungUp).toBe(true);
      // What the server got out before the client hung up: the limit and what sat in the sockets' buffers.
      expect(written).toBeLessThan(16 * limit);
      // An answer within the limit is read whole, a byte order mark dropped as Response.text() does.
      const small = await startFakeApi(() => ({ status: 200, body: '\uFEFF{"ok":true}' }));
      try {
        expect(await sendOnce({ method: 'GET', url: small.url, headers: {} }, 2000, limit)).toMatchObject({
          kind: 'response',
          response: { body: '{"ok":true}' },
        });
      } finally {
        await small.close();
      }
    } finally {
      endless.closeAllConnections();
      await new Promise<void>((resolve) => endless.close(() => resolve()));
    }
  });
});

// A minimal JSON batch API: the server stores ids, refusing those listed in `refuse` with a
// per-row error list, so that the engine's bookkeeping can be checked exactly.
describe('deliver', () => {
  let api: FakeApi;
  const stored: number[] = [];
  const refuse = new Set<number>();
  /** Ids that make the whole request fail with a 400, as atomic batch APIs do. */
  const poison = new Set<number>();

  beforeAll(async () => {
    api = await startFakeApi((req) => {
      const ids = (req.body as { ids: number[] }).ids;
      if (req.headers.authorization !== 'Bearer ok') return { status: 401, body: { error: 'bad token' } };
      if (ids.length > 50) return { status: 413, body: { error: 'too large' } };
      const bad = ids.find((id) => poison.has(id));
      if (bad !== undefined) return { status: 400, body: { error: `id ${bad} is malformed` } };
      const errors = ids.map((id, index) => ({ id, index })).filter((e) => refuse.has(e.id));
      for (const id of ids) if (!refuse.has(id)) stored.push(id);
      return { status: errors.length ? 207 : 200, body: { errors: errors.map((e) => ({ index: e.index, message: `id ${e.id} refused` })) } };
    });
  });
  afterAll(() => api.close());
  beforeEach(() => {
    api.reset();
    stored.length = 0;
    refuse.clear();
    poison.clear();
  });

  const fast: RetryPolicy = { ...defaultRetryPolicy, maxAttempts: 4, backoff: { initialSeconds: 0.005, multiplier: 2, maxSeconds: 0.02 } };

  const request = (rows: readonly number[], token = 'ok') => ({
    method: 'POST',
    url: `${api.url}/ids`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ ids: rows }),
  });

  const exchange = (token = 'ok'): Exchange<number> => ({
    perRow: false,
    request: (rows) => request(rows, token),
    read: (res, rows): Verdict => {
      const all = rows.map((_, i) => i);
      if (res.status === 413 || res.status === 400) return { accepted: [], rejected: [], retry: all, split: true, reason: res.body };
      if (res.status >= 400) return { accepted: [], rejected: all.map((index) => ({ index, reason: res.body })), retry: [] };
      const errors = (JSON.parse(res.body) as { errors: { index: number; message: string }[] }).errors;
      const bad = new Set(errors.map((e) => e.index));
      return { accepted: all.filter((i) => !bad.has(i)), rejected: errors.map((e) => ({ index: e.index, reason: e.message })), retry: [] };
    },
  });

  const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

  async function run(rows: number[], size: number, opts: Partial<DeliveryOptions> = {}, chain = [exchange()]) {
    const accepted: number[] = [];
    const refused: Refusal<number>[] = [];
    const retries: string[] = [];
    // Each batch as recorded before it is sent, with how many requests had left by then.
    const sending: { rows: number[]; requestsBefore: number }[] = [];
    const stats = await deliver(
      batches(pagesOf(rows, 7), size),
      chain,
      { concurrency: 4, timeoutMs: 30_000, retry: fast, maxRetryAfterMs: 60_000, limiter: new RateLimiter(), ...opts },
      {
        sending: (r) => void sending.push({ rows: [...r], requestsBefore: api.requests.length }),
        accepted: (r) => void accepted.push(...r),
        refused: (r) => void refused.push(...r),
        retrying: (i) => void retries.push(i.reason),
      },
    );
    return { stats, accepted: accepted.sort((a, b) => a - b), refused, retries, sending };
  }

  it('sends every row once, in batches of the given size', async () => {
    const r = await run(ids(95), 10);
    expect(r.accepted).toEqual(ids(95));
    expect(stored.sort((a, b) => a - b)).toEqual(ids(95));
    expect(api.requests).toHaveLength(10);
    expect(r.stats).toEqual({ batches: 10, requests: 10, retries: 0, accepted: 95, rejected: 0, failed: 0 });
  });

  it('records per-row rejections and accepts the rest of the batch', async () => {
    refuse.add(3).add(17);
    const r = await run(ids(20), 10);
    expect(r.accepted).toEqual(ids(20).filter((i) => i !== 3 && i !== 17));
    expect(r.refused).toEqual([
      { row: 3, reason: 'id 3 refused', fate: 'rejected', unapplied: true },
      { row: 17, reason: 'id 17 refused', fate: 'rejected', unapplied: true },
    ]);
  });

  it('retries 429 (waiting Retry-After), 500, a hung request and a reset connection, then delivers', async () => {
    api.failNext(fault.tooMany('1'), fault.status(500), fault.hang(), fault.reset());
    const start = performance.now();
    // The hung request needs a short deadline; a loaded machine may let an answer miss it too, and retry once more.
    const r = await run(ids(30), 10, { concurrency: 1, timeoutMs: 1000, retry: { ...fast, maxAttempts: 8 } });
    expect(performance.now() - start).toBeGreaterThanOrEqual(1000);
    expect(r.accepted).toEqual(ids(30));
    expect(stored.sort((a, b) => a - b)).toEqual(ids(30));
    expect(r.stats.retries).toBeGreaterThanOrEqual(4);
    expect(r.retries[0]).toContain('HTTP 429');
    expect(r.retries[1]).toContain('HTTP 500');
    expect(r.retries[2]).toContain('no response within 1000 ms');
    expect(api.requests.slice(0, 4).map((q) => q.fault?.kind)).toEqual(['status', 'status', 'hang', 'reset']);
    expect(api.requests).toHaveLength(3 + r.stats.retries);
  });

  it('asks about a job that has not ended later and later, then gives its rows up to the next run', async () => {
    const clock = fakeClock();
    const pending: Exchange<number> = {
      perRow: false,
      request: (rows, c) => ({ ...request(rows, 'ok'), url: `${api.url}/job/${c.captured.job}` }),
      read: () => ({ accepted: [], rejected: [], retry: [], pending: 'the job is processing' }),
      pollMs: 60_000,
    };
    const queued: Exchange<number> = { ...exchange(), read: (res, rows) => ({ ...exchange().read(res, rows), captured: { job: 'j1' } }) };
    const r = await run(ids(3), 3, { clock }, [queued, pending]);
    expect(clock.slept).toEqual([1000, 2000, 4000, 8000, 16000, 29000]);
    expect(api.requests.map((q) => q.path)).toEqual(['/ids', ...Array(7).fill('/job/j1')]);
    expect(r.accepted).toEqual([]);
    expect(r.refused.map((x) => [x.fate, x.unapplied])).toEqual(Array(3).fill(['failed', false]));
    expect(r.refused[0]?.reason).toMatch(/^the job is processing after 60 s of asking: it may still take the rows, which the next run sends again/);
  });

  it("a batch sent in parts: each part's rows go on with what their own part's answer captured (its job)", async () => {
    const queued: Exchange<number> = { ...exchange(), read: (res, rows) => ({ ...exchange().read(res, rows), captured: { job: `j${rows[0]}` } }) };
    const asked: string[] = [];
    const status: Exchange<number> = {
      perRow: false,
      request: (rows, c) => {
        asked.push(`${c.captured.job}: ${rows.join(',')}`);
        return { ...request(rows, 'ok'), url: `${api.url}/job/${c.captured.job}` };
      },
      read: (_res, rows) => ({ accepted: rows.map((_, i) => i), rejected: [], retry: [] }),
    };
    // Four rows' body is over the limit, two rows' is not: the batch goes in halves.
    const r = await run(ids(4), 4, { maxBodyBytes: JSON.stringify({ ids: [1, 2, 3] }).length - 1 }, [queued, status]);
    expect(r.accepted).toEqual(ids(4));
    expect(asked.sort()).toEqual(['j1: 1,2', 'j3: 3,4']);
  });

  it('pages of refusals: each read against every row, a row refused once; a page asked again after a failure is the same page', async () => {
    let page: string | undefined;
    const pages: (string | undefined)[] = [];
    const errors: Exchange<number> = {
      perRow: false,
      request: (rows, c) => {
        page = c.page;
        pages.push(c.page);
        return { ...request(rows, 'ok'), url: `${api.url}/errors${c.page ? new URL(c.page).search : ''}` };
      },
      // Page 1 refuses row 1; page 2 refuses row 1 again (a second error of it) and row 2.
      read: (_res, rows) => {
        const named = page === undefined ? [1] : [1, 2];
        const rejected = rows.flatMap((row, index) => (named.includes(row) ? [{ index, reason: `bad ${row} on ${page ?? 'page 1'}` }] : []));
        const accepted = rows.flatMap((row, index) => (named.includes(row) ? [] : [index]));
        return { accepted, rejected, retry: [], ...(page === undefined ? { next: 'https://elsewhere.example/errors?p=2' } : {}) };
      },
    };
    let n = 0;
    api.failWhen((req) => (req.path === '/errors' && req.query.get('p') === '2' && n++ === 0 ? fault.status(503) : undefined));
    const r = await run(ids(3), 3, { concurrency: 1 }, [exchange(), errors]);
    api.failWhen(undefined);
    expect(pages).toEqual([undefined, 'https://elsewhere.example/errors?p=2', 'https://elsewhere.example/errors?p=2']);
    expect(r.accepted).toEqual([3]);
    expect(r.refused.map((x) => [x.row, x.reason])).toEqual([
      [1, 'bad 1 on page 1'],
      [2, 'bad 2 on https://elsewhere.example/errors?p=2'],
    ]);
  });

  it('a job asked about again after a failed answer keeps its deadline', async () => {
    const clock = fakeClock();
    let n = 0;
    api.failWhen((req) => (req.path === '/job' && n++ === 2 ? fault.status(503) : undefined));
    const pending: Exchange<number> = {
      perRow: false,
      request: (rows) => ({ ...request(rows, 'ok'), url: `${api.url}/job` }),
      read: () => ({ accepted: [], rejected: [], retry: [], pending: 'the job is processing' }),
      pollMs: 60_000,
    };
    const r = await run(ids(2), 2, { clock }, [exchange(), pending]);
    api.failWhen(undefined);
    expect(r.refused.map((x) => x.fate)).toEqual(['failed', 'failed']);
    // 60 s of asking and the one retry's backoff, not the 60 s again from the retry on.
    expect(clock.t).toBeLessThan(61_000);
  });

  it("gives up after the policy's attempts and reports the rows as failed", async () => {
    api.failWhen(() => fault.status(503));
    const r = await run(ids(5), 5);
    expect(r.accepted).toEqual([]);
    expect(r.refused).toHaveLength(5);
    expect(r.refused[0]).toMatchObject({ fate: 'failed', reason: expect.stringContaining('gave up after 4 tries: HTTP 503') });
    expect(api.requests).toHaveLength(4);
  });

  it('rejects rather than retries network errors when the policy says so', async () => {
    api.failNext(fault.reset());
    const r = await run(ids(2), 2, { retry: { ...fast, networkErrors: false } });
    expect(r.refused.map((x) => x.fate)).toEqual(['rejected', 'rejected']);
    expect(api.requests).toHaveLength(1);
  });

  it('backs off as the policy says when Retry-After is no number of seconds and no HTTP date', async () => {
    api.failNext(fault.tooMany('-1'), fault.tooMany('Dec 1'), fault.tooMany('1, 2'));
    const clock = fakeClock();
    const r = await run(ids(2), 2, { clock, random: () => 0.5 });
    expect(r.accepted).toEqual(ids(2));
    // Half of 5, 10 and 20 ms: the jittered backoff, not an immediate retry.
    expect(clock.slept).toEqual([2, 5, 10]);
  });

  it('fails rather than stall when Retry-After is beyond the limit', async () => {
    api.failNext(fault.tooMany('3600'));
    const r = await run(ids(3), 3);
    expect(r.refused.map((x) => x.fate)).toEqual(['failed', 'failed', 'failed']);
    expect(r.refused[0]?.reason).toContain('asked to wait 3600 s');
  });

  it('splits a batch the API finds too large until it fits', async () => {
    const r = await run(ids(180), 180);
    expect(r.accepted).toEqual(ids(180));
    expect(api.requests.map((q) => (q.body as { ids: unknown[] }).ids.length)).toEqual([180, 90, 45, 45, 90, 45, 45]);
  });

  it('splits a batch whose body would exceed the limit before sending it', async () => {
    const r = await run(ids(40), 40, { maxBodyBytes: 60 });
    expect(r.accepted).toEqual(ids(40));
    // {"ids":[1..20]} is 60 bytes, {"ids":[21..40]} 69: that half is halved again.
    expect(api.requests.map((q) => q.raw.length)).toEqual([60, 39, 39]);
  });

  it('isolates the rows that spoil a batch refused whole, and delivers the rest', async () => {
    poison.add(6);
    const r = await run(ids(16), 16);
    expect(r.accepted).toEqual(ids(16).filter((i) => i !== 6));
    expect(r.refused).toEqual([{ row: 6, reason: expect.stringContaining('id 6 is malformed'), fate: 'rejected', unapplied: true }]);
    // 16 -> 8 (bad) + 8 -> 4 (bad) + 4 -> 2 + 2 (bad) -> 1 + 1 (bad): 9 requests, not 16.
    expect(api.requests).toHaveLength(9);
  });

  // Read as a rule by status reads a 207: which rows were taken, unsaid.
  const multi: Exchange<number> = {
    ...exchange(),
    read: (res, rows) =>
      res.status === 207
        ? { accepted: [], rejected: [], retry: rows.map((_, i) => i), split: true, unsure: true, reason: res.body }
        : exchange().read(res, rows),
  };

  it('splits a batch whose answer may have applied some of its rows (a 207) until the bad row stands alone, refused as perhaps applied', async () => {
    refuse.add(6);
    const r = await run(ids(8), 8, {}, [multi]);
    expect(r.accepted).toEqual(ids(8).filter((i) => i !== 6));
    expect(r.refused).toEqual([{ row: 6, reason: expect.stringContaining('id 6 refused'), fate: 'rejected', unapplied: false }]);
    // 8 -> 4 + 4 (6 in it) -> 2 (6 in it) + 2 -> 1 + 1 (6 alone), the first half first.
    expect(api.requests.map((q) => (q.body as { ids: number[] }).ids)).toEqual([ids(8), [1, 2, 3, 4], [5, 6, 7, 8], [5, 6], [5], [6], [7, 8]]);
  });

  it('a receiver that answers 207 to one row before it took any has each other half sent once, unsplit: not every row log2(n) times', async () => {
    // Every row answered 207: the path to one row, then each half beside it once (before: 15 requests, 2n - 1).
    for (const i of ids(8)) refuse.add(i);
    const all = await run(ids(8), 8, {}, [multi]);
    expect(all.accepted).toEqual([]);
    expect(new Set(all.refused.map((x) => `${x.fate} ${x.unapplied}`))).toEqual(new Set(['rejected false']));
    expect(all.refused.map((x) => x.row).sort((a, b) => a - b)).toEqual(ids(8));
    expect(api.requests.map((q) => (q.body as { ids: number[] }).ids)).toEqual([ids(8), [1, 2, 3, 4], [1, 2], [1], [2], [3, 4], [5, 6, 7, 8]]);
    // The first row bad: the halves beside its path are taken, and the row alone refused.
    refuse.clear();
    api.reset();
    refuse.add(1);
    const first = await run(ids(8), 8, {}, [multi]);
    expect(first.accepted).toEqual(ids(8).filter((i) => i !== 1));
    expect(first.refused).toEqual([{ row: 1, reason: expect.stringContaining('id 1 refused'), fate: 'rejected', unapplied: false }]);
    expect(api.requests).toHaveLength(7);
  });

  it('rejects every row of a request the API refuses for good', async () => {
    const r = await run(ids(4), 2, {}, [exchange('wrong')]);
    expect(r.refused.map((x) => x.row).sort()).toEqual(ids(4));
    expect(r.refused[0]?.reason).toContain('bad token');
  });

  it('passes only what one request accepted on to the next, one request per row where asked', async () => {
    refuse.add(2);
    const seen: number[][] = [];
    const second: Exchange<number> = {
      ...exchange(),
      perRow: true,
      request: (rows) => {
        seen.push([...rows]);
        return request(rows);
      },
    };
    const r = await run(ids(4), 4, {}, [exchange(), second]);
    expect(seen).toEqual([[1], [3], [4]]);
    expect(r.accepted).toEqual([1, 3, 4]);
    expect(r.stats).toMatchObject({ requests: 4, accepted: 3, rejected: 1 });
  });

  it('records each batch as sending once, before its first request, however often its rows are retried or split', async () => {
    poison.add(6);
    api.failNext(fault.status(500));
    const r = await run(ids(16), 8, { concurrency: 1 });
    expect(r.sending).toEqual([
      { rows: ids(8), requestsBefore: 0 },
      { rows: ids(16).slice(8), requestsBefore: expect.any(Number) },
    ]);
    // The first batch: a 500, then 8 split down to the poisoned row; the second starts after it.
    expect(r.sending[1]?.requestsBefore).toBe(api.requests.length - 1);
    expect(r.accepted).toEqual(ids(16).filter((i) => i !== 6));
  });

  it('sends nothing of a batch whose record as sending failed', async () => {
    const p = deliver(
      batches(pagesOf(ids(10), 10), 10),
      [exchange()],
      { concurrency: 1, timeoutMs: 1000, retry: fast, maxRetryAfterMs: 1000, limiter: new RateLimiter() },
      {
        sending: () => {
          throw new Error('database went away');
        },
        accepted: () => undefined,
        refused: () => undefined,
      },
    );
    await expect(p).rejects.toThrow('database went away');
    expect(api.requests).toHaveLength(0);
  });

  it('calls a refusal unapplied only when a definite answer gave it before any other exchange took the row', async () => {
    // Failed after retries, and rejected on a network error: either may have been applied.
    api.failWhen(() => fault.status(503));
    expect((await run(ids(2), 2)).refused.map((x) => [x.fate, x.unapplied])).toEqual([
      ['failed', false],
      ['failed', false],
    ]);
    api.failWhen(undefined);
    api.failNext(fault.reset());
    const unsure: Exchange<number> = {
      ...exchange(),
      read: () => ({ accepted: [], rejected: [{ index: 0, reason: 'results name no row', unsure: true }], retry: [] }),
    };
    expect((await run(ids(1), 1, { retry: { ...fast, networkErrors: false } })).refused.map((x) => x.unapplied)).toEqual([false]);
    expect((await run(ids(1), 1, {}, [unsure])).refused.map((x) => x.unapplied)).toEqual([false]);
    // A row the first request took and the second refused: the first may have changed the destination.
    refuse.add(2);
    const r = await run(ids(3), 3, {}, [exchange(), exchange()]);
    expect(r.refused).toEqual([{ row: 2, reason: 'id 2 refused', fate: 'rejected', unapplied: true }]);
    const again = await run(ids(3), 3, {}, [
      { ...exchange(), read: (_res, rows) => ({ accepted: rows.map((_, i) => i), rejected: [], retry: [] }) },
      exchange(),
    ]);
    expect(again.refused).toEqual([{ row: 2, reason: 'id 2 refused', fate: 'rejected', unapplied: false }]);
  });

  it('calls a refusal after a 303 See Other unsure: the server carried the POST out and points at its result; any other redirect refuses surely', async () => {
    // A form handler's answer (RFC 9110 §15.4.4): the rows taken, then a redirect to what was made.
    const taken: number[] = [];
    const server = await startFakeApi((req) => {
      const status = Number(req.path.slice(1));
      if (status === 303) taken.push(...(req.body as { ids: number[] }).ids);
      return { status, headers: { location: `/result` } };
    });
    try {
      const to = (status: number): Exchange<number> => ({ ...exchange(), request: (rows) => ({ ...request(rows), url: `${server.url}/${status}` }) });
      const seeOther = await run(ids(2), 2, {}, [to(303)]);
      expect(taken).toEqual([1, 2]);
      expect(seeOther.accepted).toEqual([]);
      expect(seeOther.refused.map((x) => [x.row, x.fate, x.unapplied])).toEqual([
        [1, 'rejected', false],
        [2, 'rejected', false],
      ]);
      expect(seeOther.refused[0]?.reason).toContain('See Other: the request was likely carried out');
      for (const status of [301, 302, 307, 308])
        expect(
          (await run(ids(1), 1, {}, [to(status)])).refused.map((x) => x.unapplied),
          `HTTP ${status}`,
        ).toEqual([true]);
    } finally {
      await server.close();
    }
  });

  it('calls a refusal after a retry applied or not as the earlier attempts were: unsure after a reset or a 5xx, sure after a 429', async () => {
    // The first attempt's connection reset after the destination may have applied it; the retry's definite 404 says nothing of that one.
    api.failNext(fault.reset(), fault.status(404, { error: 'gone' }));
    expect((await run(ids(1), 1)).refused.map((x) => [x.fate, x.unapplied])).toEqual([['rejected', false]]);
    api.failNext(fault.status(503), fault.status(404, { error: 'gone' }));
    expect((await run(ids(1), 1)).refused.map((x) => x.unapplied)).toEqual([false]);
    // A 429 applied nothing: the refusal after it is as sure as one on the first attempt.
    api.failNext(fault.tooMany('0'), fault.status(404, { error: 'gone' }));
    expect((await run(ids(1), 1)).refused.map((x) => x.unapplied)).toEqual([true]);
    api.failNext(fault.status(404, { error: 'gone' }));
    expect((await run(ids(1), 1)).refused.map((x) => x.unapplied)).toEqual([true]);
    // The halves of a split keep what the whole was unsure of: reset, then a 400 splits the batch and the bad row stands alone.
    poison.add(2);
    api.failNext(fault.reset());
    const split = await run(ids(2), 2);
    expect(split.accepted).toEqual([1]);
    expect(split.refused).toEqual([{ row: 2, reason: expect.stringContaining('id 2 is malformed'), fate: 'rejected', unapplied: false }]);
    expect((await run(ids(2), 2)).refused.map((x) => x.unapplied)).toEqual([true]);
  });

  it('passes the rows an exchange skips on as they are, and accepts rows a verdict says are done without the later exchanges', async () => {
    const seen: number[][] = [];
    const lookup: Exchange<number> = {
      ...exchange(),
      skips: (row) => row % 2 === 0,
      request: (rows) => {
        seen.push([...rows]);
        return request(rows);
      },
      // Row 3 is not there: done.
      read: (_res, rows) => ({
        accepted: rows.flatMap((row, i) => (row === 3 ? [] : [i])),
        rejected: [],
        retry: [],
        done: rows.flatMap((row, i) => (row === 3 ? [i] : [])),
      }),
    };
    const second: number[][] = [];
    const last: Exchange<number> = {
      ...exchange(),
      request: (rows) => {
        second.push([...rows]);
        return request(rows);
      },
    };
    const r = await run(ids(6), 6, {}, [lookup, last]);
    expect(seen).toEqual([[1, 3, 5]]);
    expect(second.map((rows) => [...rows].sort())).toEqual([[1, 2, 4, 5, 6]]);
    expect(r.accepted).toEqual(ids(6));
    expect(r.stats).toMatchObject({ requests: 2, accepted: 6 });
    // Every row skipped: no request of that exchange at all.
    seen.length = 0;
    await run([2, 4], 2, {}, [lookup, last]);
    expect(seen).toEqual([]);
  });

  it('refuses the rows an exchange may not send, sending them through no later exchange: unapplied only when none took them before', async () => {
    const sent: number[][] = [];
    // Row 2, say, holds an id of a kind the request may not name.
    const guarded: Exchange<number> = {
      ...exchange(),
      refuses: (row) => (row === 2 ? 'not one it may name' : undefined),
      request: (rows) => {
        sent.push([...rows]);
        return request(rows);
      },
    };
    const first = await run(ids(3), 3, {}, [guarded, exchange()]);
    expect(sent).toEqual([[1, 3]]);
    expect(first.accepted).toEqual([1, 3]);
    expect(first.refused).toEqual([{ row: 2, reason: 'not one it may name', fate: 'rejected', unapplied: true }]);
    expect(first.stats).toMatchObject({ requests: 2, accepted: 2, rejected: 1 });
    // After a request that took the row: perhaps applied by it.
    sent.length = 0;
    const later = await run(ids(3), 3, {}, [exchange(), guarded]);
    expect(sent).toEqual([[1, 3]]);
    expect(later.refused).toEqual([{ row: 2, reason: 'not one it may name', fate: 'rejected', unapplied: false }]);
    // Every row refused: no request of that exchange at all.
    sent.length = 0;
    expect((await run([2], 1, {}, [guarded])).accepted).toEqual([]);
    expect(sent).toEqual([]);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    api.failWhen(() => fault.slow(30));
    const r = await run(ids(100), 5, { concurrency: 3 });
    expect(r.stats.accepted).toBe(100);
    expect(api.maxInFlight).toBe(3);
  });

  it('paces requests by the rate limit', async () => {
    const start = performance.now();
    await run(ids(5), 1, { limiter: new RateLimiter([{ requests: 1, ms: 50 }]) });
    expect(performance.now() - start).toBeGreaterThanOrEqual(190);
  });

  it('stops reading and rethrows when recording a fate fails', async () => {
    let calls = 0;
    const p = deliver(
      batches(pagesOf(ids(100), 10), 10),
      [exchange()],
      { concurrency: 2, timeoutMs: 1000, retry: fast, maxRetryAfterMs: 1000, limiter: new RateLimiter() },
      {
        accepted: () => {
          if (++calls === 2) throw new Error('database went away');
        },
        refused: () => undefined,
      },
    );
    await expect(p).rejects.toThrow('database went away');
    expect(api.requests.length).toBeLessThan(10);
  });
});
