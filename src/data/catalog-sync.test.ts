/**
 * CatalogSync over the real data store tables and a real shard store, with the heads kept in
 * memory (the libp2p side has its own test in mesh/ and the end-to-end test in src/server/).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import Database from 'better-sqlite3';
import { chunked, ecFixture, type EcFixture } from './testing/ec.ts';
import { CatalogSync, StaleCatalogError, type HeadsTransport } from './catalog-sync.ts';
import { openHead, readSnapshot } from './catalog-snapshot.ts';
import { placeShards } from '../../mesh/placement.ts';
import { HEAD_SIGNATURE_DOMAIN, headFields, type SignedHead } from '../../mesh/catalog-heads.ts';
import { silentLog } from '../core/log.ts';

let f: EcFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

async function gatewayHeads() {
  const key = await generateKeyPair('Ed25519');
  const gateway = peerIdFromPrivateKey(key).toString();
  const kept = new Map<string, SignedHead>();
  const transport: HeadsTransport = {
    async sign(body) {
      return { body, sig: Buffer.from(await key.sign(new TextEncoder().encode(HEAD_SIGNATURE_DOMAIN + body))).toString('base64') };
    },
    async publish(peer, head) {
      const old = kept.get(peer);
      if (old && headFields(old).seq > headFields(head).seq) throw Object.assign(new Error('stale'), { code: 'Stale', seq: headFields(old).seq });
      kept.set(peer, head);
    },
    async fetch(peer) {
      const h = kept.get(peer);
      return h ? [h] : [];
    },
  };
  return { key, gateway, kept, transport };
}

function syncOf(fx: EcFixture, g: Awaited<ReturnType<typeof gatewayHeads>>, db: Database.Database = fx.db) {
  return new CatalogSync({
    db,
    masterKey: fx.masterKey,
    gateway: g.gateway,
    network: fx.network,
    heads: g.transport,
    peers: () => [fx.network.self],
    place: placeShards,
    peerKey: async () => Buffer.from(privateKeyToProtobuf(g.key)),
    ec: { k: 2, m: 1 },
    segmentSize: 64 * 1024,
    intervalMs: 60_000,
    log: silentLog,
  });
}

const manifests = (fx: EcFixture) => fx.db.prepare('SELECT id, state FROM ec_manifests ORDER BY id').all() as { id: string; state: string }[];

describe('catalog sync', () => {
  it('deleted data stays until a catalog copy recording the delete is durable in the mesh', async () => {
    const g = await gatewayHeads();
    let sync!: CatalogSync;
    f = ecFixture({ localShards: undefined, collectGate: () => sync.gate() });
    sync = syncOf(f, g);
    const a = await f.store.write(chunked(randomBytes(200_000)), {});
    f.store.commit(a.manifestId);
    f.db.transaction(() => f!.store.release(a.manifestId))();
    // before the start-up check nothing goes (an old backup's pending uploads may be live in the mesh)
    expect(await f.store.collect()).toEqual({ manifests: 0, shards: 0 });
    expect(await sync.check()).toBe(true);
    // checked, but no copy is durable yet: the release is not in the mesh
    expect((await f.store.collect()).manifests).toBe(0);
    expect(await sync.syncNow()).toBe(true);
    expect((await f.store.collect()).manifests).toBe(1);

    const b = await f.store.write(chunked(randomBytes(100_000)), {});
    f.store.commit(b.manifestId);
    f.db.transaction(() => f!.store.release(b.manifestId))();
    expect((await f.store.collect()).manifests).toBe(0);
    expect(manifests(f)).toEqual([{ id: b.manifestId, state: 'released' }]);
    expect(await sync.syncNow()).toBe(true);
    expect((await f.store.collect()).manifests).toBe(1);
    expect(sync.state()).toMatchObject({ seq: 2, lagSeconds: 0, stale: false });
  });

  it('a copy reads back from the shards with the master key only; another key cannot even open its head', async () => {
    const g = await gatewayHeads();
    f = ecFixture({ localShards: undefined });
    const sync = syncOf(f, g);
    const a = await f.store.write(chunked(randomBytes(300_000)), {});
    f.store.commit(a.manifestId);
    expect(await sync.syncNow()).toBe(true);
    const signed = g.kept.get(f.network.self)!;
    expect(await openHead(randomBytes(32), signed)).toBeUndefined();
    const head = (await openHead(f.masterKey, signed))!;
    expect(head).toMatchObject({ gateway: g.gateway, seq: 1, ec: { k: 2, m: 1 } });
    // peers see shard ids and sizes, never the catalog: nothing of the image appears in the head
    expect(signed.body).not.toContain(a.manifestId);
    const { meta, image } = await readSnapshot({ masterKey: f.masterKey, network: f.network, head });
    expect(meta).toMatchObject({ seq: 1, gen: 1, peerKey: Buffer.from(privateKeyToProtobuf(g.key)).toString('base64') });
    const copy = new Database(image);
    expect(copy.prepare('SELECT id, state FROM ec_manifests').all()).toEqual([{ id: a.manifestId, state: 'live' }]);
    copy.close();

    // a body that was altered is refused by its MAC even if re-signed by the gateway
    const forged = await g.transport.sign(signed.body.replace('"seq":1', '"seq":7'));
    expect(await openHead(f.masterKey, forged)).toBeUndefined();
  });

  it('a directory restored from an old backup meets a newer head: it refuses to run and never ships', async () => {
    const g = await gatewayHeads();
    f = ecFixture({ localShards: undefined });
    const sync = syncOf(f, g);
    expect(await sync.syncNow()).toBe(true);
    const image = f.db.serialize(); // the operator's backup, copy #1
    image[18] = image[19] = 1; // as a rollback-journal image, to open it from memory
    const backup = new Database(image);
    const a = await f.store.write(chunked(randomBytes(1000)), {});
    f.store.commit(a.manifestId);
    expect(await sync.syncNow()).toBe(true); // the mesh now has copy #2
    const old = syncOf(f, g, backup);
    await expect(old.check()).rejects.toThrow(StaleCatalogError);
    await expect(old.check()).rejects.toThrow(/copy #1\) is older than the one in the mesh \(copy #2.*datamesh recover/);
    expect(old.gate()).toBe('hold');
    expect(await old.syncNow(true)).toBe(false);
    expect(headFields(g.kept.get(f.network.self)!).seq).toBe(2);
    backup.close();
  });
});
