/** SigV4 primitives: hashes, the (cached) signing key, strings to sign, constant-time comparison. */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
export const hmac = (key: Uint8Array | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();
export const hmacHex = (key: Uint8Array, data: string): string => createHmac('sha256', key).update(data, 'utf8').digest('hex');

const CACHE_MAX = 256;
const keyCache = new Map<string, Buffer>();

/**
 * kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"), cached
 * per (secret, date, region, service) in a small LRU map: four HMACs per request add up at high rates.
 */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const id = `${date}\n${region}\n${service}\n${secret}`;
  const hit = keyCache.get(id);
  if (hit !== undefined) {
    keyCache.delete(id);
    keyCache.set(id, hit);
    return hit;
  }
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  keyCache.set(id, key);
  if (keyCache.size > CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  return key;
}

export const scopeOf = (date: string, region: string, service: string): string => `${date}/${region}/${service}/aws4_request`;

export const stringToSign = (datetime: string, scope: string, canonicalRequest: string): string =>
  `${ALGORITHM}\n${datetime}\n${scope}\n${sha256Hex(canonicalRequest)}`;

export const chunkStringToSign = (datetime: string, scope: string, previous: string, chunkSha256Hex: string): string =>
  `${ALGORITHM}-PAYLOAD\n${datetime}\n${scope}\n${previous}\n${EMPTY_SHA256}\n${chunkSha256Hex}`;

export const trailerStringToSign = (datetime: string, scope: string, previous: string, trailerSha256Hex: string): string =>
  `${ALGORITHM}-TRAILER\n${datetime}\n${scope}\n${previous}\n${trailerSha256Hex}`;

const SIGNATURE = /^[0-9a-f]{64}$/;

/** Constant-time comparison of a computed hex signature with the one the client sent. */
export function signaturesEqual(computedHex: string, providedHex: string): boolean {
  const provided = providedHex.toLowerCase();
  if (!SIGNATURE.test(provided)) return false;
  return timingSafeEqual(Buffer.from(computedHex, 'hex'), Buffer.from(provided, 'hex'));
}

/** ISO 8601 basic format (20130524T000000Z). */
export const toAmzDate = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z').replace(/[-:]/g, '');

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** Parses 20130524T000000Z; undefined when malformed. */
export function parseAmzDate(s: string): Date | undefined {
  const m = AMZ_DATE.exec(s.trim());
  if (m === null) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, se));
  return toAmzDate(date) === s.trim() ? date : undefined;
}
