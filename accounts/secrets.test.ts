import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { generateAccessKey, generateSecret, openSecret, sameSecret, sealSecret, secretsKey } from './secrets.ts';

describe('secrets', () => {
  const key = secretsKey(randomBytes(32));

  it('generates access keys and secrets of the documented shape', () => {
    const ids = new Set(Array.from({ length: 50 }, generateAccessKey));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^DM[A-Z0-9]{18}$/);
    expect(generateSecret()).toMatch(/^[A-Za-z0-9+/]{40}$/);
  });

  it('seals with a fresh nonce and opens only for the same key and access key id', () => {
    const a = sealSecret(key, 'AK1', 'my-secret');
    const b = sealSecret(key, 'AK1', 'my-secret');
    expect(a.equals(b)).toBe(false);
    expect(a.includes(Buffer.from('my-secret'))).toBe(false);
    expect(openSecret(key, 'AK1', a)).toBe('my-secret');
    expect(() => openSecret(key, 'AK2', a)).toThrow(/master key/);
    expect(() => openSecret(secretsKey(randomBytes(32)), 'AK1', a)).toThrow(/master key/);
    const flipped = Buffer.from(a);
    flipped[20]! ^= 1;
    expect(() => openSecret(key, 'AK1', flipped)).toThrow();
  });

  it('compares secrets', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abd')).toBe(false);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });
});
