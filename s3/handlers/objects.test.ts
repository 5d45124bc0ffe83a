import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bytesOf, startTestServer, type TestServer, outcome } from '../../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'objects';
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(() => server.stop());

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe('PutObject / GetObject / HeadObject', () => {
  it('round-trips bytes, stored headers and user metadata', async () => {
    const body = randomBytes(100_000);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: B,
        Key: 'dir/file.bin',
        Body: body,
        ContentType: 'application/x-test',
        ContentEncoding: 'identity',
        ContentDisposition: 'attachment; filename="f.bin"',
        CacheControl: 'max-age=60',
        ContentLanguage: 'en',
        Expires: new Date('2030-01-01T00:00:00Z'),
        Metadata: { color: 'blue', 'with-dash': 'v' },
      }),
    );
    expect(put.ETag).toBe(`"${md5(body)}"`);
    const get = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'dir/file.bin' }));
    expect(md5(await bytesOf(get.Body))).toBe(md5(body));
    expect(get.ContentLength).toBe(body.length);
    expect(get.ContentType).toBe('application/x-test');
    expect(get.ContentEncoding).toBe('identity');
    expect(get.ContentDisposition).toBe('attachment; filename="f.bin"');
    expect(get.CacheControl).toBe('max-age=60');
    expect(get.ContentLanguage).toBe('en');
    expect(get.ExpiresString ?? get.Expires?.toUTCString()).toContain('2030');
    expect(get.Metadata).toEqual({ color: 'blue', 'with-dash': 'v' });
    expect(get.ETag).toBe(put.ETag);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'dir/file.bin' }));
    expect(head.ContentLength).toBe(body.length);
    expect(head.LastModified).toBeInstanceOf(Date);
    expect(head.AcceptRanges).toBe('bytes');
  });

  it('stores the empty object and one byte', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'empty', Body: '' }));
    const e = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'empty' }));
    expect((await bytesOf(e.Body)).length).toBe(0);
    expect(e.ETag).toBe('"d41d8cd98f00b204e9800998ecf8427e"');
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'one', Body: 'x' }));
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'one' }))).Body)).toString()).toBe('x');
  });

  it('serves ranges: a-b, a-, -n, and 416 past the end', async () => {
    const body = Buffer.from('0123456789abcdefghij');
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'range', Body: body }));
    const get = async (Range: string) => {
      const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'range', Range }));
      return [(await bytesOf(r.Body)).toString(), r.ContentRange, r.$metadata.httpStatusCode];
    };
    expect(await get('bytes=2-5')).toEqual(['2345', 'bytes 2-5/20', 206]);
    expect(await get('bytes=15-')).toEqual(['fghij', 'bytes 15-19/20', 206]);
    expect(await get('bytes=-3')).toEqual(['hij', 'bytes 17-19/20', 206]);
    expect(await get('bytes=10-100')).toEqual(['abcdefghij', 'bytes 10-19/20', 206]);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'range', Range: 'bytes=20-' })))).toBe('416 InvalidRange');
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'range', Range: 'bytes=0-0' }));
    expect(head.ContentLength).toBe(1);
  });

  it('applies response-content-* overrides', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'ov', Body: 'hello', ContentType: 'text/plain' }));
    const r = await s3.send(
      new GetObjectCommand({ Bucket: B, Key: 'ov', ResponseContentType: 'application/json', ResponseContentDisposition: 'inline', ResponseCacheControl: 'no-cache' }),
    );
    expect(r.ContentType).toBe('application/json');
    expect(r.ContentDisposition).toBe('inline');
    expect(r.CacheControl).toBe('no-cache');
  });

  it('answers conditional GET and HEAD with 304 and 412', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond', Body: 'v1' }));
    const etag = put.ETag!;
    const past = new Date(Date.now() - 3_600_000);
    const future = new Date(Date.now() + 3_600_000);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfMatch: etag })))).toBe('ok');
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfMatch: '"nope"' })))).toBe('412 PreconditionFailed');
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfNoneMatch: etag })))).toMatch(/^304 /);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfModifiedSince: future })))).toMatch(/^304 /);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfModifiedSince: past })))).toBe('ok');
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'cond', IfUnmodifiedSince: past })))).toBe('412 PreconditionFailed');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cond', IfMatch: '"nope"' })))).toMatch(/^412 /);
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cond', IfNoneMatch: etag })))).toMatch(/^304 /);
  });

  it('honours conditional PUT: If-None-Match * and If-Match', async () => {
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'cput', Body: 'a', IfNoneMatch: '*' })))).toBe('ok');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'cput', Body: 'b', IfNoneMatch: '*' })))).toBe('412 PreconditionFailed');
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'cput' }));
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'cput', Body: 'c', IfMatch: '"0000"' })))).toBe('412 PreconditionFailed');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'cput', Body: 'd', IfMatch: head.ETag })))).toBe('ok');
    const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'cput' }));
    expect((await bytesOf(r.Body)).toString()).toBe('d');
  });

  it('deletes, and answers 204 for a key that is not there', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'gone', Body: 'x' }));
    const d = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'gone' }));
    expect(d.$metadata.httpStatusCode).toBe(204);
    const again = await s3.send(new DeleteObjectCommand({ Bucket: B, Key: 'gone' }));
    expect(again.$metadata.httpStatusCode).toBe(204);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'gone' })))).toBe('404 NoSuchKey');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'gone' })))).toBe('404 NotFound');
  });

  it('rejects keys over 1024 bytes and metadata over 2 KiB', async () => {
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'k'.repeat(1025), Body: 'x' })))).toBe('400 KeyTooLongError');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'k'.repeat(1024), Body: 'x' })))).toBe('ok');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'meta', Body: 'x', Metadata: { big: 'v'.repeat(2100) } })))).toBe('400 MetadataTooLarge');
  });

  it('keeps keys with awkward characters', async () => {
    for (const key of ['a b', 'a+b', 'ü/€/日本', 'q?x=1&y', 'percent%20', 'tilde~/dots..', '#hash', 'trailing/']) {
      await s3.send(new PutObjectCommand({ Bucket: B, Key: key, Body: key }));
      const r = await s3.send(new GetObjectCommand({ Bucket: B, Key: key }));
      expect((await bytesOf(r.Body)).toString()).toBe(key);
    }
  });
});

describe('checksums', () => {
  it('verifies and returns the SDK default checksum (CRC32 in an aws-chunked trailer)', async () => {
    const body = randomBytes(70_000);
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'crc', Body: body }));
    expect(put.ChecksumCRC32).toBeTruthy();
    const get = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'crc', ChecksumMode: 'ENABLED' }));
    expect(get.ChecksumCRC32).toBe(put.ChecksumCRC32);
    expect(md5(await bytesOf(get.Body))).toBe(md5(body));
  });

  it.each(['CRC32C', 'SHA1', 'SHA256', 'CRC64NVME'] as const)('stores and returns %s', async (alg) => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: `c-${alg}`, Body: randomBytes(5000), ChecksumAlgorithm: alg }));
    const field = `Checksum${alg}` as 'ChecksumSHA1';
    expect(put[field]).toBeTruthy();
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: `c-${alg}`, ChecksumMode: 'ENABLED' }));
    expect(head[field]).toBe(put[field]);
  });

  it('rejects a wrong Content-MD5 or checksum with BadDigest and stores nothing', async () => {
    const wrongMd5 = createHash('md5').update('other').digest('base64');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'payload', ContentMD5: wrongMd5 })))).toBe('400 BadDigest');
    const wrongSha = createHash('sha256').update('other').digest('base64');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'bad', Body: 'payload', ChecksumSHA256: wrongSha })))).toBe('400 BadDigest');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'bad' })))).toBe('404 NotFound');
  });
});
