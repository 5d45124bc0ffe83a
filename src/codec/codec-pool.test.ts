import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { CodecPool } from './codec-pool.ts';
import { paddedLength } from './core.mjs';
import { decryptSegment, encryptSegment } from './crypto.ts';
import { encode } from './erasure.ts';
import { shardId } from './cid.ts';

const workers = new CodecPool({ workers: 2, inlineBelow: 0 });
const inline = new CodecPool({ workers: 0 });
afterAll(() => workers.close());

function stripeJob(data: Buffer, k: number, m: number, index = 7) {
  const padded = paddedLength(data.length, k);
  const shardSize = (padded + 16) / k;
  const plain = new ArrayBuffer(padded);
  new Uint8Array(plain).set(data);
  return { key: randomBytes(32), manifestId: 'man-x', index, length: data.length, k, m, plain, sealed: new ArrayBuffer(shardSize * k), parity: new ArrayBuffer(shardSize * m || 8) };
}

describe('codec pool', () => {
  it('seals in a worker exactly as the reference functions do: encrypt padded segment, RS-encode, CIDs', async () => {
    for (const [k, m] of [[4, 2], [3, 1], [6, 3], [2, 0]] as const) {
      for (const size of [1, 100, 4095, 65536, 200_001]) {
        const data = randomBytes(size);
        const job = stripeJob(data, k, m);
        const key = Buffer.from(job.key);
        const r = await workers.seal(job);
        expect(job.plain.byteLength).toBe(0); // transferred away...
        expect(r.plain.byteLength).toBe(paddedLength(size, k)); // ...and back
        const padded = Buffer.concat([data, Buffer.alloc(paddedLength(size, k) - size)]);
        const sealed = encryptSegment(key, 'man-x', 7, padded);
        expect(Buffer.from(r.sealed).equals(sealed)).toBe(true);
        const shards = await encode(sealed, k, m);
        expect(r.shardSize).toBe(shards[0]!.length);
        expect(r.ids).toEqual(shards.map((s) => shardId(s)));
        expect(Buffer.from(r.parity, 0, r.shardSize * m).equals(Buffer.concat(shards.slice(k)))).toBe(true);
      }
    }
  });

  it('opens from the shards as pieces, inline and in a worker, and refuses a flipped bit', async () => {
    const data = randomBytes(300_000);
    const job = stripeJob(data, 4, 2, 3);
    const key = Buffer.from(job.key);
    const r = await inline.seal(job);
    const sealed = new Uint8Array(r.sealed);
    const pieces = () => [0, 1, 2, 3].map((i) => Uint8Array.from(sealed.subarray(i * r.shardSize, (i + 1) * r.shardSize)));
    const open = { key, manifestId: 'man-x', index: 3, size: data.length, sealedLength: r.shardSize * 4 };
    for (const pool of [inline, workers]) {
      expect((await pool.open({ ...open, pieces: pieces() }, { transfer: true })).equals(data)).toBe(true);
      expect((await pool.open({ ...open, pieces: [sealed] })).equals(data)).toBe(true);
      const bad = pieces();
      bad[2]![1000]! ^= 0x04;
      await expect(pool.open({ ...open, pieces: bad })).rejects.toMatchObject({ name: 'AuthenticationError' });
      await expect(pool.open({ ...open, index: 4, pieces: pieces() })).rejects.toThrow(/failed authentication/);
    }
    // the same bytes open with the reference function
    expect(decryptSegment(key, 'man-x', 3, sealed).subarray(0, data.length).equals(data)).toBe(true);
  });

  it('hashes with or without transfer', async () => {
    const owned = randomBytes(1 << 20);
    const ownedCopy = Buffer.from(owned);
    const view = randomBytes(1 << 20).subarray(10);
    const r = await workers.hash([owned, view], { transfer: true });
    expect(r.ids).toEqual([shardId(ownedCopy), shardId(view)]);
    expect(Buffer.from(r.buffers[0]!).equals(ownedCopy)).toBe(true);
    expect(r.buffers[1]).toBe(view); // a view of a larger buffer is copied, never detached
    expect(view.length).toBe((1 << 20) - 10);
    const kept = randomBytes(1 << 20);
    await workers.hash([kept]);
    expect(kept.length).toBe(1 << 20);
  });

  it('rejects the jobs in flight when its worker goes away, then starts a new one', async () => {
    const pool = new CodecPool({ workers: 1, inlineBelow: 0 });
    await pool.hash([randomBytes(64)]); // started
    const pending = pool.hash([Buffer.alloc(48 << 20, 1)]); // ~30 ms of hashing: still running when the worker is terminated
    await pool.close();
    await expect(pending).rejects.toThrow(/codec worker exited/);
    const again = randomBytes(1000);
    expect((await pool.hash([again])).ids).toEqual([shardId(again)]);
    await pool.close();
  });
});
