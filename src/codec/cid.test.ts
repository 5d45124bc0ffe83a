import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { blake3 } from '@napi-rs/blake-hash';
import { create as createDigest } from 'multiformats/hashes/digest';
import { isShardId, sha256ShardId, shardId, shardIdAsync, verifyShard, verifyShardAsync } from './cid.ts';
import { codecPool } from './codec-pool.ts';

describe('shard ids', () => {
  it('of new shards are the CIDv1 raw BLAKE3 (multihash 0x1e) base32 of the bytes, as multiformats encodes it', async () => {
    for (const size of [0, 1, 31, 32, 1000, 65536]) {
      const bytes = randomBytes(size);
      const expected = CID.create(1, raw.code, createDigest(0x1e, blake3(bytes))).toString();
      expect(expected.startsWith('bafkr4i')).toBe(true);
      expect(shardId(bytes)).toBe(expected);
      expect(await shardIdAsync(bytes)).toBe(expected);
      expect(isShardId(expected)).toBe(true);
      expect(CID.parse(expected).code).toBe(0x55);
      expect(CID.parse(expected).multihash.code).toBe(0x1e);
    }
  });

  it('of old shards (CIDv1 raw sha2-256) stay valid ids', async () => {
    for (const size of [0, 1000, 65536]) {
      const bytes = randomBytes(size);
      const expected = CID.create(1, raw.code, await sha256.digest(bytes)).toString();
      expect(sha256ShardId(bytes)).toBe(expected);
      expect(isShardId(expected)).toBe(true);
    }
  });

  it('verify the bytes by the hash the id names, both kinds, inline and in a worker, and reject any change', async () => {
    for (const size of [4096, 1 << 20]) {
      const bytes = randomBytes(size);
      for (const id of [shardId(bytes), sha256ShardId(bytes)]) {
        expect(verifyShard(id, bytes), id).toBe(true);
        expect(await verifyShardAsync(id, bytes), id).toBe(true);
        expect((await codecPool().hash([bytes], { like: [id] })).ids[0]).toBe(id);
      }
      const [b3, sha] = [shardId(bytes), sha256ShardId(bytes)];
      bytes[1234]! ^= 0x01;
      for (const id of [b3, sha]) {
        expect(verifyShard(id, bytes), id).toBe(false);
        expect(await verifyShardAsync(id, bytes), id).toBe(false);
      }
      // a sha2-256 id is not satisfied by the BLAKE3 digest of the same bytes, nor the other way round
      bytes[1234]! ^= 0x01;
      expect(verifyShard(b3.replace('bafkr4i', 'bafkrei'), bytes)).toBe(false);
      expect(verifyShard(sha.replace('bafkrei', 'bafkr4i'), bytes)).toBe(false);
    }
  });

  it('rejects strings that are not shard ids (no path tricks)', () => {
    expect(isShardId('../../etc/passwd')).toBe(false);
    expect(isShardId('bafkrei' + 'a'.repeat(51))).toBe(false);
    expect(isShardId('Bafkrei' + 'a'.repeat(52))).toBe(false);
    expect(isShardId('bafkr5i' + 'a'.repeat(52))).toBe(false);
    expect(isShardId(shardId(Buffer.from('x')) + '/')).toBe(false);
  });
});
