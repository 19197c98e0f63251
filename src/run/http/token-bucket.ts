/**
 * A token bucket shared by every request of one destination: `rate` tokens per second, up to
 * `burst` saved. A 429's Retry-After pauses the whole bucket, not only the request that got
 * it, because the server's limit is per client.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  /** Takers queue here so that they are served in order. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly clock: Clock = realClock,
  ) {
    if (!(rate > 0) || !(burst >= 1)) throw new Error(`token bucket needs rate > 0 and burst >= 1 (got ${rate}, ${burst})`);
    this.tokens = burst;
    this.last = clock.now();
  }

  /** A bucket for "`requests` per `perSeconds` seconds"; the burst is the whole window's allowance. */
  static perWindow(requests: number, perSeconds: number, clock: Clock = realClock): TokenBucket {
    return new TokenBucket(requests / perSeconds, requests, clock);
  }

  /** Resolves when one request may be sent. */
  take(): Promise<void> {
    const turn = this.queue.then(() => this.waitForToken());
    this.queue = turn;
    return turn;
  }

  /** No request leaves before `ms` from now (a Retry-After); extends, never shortens, a pause. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    // After a pause the server's window restarts: no saved burst, and none earned while paused.
    this.tokens = Math.min(this.tokens, 1);
    this.last = Math.max(this.last, this.pausedUntil);
  }

  private refill(): void {
    const now = this.clock.now();
    if (now <= this.last) return;
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  private async waitForToken(): Promise<void> {
    for (;;) {
      const paused = this.pausedUntil - this.clock.now();
      if (paused > 0) {
        await this.clock.sleep(paused);
        continue;
      }
      if (this.rate === Infinity) return;
      this.refill();
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.clock.sleep(((1 - this.tokens) / this.rate) * 1000);
    }
  }
}

/** A bucket that only honours pauses, for destinations without a documented limit. */
export function unlimited(clock: Clock = realClock): TokenBucket {
  return new TokenBucket(Infinity, 1, clock);
}
