/** What a rate limit says about one more request. */
export interface RateLimitDecision {
  allowed: boolean;
  /** When refused: whole seconds until the key's budget is renewed (≥ 1). 0 when allowed. */
  retryAfterSeconds: number;
}

/**
 * A budget of requests per key (an IP, a user, a token) and time window. The one implementation
 * today is the in-memory `RateLimiter` (one process); a shared store (e.g. PostgreSQL, for
 * several replicas) implements the same interface, which is why `consume` may return a promise:
 * callers always `await` it.
 */
export interface RateLimitStore {
  /** Counts one request for `key` and says whether it fits in the budget. */
  consume(key: string): RateLimitDecision | Promise<RateLimitDecision>;
}

/** A store that never refuses (a budget of 0 in the configuration means "no limit"). */
export const UNLIMITED: RateLimitStore = { consume: () => ({ allowed: true, retryAfterSeconds: 0 }) };

export interface RateLimiterOptions {
  /**
   * Most keys remembered at once (default 50 000, ≈ 10 MB). When a flood of distinct keys (IPs)
   * fills it, the oldest windows are forgotten first: memory stays bounded, and a forgotten key
   * merely starts a fresh window (the limiter fails open for it, never closed for everyone).
   */
  maxKeys?: number;
}

/**
 * A fixed-window counter per key: `consume` (or `take`) says whether one more request fits in the
 * current window and, when not, how long to wait. Memory is bounded: expired windows are swept at
 * most once per window length, and past `maxKeys` the oldest windows are evicted.
 */
export class RateLimiter implements RateLimitStore {
  /** Key → its window; Map order is window start order (a renewed window is re-inserted). */
  private readonly windows = new Map<string, { start: number; count: number }>();
  private lastSweep = 0;
  readonly maxKeys: number;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    options: RateLimiterOptions = {},
  ) {
    this.maxKeys = Math.max(1, options.maxKeys ?? 50_000);
  }

  /** Keys currently remembered (tests, metrics). */
  get size(): number {
    return this.windows.size;
  }

  consume(key: string, now = Date.now()): RateLimitDecision {
    const r = this.take(key, now);
    return r.ok
      ? { allowed: true, retryAfterSeconds: 0 }
      : { allowed: false, retryAfterSeconds: r.retryAfterSeconds };
  }

  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    if (now - this.lastSweep >= this.windowMs) this.sweep(now);
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (w) this.windows.delete(key);
      else if (this.windows.size >= this.maxKeys) this.evictOldest();
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    if (w.count >= this.limit)
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((w.start + this.windowMs - now) / 1000)) };
    w.count += 1;
    return { ok: true };
  }

  /** Drops expired windows (oldest first, so it stops at the first live one). */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, w] of this.windows) {
      if (now - w.start < this.windowMs) break;
      this.windows.delete(k);
    }
  }

  private evictOldest(): void {
    // A tenth at once, so a flood does not pay for one eviction per request.
    let n = Math.max(1, Math.floor(this.maxKeys / 10));
    for (const k of this.windows.keys()) {
      this.windows.delete(k);
      if (--n <= 0) break;
    }
  }
}

/** A per-minute budget; 0 = no limit. */
export function perMinute(limit: number, options?: RateLimiterOptions): RateLimitStore {
  return limit > 0 ? new RateLimiter(limit, 60_000, options) : UNLIMITED;
}
