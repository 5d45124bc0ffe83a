import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bytesOf, startTestServer, type TestServer, outcome } from '../../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'copies';
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new CreateBucketCommand({ Bucket: 'other' }));
});
afterAll(() => server.stop());


describe('CopyObject', () => {
  it('copies bytes and metadata (COPY), across buckets, with a URL-encoded source', async () => {
    const put = await s3.send(
      new PutObjectCommand({ Bucket: B, Key: 'src dir/ü+1', Body: 'copy me', ContentType: 'text/x', Metadata: { a: '1' }, Tagging: 't1=v1' }),
    );
    const c = await s3.send(new CopyObjectCommand({ Bucket: 'other', Key: 'dst', CopySource: `${B}/${encodeURIComponent('src dir/ü+1')}` }));
    expect(c.CopyObjectResult?.ETag).toBe(put.ETag);
    expect(c.CopyObjectResult?.LastModified).toBeInstanceOf(Date);
    const g = await s3.send(new GetObjectCommand({ Bucket: 'other', Key: 'dst' }));
    expect((await bytesOf(g.Body)).toString()).toBe('copy me');
    expect(g.ContentType).toBe('text/x');
    expect(g.Metadata).toEqual({ a: '1' });
    expect(g.TagCount).toBe(1);
  });

  it('replaces metadata and tags with the REPLACE directives', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'r', Body: 'x', Metadata: { old: 'y' }, Tagging: 'a=b' }));
    await s3.send(
      new CopyObjectCommand({
        Bucket: B,
        Key: 'r2',
        CopySource: `${B}/r`,
        MetadataDirective: 'REPLACE',
        Metadata: { new: 'z' },
        ContentType: 'text/new',
        TaggingDirective: 'REPLACE',
        Tagging: 'c=d&e=f',
      }),
    );
    const h = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'r2' }));
    expect(h.Metadata).toEqual({ new: 'z' });
    expect(h.ContentType).toBe('text/new');
    const t = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'r2' }));
    expect(t.TagSet).toEqual([{ Key: 'c', Value: 'd' }, { Key: 'e', Value: 'f' }]);
  });

  it('copies onto itself only with REPLACE', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'self', Body: 'x', Metadata: { v: '1' } }));
    expect(await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'self', CopySource: `${B}/self` })))).toBe('400 InvalidRequest');
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'self', CopySource: `${B}/self`, MetadataDirective: 'REPLACE', Metadata: { v: '2' } }));
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'self' }))).Metadata).toEqual({ v: '2' });
  });

  it('checks x-amz-copy-source-if-* conditions', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'cond', Body: 'x' }));
    expect(await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'c1', CopySource: `${B}/cond`, CopySourceIfMatch: '"nope"' })))).toBe('412 PreconditionFailed');
    expect(await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'c1', CopySource: `${B}/cond`, CopySourceIfNoneMatch: put.ETag })))).toBe('412 PreconditionFailed');
    expect(await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'c1', CopySource: `${B}/cond`, CopySourceIfMatch: put.ETag })))).toBe('ok');
    expect(await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'c2', CopySource: `${B}/missing` })))).toBe('404 NoSuchKey');
  });
});

describe('object tagging', () => {
  it('puts, gets and deletes tags, and validates them', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'tagged', Body: 'x', Tagging: 'k1=v1&k%202=v%202' }));
    let t = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
    expect(t.TagSet).toEqual([{ Key: 'k1', Value: 'v1' }, { Key: 'k 2', Value: 'v 2' }]);
    await s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'tagged', Tagging: { TagSet: [{ Key: 'x', Value: 'y' }] } }));
    t = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
    expect(t.TagSet).toEqual([{ Key: 'x', Value: 'y' }]);
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'tagged' }))).$metadata.httpStatusCode).toBe(200);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
    t = await s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged' }));
    expect(t.TagSet ?? []).toEqual([]);
    const eleven = Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(await outcome(s3.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'tagged', Tagging: { TagSet: eleven } })))).toMatch(/^400 /);
    expect(await outcome(s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'nokey' })))).toBe('404 NoSuchKey');
  });
});
