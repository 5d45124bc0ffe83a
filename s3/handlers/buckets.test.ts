import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  GetBucketLocationCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { startTestServer, type TestServer, outcome } from '../../src/server/testing/server.ts';
import { Errors } from '../../src/core/errors.ts';
import type { ObjectStore } from '../../src/core/object-store.ts';
import type { S3Context } from '../context.ts';
import type { OperationOf } from '../router.ts';
import { createBucket } from './buckets.ts';

let server: TestServer;
let s3: S3Client;
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
});
afterAll(() => server.stop());


describe('buckets', () => {
  it('creates, lists, heads, locates and deletes a bucket', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'alpha' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'beta', CreateBucketConfiguration: { LocationConstraint: undefined } }));
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toEqual(expect.arrayContaining(['alpha', 'beta']));
    expect(list.Buckets?.[0]?.CreationDate).toBeInstanceOf(Date);
    expect(list.Owner?.ID).toBeTruthy();
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'alpha' }));
    expect(head.$metadata.httpStatusCode).toBe(200);
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: 'alpha' }));
    expect(loc.LocationConstraint ?? '').toBe('');
    await s3.send(new DeleteBucketCommand({ Bucket: 'beta' }));
    expect(await outcome(s3.send(new HeadBucketCommand({ Bucket: 'beta' })))).toBe('404 NotFound');
  });

  it("re-creating one's own bucket: 200 in us-east-1 (AWS's legacy region), 409 BucketAlreadyOwnedByYou elsewhere", async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'gamma' }));
    expect((await s3.send(new CreateBucketCommand({ Bucket: 'gamma' }))).$metadata.httpStatusCode).toBe(200);
    // another region: the handler over a store whose bucket exists (one server per file)
    const store = { createBucket: () => { throw Errors.bucketAlreadyOwnedByYou('gamma'); } } as unknown as ObjectStore;
    const op = { name: 'CreateBucket', bucket: 'gamma', query: new URLSearchParams() } as unknown as OperationOf<'CreateBucket'>;
    const ctx = { store, op, account: 'root', region: 'eu-west-1', headers: {}, body: { source: (async function* () {})() } } as unknown as S3Context<OperationOf<'CreateBucket'>>;
    await expect(createBucket(ctx)).rejects.toMatchObject({ code: 'BucketAlreadyOwnedByYou' });
    await expect(createBucket({ ...ctx, region: 'us-east-1' })).resolves.toMatchObject({ status: 200 });
  });

  it.each(['ab', 'UPPER', 'has_underscore', '-start', 'end-', 'a..b', '192.168.1.1', 'x'.repeat(64), '_datamesh'])(
    'rejects the invalid name %s',
    async (name) => {
      expect(await outcome(s3.send(new CreateBucketCommand({ Bucket: name })))).toBe('400 InvalidBucketName');
    },
  );

  it('refuses a location constraint for another region', async () => {
    const r = await outcome(s3.send(new CreateBucketCommand({ Bucket: 'delta', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })));
    expect(r).toBe('400 InvalidLocationConstraint');
  });

  it('refuses to delete a bucket that is not empty, then deletes it once emptied', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'full' }));
    await s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'k', Body: 'x' }));
    expect(await outcome(s3.send(new DeleteBucketCommand({ Bucket: 'full' })))).toBe('409 BucketNotEmpty');
    await s3.send(new DeleteObjectCommand({ Bucket: 'full', Key: 'k' }));
    expect(await outcome(s3.send(new DeleteBucketCommand({ Bucket: 'full' })))).toBe('ok');
  });

  it('answers NoSuchBucket for a missing bucket', async () => {
    expect(await outcome(s3.send(new DeleteBucketCommand({ Bucket: 'nothere' })))).toBe('404 NoSuchBucket');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: 'nothere', Key: 'k', Body: 'x' })))).toBe('404 NoSuchBucket');
  });

  it('serves health endpoints', async () => {
    expect((await fetch(`${server.url}/_datamesh/health/live`)).status).toBe(200);
    const ready = await fetch(`${server.url}/_datamesh/health/ready`);
    expect(ready.status).toBe(200);
    expect((await fetch(`${server.url}/_datamesh/nothing`)).status).toBe(404);
  });

  it('answers anonymous requests with AccessDenied in the XML error shape', async () => {
    const r = await fetch(`${server.url}/alpha`);
    expect(r.status).toBe(403);
    const body = await r.text();
    expect(body).toMatch(/<Error><Code>AccessDenied<\/Code><Message>[^<]+<\/Message>.*<Resource>\/alpha<\/Resource><RequestId>[0-9A-F]+<\/RequestId><\/Error>/s);
    expect(r.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
  });
});
