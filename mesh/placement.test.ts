import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { shardId } from '../src/codec/cid.ts';
import { placeShards, rankForShard, replaceShards } from './placement.ts';

const ids = (n: number) => Array.from({ length: n }, () => shardId(randomBytes(32)));
const peers = (n: number) => Array.from({ length: n }, (_, i) => `12D3KooWpeer${i}`);

describe('placeShards (rendezvous hashing)', () => {
  it('gives n distinct peers when there are enough, the same answer every time, whatever the peer order', () => {
    const shards = ids(6);
    const ps = peers(10);
    const a = placeShards(shards, ps);
    expect(new Set(a).size).toBe(6);
    expect(placeShards(shards, [...ps].reverse())).toEqual(a);
    for (const p of a) expect(ps).toContain(p);
  });

  it('reuses peers evenly when there are fewer peers than shards', () => {
    const a = placeShards(ids(6), peers(4));
    const counts = [...new Set(a)].map((p) => a.filter((x) => x === p).length).sort();
    expect(counts).toEqual([1, 1, 2, 2]);
    expect(placeShards(ids(3), peers(1))).toEqual(['12D3KooWpeer0', '12D3KooWpeer0', '12D3KooWpeer0']);
  });

  it('moves only the shards of a peer that leaves', () => {
    let moved = 0;
    for (let i = 0; i < 50; i++) {
      const shards = ids(6);
      const ps = peers(12);
      const before = placeShards(shards, ps);
      const gone = before[0]!;
      const after = placeShards(shards, ps.filter((p) => p !== gone));
      expect(after).not.toContain(gone);
      moved += after.filter((p, j) => p !== before[j]).length;
    }
    // one shard per segment must move; distinctness may shift a few more, never most of them
    expect(moved).toBeGreaterThanOrEqual(50);
    expect(moved).toBeLessThan(50 * 3);
  });

  it('spreads shards over all peers', () => {
    const ps = peers(8);
    const hits = new Map(ps.map((p) => [p, 0]));
    for (let i = 0; i < 400; i++) for (const p of placeShards(ids(1), ps)) hits.set(p, hits.get(p)! + 1);
    for (const n of hits.values()) expect(n).toBeGreaterThan(20);
  });

  it('ranks peers by weight and refuses an empty peer list', () => {
    const [id] = ids(1);
    const ranked = rankForShard(id!, peers(5));
    expect([...ranked].sort()).toEqual(peers(5));
    expect(placeShards([id!], peers(5))).toEqual([ranked[0]]);
    expect(() => placeShards([id!], [])).toThrow(RangeError);
  });

  it('replaces shards onto peers that hold no other shard of the segment, two moving shards never on one peer', () => {
    for (let t = 0; t < 100; t++) {
      const shards = ids(6);
      const ps = peers(8);
      const where = placeShards(shards, ps);
      const moving = [1, 4];
      const got = replaceShards(shards, where, moving, [ps]);
      const after = where.map((p, i) => (moving.includes(i) ? got[moving.indexOf(i)]! : p));
      expect(new Set(after).size).toBe(6);
    }
  });

  it('tries healthy peers first and gives undefined when no peer is free', () => {
    const shards = ids(3);
    expect(replaceShards(shards, ['a', 'b', 'c'], [2], [['a', 'b'], ['d']])).toEqual(['d']);
    expect(replaceShards(shards, ['a', 'b', 'c'], [1, 2], [['a', 'x'], ['y']])).toEqual(expect.arrayContaining(['x', 'y']));
    expect(replaceShards(shards, ['a', 'b', 'c'], [2], [['a', 'b']])).toEqual([undefined]);
  });
});
