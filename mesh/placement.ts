/**
 * Placement of a segment's shards on peers by rendezvous (highest random weight) hashing: every
 * (shard id, peer id) pair gets a pseudo-random weight, and each shard goes to the heaviest peer
 * not yet used by the segment. The same shard ids and the same live peers always give the same
 * answer, and a peer joining or leaving moves only the shards it wins or held. With fewer peers
 * than shards, peers are reused evenly (least used first), still in weight order.
 */
import { createHash } from 'node:crypto';

/** The rendezvous weight of `peer` for `shardId` (first 8 bytes of sha256(shardId NUL peer)). */
export function rendezvousWeight(shardId: string, peer: string): bigint {
  return createHash('sha256').update(shardId).update('\0').update(peer).digest().readBigUInt64BE(0);
}

/** `peers` ordered heaviest first for `shardId`. */
export function rankForShard(shardId: string, peers: readonly string[]): string[] {
  return peers
    .map((peer) => ({ peer, w: rendezvousWeight(shardId, peer) }))
    .sort((a, b) => (a.w === b.w ? (a.peer < b.peer ? -1 : 1) : a.w > b.w ? -1 : 1))
    .map((x) => x.peer);
}

/**
 * One peer per shard id: distinct while there are enough peers, otherwise spread evenly.
 * Throws a RangeError when `peers` is empty.
 */
export function placeShards(shardIds: readonly string[], peers: readonly string[]): string[] {
  const unique = [...new Set(peers)];
  if (unique.length === 0) throw new RangeError('no peers to place shards on');
  const uses = new Map<string, number>(unique.map((p) => [p, 0]));
  return shardIds.map((id) => {
    const ranked = rankForShard(id, unique);
    let best = ranked[0]!;
    for (const peer of ranked) if (uses.get(peer)! < uses.get(best)!) best = peer;
    uses.set(best, uses.get(best)! + 1);
    return best;
  });
}

/**
 * New homes for some shards of one segment (a write that timed out, a doubled shard, a rebuilt
 * one): shard `i` of `moving` goes to the heaviest peer for its id that holds no other shard of the
 * segment, trying the peers of `tiers` in order (healthy ones first, then the rest). `where[i]` is
 * where shard i is now; shards in `moving` do not count as held, and every choice made here counts
 * for the next one, so two moving shards never land on one peer. A shard with no free peer gets
 * undefined (the caller decides: keep it, or put it on this node).
 */
export function replaceShards(
  ids: readonly string[],
  where: readonly (string | undefined)[],
  moving: readonly number[],
  tiers: readonly (readonly string[])[],
): (string | undefined)[] {
  const held = new Set(where.filter((p, i): p is string => p !== undefined && !moving.includes(i)));
  return moving.map((i) => {
    for (const tier of tiers) {
      const peer = rankForShard(ids[i]!, [...new Set(tier)]).find((p) => !held.has(p));
      if (peer !== undefined) {
        held.add(peer);
        return peer;
      }
    }
    return undefined;
  });
}
