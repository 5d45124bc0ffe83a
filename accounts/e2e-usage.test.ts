/**
 * Issue 5 end to end: the usage an account is charged for is exactly what it stores. After a
 * random (seeded) sequence of puts, overwrites, copies, multipart uploads (completed, aborted and
 * one left open) and deletes, `datamesh admin user info` reports the bytes and objects that
 * ListObjectsV2 (and ListParts for the open upload) add up to, and still does after a restart of
 * the server on the same data directory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bytesOf } from '../src/server/testing/server.ts';
import { bytes, createUser, listAll, seeded, startE2eServer, userInfo, type Creds, type E2eServer } from './testing/e2e.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
/** Seed 5 runs every kind of step (copies, completed and aborted uploads of one and two parts, part copies); DATAMESH_E2E_SEED replays another. */
const SEED = Number(process.env.DATAMESH_E2E_SEED ?? 5);
const BUCKETS = ['rand-one', 'rand-two'];
const KEYS = ['a', 'b', 'c', 'dir/d', 'dir/e', 'f'];

let server: E2eServer;
let creds: Creds;

beforeAll(async () => {
  server = await startE2eServer();
  creds = await createUser(server, 'rand');
});
afterAll(() => server.stop());

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

/** What the account should have: bucket/key -> size and MD5 of the content. */
type Model = Map<string, { size: number; md5: string }>;

/**
 * What an open upload's own row counts: its key, plus metadata '{"user":{}}' and tags '{}' for an
 * upload created without either (this test creates them so).
 */
const uploadRow = (key: string) => Buffer.byteLength(key) + 13;

/** Usage from the S3 API: every listed object in the account's buckets plus its open uploads (their parts and rows). */
async function listedUsage(s3: S3Client): Promise<{ bytes: number; objects: number; listed: Map<string, number> }> {
  let total = 0;
  const listed = new Map<string, number>();
  for (const bucket of BUCKETS) {
    for (const [key, size] of await listAll(s3, bucket)) {
      listed.set(`${bucket}/${key}`, size);
      total += size;
    }
    for (const u of (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []) {
      total += uploadRow(u.Key!);
      const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      for (const p of parts.Parts ?? []) total += p.Size!;
    }
  }
  return { bytes: total, objects: listed.size, listed };
}

async function expectUsageMatches(s3: S3Client, model: Model, when: string): Promise<void> {
  const l = await listedUsage(s3);
  expect(l.listed, `listing ${when}`).toEqual(new Map([...model].map(([k, v]) => [k, v.size])));
  const u = (await userInfo(server, 'rand')).usage;
  expect(u, `usage ${when}`).toEqual({ bytes: l.bytes, objects: l.objects, buckets: BUCKETS.length, reservedBytes: 0 });
}

describe('usage equals what is stored', () => {
  it(`after a random sequence of writes and deletes (seed ${SEED}), and after a restart`, async () => {
    let s3 = server.client(creds);
    for (const b of BUCKETS) await s3.send(new CreateBucketCommand({ Bucket: b }));
    const rnd = seeded(SEED);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const size = (): number => pick([0, 1, 4 * KiB - 1, 64 * KiB, 300 * KiB + 3, MiB + 7, Math.floor(rnd() * 200 * KiB)]);
    const model: Model = new Map();
    let seed = 1000;
    const content = (n: number) => bytes(n, seed++);

    async function multipart(bucket: string, key: string, complete: boolean): Promise<void> {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
      const sizes = rnd() < 0.3 ? [5 * MiB, size()] : [size()];
      const parts: { PartNumber: number; ETag: string }[] = [];
      const chunks: Buffer[] = [];
      for (const [i, n] of sizes.entries()) {
        const last = i === sizes.length - 1;
        const source = [...model.entries()].find(([, v]) => v.size > 0);
        if (last && source && rnd() < 0.3) {
          // UploadPartCopy of a whole existing object.
          const [src] = source;
          const r = await s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, CopySource: src }));
          const [sb, ...sk] = src.split('/');
          chunks.push(await bytesOf((await s3.send(new GetObjectCommand({ Bucket: sb, Key: sk.join('/') }))).Body));
          parts.push({ PartNumber: i + 1, ETag: r.CopyPartResult!.ETag! });
        } else {
          const body = content(n);
          const r = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body: body }));
          chunks.push(body);
          parts.push({ PartNumber: i + 1, ETag: r.ETag! });
        }
      }
      if (complete) {
        await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
        const all = Buffer.concat(chunks);
        model.set(`${bucket}/${key}`, { size: all.length, md5: md5(all) });
      } else {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }));
      }
    }

    const steps = 60;
    for (let step = 1; step <= steps; step++) {
      const bucket = pick(BUCKETS);
      const key = pick(KEYS);
      const op = rnd();
      if (op < 0.35) {
        const body = content(size()); // a put: new or an overwrite
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
        model.set(`${bucket}/${key}`, { size: body.length, md5: md5(body) });
      } else if (op < 0.5 && model.size > 0) {
        const src = pick([...model.keys()]);
        await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: src, MetadataDirective: 'REPLACE' }));
        model.set(`${bucket}/${key}`, { ...model.get(src)! });
      } else if (op < 0.6) {
        await multipart(bucket, key, true);
      } else if (op < 0.68) {
        await multipart(bucket, key, false);
      } else if (op < 0.9) {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })); // may not exist: still 204
        model.delete(`${bucket}/${key}`);
      } else {
        const keys = KEYS.filter(() => rnd() < 0.4);
        if (keys.length > 0) {
          await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
          for (const k of keys) model.delete(`${bucket}/${k}`);
        }
      }
      if (step % 20 === 0) await expectUsageMatches(s3, model, `after step ${step}`);
    }
    expect(model.size).toBeGreaterThan(0);

    // One upload left open: its parts count until it is completed or aborted.
    const open = await s3.send(new CreateMultipartUploadCommand({ Bucket: BUCKETS[0], Key: 'open' }));
    await s3.send(new UploadPartCommand({ Bucket: BUCKETS[0], Key: 'open', UploadId: open.UploadId, PartNumber: 1, Body: content(123 * KiB) }));
    await expectUsageMatches(s3, model, 'at the end');
    expect((await listedUsage(s3)).bytes).toBe([...model.values()].reduce((n, v) => n + v.size, 0) + 123 * KiB + uploadRow('open'));

    await server.restart();
    s3 = server.client(creds);
    await expectUsageMatches(s3, model, 'after a restart');
    for (const [path, want] of model) {
      const [bucket, ...key] = path.split('/');
      const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key.join('/') }))).Body);
      expect(md5(got), `content of ${path} after the restart`).toBe(want.md5);
    }
    await s3.send(new AbortMultipartUploadCommand({ Bucket: BUCKETS[0], Key: 'open', UploadId: open.UploadId }));
    await expectUsageMatches(s3, model, 'after aborting the open upload');
  });
});
