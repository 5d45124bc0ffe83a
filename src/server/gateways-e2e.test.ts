/**
 * Issue 20 end to end: 2 gateways, 6 storage peers and 1 PostgreSQL as real processes on loopback
 * (npm run cluster's code with --gateways 2 --catalog postgres://...). A PUT through A reads back
 * through B at once; racing writers over both leave exactly one body; a 10 MiB quota holds across
 * both, and so does a requests-per-minute limit; a multipart upload started on A completes on B; SIGKILL of A mid-PUT leaves no partial
 * object while B keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListBucketsCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { freePortRange, startCluster } from '../../scripts/cluster.ts';
import { startPgServer, type PgServer } from '../core/sql/testing/pg-server.ts';
import { bytesOf, ROOT, runAdminCli } from './testing/server.ts';
import { meshView } from './testing/mesh.ts';

const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'datamesh-gateways-'));
let pg: PgServer | undefined;
let cluster: Awaited<ReturnType<typeof startCluster>>;
let a: S3Client;
let b: S3Client;
const B = 'shared';
interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}
const client = (endpoint: string, credentials: Creds = ROOT) => new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true, maxAttempts: 1 });

async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  pg = await startPgServer();
  const nodes = 6;
  cluster = await startCluster({
    nodes,
    gateways: 2,
    catalog: pg.url,
    dataDir: dir,
    basePort: await freePortRange(2 + nodes + 2),
    ec: '4+2',
    env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
  });
  expect(cluster.endpoints).toHaveLength(2);
  for (const url of cluster.endpoints) {
    await until(async () => (await meshView({ url })).peers.filter((p) => !p.self && p.state === 'up').length >= 6, 180_000);
  }
  a = client(cluster.endpoints[0]!);
  b = client(cluster.endpoints[1]!);
  await a.send(new CreateBucketCommand({ Bucket: B }));
}, 600_000);

afterAll(async () => {
  await cluster?.stop();
  pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('two gateways over one PostgreSQL catalog', () => {
  it('an object PUT through A reads back through B at once, and the other way round', async () => {
    const body = randomBytes(3 * MiB + 17);
    await a.send(new PutObjectCommand({ Bucket: B, Key: 'from-a', Body: body }));
    expect((await bytesOf((await b.send(new GetObjectCommand({ Bucket: B, Key: 'from-a' }))).Body)).equals(body)).toBe(true);
    const small = Buffer.from('inline through B');
    await b.send(new PutObjectCommand({ Bucket: B, Key: 'from-b', Body: small }));
    expect((await bytesOf((await a.send(new GetObjectCommand({ Bucket: B, Key: 'from-b' }))).Body)).equals(small)).toBe(true);
  });

  it('8 racing writers spread over both gateways leave exactly one of their bodies', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => Buffer.concat([Buffer.from(`writer ${i} `), randomBytes(256 * 1024)]));
    const results = await Promise.allSettled(bodies.map((body, i) => (i % 2 === 0 ? a : b).send(new PutObjectCommand({ Bucket: B, Key: 'race', Body: body }))));
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    const got = await bytesOf((await b.send(new GetObjectCommand({ Bucket: B, Key: 'race' }))).Body);
    expect(bodies.filter((x) => x.equals(got))).toHaveLength(1);
    const again = await bytesOf((await a.send(new GetObjectCommand({ Bucket: B, Key: 'race' }))).Body);
    expect(again.equals(got)).toBe(true);
    const versions = await a.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'race' }));
    expect(versions.Versions ?? []).toHaveLength(1);
  });

  it('a 10 MiB quota with 8 x 2 MiB uploads spread over both gateways stores exactly 5', async () => {
    const r = await runAdminCli({ url: cluster.endpoints[0]! }, 'user', 'create', 'quota-user', '--max-storage', '10MiB', '--json');
    expect(r.code, r.err).toBe(0);
    const creds = JSON.parse(r.out) as Creds;
    const ua = client(cluster.endpoints[0]!, creds);
    const ub = client(cluster.endpoints[1]!, creds);
    await ub.send(new CreateBucketCommand({ Bucket: 'quota' }));
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? ua : ub).send(new PutObjectCommand({ Bucket: 'quota', Key: `k${i}`, Body: randomBytes(2 * MiB) }))),
    );
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(5);
    for (const x of results) if (x.status === 'rejected') expect((x.reason as { name?: string }).name).toMatch(/QuotaExceeded|EntityTooLarge|AccessDenied|SlowDown/);
    expect((await ua.send(new ListObjectsV2Command({ Bucket: 'quota' }))).KeyCount).toBe(5);
    expect((await ub.send(new ListObjectsV2Command({ Bucket: 'quota' }))).KeyCount).toBe(5);
  });

  it('--max-requests-per-minute 10 allows about 10 requests spread over both gateways, not 20', async () => {
    const r = await runAdminCli({ url: cluster.endpoints[0]! }, 'user', 'create', 'rate-user', '--max-requests-per-minute', '10', '--json');
    expect(r.code, r.err).toBe(0);
    const creds = JSON.parse(r.out) as Creds;
    const clients = [client(cluster.endpoints[0]!, creds), client(cluster.endpoints[1]!, creds)];
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => clients[i % 2]!.send(new ListBucketsCommand({}))));
    const ok = results.filter((x) => x.status === 'fulfilled').length;
    // A full bucket holds 10; it refills one token every 6 s, so a slow run may earn one or two more.
    expect(ok).toBeGreaterThanOrEqual(10);
    expect(ok).toBeLessThanOrEqual(12);
    for (const x of results) if (x.status === 'rejected') expect((x.reason as { name?: string }).name).toBe('SlowDown');
  });

  it('a multipart upload started on A is completed on B', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1 * MiB + 3)];
    const { UploadId } = await a.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'multi' }));
    const p1 = await a.send(new UploadPartCommand({ Bucket: B, Key: 'multi', UploadId, PartNumber: 1, Body: parts[0] }));
    const p2 = await b.send(new UploadPartCommand({ Bucket: B, Key: 'multi', UploadId, PartNumber: 2, Body: parts[1] }));
    await b.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'multi',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: p1.ETag, PartNumber: 1 }, { ETag: p2.ETag, PartNumber: 2 }] },
      }),
    );
    expect((await bytesOf((await a.send(new GetObjectCommand({ Bucket: B, Key: 'multi' }))).Body)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('SIGKILL of gateway A in the middle of a PUT leaves no partial object, and B keeps serving', async () => {
    const gatewayA = cluster.members.find((m) => m.role === 'gateway' && m.endpoint === cluster.endpoints[0])!;
    // A PUT of 64 MiB announced, 6 MiB sent, then the process dies.
    const { signRequest } = await import('./testing/server.ts');
    const total = 64 * MiB;
    const init = await signRequest({ url: cluster.endpoints[0]! }, { method: 'PUT', path: `/${B}/cut`, payload: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(total) } });
    const url = new URL(cluster.endpoints[0]!);
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: `/${B}/cut`, headers: init.headers });
    const ended = new Promise<void>((ok) => {
      req.on('error', () => ok());
      req.on('response', (res) => {
        res.resume();
        res.on('end', ok);
        res.on('error', () => ok());
      });
    });
    for (let i = 0; i < 6; i++) req.write(randomBytes(MiB));
    await new Promise((r) => setTimeout(r, 1500)); // the gateway is writing segments
    process.kill(gatewayA.pid, 'SIGKILL');
    req.destroy();
    await ended;
    await expect(b.send(new HeadObjectCommand({ Bucket: B, Key: 'cut' }))).rejects.toMatchObject({ name: 'NotFound' });
    expect((await bytesOf((await b.send(new GetObjectCommand({ Bucket: B, Key: 'from-a' }))).Body)).length).toBe(3 * MiB + 17);
    const after = Buffer.from('written after A died');
    await b.send(new PutObjectCommand({ Bucket: B, Key: 'after', Body: after }));
    expect((await bytesOf((await b.send(new GetObjectCommand({ Bucket: B, Key: 'after' }))).Body)).equals(after)).toBe(true);
  });
});
