/**
 * The rate limit shared by every request of one destination (or one target): for each of its
 * windows, at most `requests` requests in any span of `ms` milliseconds, as the server counts
 * them, however long each takes to reach it. The server counts a request when it arrives,
 * somewhere between its start and its answer, so a request starts only once the one `requests`
 * starts back has been answered `ms` ago: between the arrivals of any two requests `requests`
 * apart lies a whole window, and no window at the server holds more than `requests`. A log of
 * the last `requests` starts per window keeps this exact, and several windows hold at once
 * (Klaviyo's burst per second and steady rate per minute). A 429's Retry-After pauses the whole
 * limiter, not only the request that got it, because the server's limit is per client.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** At most `requests` requests in any `ms` milliseconds. */
export interface Window {
  requests: number;
  ms: number;
}

/** Says that a request's answer (or its failure) is in; called once, whatever became of it. */
export type Answered = () => void;

/** One request as the limiter knows it: answered yet, and when. */
class Request {
  answeredAt: number | undefined;
  private waiters: (() => void)[] = [];

  answered(at: number): void {
    if (this.answeredAt !== undefined) return;
    this.answeredAt = at;
    for (const wake of this.waiters) wake();
    this.waiters = [];
  }

  whenAnswered(): Promise<void> {
    return this.answeredAt !== undefined ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/** The last `requests` requests of one window, in a ring: once full, `head` is the one `requests` starts back. */
class RequestLog {
  private readonly requests: Request[] = [];
  private head = 0;

  constructor(readonly window: Window) {}

  /** The request the next start must follow by a window; undefined while fewer have started. */
  bound(): Request | undefined {
    return this.requests.length < this.window.requests ? undefined : this.requests[this.head];
  }

  record(request: Request): void {
    if (this.requests.length < this.window.requests) {
      this.requests.push(request);
      return;
    }
    this.requests[this.head] = request;
    this.head = (this.head + 1) % this.window.requests;
  }
}

export class RateLimiter {
  private readonly logs: RequestLog[] = [];
  private pausedUntil = -Infinity;
  /** Takers queue here so that they are served in order. */
  private queue: Promise<unknown> = Promise.resolve();

  /** No windows: only pauses hold requests (a destination without a documented limit). */
  constructor(
    windows: readonly Window[] = [],
    private readonly clock: Clock = realClock,
  ) {
    this.honour(windows);
  }

  /**
   * Adds the windows not held yet: steps that share the limiter may state different limits (a
   * lookup beside the sends), and every one of them is kept.
   */
  honour(windows: readonly Window[]): void {
    for (const w of windows) {
      if (!Number.isInteger(w.requests) || w.requests < 1 || !(w.ms > 0))
        throw new Error(`a rate limit needs requests >= 1 and a window > 0 (got ${w.requests} per ${w.ms} ms)`);
      if (!this.logs.some((l) => l.window.requests === w.requests && l.window.ms === w.ms)) this.logs.push(new RequestLog({ ...w }));
    }
  }

  /** Resolves when one request may start, with what to call once its answer is in. */
  take(): Promise<Answered> {
    const turn = this.queue.then(() => this.waitForTurn());
    this.queue = turn;
    return turn;
  }

  /** No request starts before `ms` from now (a Retry-After); extends, never shortens, a pause. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
  }

  private async waitForTurn(): Promise<Answered> {
    for (;;) {
      // Until its answer is in, a request may yet arrive at any moment: the next one waits for it.
      const unanswered = this.logs.map((l) => l.bound()).find((r) => r !== undefined && r.answeredAt === undefined);
      if (unanswered) {
        await unanswered.whenAnswered();
        continue;
      }
      const now = this.clock.now();
      const waits = this.logs.map((l) => {
        const bound = l.bound();
        return bound ? (bound.answeredAt as number) + l.window.ms - now : 0;
      });
      const wait = Math.max(this.pausedUntil - now, ...waits);
      // Checked again after the sleep: a timer may fire a fraction of a millisecond early, and a pause may have grown.
      if (wait > 0) {
        await this.clock.sleep(wait);
        continue;
      }
      const request = new Request();
      for (const l of this.logs) l.record(request);
      return () => request.answered(this.clock.now());
    }
  }
}
