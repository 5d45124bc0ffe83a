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

/** Six peers in memory; `flaky` fails its first puts. */
function sixPeers(flaky: string, failures: number): ShardNetwork & { held: Map<string, Map<string, Uint8Array>> } {
  const peers = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6'];
  const held = new Map(peers.map((p) => [p, new Map<string, Uint8Array>()]));
  let left = failures;
  return {
    self: 'p1',
    held,
    place: (ids) => ids.map((_, i) => peers[i % peers.length]!),
    async put(peer, id, bytes) {
      if (peer === flaky && left-- > 0) throw new Error(`peer ${peer} timed out`);
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

describe('write quorum', () => {
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
