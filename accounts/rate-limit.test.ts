import { describe, expect, it } from 'vitest';
import { createRateLimiter } from './rate-limit.ts';

describe('rate limiter', () => {
  it('allows a minute of burst, then refills at the per-minute rate', () => {
    let t = 0;
    const rl = createRateLimiter(() => t);
    for (let i = 0; i < 60; i++) expect(rl.take('a', 60)).toEqual({ ok: true });
    expect(rl.take('a', 60)).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(rl.take('b', 60)).toEqual({ ok: true });
    t += 1000;
    expect(rl.take('a', 60)).toEqual({ ok: true });
    expect(rl.take('a', 60).ok).toBe(false);
  });

  it('computes Retry-After for slow limits and follows a changed limit', () => {
    let t = 0;
    const rl = createRateLimiter(() => t);
    expect(rl.take('a', 2).ok).toBe(true);
    expect(rl.take('a', 2).ok).toBe(true);
    expect(rl.take('a', 2)).toEqual({ ok: false, retryAfterSeconds: 30 });
    t += 10_000;
    expect(rl.take('a', 2)).toEqual({ ok: false, retryAfterSeconds: 20 });
    expect(rl.take('a', 0)).toEqual({ ok: false, retryAfterSeconds: 60 });
    rl.forget('a');
    expect(rl.take('a', 1).ok).toBe(true);
  });
});
