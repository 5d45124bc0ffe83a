/**
 * Segment encryption and key wrapping, pure functions over bytes (AES-256-GCM via node:crypto).
 *
 * - A data key is random per manifest (one written object, or one multipart part).
 * - Segment i is sealed under that key with the nonce 0x00000000 || uint64be(i): unique under the
 *   key because a manifest has one segment per index. The additional data binds the manifest id
 *   and the index, so a segment cannot be swapped between positions or objects. Output: ct || tag.
 * - Data keys are wrapped by a key-encryption key (KEK = deriveKey(master, 'kek/v1')) with a
 *   random nonce: 0x01 || nonce(12) || ct(32) || tag(16).
 * - SSE-C: the data key is wrapped instead by HKDF-SHA256(customer key, salt = manifest id), same
 *   layout with version 0x02, so the master key cannot open it (wrapKeyForCustomer).
 *
 * These are the reference forms over whole buffers. The data store seals and opens segments in
 * the codec workers (codec-pool.ts, core.mjs: same nonce, AAD and format, checked by tests);
 * seal/openSegment (WebCrypto on the libuv thread pool) are kept for comparison in the bench.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, webcrypto } from 'node:crypto';
import { deriveKey } from '../core/master-key.ts';
import { Errors } from '../core/errors.ts';
import { segmentAad as aad, segmentNonce as nonceOf } from './core.mjs';

export const KEY_BYTES = 32;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const WRAP_VERSION = 1;
/** A data key wrapped by a key derived from the customer's (SSE-C) key. */
const CUSTOMER_WRAP_VERSION = 2;
export const WRAPPED_KEY_BYTES = 1 + NONCE_BYTES + KEY_BYTES + TAG_BYTES;

type CryptoKey = webcrypto.CryptoKey;
const subtle = webcrypto.subtle;

/** A fresh random 256-bit data key. */
export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** The key-encryption key of a node, derived from its master secret. */
export function deriveKek(master: Buffer): Buffer {
  return deriveKey(master, 'kek/v1');
}

/** The 96-bit nonce of segment `index`: 4 zero bytes then the index as a big-endian uint64. */
export function segmentNonce(index: number): Buffer {
  try {
    return nonceOf(index);
  } catch (e) {
    throw Errors.internal((e as Error).message);
  }
}

/** The additional authenticated data of a segment: binds the manifest id and the index. */
export const segmentAad: (manifestId: string, index: number) => Buffer = aad;

function checkKey(key: Uint8Array, what: string): void {
  if (key.length !== KEY_BYTES) throw Errors.internal(`${what} must be ${KEY_BYTES} bytes, got ${key.length}`);
}

function authFailed(what: string): Error {
  return Errors.internal(`${what} failed authentication: the bytes were altered or the key is not the one they were sealed with`);
}

/** Seals one segment: returns ciphertext || 16-byte tag (sync). */
export function encryptSegment(key: Uint8Array, manifestId: string, index: number, plaintext: Uint8Array): Buffer {
  checkKey(key, 'a data key');
  const cipher = createCipheriv('aes-256-gcm', key, segmentNonce(index), { authTagLength: TAG_BYTES });
  cipher.setAAD(segmentAad(manifestId, index));
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([head, tail, cipher.getAuthTag()]);
}

/** Opens one sealed segment (ciphertext || tag); throws when any bit was flipped (sync). */
export function decryptSegment(key: Uint8Array, manifestId: string, index: number, sealed: Uint8Array): Buffer {
  checkKey(key, 'a data key');
  if (sealed.length < TAG_BYTES) throw authFailed(`segment ${index} of ${manifestId}`);
  const decipher = createDecipheriv('aes-256-gcm', key, segmentNonce(index), { authTagLength: TAG_BYTES });
  decipher.setAAD(segmentAad(manifestId, index));
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  const head = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([head, decipher.final()]);
  } catch {
    throw authFailed(`segment ${index} of ${manifestId}`);
  }
}

/** Imports a data key for the async (thread pool) forms. */
export async function importSegmentKey(key: Uint8Array): Promise<CryptoKey> {
  checkKey(key, 'a data key');
  return subtle.importKey('raw', key, { name: 'AES-GCM' }, false, ['encrypt', 'decrypt']);
}

/** encryptSegment on the libuv thread pool: returns ciphertext || tag. */
export async function sealSegment(key: CryptoKey, manifestId: string, index: number, plaintext: Uint8Array): Promise<Buffer> {
  const out = await subtle.encrypt(
    { name: 'AES-GCM', iv: segmentNonce(index), additionalData: segmentAad(manifestId, index), tagLength: TAG_BYTES * 8 },
    key,
    plaintext,
  );
  return Buffer.from(out);
}

/** decryptSegment on the libuv thread pool; throws when any bit was flipped. */
export async function openSegment(key: CryptoKey, manifestId: string, index: number, sealed: Uint8Array): Promise<Buffer> {
  try {
    const out = await subtle.decrypt(
      { name: 'AES-GCM', iv: segmentNonce(index), additionalData: segmentAad(manifestId, index), tagLength: TAG_BYTES * 8 },
      key,
      sealed,
    );
    return Buffer.from(out);
  } catch {
    throw authFailed(`segment ${index} of ${manifestId}`);
  }
}

/** Wraps a data key under the KEK (random nonce). `context` is bound as additional data (e.g. the manifest id). */
export function wrapKey(kek: Uint8Array, dataKey: Uint8Array, context = ''): Buffer {
  checkKey(kek, 'the key-encryption key');
  return wrapWith(kek, dataKey, context, WRAP_VERSION);
}

/** The key that wraps an SSE-C object's data key: HKDF-SHA256 of the customer's key, salted by the manifest id. */
function customerWrappingKey(customerKey: Uint8Array, manifestId: string): Buffer {
  checkKey(customerKey, 'an SSE-C customer key');
  return Buffer.from(hkdfSync('sha256', customerKey, Buffer.from(manifestId, 'utf8'), 'datamesh sse-c wrap v1', KEY_BYTES));
}

/** Wraps a data key with the customer's key (SSE-C): neither the KEK nor the master key can unwrap it. */
export function wrapKeyForCustomer(customerKey: Uint8Array, dataKey: Uint8Array, manifestId: string): Buffer {
  const k = customerWrappingKey(customerKey, manifestId);
  try {
    return wrapWith(k, dataKey, manifestId, CUSTOMER_WRAP_VERSION);
  } finally {
    k.fill(0);
  }
}

/** True when a wrapped key needs the customer's key (SSE-C) rather than the KEK. */
export const isCustomerWrapped = (wrapped: Uint8Array): boolean => wrapped[0] === CUSTOMER_WRAP_VERSION;

/**
 * A manifest's data key: unwrapped by the KEK, or for SSE-C by the customer's key (which must
 * then be given; a wrong one fails authentication).
 */
export function unwrapManifestKey(kek: Uint8Array, wrapped: Uint8Array, manifestId: string, customerKey?: Uint8Array): Buffer {
  if (!isCustomerWrapped(wrapped)) return unwrapKey(kek, wrapped, manifestId);
  if (customerKey === undefined) throw Errors.internal(`manifest ${manifestId} is encrypted with a customer key (SSE-C) and none was given`);
  const k = customerWrappingKey(customerKey, manifestId);
  try {
    return unwrapWith(k, wrapped, manifestId, CUSTOMER_WRAP_VERSION);
  } finally {
    k.fill(0);
  }
}

function wrapWith(wrapping: Uint8Array, dataKey: Uint8Array, context: string, version: number): Buffer {
  checkKey(dataKey, 'a data key');
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', wrapping, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(`datamesh wrapped key v${version}\0${context}`, 'utf8'));
  const ct = Buffer.concat([cipher.update(dataKey), cipher.final()]);
  return Buffer.concat([Buffer.of(version), nonce, ct, cipher.getAuthTag()]);
}

/** Unwraps a data key; throws when the KEK (or the context) is not the one it was wrapped with. */
export function unwrapKey(kek: Uint8Array, wrapped: Uint8Array, context = ''): Buffer {
  checkKey(kek, 'the key-encryption key');
  return unwrapWith(kek, wrapped, context, WRAP_VERSION);
}

function unwrapWith(wrapping: Uint8Array, wrapped: Uint8Array, context: string, version: number): Buffer {
  if (wrapped.length !== WRAPPED_KEY_BYTES || wrapped[0] !== version) {
    throw Errors.internal(`a wrapped key must be ${WRAPPED_KEY_BYTES} bytes starting with version ${version}`);
  }
  const nonce = wrapped.subarray(1, 1 + NONCE_BYTES);
  const ct = wrapped.subarray(1 + NONCE_BYTES, 1 + NONCE_BYTES + KEY_BYTES);
  const tag = wrapped.subarray(1 + NONCE_BYTES + KEY_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', wrapping, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(Buffer.from(`datamesh wrapped key v${version}\0${context}`, 'utf8'));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    throw authFailed('a wrapped data key');
  }
}

const KEY_CHECK_CONTEXT = 'key check';
const KEY_CHECK_VALUE = Buffer.alloc(KEY_BYTES, 0x5a);

/** A value that only this KEK can open: stored once per data directory. */
export function makeKeyCheck(kek: Uint8Array): Buffer {
  return wrapKey(kek, KEY_CHECK_VALUE, KEY_CHECK_CONTEXT);
}

/** True when `check` (from makeKeyCheck) was made with this KEK. */
export function verifyKeyCheck(kek: Uint8Array, check: Uint8Array): boolean {
  try {
    return unwrapKey(kek, check, KEY_CHECK_CONTEXT).equals(KEY_CHECK_VALUE);
  } catch {
    return false;
  }
}
