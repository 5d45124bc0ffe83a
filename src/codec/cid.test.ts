import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { isShardId, shardId, shardIdAsync, verifyShard, verifyShardAsync } from './cid.ts';

describe('shard ids', () => {
  it('are the CIDv1 raw sha2-256 base32 of the bytes, as multiformats computes it', async () => {
    for (const size of [0, 1, 31, 32, 1000, 65536]) {
      const bytes = randomBytes(size);
      const expected = CID.create(1, raw.code, await sha256.digest(bytes)).toString();
      expect(shardId(bytes)).toBe(expected);
      expect(await shardIdAsync(bytes)).toBe(expected);
      expect(isShardId(expected)).toBe(true);
      expect(CID.parse(expected).code).toBe(0x55);
    }
  });

  it('verify the bytes and reject any change', async () => {
    const bytes = randomBytes(4096);
    const id = shardId(bytes);
    expect(verifyShard(id, bytes)).toBe(true);
    expect(await verifyShardAsync(id, bytes)).toBe(true);
    bytes[1234]! ^= 0x01;
    expect(verifyShard(id, bytes)).toBe(false);
    expect(await verifyShardAsync(id, bytes)).toBe(false);
  });

  it('rejects strings that are not shard ids (no path tricks)', () => {
    expect(isShardId('../../etc/passwd')).toBe(false);
    expect(isShardId('bafkrei' + 'a'.repeat(51))).toBe(false);
    expect(isShardId('Bafkrei' + 'a'.repeat(52))).toBe(false);
    expect(isShardId(shardId(Buffer.from('x')) + '/')).toBe(false);
  });
});
