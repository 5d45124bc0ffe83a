import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { bytesOf, startTestServer, type TestServer, outcome } from '../../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'multi';
const MiB = 1024 * 1024;
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(() => server.stop());

const md5 = (b: Buffer) => createHash('md5').update(b).digest();

describe('multipart upload', () => {
  it('assembles parts with the md5-of-md5s-N ETag, serves partNumber, lists parts with paging', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'big', ContentType: 'video/x', Metadata: { m: '1' } }));
    const etags: string[] = [];
    for (const [i, body] of parts.entries()) {
      const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'big', UploadId, PartNumber: i + 1, Body: body }));
      expect(r.ETag).toBe(`"${md5(body).toString('hex')}"`);
      etags.push(r.ETag!);
    }
    const p1 = await s3.send(new ListPartsCommand({ Bucket: B, Key: 'big', UploadId, MaxParts: 2 }));
    expect(p1.Parts?.map((p) => p.PartNumber)).toEqual([1, 2]);
    expect(p1.IsTruncated).toBe(true);
    const p2 = await s3.send(new ListPartsCommand({ Bucket: B, Key: 'big', UploadId, PartNumberMarker: p1.NextPartNumberMarker }));
    expect(p2.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[3, 1234]]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
    expect(uploads.Uploads?.map((u) => u.UploadId)).toContain(UploadId);

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'big',
        UploadId,
        MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
      }),
    );
    const expected = createHash('md5').update(Buffer.concat(parts.map(md5))).digest('hex') + '-3';
    expect(done.ETag).toBe(`"${expected}"`);
    const all = Buffer.concat(parts);
    const get = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big' }));
    expect((await bytesOf(get.Body)).equals(all)).toBe(true);
    expect(get.ContentType).toBe('video/x');
    expect(get.Metadata).toEqual({ m: '1' });
    const part2 = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', PartNumber: 2 }));
    expect((await bytesOf(part2.Body)).equals(parts[1]!)).toBe(true);
    expect(part2.PartsCount).toBe(3);
    const range = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', Range: `bytes=${5 * MiB - 10}-${5 * MiB + 9}` }));
    expect((await bytesOf(range.Body)).equals(all.subarray(5 * MiB - 10, 5 * MiB + 10))).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big', PartNumber: 3 }));
    expect(head.ContentLength).toBe(1234);
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: B }));
    expect(after.Uploads?.map((u) => u.UploadId) ?? []).not.toContain(UploadId);
  });

  it('refuses small parts, unknown parts, wrong ETags and bad order', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'bad' }));
    const a = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'bad', UploadId, PartNumber: 1, Body: randomBytes(100) }));
    const b = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'bad', UploadId, PartNumber: 2, Body: randomBytes(100) }));
    const complete = (Parts: { ETag?: string; PartNumber: number }[]) =>
      outcome(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'bad', UploadId, MultipartUpload: { Parts } })));
    expect(await complete([{ ETag: a.ETag, PartNumber: 1 }, { ETag: b.ETag, PartNumber: 2 }])).toBe('400 EntityTooSmall');
    expect(await complete([{ ETag: a.ETag, PartNumber: 1 }, { ETag: b.ETag, PartNumber: 3 }])).toBe('400 InvalidPart');
    expect(await complete([{ ETag: '"00000000000000000000000000000000"', PartNumber: 1 }])).toBe('400 InvalidPart');
    expect(await complete([{ ETag: b.ETag, PartNumber: 2 }, { ETag: a.ETag, PartNumber: 1 }])).toBe('400 InvalidPartOrder');
    expect(await outcome(s3.send(new UploadPartCommand({ Bucket: B, Key: 'bad', UploadId, PartNumber: 10001, Body: 'x' })))).toMatch(/^400 /);
    // a single small part is a valid (last) part
    expect(await complete([{ ETag: a.ETag, PartNumber: 1 }])).toBe('ok');
  });

  it('aborts an upload and forgets it', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'ab' }));
    await s3.send(new UploadPartCommand({ Bucket: B, Key: 'ab', UploadId, PartNumber: 1, Body: 'x' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket: B, Key: 'ab', UploadId }));
    expect(await outcome(s3.send(new ListPartsCommand({ Bucket: B, Key: 'ab', UploadId })))).toBe('404 NoSuchUpload');
    expect(await outcome(s3.send(new UploadPartCommand({ Bucket: B, Key: 'ab', UploadId, PartNumber: 1, Body: 'x' })))).toBe('404 NoSuchUpload');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'ab' })))).toBe('404 NotFound');
  });

  it('copies ranges of an object into parts (UploadPartCopy)', async () => {
    const src = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'copysrc', Body: src }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'copied' }));
    const p1 = await s3.send(
      new UploadPartCopyCommand({ Bucket: B, Key: 'copied', UploadId, PartNumber: 1, CopySource: `${B}/copysrc`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }),
    );
    const p2 = await s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'copied', UploadId, PartNumber: 2, CopySource: `${B}/copysrc` }));
    expect(
      await outcome(
        s3.send(new UploadPartCopyCommand({ Bucket: B, Key: 'copied', UploadId, PartNumber: 3, CopySource: `${B}/copysrc`, CopySourceRange: `bytes=0-${7 * MiB}` })),
      ),
    ).toMatch(/^(400|416) /);
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'copied',
        UploadId,
        MultipartUpload: { Parts: [{ ETag: p1.CopyPartResult!.ETag, PartNumber: 1 }, { ETag: p2.CopyPartResult!.ETag, PartNumber: 2 }] },
      }),
    );
    const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'copied' }))).Body);
    expect(got.equals(Buffer.concat([src.subarray(0, 5 * MiB), src]))).toBe(true);
  });

  it('streams a 24 MiB upload of unknown length through lib-storage', async () => {
    const chunks = Array.from({ length: 24 }, () => randomBytes(MiB));
    const upload = new Upload({ client: s3, params: { Bucket: B, Key: 'streamed', Body: Readable.from(chunks) }, partSize: 5 * MiB, queueSize: 2 });
    const r = await upload.done();
    expect(r.ETag).toMatch(/-5"$/);
    const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'streamed' }))).Body);
    expect(createHash('sha256').update(got).digest('hex')).toBe(createHash('sha256').update(Buffer.concat(chunks)).digest('hex'));
  });
});
