import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import * as varint from 'uint8-varint';
import type { Stream } from '@libp2p/interface';
import { sha256ShardId, shardId } from '../src/codec/cid.ts';
import { LocalShardStore } from './local-shards.ts';
import type { MeshNode } from './node.ts';
import { SHARD_PROTOCOL } from './constants.ts';
import { TestMesh, waitFor } from './testing/cluster.ts';
import { isDomainError } from '../src/core/errors.ts';

const shard = (size = 4096) => {
  const bytes = new Uint8Array(randomBytes(size));
  return { bytes, id: shardId(bytes) };
};

/** Resolves with the error the stream closed with (undefined for a clean close). */
const closed = (stream: Stream): Promise<Error | undefined> =>
  new Promise((resolve) => {
    if (stream.status === 'aborted' || stream.status === 'reset' || stream.status === 'closed') return resolve(new Error(stream.status));
    stream.addEventListener('close', (evt) => resolve((evt as unknown as { error?: Error }).error), { once: true });
  });

describe('MeshNetwork over real libp2p peers on loopback', () => {
  const mesh = new TestMesh();
  let gw: MeshNode;
  const storage: MeshNode[] = [];
  const stores = new Map<string, LocalShardStore>();

  const startStorage = async (opts: { capacity?: number; store?: LocalShardStore } = {}) => {
    const dataDir = mesh.dir();
    const store = opts.store ?? new LocalShardStore(join(dataDir, 'shards'), { fsync: false });
    const node = await mesh.start({ dataDir, shards: store, bootstrap: gw.multiaddrs, ...(opts.capacity ? { capacity: opts.capacity } : {}) });
    stores.set(node.peerId, store);
    await waitFor(`gateway to see ${node.peerId} up`, () => gw.peers().some((p) => p.id === node.peerId && p.state === 'up' && p.capacity !== undefined && p.shardsHeld !== null));
    return node;
  };

  beforeAll(async () => {
    const gwDir = mesh.dir('gateway');
    const gwStore = new LocalShardStore(join(gwDir, 'shards'), { fsync: false });
    gw = await mesh.start({ role: 'gateway', dataDir: gwDir, shards: gwStore });
    stores.set(gw.peerId, gwStore);
    for (let i = 0; i < 6; i++) storage.push(await startStorage());
  });
  afterAll(() => mesh.close());

  it('places the 6 shards of a segment on 6 distinct peers and reads them back verified', async () => {
    const shards = Array.from({ length: 6 }, () => shard(64 * 1024));
    const placement = gw.network.place(shards.map((s) => s.id));
    expect(new Set(placement).size).toBe(6);
    expect(gw.network.place(shards.map((s) => s.id))).toEqual(placement); // deterministic
    await Promise.all(shards.map((s, i) => gw.network.put(placement[i]!, s.id, s.bytes)));
    for (const [i, s] of shards.entries()) {
      const peer = placement[i]!;
      expect(await stores.get(peer)!.has(s.id)).toBe(true);
      expect(await gw.network.has(peer, s.id)).toBe(true);
      const back = await gw.network.get(peer, s.id);
      expect(back && Buffer.from(back).equals(Buffer.from(s.bytes))).toBe(true);
    }
    // a peer that does not hold a shard says so
    const other = storage.find((n) => !placement.includes(n.peerId)) ?? storage.find((n) => n.peerId !== placement[0])!;
    const missing = shard(100);
    expect(await gw.network.has(other.peerId, missing.id)).toBe(false);
    expect(await gw.network.get(other.peerId, missing.id)).toBeUndefined();
  });

  it('sends consecutive requests to a peer on one reused stream, and checks admission on each of them', async () => {
    const peer = storage[0]!;
    const service = gw.libp2p.services.shards;
    const s = shard();
    await gw.network.put(peer.peerId, s.id, s.bytes);
    const opened = service.streamsOpened;
    for (let i = 0; i < 10; i++) expect(await gw.network.has(peer.peerId, s.id)).toBe(true);
    // (a liveness probe running meanwhile may need a second stream)
    expect(service.streamsOpened - opened).toBeLessThanOrEqual(1);
    // The peer stops serving this gateway: the next request on the very same stream is refused.
    peer.admission.evict(gw.peerId);
    try {
      await expect(gw.network.has(peer.peerId, s.id)).rejects.toThrow(/not admitted/);
      await expect(gw.network.get(peer.peerId, s.id)).resolves.toBeUndefined();
      expect(service.streamsOpened - opened).toBeLessThanOrEqual(1);
    } finally {
      peer.admission.admit(gw.peerId);
    }
    expect(await gw.network.has(peer.peerId, s.id)).toBe(true);
  });

  it('storage peers accept, verify and serve both id kinds: BLAKE3 and the old sha2-256', async () => {
    const bytes = new Uint8Array(randomBytes(8192));
    const target = storage[1]!;
    for (const id of [shardId(bytes), sha256ShardId(bytes)]) {
      await gw.network.put(target.peerId, id, bytes);
      expect(Buffer.from((await gw.network.get(target.peerId, id))!).equals(Buffer.from(bytes))).toBe(true);
      const other = new Uint8Array(randomBytes(8192));
      await expect(gw.network.put(target.peerId, id.replace(/.{4}$/, 'aaaa'), other)).rejects.toThrow(/do not hash to shard id/);
    }
  });

  it('moves shards larger than a stream\'s default read buffer (6 MiB) both ways', async () => {
    const big = shard(6 * 1024 * 1024);
    const peer = storage[1]!.peerId;
    await gw.network.put(peer, big.id, big.bytes);
    const back = await gw.network.get(peer, big.id);
    expect(back && Buffer.from(back).equals(Buffer.from(big.bytes))).toBe(true);
  });

  it('announces no shard in the DHT: the number of DHT records does not grow with the shards stored', async () => {
    const target = storage[2]!;
    const before = [gw, ...storage].map((n) => n.dhtRecords());
    for (let i = 0; i < 20; i++) {
      const s = shard(2048);
      await gw.network.put(target.peerId, s.id, s.bytes);
    }
    await target.announced();
    expect([gw, ...storage].map((n) => n.dhtRecords())).toEqual(before);
  });

  it('reports a peer whose shard file was corrupted on disk, and lowers its health', async () => {
    const target = storage[0]!;
    const s = shard(8192);
    await gw.network.put(target.peerId, s.id, s.bytes);
    const before = gw.peers().find((p) => p.id === target.peerId)!.health.successRate;
    writeFileSync(stores.get(target.peerId)!.path(s.id), randomBytes(8192));
    expect(await gw.network.get(target.peerId, s.id)).toBeUndefined();
    expect(gw.peers().find((p) => p.id === target.peerId)!.health.successRate).toBeLessThan(before);
  });

  it('rejects a peer that serves bytes not matching the shard id, and takes it out of placement', async () => {
    class LyingStore extends LocalShardStore {
      override async get(id: string): Promise<Uint8Array | undefined> {
        const real = await super.get(id);
        return real === undefined ? undefined : new Uint8Array(randomBytes(real.byteLength));
      }
    }
    const liar = await startStorage({ store: new LyingStore(join(mesh.dir('liar-shards'), 'shards'), { fsync: false }) });
    const s = shard(4096);
    await gw.network.put(liar.peerId, s.id, s.bytes);
    expect(await gw.network.get(liar.peerId, s.id)).toBeUndefined();
    const health = gw.peers().find((p) => p.id === liar.peerId)!.health;
    expect(health.successRate).toBeLessThan(0.5);
    expect(gw.network.rank([liar.peerId, storage[0]!.peerId])).toEqual([storage[0]!.peerId, liar.peerId]);
    expect(gw.network.candidates()).not.toContain(liar.peerId);
    await mesh.stop(liar);
  });

  it('refuses a put past a peer\'s capacity with a clear reason, and stops placing there', async () => {
    const small = await startStorage({ capacity: 10_000 });
    const first = shard(6_000);
    await gw.network.put(small.peerId, first.id, first.bytes);
    const second = shard(6_000);
    const err = await gw.network.put(small.peerId, second.id, second.bytes).then(() => undefined, (e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe('SlowDown'); // a full disk: 503 SlowDown, which clients retry
    expect((err as Error).message).toMatch(/^peer .* is full: 9\.8 KiB capacity, 5\.9 KiB used/);
    expect(await gw.network.has(small.peerId, second.id)).toBe(false);
    expect(gw.network.candidates()).not.toContain(small.peerId);
    await mesh.stop(small);
  });

  it('aborts a malformed or oversized message without taking the peer down', async () => {
    const target = storage[1]!;
    const service = target.libp2p.services.shards;
    const before = service.violations;
    const peerId = peerIdFromString(target.peerId);

    const bad = await gw.libp2p.dialProtocol(peerId, SHARD_PROTOCOL);
    const header = new TextEncoder().encode('{"op":"put","id":"nope"}');
    bad.send(new Uint8Array([...varint.encode(header.byteLength + 1), ...varint.encode(header.byteLength), ...header]));
    expect(await closed(bad)).toBeInstanceOf(Error);

    const huge = await gw.libp2p.dialProtocol(peerId, SHARD_PROTOCOL);
    huge.send(new Uint8Array([...varint.encode(256 * 1024 * 1024), 1, 2, 3]));
    expect(await closed(huge)).toBeInstanceOf(Error);

    const junk = await gw.libp2p.dialProtocol(peerId, SHARD_PROTOCOL);
    junk.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]));
    expect(await closed(junk)).toBeInstanceOf(Error);

    await waitFor('three violations counted', () => service.violations >= before + 3);
    const s = shard(1000);
    await gw.network.put(target.peerId, s.id, s.bytes);
    expect(await gw.network.has(target.peerId, s.id)).toBe(true);
    expect(gw.peers().find((p) => p.id === target.peerId)!.state).toBe('up');
  });

  it('lets only the gateway that stored a shard delete it, with a signature by its key', async () => {
    const holder = storage[3]!;
    const intruder = storage[4]!;
    const s = shard(3000);
    await gw.network.put(holder.peerId, s.id, s.bytes);
    await intruder.libp2p.dial(multiaddr(holder.multiaddrs[0]!));

    const denied = await intruder.network.delete(holder.peerId, s.id).then(() => undefined, (e: unknown) => e);
    expect(isDomainError(denied) && denied.code).toBe('AccessDenied');
    expect((denied as Error).message).toMatch(/may not delete it/);
    expect(await gw.network.has(holder.peerId, s.id)).toBe(true);

    // a signature over another id does not count
    const forged = await gw.libp2p.services.shards.request(
      peerIdFromString(holder.peerId),
      { op: 'delete', id: s.id, sig: await gw.libp2p.services.shards.signDelete(shard(10).id) },
      undefined,
      { signal: AbortSignal.timeout(5_000) },
    );
    expect(forged.header).toMatchObject({ ok: false, code: 'Denied' });
    expect(await gw.network.has(holder.peerId, s.id)).toBe(true);

    await gw.network.delete(holder.peerId, s.id);
    expect(await gw.network.has(holder.peerId, s.id)).toBe(false);
    await gw.network.delete(holder.peerId, s.id); // deleting again is fine
  });

  it('stores on the gateway itself when placement picks it', async () => {
    const s = shard(500);
    await gw.network.put(gw.peerId, s.id, s.bytes);
    expect(gw.network.localPath(s.id)).toBe(stores.get(gw.peerId)!.path(s.id));
    expect(Buffer.from((await gw.network.get(gw.peerId, s.id))!).equals(Buffer.from(s.bytes))).toBe(true);
    await gw.network.delete(gw.peerId, s.id);
    expect(await gw.network.has(gw.peerId, s.id)).toBe(false);
    expect(gw.peers().find((p) => p.self)).toMatchObject({ id: gw.peerId, state: 'up' });
  });

  it('marks stopped peers down, tells onPeerDown, and places around them', async () => {
    const victims = [storage[4]!, storage[5]!];
    const downs = new Map<string, number>();
    const off = gw.onPeerDown((peer, since) => downs.set(peer, since));
    const stoppedAt = Date.now();
    for (const v of victims) await mesh.stop(v);
    await waitFor('both peers down', () => victims.every((v) => downs.has(v.peerId)));
    off();
    for (const v of victims) {
      expect(gw.downSince(v.peerId)).toBe(downs.get(v.peerId));
      expect(downs.get(v.peerId)!).toBeGreaterThanOrEqual(stoppedAt - 1000);
      expect(gw.peers().find((p) => p.id === v.peerId)!.state).toBe('down');
    }
    const s = shard(100);
    const started = Date.now();
    const err = await gw.network.get(victims[0]!.peerId, s.id).then(() => undefined, (e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe('ServiceUnavailable');
    expect(Date.now() - started).toBeLessThan(1000); // fails fast, no dial timeout
    const ids = Array.from({ length: 6 }, () => shard(10).id);
    const placement = gw.network.place(ids);
    for (const v of victims) expect(placement).not.toContain(v.peerId);
    expect(new Set(placement).size).toBe(5); // gateway + 4 live storage peers, one reused
    expect(gw.network.rank(victims.map((v) => v.peerId).concat(storage[0]!.peerId))[0]).toBe(storage[0]!.peerId);
  });
});
