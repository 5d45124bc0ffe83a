/**
 * Shard ids: the CIDv1 (raw codec 0x55) of a shard's ciphertext bytes, as a base32 string. New
 * shards are named by their BLAKE3 digest (multihash 0x1e, "bafkr4i..."); shards written before
 * by their sha2-256 digest (0x12, "bafkrei...") stay readable and verifiable: an id says which
 * hash checks it. Any holder can check a shard against its id without a key. Hashing goes through
 * native code (@napi-rs/blake-hash, node:crypto), not multiformats' hashers. Bulk hashing of
 * shards runs in the codec workers (codec-pool.ts); these forms serve small and one-off work.
 */
import { createHash, webcrypto } from 'node:crypto';
import { BLAKE3, hashShard, idFromDigest as encodeId, idHash, SHA2_256 } from './core.mjs';
import { codecPool } from './codec-pool.ts';

const DIGEST_BYTES = 32;

/** Every shard id matches this: "b" (base32 multibase) + "afkr" + "ei" (sha2-256) or "4i" (BLAKE3) + 52 base32 characters. */
export const SHARD_ID_PATTERN = /^bafkr(?:ei|4i)[a-z2-7]{52}$/;

export function isShardId(id: string): boolean {
  return SHARD_ID_PATTERN.test(id);
}

/** The CID string of a 32-byte digest: sha2-256 (the default) or `hash: 'blake3'`. */
export function idFromDigest(digest: Uint8Array, hash: 'sha2-256' | 'blake3' = 'sha2-256'): string {
  if (digest.length !== DIGEST_BYTES) throw new Error(`a ${hash} digest is 32 bytes, got ${digest.length}`);
  return encodeId(digest, hash === 'blake3' ? BLAKE3 : SHA2_256);
}

/** The shard id of new bytes: BLAKE3 (sync: blocks the event loop for large inputs). */
export function shardId(bytes: Uint8Array): string {
  return hashShard(bytes);
}

/** The old kind of shard id, sha2-256 (what shards written before BLAKE3 carry). */
export function sha256ShardId(bytes: Uint8Array): string {
  return encodeId(createHash('sha256').update(bytes).digest(), SHA2_256);
}

/** The shard id of new bytes (BLAKE3), hashed in a codec worker. */
export async function shardIdAsync(bytes: Uint8Array): Promise<string> {
  return (await codecPool().hash([bytes])).ids[0]!;
}

/** True when `bytes` hash to `id`, by the hash `id` names (sync). */
export function verifyShard(id: string, bytes: Uint8Array): boolean {
  return idHash(id) !== undefined && hashShard(bytes, id) === id;
}

/** True when `bytes` hash to `id`, hashed off the event loop (sha2-256 on the thread pool, BLAKE3 in a codec worker). */
export async function verifyShardAsync(id: string, bytes: Uint8Array): Promise<boolean> {
  const code = idHash(id);
  if (code === SHA2_256) return encodeId(new Uint8Array(await webcrypto.subtle.digest('SHA-256', bytes)), SHA2_256) === id;
  return code === BLAKE3 && (await codecPool().hash([bytes], { like: [id] })).ids[0] === id;
}
