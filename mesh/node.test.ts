import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { shardId } from '../src/codec/cid.ts';
import { PEER_KEY_FILE } from './identity.ts';
import { TestMesh, waitFor } from './testing/cluster.ts';

describe('createMeshNode: persistent identity and peer store', () => {
  const mesh = new TestMesh();
  afterAll(() => mesh.close());

  it('a restarted gateway keeps its peer id and finds its peers again from its peer store; a restarted peer keeps its id', async () => {
    const gwDir = mesh.dir('gateway');
    let gw = await mesh.start({ role: 'gateway', dataDir: gwDir });
    const gatewayId = gw.peerId;
    expect(statSync(join(gwDir, PEER_KEY_FILE)).mode & 0o777).toBe(0o600);
    // Storage peers that will never re-dial the gateway by themselves.
    const a = await mesh.start({ bootstrap: gw.multiaddrs, redialIntervalMs: 3_600_000 });
    const b = await mesh.start({ bootstrap: gw.multiaddrs, redialIntervalMs: 3_600_000 });
    const upBoth = () => [a, b].every((n) => gw.peers().some((p) => p.id === n.peerId && p.state === 'up' && p.shardsHeld !== null));
    await waitFor('the gateway to see both peers up', upBoth);

    const bytes = new Uint8Array(randomBytes(5000));
    const id = shardId(bytes);
    await gw.network.put(a.peerId, id, bytes);
    await mesh.stop(gw);

    // New port, no --bootstrap: only the persistent peer store can lead it back.
    gw = await mesh.start({ role: 'gateway', dataDir: gwDir });
    expect(gw.peerId).toBe(gatewayId);
    expect(gw.peers().filter((p) => !p.self).map((p) => p.state)).toEqual(['suspect', 'suspect']); // remembered, not heard from yet
    await waitFor('the restarted gateway to see both peers up', upBoth);
    expect(Buffer.from((await gw.network.get(a.peerId, id))!).equals(Buffer.from(bytes))).toBe(true);

    // A storage peer restarted on its own directory comes back with the same id and its shards.
    const aDir = join(mesh.root, 'node-0');
    const aId = a.peerId;
    await mesh.stop(a);
    await waitFor('the gateway to mark the stopped peer down', () => gw.downSince(aId) !== undefined);
    const back = new Promise<string>((resolve) => gw.onPeerUp((peer) => peer === aId && resolve(peer)));
    const a2 = await mesh.start({ dataDir: aDir, bootstrap: gw.multiaddrs });
    expect(a2.peerId).toBe(aId);
    expect(await back).toBe(aId);
    expect(gw.downSince(aId)).toBeUndefined();
    expect(await gw.network.has(aId, id)).toBe(true);
    // and the gateway is still the owner: it may delete the shard
    await gw.network.delete(aId, id);
    expect(await gw.network.has(aId, id)).toBe(false);
  });
});
