/**
 * Requests-per-minute limits as token buckets, one per account: a bucket holds up to `perMinute`
 * tokens (a burst of a full minute) and refills at perMinute/60 tokens a second. In memory only: a
 * restart forgives the current minute, which is what a rate limit may do.
 */

export type TakeResult = { ok: true } | { ok: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
  perMinute: number;
}

export interface RateLimiter {
  /** Takes one token for `key` under a limit of `perMinute` requests a minute. */
  take(key: string | number, perMinute: number): TakeResult;
  /** Forgets a key (its account was deleted or its limit lifted). */
  forget(key: string | number): void;
}

export function createRateLimiter(nowMs: () => number): RateLimiter {
  const buckets = new Map<string | number, Bucket>();
  return {
    take(key, perMinute) {
      if (perMinute <= 0) return { ok: false, retryAfterSeconds: 60 };
      const now = nowMs();
      let b = buckets.get(key);
      if (!b) {
        b = { tokens: perMinute, at: now, perMinute };
        buckets.set(key, b);
      } else {
        if (b.perMinute !== perMinute) {
          b.tokens = Math.min(b.tokens, perMinute);
          b.perMinute = perMinute;
        }
        const elapsed = Math.max(0, now - b.at);
        b.tokens = Math.min(perMinute, b.tokens + (elapsed * perMinute) / 60_000);
        b.at = now;
      }
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return { ok: true };
      }
      const msToToken = ((1 - b.tokens) * 60_000) / perMinute;
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(Math.round(msToToken) / 1000)) };
    },
    forget(key) {
      buckets.delete(key);
    },
  };
}
