/**
 * Token buckets per client address: `burst` requests at once, refilled at `perMinute`. Written here rather than
 * pulled in: it is twenty lines, and the endpoint's only runtime dependency stays better-sqlite3.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    readonly perMinute: number,
    readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** 0 when the request may go ahead (and a token is spent), else the seconds until one is available. */
  take(key: string): number {
    const t = this.now();
    const rate = this.perMinute / 60_000;
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= 10_000) this.#forgetFull(t);
      b = { tokens: this.burst, at: t };
    }
    b.tokens = Math.min(this.burst, b.tokens + (t - b.at) * rate);
    b.at = t;
    this.#buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000));
  }

  /** A full bucket is the same as no bucket: dropping them bounds memory under many addresses. */
  #forgetFull(t: number): void {
    const rate = this.perMinute / 60_000;
    for (const [key, b] of this.#buckets) {
      if (b.tokens + (t - b.at) * rate >= this.burst) this.#buckets.delete(key);
    }
  }
}
