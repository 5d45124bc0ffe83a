import { describe, expect, it } from 'vitest';
import { StripeBufferPool } from './buffers.ts';

const SEG = 64 * 1024;

describe('stripe buffer pool', () => {
  it('recycles given-back buffers and counts the bytes out', () => {
    const pool = new StripeBufferPool(SEG, 4, 2, 1 << 20);
    const a = pool.take();
    expect(pool.bytesOut).toBe(pool.stripeBytes);
    pool.give(a);
    expect(pool.bytesOut).toBe(0);
    const b = pool.take();
    expect(b.sealed).toBe(a.sealed);
    expect(b.plain).toBe(a.plain);
  });

  it('takes only the parts asked for (a reader needs only the sealed one)', () => {
    const pool = new StripeBufferPool(SEG, 4, 2, 1 << 20);
    const r = pool.take({ plain: false, parity: false });
    expect(r.plain.byteLength).toBe(0);
    expect(r.parity.byteLength).toBe(0);
    expect(r.sealed.byteLength).toBe(pool.shardSize * 4);
    expect(pool.bytesOut).toBe(pool.shardSize * 4);
    pool.give(r);
    expect(pool.bytesOut).toBe(0);
  });

  it('ignores a second give of the same buffers: two holders must never share one', () => {
    const pool = new StripeBufferPool(SEG, 4, 2, 1 << 20);
    const a = pool.take();
    pool.give(a);
    pool.give(a);
    expect(pool.bytesOut).toBe(0);
    const b = pool.take();
    const c = pool.take();
    expect(c.sealed).not.toBe(b.sealed);
  });

  it('says when the budget is spent, and keeps a few budgets of spares at most', () => {
    const pool = new StripeBufferPool(SEG, 4, 2, 0);
    expect(pool.roomy()).toBe(false);
    const stripe = pool.stripeBytes;
    const roomy = new StripeBufferPool(SEG, 4, 2, 3 * stripe);
    const taken = [roomy.take(), roomy.take()];
    expect(roomy.roomy()).toBe(true);
    taken.push(roomy.take());
    expect(roomy.roomy()).toBe(false); // a fourth would pass the budget
    taken.push(roomy.take()); // but is still given: nobody waits on the budget
    expect(roomy.bytesOut).toBe(4 * stripe);

    const small = new StripeBufferPool(SEG, 4, 2, stripe); // spares: 4 budgets, 4 stripes
    const out = Array.from({ length: 6 }, () => small.take());
    for (const t of out) small.give(t);
    const again = Array.from({ length: 6 }, () => small.take());
    const old = new Set(out.map((t) => t.sealed));
    expect(again.filter((t) => old.has(t.sealed)).length).toBe(4);
  });
});
