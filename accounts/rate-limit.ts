/**
 * Requests-per-minute limits as token buckets, one per account: a bucket holds up to `perMinute`
 * tokens (a burst of a full minute) and refills at perMinute/60 tokens a second. On one gateway the
 * buckets are in memory (exact for one process; a restart forgives the current minute, which a rate
 * limit may do). Gateways that share a PostgreSQL catalog share the buckets too: each one is a row of
 * `rate_buckets`, refilled and taken from in one atomic statement (createSharedRateLimiter).
 */
import type { DB } from '../src/core/db.ts';

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
      return { ok: false, retryAfterSeconds: retryAfter(b.tokens, perMinute) };
    },
    forget(key) {
      buckets.delete(key);
    },
  };
}

/** Retry-After (s) of a bucket holding `tokens` (< 1) under `perMinute`. */
const retryAfter = (tokens: number, perMinute: number): number =>
  Math.max(1, Math.ceil(Math.round(((1 - tokens) * 60_000) / perMinute) / 1000));

/**
 * The token bucket kept in the catalog, for gateways sharing one (PostgreSQL): one UPSERT ... RETURNING
 * per request refills the row by the time since its last take, takes a token when there is one, and
 * answers whether it did (`granted`). The row lock of the upsert orders racing gateways, so N gateways
 * together grant the limit, not N times it. Time is the caller's clock (`at` never moves backwards, so
 * a gateway whose clock lags refills nothing rather than taking back).
 */
export function createSharedRateLimiter(db: DB, nowMs: () => number): RateLimiter {
  // avail = the bucket refilled to now, capped at the (possibly changed) limit.
  const avail = `LEAST(@pm, LEAST(b.tokens, @pm) + GREATEST(0, @now - b.at) * @pm / 60000.0)`;
  const take = db.prepare<[{ key: string; pm: number; now: number }], { tokens: number; granted: boolean }>(`
    INSERT INTO rate_buckets AS b (key, tokens, at, granted)
    VALUES (@key, CAST(@pm AS DOUBLE PRECISION) - 1, @now, TRUE)
    ON CONFLICT (key) DO UPDATE SET
      tokens = CASE WHEN ${avail} >= 1 THEN ${avail} - 1 ELSE ${avail} END,
      granted = ${avail} >= 1,
      at = GREATEST(b.at, @now)
    RETURNING tokens, granted`);
  const forget = db.prepare('DELETE FROM rate_buckets WHERE key = ?');
  return {
    take(key, perMinute) {
      if (perMinute <= 0) return { ok: false, retryAfterSeconds: 60 };
      const r = take.get({ key: String(key), pm: perMinute, now: nowMs() })!;
      return r.granted ? { ok: true } : { ok: false, retryAfterSeconds: retryAfter(Number(r.tokens), perMinute) };
    },
    forget(key) {
      forget.run(String(key));
    },
  };
}
