/**
 * Issue 13, audits end to end: a gateway and four storage peers as real processes (npm run
 * cluster's code), 2+1, audits every 200 ms, untrusted at 2 failures of 10. One peer loses every shard file behind its back,
 * another has one shard file corrupted. Without any S3 read, audits catch both: the first is marked
 * untrusted and drained until no shard the manifests rely on is left on it; the corrupted shard is
 * rebuilt on another peer. Then everything reads back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freePortRange, startCluster, type ClusterMember } from '../../scripts/cluster.ts';
import { bytesOf, ROOT } from './testing/server.ts';
import { inspectObject, meshView } from './testing/mesh.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'datamesh-audit-'));
let cluster: Awaited<ReturnType<typeof startCluster>>;
let s3: S3Client;
const B = 'audited';
const objects = new Map<string, Buffer>();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const gw = { get url() { return cluster.endpoint; } };

async function until(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 4,
    dataDir: dir,
    basePort: await freePortRange(6),
    ec: '2+1',
    repairAfter: '2s',
    extra: ['--audit-interval', '200ms', '--audit-threshold', '2/10', '--segment-size', '256KiB'],
    env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
  });
  s3 = new S3Client({ endpoint: cluster.endpoint, region: 'us-east-1', credentials: ROOT, forcePathStyle: true });
  await until('four storage peers up', async () => (await meshView(gw)).peers.filter((p) => !p.self && p.state === 'up' && p.admission === 'admitted').length === 4, 120_000);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  for (const [key, size] of [['one', 3 * MiB], ['two', 2 * MiB]] as const) {
    const body = randomBytes(size);
    objects.set(key, body);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body }));
  }
}, 300_000);

afterAll(async () => {
  await cluster?.stop();
  if (process.env.KEEP_MESH_TEST) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

const storage = (): ClusterMember[] => cluster.members.filter((m) => m.role === 'storage');
const shardFile = (m: ClusterMember, id: string) => join(m.dataDir, 'shards', id.slice(-3, -1), id);
async function locations(): Promise<{ key: string; segment: number; index: number; id: string; location: string }[]> {
  const out = [];
  for (const key of objects.keys())
    for (const seg of (await inspectObject(gw, B, key)).segments) for (const sh of seg.shards) out.push({ key, segment: seg.index, index: sh.index, id: sh.id, location: sh.location });
  return out;
}

describe('audits (gateway + 4 storage peers, 2+1)', () => {
  it('catch a peer whose shard files were deleted and one with a corrupted shard, and repair both without any S3 read', async () => {
    const before = await locations();
    const holding = storage()
      .map((m) => ({ m, n: before.filter((l) => l.location === m.peerId).length }))
      .sort((a, b) => b.n - a.n);
    const wiped = holding[0]!.m;
    const corrupted = holding[1]!.m;
    expect(holding[1]!.n).toBeGreaterThan(0);
    // behind the peers' backs: every shard file of one, one shard file of another
    for (const sub of readdirSync(join(wiped.dataDir, 'shards'), { withFileTypes: true }))
      if (sub.isDirectory()) for (const f of readdirSync(join(wiped.dataDir, 'shards', sub.name))) rmSync(join(wiped.dataDir, 'shards', sub.name, f));
    // a shard of a segment with none on the wiped peer: 2+1 survives one loss per segment, not two
    const onWiped = new Set(before.filter((l) => l.location === wiped.peerId).map((l) => `${l.key}/${l.segment}`));
    const victim = before.find((l) => l.location === corrupted.peerId && !onWiped.has(`${l.key}/${l.segment}`))!;
    const file = shardFile(corrupted, victim.id);
    expect(existsSync(file)).toBe(true);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1]! ^= 0xff;
    writeFileSync(file, bytes);

    await until(
      'the wiped peer untrusted and drained',
      async () => {
        const v = await meshView(gw);
        const p = v.peers.find((x) => x.id === wiped.peerId)!;
        return p.admission === 'untrusted' && v.repair.queue === 0 && (await locations()).every((l) => l.location !== wiped.peerId);
      },
      120_000,
    );
    await until(
      'the corrupted shard rebuilt off its peer',
      async () => (await locations()).find((l) => l.key === victim.key && l.segment === victim.segment && l.index === victim.index)!.location !== corrupted.peerId,
      120_000,
    );
    const v = await meshView(gw);
    const w = v.peers.find((x) => x.id === wiped.peerId)!;
    expect(w.audits!.failed).toBe(2); // --audit-threshold 2/10: untrusted at the second failure, then no longer audited
    const c = v.peers.find((x) => x.id === corrupted.peerId)!;
    expect(c.audits!.failed).toBeGreaterThanOrEqual(1);
    expect(c.admission).toBe('admitted'); // one bad shard among many passes: rebuilt, not distrusted yet
    expect(v.redundancy.degraded + v.redundancy.lost).toBe(0);
    // every shard the manifests rely on is where they say, with the right bytes: all read back
    for (const [key, body] of objects) {
      const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: key }))).Body);
      expect(sha(got), key).toBe(sha(body));
    }
  }, 300_000);
});
