/**
 * Shamir secret sharing over GF(256) (the AES field, x^8 + x^4 + x^3 + x + 1), byte by byte:
 * each byte of the secret is the constant term of a random polynomial of degree k-1, and share x
 * (1..n) holds the polynomial's values at x. Any k shares give the secret back by Lagrange
 * interpolation at 0; fewer say nothing about it. Pure functions; randomness is injectable for tests.
 */
import { randomBytes } from 'node:crypto';

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    // multiply by the generator 3 = x * 2 xor x
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0);
    x &= 0xff;
  }
  for (let i = 255; i < 510; i++) EXP[i] = EXP[i - 255]!;
}

export function gfMul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a]! + LOG[b]!]!;
}

export function gfDiv(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(256)');
  if (a === 0) return 0;
  return EXP[LOG[a]! + 255 - LOG[b]!]!;
}

export interface Share {
  /** The x coordinate, 1..255. */
  x: number;
  /** The polynomials' values at x, one byte per byte of the secret. */
  y: Uint8Array;
}

/** Splits `secret` into `n` shares of which any `k` restore it (1 <= k <= n <= 255). */
export function split(secret: Uint8Array, k: number, n: number, random: (size: number) => Uint8Array = randomBytes): Share[] {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 1 || n < k || n > 255) {
    throw new RangeError(`shares ${k}/${n}: need whole numbers with 1 <= K <= N <= 255`);
  }
  const shares: Share[] = Array.from({ length: n }, (_, i) => ({ x: i + 1, y: new Uint8Array(secret.length) }));
  for (let b = 0; b < secret.length; b++) {
    const coeffs = random(k - 1);
    for (const share of shares) {
      // Horner: ((c[k-2] x + c[k-3]) x + ... + c[0]) x + secret[b]
      let acc = 0;
      for (let j = k - 2; j >= 0; j--) acc = gfMul(acc ^ coeffs[j]!, share.x);
      share.y[b] = acc ^ secret[b]!;
    }
  }
  return shares;
}

/** The secret from k (or more) shares with distinct x: Lagrange interpolation at 0. */
export function combine(shares: readonly Share[]): Uint8Array {
  if (shares.length === 0) throw new RangeError('no shares to combine');
  const len = shares[0]!.y.length;
  const xs = shares.map((s) => s.x);
  if (new Set(xs).size !== xs.length) throw new RangeError(`the same share was given twice (x = ${xs.join(', ')})`);
  if (shares.some((s) => s.y.length !== len || s.x < 1 || s.x > 255)) throw new RangeError('the shares are of different secrets (lengths differ)');
  // basis[i] = prod_{j != i} x_j / (x_j - x_i); subtraction is xor in GF(2^8)
  const basis = xs.map((xi, i) => xs.reduce((acc, xj, j) => (j === i ? acc : gfMul(acc, gfDiv(xj, xj ^ xi))), 1));
  const out = new Uint8Array(len);
  for (let b = 0; b < len; b++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) acc ^= gfMul(shares[i]!.y[b]!, basis[i]!);
    out[b] = acc;
  }
  return out;
}
