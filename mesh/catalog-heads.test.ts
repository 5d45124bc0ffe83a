import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeshNode } from './node.ts';
import { TestMesh, waitFor } from './testing/cluster.ts';
import { verifyHead, type CatalogHeadsService } from './catalog-heads.ts';

describe('catalog heads over real libp2p peers', () => {
  const mesh = new TestMesh();
  let gw: MeshNode;
  let other: MeshNode;
  let peer: MeshNode;
  const heads = (n: MeshNode): CatalogHeadsService => n.libp2p.services.heads;
  const body = (gateway: string, seq: number) => JSON.stringify({ gateway, seq, snapshot: { note: 'opaque to peers' } });

  beforeAll(async () => {
    gw = await mesh.start({ role: 'gateway' });
    other = await mesh.start({ role: 'gateway' });
    peer = await mesh.start({ bootstrap: gw.multiaddrs });
    await waitFor('the gateway to see the peer', () => gw.peers().some((p) => p.id === peer.peerId && p.state === 'up'));
    await other.libp2p.dial(peer.libp2p.getMultiaddrs()[0]!);
  });
  afterAll(() => mesh.close());

  it('a peer keeps the newest signed head of each gateway, refuses older ones and heads of another gateway', async () => {
    const h2 = await heads(gw).sign(body(gw.peerId, 2));
    expect(await verifyHead(h2)).toBe(true);
    await heads(gw).publish(peer.peerId, h2);
    expect(await heads(other).fetch(peer.peerId, gw.peerId)).toEqual([h2]);

    // a stale gateway cannot roll the head back
    const h1 = await heads(gw).sign(body(gw.peerId, 1));
    await expect(heads(gw).publish(peer.peerId, h1)).rejects.toMatchObject({ code: 'Stale', seq: 2 });
    const h3 = await heads(gw).sign(body(gw.peerId, 3));
    await heads(gw).publish(peer.peerId, h3);

    // another gateway cannot write a head in this gateway's name, even with a copied signature
    const forged = await heads(other).sign(body(gw.peerId, 9));
    expect(await verifyHead(forged)).toBe(false);
    await expect(heads(other).publish(peer.peerId, forged)).rejects.toMatchObject({ code: 'Denied' });
    await expect(heads(other).publish(peer.peerId, { body: body(gw.peerId, 9), sig: h3.sig })).rejects.toMatchObject({ code: 'Denied' });
    // a tampered body no longer verifies
    expect(await verifyHead({ body: h3.body.replace('"seq":3', '"seq":4'), sig: h3.sig })).toBe(false);

    const mine = await heads(other).sign(body(other.peerId, 1));
    await heads(other).publish(peer.peerId, mine);
    const all = await heads(gw).fetch(peer.peerId);
    expect(all.map((h) => h.body).sort()).toEqual([h3.body, mine.body].sort());
  });
});
