/**
 * Shard ids: the CIDv1 (raw codec 0x55, sha2-256 multihash) of a shard's ciphertext bytes, as a
 * base32 string ("bafkrei..."). Any holder can check a shard against its id without a key.
 * Hashing goes through node:crypto (OpenSSL), not multiformats' hasher. Bulk hashing of shards
 * runs in the codec workers (codec-pool.ts); these forms serve small and one-off work.
 */
import { createHash, webcrypto } from 'node:crypto';
import { idFromDigest as encodeId } from './core.mjs';

const DIGEST_BYTES = 32;

/** Every shard id matches this: "b" (base32 multibase) + 58 lower-case base32 characters. */
export const SHARD_ID_PATTERN = /^bafkrei[a-z2-7]{52}$/;

export function isShardId(id: string): boolean {
  return SHARD_ID_PATTERN.test(id);
}

/** The CID string of a sha2-256 digest. */
export function idFromDigest(digest: Uint8Array): string {
  if (digest.length !== DIGEST_BYTES) throw new Error(`a sha2-256 digest is 32 bytes, got ${digest.length}`);
  return encodeId(digest);
}

/** The shard id of `bytes` (sync: blocks the event loop for large inputs). */
export function shardId(bytes: Uint8Array): string {
  return idFromDigest(createHash('sha256').update(bytes).digest());
}

/** The shard id of `bytes`, hashed on the libuv thread pool. */
export async function shardIdAsync(bytes: Uint8Array): Promise<string> {
  return idFromDigest(new Uint8Array(await webcrypto.subtle.digest('SHA-256', bytes)));
}

/** True when `bytes` hash to `id` (sync). */
export function verifyShard(id: string, bytes: Uint8Array): boolean {
  return shardId(bytes) === id;
}

/** True when `bytes` hash to `id`, hashed on the thread pool. */
export async function verifyShardAsync(id: string, bytes: Uint8Array): Promise<boolean> {
  return (await shardIdAsync(bytes)) === id;
}
