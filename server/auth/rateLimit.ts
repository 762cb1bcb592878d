// A fixed-window rate limit per key (client address), in memory and bounded: at most
// `maxKeys` addresses are tracked; when full, the oldest window is dropped first (an
// attacker cycling addresses can only make the limiter forget, never grow it). And a
// limit on requests in flight per key (concurrent exports per user).
export interface RateLimitOptions {
  /** Attempts allowed per window. */
  max: number;
  windowMs: number;
  maxKeys: number;
}

/**
 * Failed sign-ins (form or Bearer) per address. Tokens hold 256 random bits, so guessing
 * is hopeless anyway: the limit bounds what a flood of failures costs (an audit record
 * flushed to disk each) and flags it; it never refuses a valid token.
 */
export const DEFAULT_FAILURE_LIMIT: RateLimitOptions = { max: 10, windowMs: 60_000, maxKeys: 10_000 };

export class RateLimiter {
  private windows = new Map<string, { start: number; count: number; refused: number }>();

  constructor(readonly opts: RateLimitOptions) {}

  /** Count an attempt; false when the key is over its limit (the attempt must be refused). */
  hit(key: string, now = Date.now()): boolean {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.opts.windowMs) {
      this.windows.delete(key);
      w = { start: now, count: 0, refused: 0 };
      this.windows.set(key, w);
      this.evict(now);
    }
    w.count += 1;
    return w.count <= this.opts.max;
  }

  /** Note a refusal; true for the first one of the key's window (worth a log line; the rest are not). */
  noteRefusal(key: string, now = Date.now()): boolean {
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.opts.windowMs) return true;
    w.refused += 1;
    return w.refused === 1;
  }

  /** Seconds until the key's window ends. */
  retryAfter(key: string, now = Date.now()): number {
    const w = this.windows.get(key);
    return w ? Math.max(1, Math.ceil((w.start + this.opts.windowMs - now) / 1000)) : 1;
  }

  private evict(now: number) {
    // Insertion order is window start order: expired and oldest windows come first.
    for (const [k, w] of this.windows) {
      if (this.windows.size <= this.opts.maxKeys && now - w.start < this.opts.windowMs) break;
      this.windows.delete(k);
    }
  }

  get size() {
    return this.windows.size;
  }
}

/**
 * At most `max` requests in flight per key (a user): `acquire` gives a release function,
 * or null when the key is at its limit. Keys with nothing in flight are forgotten.
 */
export class ConcurrencyLimit {
  private inFlight = new Map<string, number>();

  constructor(readonly max: number) {}

  acquire(key: string): (() => void) | null {
    const n = this.inFlight.get(key) ?? 0;
    if (n >= this.max) return null;
    this.inFlight.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inFlight.get(key) ?? 1) - 1;
      if (left > 0) this.inFlight.set(key, left);
      else this.inFlight.delete(key);
    };
  }
}
