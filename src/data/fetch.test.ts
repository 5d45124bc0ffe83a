import { describe, expect, it } from 'vitest';
import { fetchShards } from './fetch.ts';
import type { ShardNetwork } from '../../mesh/shards.ts';
import type { SegmentPlan } from './schema.ts';

const SIZE = 8;
const plan: SegmentPlan = {
  idx: 0,
  size: 32,
  shard_size: SIZE,
  shards: Array.from({ length: 6 }, (_, i) => ({ id: `id${i}`, peer: `p${i}` })),
};

function network(get: (peer: string, id: string) => Promise<Uint8Array | undefined>): ShardNetwork {
  return {
    self: 'p0',
    place: (ids) => ids.map(() => 'p0'),
    put: async () => {},
    get,
    has: async () => true,
    delete: async () => {},
    localPath: () => undefined,
  };
}

const opts = { signal: new AbortController().signal, hedgeAfterMs: 5_000, onBad: () => {} };

describe('fetchShards', () => {
  it('asks failed shards again when too few arrived, so a transient stream reset is not a lost segment', async () => {
    const calls = new Map<string, number>();
    const net = network(async (_peer, id) => {
      const n = (calls.get(id) ?? 0) + 1;
      calls.set(id, n);
      if (id === 'id0' || id === 'id1') throw new Error('peer is down'); // two peers gone for good
      if (id === 'id2' && n === 1) throw new Error('Cannot write to a stream that is closed'); // transient
      return new Uint8Array(SIZE).fill(Number(id.slice(2)));
    });
    const got = await fetchShards(net, plan, 4, opts);
    expect(got.filter(Boolean).length).toBeGreaterThanOrEqual(4);
    expect(got[2]).toBeDefined();
    expect(calls.get('id2')).toBe(2);
  });

  it('gives up after its retries when the shards stay unreadable', async () => {
    let calls = 0;
    const net = network(async (_peer, id) => {
      calls++;
      if (['id0', 'id1', 'id2'].includes(id)) throw new Error('gone');
      return new Uint8Array(SIZE);
    });
    const got = await fetchShards(net, plan, 4, opts);
    expect(got.filter(Boolean).length).toBe(3);
    expect(calls).toBe(6 + 3 * 3); // every shard once, then three retry rounds of the three failures
  });
});
