import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { combine, gfDiv, gfMul, split } from './shamir.ts';

/** Every k-subset of 0..n-1. */
function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k - 1).map((s) => [...s, n - 1]), ...subsets(n - 1, k)];
}

describe('GF(256)', () => {
  it('multiplication has inverses and matches the AES field', () => {
    expect(gfMul(0x57, 0x83)).toBe(0xc1); // FIPS-197 example
    for (let a = 1; a < 256; a++) for (const b of [1, 2, 3, 0x53, 0xca, 255]) expect(gfDiv(gfMul(a, b), b)).toBe(a);
  });
});

describe('Shamir', () => {
  it('any k of n shares restore the secret, for many random secrets and shapes', () => {
    for (let round = 0; round < 40; round++) {
      const n = 1 + (round % 7);
      const k = 1 + (round % n);
      const secret = randomBytes(32);
      const shares = split(secret, k, n);
      for (const pick of subsets(n, k)) expect(Buffer.from(combine(pick.map((i) => shares[i]!)))).toEqual(secret);
      // more than k works too
      expect(Buffer.from(combine(shares))).toEqual(secret);
    }
  });

  it('k-1 shares say nothing: every secret is equally consistent with them', () => {
    // With k = 2, one share and a chosen second share value can be made to yield any secret byte.
    const shares = split(Buffer.from([42]), 2, 3);
    const seen = new Set<number>();
    for (let y = 0; y < 256; y++) seen.add(combine([shares[0]!, { x: 2, y: Uint8Array.of(y) }])[0]!);
    expect(seen.size).toBe(256);
  });

  it('refuses bad shapes and duplicate shares', () => {
    expect(() => split(randomBytes(32), 3, 2)).toThrow(/1 <= K <= N <= 255/);
    expect(() => split(randomBytes(32), 0, 2)).toThrow();
    expect(() => split(randomBytes(32), 2, 256)).toThrow();
    const s = split(randomBytes(32), 2, 3);
    expect(() => combine([s[0]!, s[0]!])).toThrow(/twice/);
  });
});
