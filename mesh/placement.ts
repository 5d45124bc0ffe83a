/**
 * Placement of a segment's shards on peers by rendezvous (highest random weight) hashing: every
 * (shard id, peer id) pair gets a pseudo-random weight, and each shard goes to the heaviest peer
 * not yet used by the segment. With a load (shards each peer holds), each shard goes to the least
 * loaded of its `choices` heaviest free peers (the power of two choices): the spread stays within a
 * few percent of even however many shards, where plain hashing leaves the fullest peer some
 * sqrt(mean) shards over the mean (measured by npm run simulate). A peer joining or leaving moves
 * only the shards it wins or held. With fewer peers than shards, peers are reused evenly (least
 * used first), still in weight order.
 *
 * Weights are two 32-bit murmur3 mixes of a per-id hash and a per-peer hash (no crypto: placement
 * needs spread, not secrecy), about 10 ns a pair, so one placement over 10,000 peers costs ~0.1 ms.
 */

/** FNV-1a over the UTF-16 code units of `s`, then murmur3's finalizer; `seed` gives a second, independent hash. */
function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const peerHashes = new Map<string, [number, number]>();
function peerHash(peer: string): [number, number] {
  let h = peerHashes.get(peer);
  if (h === undefined) {
    if (peerHashes.size > 100_000) peerHashes.clear();
    h = [hash32(peer, 0), hash32(peer, 0x9e3779b9)];
    peerHashes.set(peer, h);
  }
  return h;
}

/** The rendezvous weight of `peer` for `shardId`: a 53-bit number, heavier wins. */
export function rendezvousWeight(shardId: string, peer: string): number {
  return weightOf(hash32(shardId, 0), hash32(shardId, 0x9e3779b9), peerHash(peer));
}

function weightOf(s0: number, s1: number, [p0, p1]: [number, number]): number {
  return fmix32(s0 ^ p0) * 0x200000 + (fmix32(s1 ^ p1) >>> 11);
}

/** `peers` ordered heaviest first for `shardId`. */
export function rankForShard(shardId: string, peers: readonly string[]): string[] {
  const s0 = hash32(shardId, 0);
  const s1 = hash32(shardId, 0x9e3779b9);
  return peers
    .map((peer) => ({ peer, w: weightOf(s0, s1, peerHash(peer)) }))
    .sort((a, b) => (a.w === b.w ? (a.peer < b.peer ? -1 : 1) : b.w - a.w))
    .map((x) => x.peer);
}

/** A peer list made unique, with its hashes: kept per list object, so the same (unmutated) list is hashed once. */
interface PeerTable {
  peers: string[];
  h0: Uint32Array;
  h1: Uint32Array;
}
const tables = new WeakMap<readonly string[], PeerTable>();
function tableOf(list: readonly string[]): PeerTable {
  let t = tables.get(list);
  if (t === undefined || t.peers.length > list.length) {
    const peers = [...new Set(list)];
    t = { peers, h0: new Uint32Array(peers.length), h1: new Uint32Array(peers.length) };
    for (const [i, p] of peers.entries()) [t.h0[i], t.h1[i]] = peerHash(p);
    tables.set(list, t);
  }
  return t;
}

/** The `count` heaviest peers of `list` for `shardId` not in `skip`, heaviest first, in one pass (no sort of all peers). */
function topFor(shardId: string, list: readonly string[], count: number, skip: ReadonlySet<string>): string[] {
  const s0 = hash32(shardId, 0);
  const s1 = hash32(shardId, 0x9e3779b9);
  const { peers, h0, h1 } = tableOf(list);
  const top: { peer: string; w: number }[] = [];
  for (let i = 0; i < peers.length; i++) {
    const w = fmix32(s0 ^ h0[i]!) * 0x200000 + (fmix32(s1 ^ h1[i]!) >>> 11);
    if (top.length === count && w <= top[count - 1]!.w) continue;
    const peer = peers[i]!;
    if (skip.has(peer)) continue;
    let at = top.length === count ? count - 1 : top.length;
    if (top.length < count) top.push({ peer, w });
    while (at > 0 && top[at - 1]!.w < w) {
      top[at] = top[at - 1]!;
      at--;
    }
    top[at] = { peer, w };
  }
  return top.map((t) => t.peer);
}

export interface PlaceOptions {
  /** Shards each peer holds now (missing: 0). Without it, pure rendezvous hashing. */
  load?: (peer: string) => number;
  /** Heaviest free peers compared by load for each shard (default 2 with a load). */
  choices?: number;
}

/**
 * One peer per shard id: distinct while there are enough peers, otherwise spread evenly.
 * Throws a RangeError when `peers` is empty.
 */
export function placeShards(shardIds: readonly string[], peers: readonly string[], opts: PlaceOptions = {}): string[] {
  const unique = tableOf(peers).peers;
  if (unique.length === 0) throw new RangeError('no peers to place shards on');
  if (unique.length < shardIds.length) {
    const uses = new Map<string, number>(unique.map((p) => [p, 0]));
    return shardIds.map((id) => {
      const ranked = rankForShard(id, unique);
      let best = ranked[0]!;
      for (const peer of ranked) if (uses.get(peer)! < uses.get(best)!) best = peer;
      uses.set(best, uses.get(best)! + 1);
      return best;
    });
  }
  const used = new Set<string>();
  const choices = opts.load ? Math.max(1, opts.choices ?? 2) : 1;
  return shardIds.map((id) => {
    const top = topFor(id, peers, choices, used);
    let best = top[0]!;
    if (opts.load) for (const peer of top) if (opts.load(peer) < opts.load(best)) best = peer;
    used.add(best);
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
      const peer = topFor(ids[i]!, tier, 1, held)[0];
      if (peer !== undefined) {
        held.add(peer);
        return peer;
      }
    }
    return undefined;
  });
}
