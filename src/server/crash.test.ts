/** kill -9 in the middle of a PUT, then restart: no partial object is visible and its shards are collected. */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT, signRequest, spawnServer, type SpawnedServer } from './testing/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'datamesh-crash-'));
const procs: SpawnedServer[] = [];
afterAll(() => {
  for (const p of procs) p.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const client = (url: string) => new S3Client({ endpoint: url, region: 'us-east-1', credentials: ROOT, forcePathStyle: true });

function shardFiles(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of readdirSync(p)) {
      const f = join(p, e);
      if (statSync(f).isDirectory()) walk(f);
      else if (e !== 'LAYOUT') out.push(f); // the shard store's layout marker is not a shard
    }
  };
  walk(join(d, 'shards'));
  return out;
}

describe('kill -9 during a PUT', () => {
  it('leaves no visible object, and the restarted server collects the orphaned shards', async () => {
    const first = await spawnServer(dir);
    procs.push(first);
    const s3 = client(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
    await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: 'kept', Body: randomBytes(5 * 1024 * 1024) }));
    const kept = shardFiles(dir).length;
    expect(kept).toBe(12); // two segments of 4+2

    // A 40 MiB PUT of which only 20 MiB arrive before the server dies.
    const total = 40 * 1024 * 1024;
    const signed = await signRequest({ url: first.url }, { method: 'PUT', path: '/crash/partial', payload: 'UNSIGNED-PAYLOAD', headers: { 'content-length': String(total) } });
    const req = request(signed.url, { method: 'PUT', headers: signed.headers });
    req.on('error', () => {});
    const chunk = randomBytes(1024 * 1024);
    for (let i = 0; i < 20; i++) await new Promise<void>((ok) => req.write(chunk, () => ok()));
    const deadline = Date.now() + 10_000;
    while (shardFiles(dir).length <= kept && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(shardFiles(dir).length).toBeGreaterThan(kept); // some shards of the cut PUT reached the disk
    first.proc.kill('SIGKILL');
    await first.exited;
    req.destroy();

    const second = await spawnServer(dir);
    procs.push(second);
    const s3b = client(second.url);
    await expect(s3b.send(new HeadObjectCommand({ Bucket: 'crash', Key: 'partial' }))).rejects.toMatchObject({ name: 'NotFound' });
    const list = await s3b.send(new ListObjectsV2Command({ Bucket: 'crash' }));
    expect(list.Contents?.map((c) => c.Key)).toEqual(['kept']);
    expect(shardFiles(dir).length).toBe(kept);
    expect(second.output()).toMatch(/collected/);
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
