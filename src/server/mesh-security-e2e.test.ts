/**
 * Issue 12, "anyone who reaches the mesh port joins the mesh": a gateway and three storage peers as
 * real processes (npm run cluster's own code) with manual admission, and rogue libp2p nodes in this
 * process. A node without the network secret cannot connect; a node with it but not admitted gets
 * no shard and is refused put/get/has/stat/list/delete by the gateway and the storage peers; a
 * second gateway admitted by a storage peer cannot claim or delete the first gateway's shards;
 * junk shard files are collected after the grace period; an evicted peer is drained.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { multiaddr } from '@multiformats/multiaddr';
import { peerIdFromString } from '@libp2p/peer-id';
import { freePortRange, startCluster, type ClusterMember } from '../../scripts/cluster.ts';
import { bytesOf, ROOT, runAdminCli } from './testing/server.ts';
import type { InspectResult } from './ops-api.ts';
import type { MeshView } from './open-data.ts';
import { inspectObject, meshView } from './testing/mesh.ts';
import { TestMesh, waitFor } from '../../mesh/testing/cluster.ts';
import { generateSwarmKey } from '../../mesh/swarm-key.ts';
import { loadOrCreatePeerKey, peerIdOf } from '../../mesh/identity.ts';
import { LocalShardStore } from '../../mesh/local-shards.ts';
import { shardId } from '../codec/cid.ts';
import type { MeshNode } from '../../mesh/node.ts';
import type { ShardRequest } from '../../mesh/shard-protocol/messages.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'datamesh-mesh-security-'));
const rogues = new TestMesh();
const B = 'guarded';
const body = randomBytes(8 * MiB);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
let cluster: Awaited<ReturnType<typeof startCluster>>;
let s3: S3Client;
let secret: Uint8Array;
let otherGatewayDir: string;
let otherGatewayId: string;

beforeAll(async () => {
  // A second gateway that the storage peers serve too (its id must be known before they start).
  otherGatewayDir = rogues.dir('other-gateway');
  otherGatewayId = peerIdOf(await loadOrCreatePeerKey(otherGatewayDir));
  cluster = await startCluster({
    nodes: 3,
    dataDir: dir,
    basePort: await freePortRange(5),
    ec: '2+1',
    admitPeers: 'manual',
    extra: ['--orphan-grace', '2s'],
    nodeExtra: ['--admit-peers', otherGatewayId, '--orphan-grace', '2s'],
    env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
  });
  secret = new Uint8Array(readFileSync(cluster.swarmKeyFile));
  s3 = new S3Client({ endpoint: cluster.endpoint, region: 'us-east-1', credentials: ROOT, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: B }));
}, 600_000); // four processes start at once; slow on a loaded machine

afterAll(async () => {
  await rogues.close();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const gw = { get url() { return cluster.endpoint; } };
const mesh = (): Promise<MeshView> => meshView(gw);
const inspect = (key: string): Promise<InspectResult> => inspectObject(gw, B, key);
const gateway = (): ClusterMember => cluster.members.find((m) => m.role === 'gateway')!;
const storage = (): ClusterMember[] => cluster.members.filter((m) => m.role === 'storage');
const ask = (from: MeshNode, to: string, req: ShardRequest, bytes?: Uint8Array) =>
  from.libp2p.services.shards.request(peerIdFromString(to), req, bytes, { signal: AbortSignal.timeout(20_000) }).catch((err: Error) => {
    throw new Error(`${req.op} to ${to}: ${err.message}`);
  });

describe('a closed mesh: network secret and admission', () => {
  it('a node without the network secret cannot connect to the gateway or a storage peer', async () => {
    const outsider = await rogues.start({ swarmKey: generateSwarmKey() });
    for (const target of [gateway(), storage()[0]!]) {
      const err = await outsider.libp2p.dial(multiaddr(target.multiaddrs[0]!), { signal: AbortSignal.timeout(15_000) }).then(() => undefined, (e: unknown) => e);
      expect(err, `dial of ${target.role}`).toBeInstanceOf(Error);
    }
    expect((await mesh()).peers.map((p) => p.id)).not.toContain(outsider.peerId);
    await rogues.stop(outsider);
  });

  it('a node with the secret but not admitted waits pending, receives no shard, and is refused every shard request', async () => {
    const rogue = await rogues.start({ swarmKey: secret, bootstrap: [gateway().multiaddrs[0]!], admitPeers: { mode: 'auto' } });
    await waitFor('the gateway to list the rogue and the storage peers', async () => {
      const ids = (await mesh()).peers.map((p) => p.id);
      return [rogue.peerId, ...storage().map((p) => p.peerId)].every((id) => ids.includes(id));
    }, 60_000);
    const before = await mesh();
    expect(before.peers.find((p) => p.id === rogue.peerId)!.admission).toBe('pending');
    for (const p of storage()) expect(before.peers.find((x) => x.id === p.peerId)!.admission).toBe('pending');
    // the operator admits the three real storage peers
    for (const p of storage()) {
      const r = await runAdminCli(gw, 'mesh', 'admit', p.peerId);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain('admitted');
    }
    const bad = await runAdminCli(gw, 'mesh', 'admit', 'not-a-peer');
    expect(bad.code).not.toBe(0);
    await waitFor('three admitted storage peers up', async () => (await mesh()).peers.filter((p) => !p.self && p.admission === 'admitted' && p.state === 'up').length === 3, 60_000);

    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'eight', Body: body }));
    const shards = (await inspect('eight')).segments.flatMap((s) => s.shards);
    expect(shards.length).toBeGreaterThan(0);
    expect(shards.map((s) => s.location)).not.toContain(rogue.peerId);

    const onStorage = shards.find((s) => s.location !== gateway().peerId)!;
    const onGateway = shards.find((s) => s.location === gateway().peerId);
    const junk = new Uint8Array(randomBytes(1000));
    for (const target of [onStorage.location, gateway().peerId]) {
      if (target !== gateway().peerId) await rogue.libp2p.dial(multiaddr(storage().find((p) => p.peerId === target)!.multiaddrs[0]!));
      const id = target === onStorage.location ? onStorage.id : (onGateway?.id ?? onStorage.id);
      const requests: [ShardRequest, Uint8Array?][] = [
        [{ op: 'get', id }],
        [{ op: 'has', id }],
        [{ op: 'stat' }],
        [{ op: 'list' }],
        [{ op: 'put', id: shardId(junk) }, junk],
        [{ op: 'delete', id, sig: await rogue.libp2p.services.shards.signDelete(id) }],
      ];
      for (const [req, bytes] of requests) {
        const { header, body: got } = await ask(rogue, target, req, bytes);
        expect(header, `${req.op} on ${target === gateway().peerId ? 'the gateway' : 'a storage peer'}`).toMatchObject({ ok: false, code: 'Denied' });
        expect(got.byteLength).toBe(0);
      }
    }
    expect(sha(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'eight' }))).Body))).toBe(sha(body));
  });

  it('an admitted gateway cannot claim or delete another gateway\'s shards', async () => {
    const other = await rogues.start({ dataDir: otherGatewayDir, swarmKey: secret, role: 'gateway', admitPeers: { mode: 'auto' }, probe: false });
    const shard = (await inspect('eight')).segments[0]!.shards.find((s) => s.location !== gateway().peerId)!;
    const holder = storage().find((p) => p.peerId === shard.location)!;
    await other.libp2p.dial(multiaddr(holder.multiaddrs[0]!));
    // it is served (the peer admits it) ...
    const read = await ask(other, holder.peerId, { op: 'get', id: shard.id });
    expect(read.header.ok).toBe(true);
    // ... but the bytes it read do not make it an owner, and its signed delete is refused
    const claim = await ask(other, holder.peerId, { op: 'put', id: shard.id }, read.body.subarray());
    expect(claim.header).toMatchObject({ ok: false, code: 'Denied' });
    const del = await ask(other, holder.peerId, { op: 'delete', id: shard.id, sig: await other.libp2p.services.shards.signDelete(shard.id) });
    expect(del.header).toMatchObject({ ok: false, code: 'Denied' });
    expect((await ask(other, holder.peerId, { op: 'has', id: shard.id })).header).toMatchObject({ ok: true, has: true });
    expect(sha(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'eight' }))).Body))).toBe(sha(body));
  });

  it('collects junk shard files on storage peers and on the gateway after the grace period, and keeps the real ones', async () => {
    const planted: { path: string; store: LocalShardStore; id: string }[] = [];
    for (const m of [storage()[0]!, gateway()]) {
      const store = new LocalShardStore(join(m.dataDir, 'shards'), { fsync: false });
      const bytes = new Uint8Array(randomBytes(4096));
      const id = shardId(bytes);
      await store.put(id, bytes);
      planted.push({ path: store.path(id), store, id });
    }
    for (const p of planted) expect(existsSync(p.path)).toBe(true);
    await waitFor('the junk to be collected', () => planted.every((p) => !existsSync(p.path)), 60_000);
    expect(sha(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'eight' }))).Body))).toBe(sha(body));
  });

  it('evicting a peer drains it: its shards are rebuilt on other peers', async () => {
    const victim = storage()[0]!;
    const holds = async () => (await inspect('eight')).segments.some((s) => s.shards.some((sh) => sh.location === victim.peerId));
    if (!(await holds())) return; // placement gave it nothing: nothing to drain
    const r = await runAdminCli(gw, 'mesh', 'evict', victim.peerId);
    expect(r.code, r.err).toBe(0);
    expect((await mesh()).peers.find((p) => p.id === victim.peerId)!.admission).toBe('evicted');
    await waitFor('the evicted peer to hold no shard the manifest relies on', async () => !(await holds()), 90_000);
    expect(sha(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'eight' }))).Body))).toBe(sha(body));
  });
});
