import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  paginateListObjectsV2,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer } from '../../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'listing';
const keys = [
  'a.txt',
  'b/1.txt',
  'b/2.txt',
  'b/c/3.txt',
  'd/4.txt',
  'e f/5.txt',
  'z+plus',
  'ü-unicode',
  ...Array.from({ length: 30 }, (_, i) => `many/${String(i).padStart(3, '0')}`),
];
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: B, Key, Body: Key }))));
});
afterAll(() => server.stop());

const sorted = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));

describe('ListObjectsV2', () => {
  it('lists everything in UTF-8 binary order with sizes and ETags', async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: B }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(sorted);
    expect(r.KeyCount).toBe(keys.length);
    expect(r.IsTruncated).toBe(false);
    expect(r.Contents?.[0]).toMatchObject({ Size: 5, StorageClass: 'STANDARD' });
    expect(r.Contents?.[0]?.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(r.Contents?.[0]?.Owner).toBeUndefined();
  });

  it('rolls keys up into CommonPrefixes with a delimiter', async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(['a.txt', 'z+plus', 'ü-unicode']);
    expect(r.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/', 'd/', 'e f/', 'many/']);
    const sub = await s3.send(new ListObjectsV2Command({ Bucket: B, Delimiter: '/', Prefix: 'b/' }));
    expect(sub.Contents?.map((c) => c.Key)).toEqual(['b/1.txt', 'b/2.txt']);
    expect(sub.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/c/']);
  });

  it('pages with continuation tokens and never loses or repeats a key', async () => {
    const seen: string[] = [];
    const prefixes: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 7 }, { Bucket: B, Delimiter: '/' })) {
      pages++;
      seen.push(...(page.Contents ?? []).map((c) => c.Key!));
      prefixes.push(...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      if (page.IsTruncated) expect(page.NextContinuationToken).toBeTruthy();
    }
    expect(pages).toBe(1);
    const all: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 4 }, { Bucket: B })) {
      expect(page.KeyCount).toBeLessThanOrEqual(4);
      all.push(...(page.Contents ?? []).map((c) => c.Key!));
    }
    expect(all).toEqual(sorted);
  });

  it('honours start-after, max-keys=0, fetch-owner and encoding-type=url', async () => {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: 'many/028' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(['many/029', 'z+plus', 'ü-unicode']);
    const zero = await s3.send(new ListObjectsV2Command({ Bucket: B, MaxKeys: 0 }));
    expect(zero.Contents ?? []).toEqual([]);
    const owner = await s3.send(new ListObjectsV2Command({ Bucket: B, FetchOwner: true, MaxKeys: 1 }));
    expect(owner.Contents?.[0]?.Owner?.ID).toBeTruthy();
    // With encoding-type=url keys come back encoded (the JS SDK leaves them so; botocore decodes).
    const enc = await s3.send(new ListObjectsV2Command({ Bucket: B, Prefix: 'e f/', EncodingType: 'url' }));
    expect(enc.Contents?.map((c) => c.Key)).toEqual(['e+f/5.txt']);
    const uni = await s3.send(new ListObjectsV2Command({ Bucket: B, StartAfter: 'z', EncodingType: 'url' }));
    expect(uni.Contents?.map((c) => c.Key)).toEqual(['z%2Bplus', '%C3%BC-unicode']);
  });
});

describe('ListObjects (v1)', () => {
  it('answers in the v1 shape with Marker and NextMarker', async () => {
    const r = await s3.send(new ListObjectsCommand({ Bucket: B, MaxKeys: 3, Delimiter: '/' }));
    expect(r.Contents?.map((c) => c.Key)).toEqual(['a.txt']);
    expect(r.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['b/', 'd/']);
    expect(r.IsTruncated).toBe(true);
    expect(r.NextMarker).toBe('d/');
    const next = await s3.send(new ListObjectsCommand({ Bucket: B, Marker: r.NextMarker, Delimiter: '/' }));
    expect(next.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['e f/', 'many/']);
    expect(next.Contents?.map((c) => c.Key)).toEqual(['z+plus', 'ü-unicode']);
    expect(next.IsTruncated).toBe(false);
  });

  it('pages without a delimiter using the last key as marker', async () => {
    const all: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const r = await s3.send(new ListObjectsCommand({ Bucket: B, MaxKeys: 10, Marker: marker }));
      all.push(...(r.Contents ?? []).map((c) => c.Key!));
      if (!r.IsTruncated) break;
      marker = r.Contents!.at(-1)!.Key;
    }
    expect(all).toEqual(sorted);
  });
});
