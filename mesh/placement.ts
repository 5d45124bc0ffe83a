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
