/**
 * GETs share recycled stripe buffers (src/data/buffers.ts): a buffer goes back only once the
 * socket has taken its bytes. Many concurrent whole, ranged, copied and abandoned reads of
 * different objects through the real server must each get exactly their own bytes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bytesOf, signRequest, startTestServer, type TestServer } from './testing/server.ts';

const MiB = 1024 * 1024;
const B = 'recycle';
let server: TestServer;
let s3: S3Client;
const objects: Buffer[] = [];
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  for (let i = 0; i < 4; i++) {
    const body = randomBytes(12 * MiB + 1000 * i); // three full 4 MiB segments and a short one
    objects.push(body);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: `o${i}`, Body: body }));
  }
});

afterAll(async () => {
  await server?.stop(); // the abandoned reads' connections are cut after a short grace
});

async function whole(i: number): Promise<void> {
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: `o${i}` }));
  expect(md5(await bytesOf(r.Body))).toBe(md5(objects[i]!));
}

async function ranged(i: number, start: number, end: number): Promise<void> {
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: `o${i}`, Range: `bytes=${start}-${end}` }));
  expect(md5(await bytesOf(r.Body))).toBe(md5(objects[i]!.subarray(start, end + 1)));
}

/** Reads the first bytes of an object, checks them, then walks away mid-body. */
async function abandoned(i: number): Promise<void> {
  const ac = new AbortController();
  const r = await signRequest(server, { method: 'GET', path: `/${B}/o${i}` });
  const { host: _, ...headers } = r.headers;
  const res = await fetch(r.url, { headers, signal: ac.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  expect(Buffer.from(value!).equals(objects[i]!.subarray(0, value!.length))).toBe(true);
  ac.abort();
  await reader.cancel().catch(() => undefined);
}

async function copied(i: number): Promise<void> {
  await s3.send(new CopyObjectCommand({ Bucket: B, Key: `copy-${i}`, CopySource: `${B}/o${i}` }));
  const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: `copy-${i}` }));
  expect(md5(await bytesOf(r.Body))).toBe(md5(objects[i]!));
}

it('concurrent whole, ranged, copied and abandoned reads each get their own bytes', async () => {
  const S = 4 * MiB;
  for (let round = 0; round < 2; round++) {
    const work: Promise<void>[] = [];
    for (let i = 0; i < objects.length; i++) {
      work.push(whole(i), abandoned(i), ranged(i, S - 10, 2 * S + 10), abandoned((i + 1) % objects.length), copied(i));
      work.push(ranged(i, 3 * S - 5, objects[i]!.length - 1), whole((i + 2) % objects.length));
    }
    await Promise.all(work);
  }
  // and once more after all of that, one at a time
  for (let i = 0; i < objects.length; i++) await whole(i);
}, 120_000);
