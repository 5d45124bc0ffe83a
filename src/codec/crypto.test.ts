import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  decryptSegment,
  deriveKek,
  encryptSegment,
  importSegmentKey,
  makeKeyCheck,
  newDataKey,
  openSegment,
  sealSegment,
  segmentNonce,
  TAG_BYTES,
  unwrapKey,
  unwrapManifestKey,
  verifyKeyCheck,
  wrapKey,
  wrapKeyForCustomer,
  isCustomerWrapped,
  WRAPPED_KEY_BYTES,
} from './crypto.ts';
import { customerKeyCheck, matchesCustomerKey } from '../core/customer-key.ts';

describe('segment encryption', () => {
  it('round-trips, sync and on the thread pool, and both forms agree', async () => {
    const key = newDataKey();
    const ck = await importSegmentKey(key);
    for (const size of [0, 1, 15, 16, 17, 4096, 100_000]) {
      const plain = randomBytes(size);
      const sealed = encryptSegment(key, 'man-1', 3, plain);
      expect(sealed.length).toBe(size + TAG_BYTES);
      expect(decryptSegment(key, 'man-1', 3, sealed).equals(plain)).toBe(true);
      const sealedAsync = await sealSegment(ck, 'man-1', 3, plain);
      expect(sealedAsync.equals(sealed)).toBe(true);
      expect((await openSegment(ck, 'man-1', 3, sealed)).equals(plain)).toBe(true);
    }
  });

  it('fails authentication on a flipped bit anywhere (ciphertext and tag)', async () => {
    const key = newDataKey();
    const ck = await importSegmentKey(key);
    const plain = randomBytes(64);
    const sealed = encryptSegment(key, 'm', 0, plain);
    for (let bit = 0; bit < sealed.length * 8; bit++) {
      const bad = Buffer.from(sealed);
      bad[bit >> 3]! ^= 1 << (bit & 7);
      expect(() => decryptSegment(key, 'm', 0, bad), `bit ${bit}`).toThrow(/failed authentication/);
    }
    const bad = Buffer.from(sealed);
    bad[sealed.length - 1]! ^= 0x80;
    await expect(openSegment(ck, 'm', 0, bad)).rejects.toThrow(/failed authentication/);
  });

  it('binds the manifest id, the index and the key: segments cannot be swapped', () => {
    const key = newDataKey();
    const sealed = encryptSegment(key, 'man-a', 1, Buffer.from('hello'));
    expect(() => decryptSegment(key, 'man-b', 1, sealed)).toThrow(/failed authentication/);
    expect(() => decryptSegment(key, 'man-a', 2, sealed)).toThrow(/failed authentication/);
    expect(() => decryptSegment(newDataKey(), 'man-a', 1, sealed)).toThrow(/failed authentication/);
    expect(() => decryptSegment(key, 'man-a', 1, sealed.subarray(0, 3))).toThrow(/failed authentication/);
  });

  it('uses a distinct nonce per segment index', () => {
    const seen = new Set<string>();
    for (const i of [0, 1, 2, 255, 256, 65536, 2 ** 32, Number.MAX_SAFE_INTEGER]) seen.add(segmentNonce(i).toString('hex'));
    expect(seen.size).toBe(8);
    expect(segmentNonce(1).length).toBe(12);
    expect(() => segmentNonce(-1)).toThrow();
    expect(() => segmentNonce(1.5)).toThrow();
  });
});

describe('key wrapping', () => {
  it('wraps under the KEK with a random nonce and unwraps', () => {
    const kek = deriveKek(randomBytes(32));
    const dataKey = newDataKey();
    const a = wrapKey(kek, dataKey, 'man-1');
    const b = wrapKey(kek, dataKey, 'man-1');
    expect(a.equals(b)).toBe(false);
    expect(a.includes(dataKey)).toBe(false);
    expect(unwrapKey(kek, a, 'man-1').equals(dataKey)).toBe(true);
    expect(() => unwrapKey(kek, a, 'man-2')).toThrow(/failed authentication/);
    expect(() => unwrapKey(deriveKek(randomBytes(32)), a, 'man-1')).toThrow(/failed authentication/);
    const bad = Buffer.from(a);
    bad[20]! ^= 1;
    expect(() => unwrapKey(kek, bad, 'man-1')).toThrow(/failed authentication/);
  });

  it('derives the KEK from the master key, deterministically, distinct from it', () => {
    const master = randomBytes(32);
    expect(deriveKek(master).equals(deriveKek(master))).toBe(true);
    expect(deriveKek(master).equals(master)).toBe(false);
  });

  it('a key check opens only with the KEK that made it', () => {
    const kek = deriveKek(randomBytes(32));
    const check = makeKeyCheck(kek);
    expect(verifyKeyCheck(kek, check)).toBe(true);
    expect(verifyKeyCheck(deriveKek(randomBytes(32)), check)).toBe(false);
    expect(verifyKeyCheck(kek, check.subarray(1))).toBe(false);
  });
});

describe('SSE-C key wrapping', () => {
  const kek = deriveKek(randomBytes(32));
  const customer = randomBytes(32);
  const dataKey = newDataKey();
  const wrapped = wrapKeyForCustomer(customer, dataKey, 'manifest-1');

  it('only the customer key, with the same manifest id, unwraps it; the KEK cannot', () => {
    expect(wrapped.length).toBe(WRAPPED_KEY_BYTES);
    expect(isCustomerWrapped(wrapped)).toBe(true);
    expect(isCustomerWrapped(wrapKey(kek, dataKey, 'manifest-1'))).toBe(false);
    expect(unwrapManifestKey(kek, wrapped, 'manifest-1', customer).equals(dataKey)).toBe(true);
    expect(() => unwrapKey(kek, wrapped, 'manifest-1')).toThrow();
    expect(() => unwrapManifestKey(kek, wrapped, 'manifest-1')).toThrow(/customer key/);
    expect(() => unwrapManifestKey(kek, wrapped, 'manifest-1', randomBytes(32))).toThrow(/authentication/);
    expect(() => unwrapManifestKey(kek, wrapped, 'manifest-2', customer)).toThrow(/authentication/);
    // a KEK-wrapped key still opens through the same entry point
    expect(unwrapManifestKey(kek, wrapKey(kek, dataKey, 'm'), 'm').equals(dataKey)).toBe(true);
  });

  it('the catalog check value tells the key apart without holding it', () => {
    const check = customerKeyCheck(customer);
    expect(check).not.toContain(customer.toString('base64url'));
    expect(customerKeyCheck(customer)).not.toBe(check); // salted
    expect(matchesCustomerKey(check, customer)).toBe(true);
    expect(matchesCustomerKey(check, randomBytes(32))).toBe(false);
    expect(matchesCustomerKey('v0.x.y', customer)).toBe(false);
  });
});
