/**
 * Issue 4 end to end: a gateway and 6 storage peers as real processes on loopback (npm run cluster's
 * own code), 4+2. Shards spread over distinct peers; two peers SIGKILLed and every object still reads
 * back; after the repair window every segment again has all n shards on live peers; two more killed
 * and nothing is lost.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { freePortRange, startCluster, type ClusterMember } from '../../scripts/cluster.ts';
import { bytesOf, ROOT, runAdminCli } from './testing/server.ts';
import type { InspectResult } from './ops-api.ts';
import type { MeshView } from './open-data.ts';
import { inspectObject, meshView } from './testing/mesh.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'datamesh-mesh-'));
let cluster: Awaited<ReturnType<typeof startCluster>>;
let s3: S3Client;
const B = 'meshy';
const objects = new Map<string, Buffer>();
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 6,
    dataDir: dir,
    basePort: await freePortRange(8),
    ec: '4+2',
    repairAfter: '2s',
    env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
  });
  s3 = new S3Client({ endpoint: cluster.endpoint, region: 'us-east-1', credentials: ROOT, forcePathStyle: true });
  // wait until the gateway sees all six storage peers up
  await until(async () => (await mesh()).peers.filter((p) => !p.self && p.state === 'up').length === 6, 120_000);
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  for (const [key, size] of [['tiny', 100], ['five', 5 * MiB], ['fifty', 50 * MiB]] as const) {
    const body = randomBytes(size);
    objects.set(key, body);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: body }));
  }
  const parts = [randomBytes(5 * MiB), randomBytes(2 * MiB)];
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'multi' }));
  const etags: (string | undefined)[] = [];
  for (const [i, p] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: B, Key: 'multi', UploadId, PartNumber: i + 1, Body: p }))).ETag);
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'multi', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  objects.set('multi', Buffer.concat(parts));
}, 600_000); // seven processes start at once; on a shared, loaded 2-core machine that took minutes

afterAll(async () => {
  await cluster?.stop();
  if (process.env.KEEP_MESH_TEST) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const gw = { get url() { return cluster.endpoint; } };
const mesh = (): Promise<MeshView> => meshView(gw);
const inspect = (key: string): Promise<InspectResult> => inspectObject(gw, B, key);
async function readsBack(): Promise<void> {
  for (const [key, body] of objects) {
    const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: key }))).Body);
    expect(sha(got), key).toBe(sha(body));
  }
}
const storage = (): ClusterMember[] => cluster.members.filter((m) => m.role === 'storage');
function kill(m: ClusterMember): Promise<void> {
  const p = cluster.procs.find((x) => x.pid === m.pid)!;
  return new Promise((ok) => {
    if (p.exitCode !== null || p.signalCode !== null) return ok();
    p.once('exit', () => ok());
    p.kill('SIGKILL');
  });
}

describe('a gateway and six storage peers, 4+2', () => {
  it('spreads every segment over six distinct peers', async () => {
    for (const key of ['five', 'fifty', 'multi']) {
      const r = await inspect(key);
      expect(r.segments.length).toBeGreaterThan(0);
      for (const seg of r.segments) expect(new Set(seg.shards.map((s) => s.location)).size, `${key} segment ${seg.index}`).toBe(6);
    }
    const peersUsed = new Set((await inspect('fifty')).segments.flatMap((s) => s.shards.map((sh) => sh.location)));
    expect(peersUsed.size).toBeGreaterThanOrEqual(6);
  });

  it('loses nothing when two peers are killed, repairs onto live peers, and survives two more', async () => {
    const [a, b, c, d] = storage();
    await Promise.all([kill(a!), kill(b!)]);
    await readsBack(); // degraded reads
    const dead = new Set([a!.peerId, b!.peerId]);
    await until(async () => {
      const v = await mesh();
      return v.redundancy.degraded === 0 && v.redundancy.lost === 0 && v.repair.queue === 0 && v.peers.filter((p) => dead.has(p.id)).every((p) => p.state === 'down');
    }, 90_000);
    const v = await mesh();
    expect(v.repair.shardsRebuilt).toBeGreaterThan(0);
    for (const key of objects.keys()) {
      for (const seg of (await inspect(key)).segments) {
        expect(seg.shards.length).toBe(6);
        for (const sh of seg.shards) expect(dead.has(sh.location), `${key} segment ${seg.index} shard ${sh.index} on a dead peer`).toBe(false);
      }
    }
    await Promise.all([kill(c!), kill(d!)]);
    await readsBack();
  }, 300_000);
});
