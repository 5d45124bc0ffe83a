/** A PUT that met its write quorum has its missing shards completed in the background. */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { ShardNetwork } from '../../mesh/shards.ts';
import { chunked, collectBytes, ecFixture, label, type EcFixture } from './testing/ec.ts';

let f: EcFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

/** Six peers in memory (`place` gives p1..p6 in order); each `flaky` peer fails its first `failures` puts. */
function sixPeers(flaky: string | string[], failures: number, count = 6): ShardNetwork & { held: Map<string, Map<string, Uint8Array>> } {
  const peers = Array.from({ length: count }, (_, i) => `p${i + 1}`);
  const held = new Map(peers.map((p) => [p, new Map<string, Uint8Array>()]));
  const left = new Map([flaky].flat().map((p) => [p, failures]));
  return {
    self: 'p1',
    held,
    place: (ids) => ids.map((_, i) => peers[i % 6]!),
    async put(peer, id, bytes) {
      const n = left.get(peer) ?? 0;
      left.set(peer, n - 1);
      if (n > 0) throw new Error(`peer ${peer} timed out`);
      held.get(peer)!.set(id, Uint8Array.from(bytes));
    },
    async get(peer, id) {
      return held.get(peer)?.get(id);
    },
    async has(peer, id) {
      return held.get(peer)?.has(id) ?? false;
    },
    async delete(peer, id) {
      held.get(peer)?.delete(id);
    },
    localPath: () => undefined,
  };
}

async function completed(net: ReturnType<typeof sixPeers>, manifestId: string) {
  const deadline = Date.now() + 5_000;
  const shardsOf = () => f!.store.describe(manifestId).segments[0]!.shards;
  while (Date.now() < deadline && !shardsOf().every((s) => net.held.get(s.location)?.has(s.id))) await new Promise((r) => setTimeout(r, 20));
  return shardsOf();
}

describe('write quorum', () => {
  it('completes a shard that timed out on a free peer when its first peer went down, not on a peer of the segment', async () => {
    const net = sixPeers('p3', 1, 7);
    // as MeshNetwork.place does once p3 is down: six usable peers (p1 is this node) for six shards
    let p3Down = false;
    const base = net.place;
    net.place = (ids) => base(ids).map((p) => (p3Down && p === 'p3' ? 'p7' : p));
    net.targets = () => [['p1', 'p2', 'p4', 'p5', 'p6', 'p7', ...(p3Down ? [] : ['p3'])]];
    const put = net.put;
    net.put = async (peer, id, bytes) => {
      if (peer === 'p3' && !p3Down) {
        p3Down = true;
        throw new Error('peer p3 timed out');
      }
      return put(peer, id, bytes);
    };
    f = ecFixture({ network: net, segmentSize: 256 * 1024, localShards: undefined });
    const w = await f.store.write(chunked(randomBytes(256 * 1024)), {});
    f.store.commit(w.manifestId);
    const shards = await completed(net, w.manifestId);
    expect(shards.every((s) => net.held.get(s.location)?.has(s.id))).toBe(true);
    expect(new Set(shards.map((s) => s.location)).size).toBe(6);
  });

  it('moves a shard doubled up while peers were down to a free peer once there is one, and deletes the extra copy (issue 13: "expected 4 to be 6")', async () => {
    const net = sixPeers([], 0, 7);
    let peersUp = 5; // p6 and p7 are not placeable when the segment is written
    const base = net.place;
    net.place = (ids) => base(ids).map((p, i) => (Number(p.slice(1)) > peersUp ? `p${(i % peersUp) + 1}` : p));
    net.targets = () => [Array.from({ length: peersUp }, (_, i) => `p${i + 1}`)];
    f = ecFixture({ network: net, segmentSize: 256 * 1024, localShards: undefined });
    const w = await f.store.write(chunked(randomBytes(256 * 1024)), {});
    f.store.commit(w.manifestId);
    expect(new Set(f.store.describe(w.manifestId).segments[0]!.shards.map((s) => s.location)).size).toBe(5);
    peersUp = 7;
    const deadline = Date.now() + 5_000;
    const spread = () => new Set(f!.store.describe(w.manifestId).segments[0]!.shards.map((s) => s.location)).size;
    while (Date.now() < deadline && spread() < 6) await new Promise((r) => setTimeout(r, 20));
    const shards = f.store.describe(w.manifestId).segments[0]!.shards;
    expect(new Set(shards.map((s) => s.location)).size).toBe(6);
    for (const s of shards) expect(net.held.get(s.location)!.has(s.id)).toBe(true);
    const copies = [...net.held.values()].reduce((c, m) => c + m.size, 0);
    expect(copies).toBe(6);
  });

  it('succeeds with k+1 shards and writes the missing one in the background, recording where', async () => {
    const net = sixPeers('p3', 1);
    f = ecFixture({ network: net, segmentSize: 256 * 1024, localShards: undefined });
    const data = randomBytes(256 * 1024);
    const w = await f.store.write(chunked(data), {});
    f.store.commit(w.manifestId);
    const deadline = Date.now() + 5_000;
    const shardsOf = () => f!.store.describe(w.manifestId).segments[0]!.shards;
    while (Date.now() < deadline && !shardsOf().every((s) => net.held.get(s.location)?.has(s.id))) await new Promise((r) => setTimeout(r, 20));
    const shards = shardsOf();
    expect(shards.every((s) => net.held.get(s.location)?.has(s.id))).toBe(true);
    expect(new Set(shards.map((s) => s.location)).size).toBe(6);
    expect((await collectBytes(f.store.read(w.manifestId, { start: 0, end: data.length, label }))).equals(data)).toBe(true);
  });
});
