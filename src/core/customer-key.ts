/**
 * SSE-C: the customer's key is never stored. The catalog keeps only a salted HMAC of it, enough to
 * tell a wrong key from the right one (403) before any byte is read, useless to recover the key.
 * The key itself wraps the object's data keys (src/codec/crypto.ts wrapKeyForCustomer).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A customer-provided key (x-amz-server-side-encryption-customer-key), checked against its MD5. */
export interface CustomerKey {
  /** The 256-bit AES key. */
  key: Buffer;
  /** Base64 MD5 of the key, as the client sent it (echoed in responses). */
  md5: string;
}

const VERSION = 'v1';

/** A fresh salted check value of `key`: "v1.<salt>.<hmac>" (base64url). */
export function customerKeyCheck(key: Uint8Array): string {
  const salt = randomBytes(16);
  const mac = createHmac('sha256', salt).update('datamesh sse-c check\0').update(key).digest();
  return `${VERSION}.${salt.toString('base64url')}.${mac.toString('base64url')}`;
}

/** True when `check` (from customerKeyCheck) was made from this key. */
export function matchesCustomerKey(check: string, key: Uint8Array): boolean {
  const [version, salt, mac] = check.split('.');
  if (version !== VERSION || salt === undefined || mac === undefined) return false;
  const want = Buffer.from(mac, 'base64url');
  const got = createHmac('sha256', Buffer.from(salt, 'base64url')).update('datamesh sse-c check\0').update(key).digest();
  return want.length === got.length && timingSafeEqual(want, got);
}
