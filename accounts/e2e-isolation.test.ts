/**
 * Issue 5 end to end: accounts are isolated. Bob gets AccessDenied for every operation on Alice's
 * bucket, signed in the header or presigned, and Alice's data is untouched afterwards; each
 * account lists only its own buckets; Alice's own presigned URL works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bytesOf } from '../src/server/testing/server.ts';
import { createUser, refusal, startE2eServer, userInfo, type E2eServer } from './testing/e2e.ts';

let server: E2eServer;
let alice: S3Client;
let bob: S3Client;
const A = 'alice-private';
const B = 'bob-own';
const SECRET = Buffer.from('alice secret data');
let aliceUpload: string;
let bobUpload: string;

beforeAll(async () => {
  server = await startE2eServer();
  alice = server.client(await createUser(server, 'alice'));
  bob = server.client(await createUser(server, 'bob'));
  await alice.send(new CreateBucketCommand({ Bucket: A }));
  await alice.send(new PutObjectCommand({ Bucket: A, Key: 'secret', Body: SECRET, Tagging: 'owner=alice' }));
  aliceUpload = (await alice.send(new CreateMultipartUploadCommand({ Bucket: A, Key: 'upload' }))).UploadId!;
  await alice.send(new UploadPartCommand({ Bucket: A, Key: 'upload', UploadId: aliceUpload, PartNumber: 1, Body: 'part one' }));
  await bob.send(new CreateBucketCommand({ Bucket: B }));
  await bob.send(new PutObjectCommand({ Bucket: B, Key: 'mine', Body: 'bob data' }));
  bobUpload = (await bob.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'copy-target' }))).UploadId!;
});
afterAll(() => server.stop());

/** Any S3 command: the table below sends and presigns commands of every type (their generics differ). */
type AnyCommand = object;
const send = (c: S3Client, command: AnyCommand): Promise<unknown> => c.send(command as never);
const presign = (c: S3Client, command: AnyCommand, opts: Parameters<typeof getSignedUrl>[2]): Promise<string> =>
  getSignedUrl(c, command as never, opts);

interface Attempt {
  name: string;
  method: string;
  /** A fresh command each time (a command can be sent or presigned once). */
  command: () => AnyCommand;
  /** The body a presigned request carries. */
  body?: string;
}

/** Every operation Bob might try on Alice's bucket, her object and her upload. */
const attempts = (): Attempt[] => [
  { name: 'HeadBucket', method: 'HEAD', command: () => new HeadBucketCommand({ Bucket: A }) },
  { name: 'ListObjects', method: 'GET', command: () => new ListObjectsCommand({ Bucket: A }) },
  { name: 'ListObjectsV2', method: 'GET', command: () => new ListObjectsV2Command({ Bucket: A }) },
  { name: 'GetBucketLocation', method: 'GET', command: () => new GetBucketLocationCommand({ Bucket: A }) },
  { name: 'GetBucketAcl', method: 'GET', command: () => new GetBucketAclCommand({ Bucket: A }) },
  { name: 'ListMultipartUploads', method: 'GET', command: () => new ListMultipartUploadsCommand({ Bucket: A }) },
  { name: 'PutObject', method: 'PUT', command: () => new PutObjectCommand({ Bucket: A, Key: 'secret', Body: 'overwritten by bob' }), body: 'overwritten by bob' },
  { name: 'PutObject (new key)', method: 'PUT', command: () => new PutObjectCommand({ Bucket: A, Key: 'from-bob', Body: 'x' }), body: 'x' },
  { name: 'GetObject', method: 'GET', command: () => new GetObjectCommand({ Bucket: A, Key: 'secret' }) },
  { name: 'HeadObject', method: 'HEAD', command: () => new HeadObjectCommand({ Bucket: A, Key: 'secret' }) },
  { name: 'DeleteObject', method: 'DELETE', command: () => new DeleteObjectCommand({ Bucket: A, Key: 'secret' }) },
  {
    name: 'DeleteObjects',
    method: 'POST',
    command: () => new DeleteObjectsCommand({ Bucket: A, Delete: { Objects: [{ Key: 'secret' }] } }),
    body: '<Delete><Object><Key>secret</Key></Object></Delete>',
  },
  { name: 'CopyObject from it', method: 'PUT', command: () => new CopyObjectCommand({ Bucket: B, Key: 'stolen', CopySource: `${A}/secret` }) },
  { name: 'CopyObject into it', method: 'PUT', command: () => new CopyObjectCommand({ Bucket: A, Key: 'secret', CopySource: `${B}/mine` }) },
  { name: 'GetObjectTagging', method: 'GET', command: () => new GetObjectTaggingCommand({ Bucket: A, Key: 'secret' }) },
  {
    name: 'PutObjectTagging',
    method: 'PUT',
    command: () => new PutObjectTaggingCommand({ Bucket: A, Key: 'secret', Tagging: { TagSet: [{ Key: 'owner', Value: 'bob' }] } }),
    body: '<Tagging><TagSet><Tag><Key>owner</Key><Value>bob</Value></Tag></TagSet></Tagging>',
  },
  { name: 'DeleteObjectTagging', method: 'DELETE', command: () => new DeleteObjectTaggingCommand({ Bucket: A, Key: 'secret' }) },
  { name: 'CreateMultipartUpload', method: 'POST', command: () => new CreateMultipartUploadCommand({ Bucket: A, Key: 'bob-upload' }) },
  {
    name: "UploadPart on Alice's upload",
    method: 'PUT',
    command: () => new UploadPartCommand({ Bucket: A, Key: 'upload', UploadId: aliceUpload, PartNumber: 2, Body: 'bob part' }),
    body: 'bob part',
  },
  { name: "ListParts of Alice's upload", method: 'GET', command: () => new ListPartsCommand({ Bucket: A, Key: 'upload', UploadId: aliceUpload }) },
  {
    name: "CompleteMultipartUpload of Alice's upload",
    method: 'POST',
    command: () =>
      new CompleteMultipartUploadCommand({ Bucket: A, Key: 'upload', UploadId: aliceUpload, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] } }),
    body: '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"x"</ETag></Part></CompleteMultipartUpload>',
  },
  { name: "AbortMultipartUpload of Alice's upload", method: 'DELETE', command: () => new AbortMultipartUploadCommand({ Bucket: A, Key: 'upload', UploadId: aliceUpload }) },
  {
    name: 'UploadPartCopy from it',
    method: 'PUT',
    command: () => new UploadPartCopyCommand({ Bucket: B, Key: 'copy-target', UploadId: bobUpload, PartNumber: 1, CopySource: `${A}/secret` }),
  },
  { name: 'DeleteBucket', method: 'DELETE', command: () => new DeleteBucketCommand({ Bucket: A }) },
];

/** Alice's data is exactly as she left it. */
async function aliceUntouched(): Promise<void> {
  const got = await alice.send(new GetObjectCommand({ Bucket: A, Key: 'secret' }));
  expect((await bytesOf(got.Body)).equals(SECRET)).toBe(true);
  expect((await alice.send(new GetObjectTaggingCommand({ Bucket: A, Key: 'secret' }))).TagSet).toEqual([{ Key: 'owner', Value: 'alice' }]);
  const listed = await alice.send(new ListObjectsV2Command({ Bucket: A }));
  expect(listed.Contents?.map((o) => o.Key)).toEqual(['secret']);
  const parts = await alice.send(new ListPartsCommand({ Bucket: A, Key: 'upload', UploadId: aliceUpload }));
  expect(parts.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([[1, 8]]);
  const uploads = await alice.send(new ListMultipartUploadsCommand({ Bucket: A }));
  expect(uploads.Uploads?.map((u) => u.UploadId)).toEqual([aliceUpload]);
  expect((await bob.send(new ListObjectsV2Command({ Bucket: B }))).Contents?.map((o) => o.Key)).toEqual(['mine']);
  expect((await bob.send(new ListPartsCommand({ Bucket: B, Key: 'copy-target', UploadId: bobUpload }))).Parts ?? []).toEqual([]);
}

describe("another account's bucket", () => {
  it('refuses every operation Bob signs on Alice\'s bucket with AccessDenied', async () => {
    const outcomes: Record<string, string> = {};
    for (const a of attempts()) {
      const r = await refusal(send(bob, a.command()));
      // HEAD answers carry no body: the SDK names the error after the status.
      outcomes[a.name] = a.method === 'HEAD' ? `${r.status}` : `${r.status} ${r.code}`;
    }
    const expected = Object.fromEntries(attempts().map((a) => [a.name, a.method === 'HEAD' ? '403' : '403 AccessDenied']));
    expect(outcomes).toEqual(expected);
    await aliceUntouched();
    expect((await userInfo(server, 'bob')).usage).toMatchObject({ objects: 1, buckets: 1 });
  });

  it('refuses the same operations through URLs presigned by Bob', async () => {
    const outcomes: Record<string, string> = {};
    for (const a of attempts()) {
      // Not signing content-length: the body sent need not be byte for byte the SDK's serialization.
      const url = await presign(bob, a.command(), { expiresIn: 300, unsignableHeaders: new Set(['content-length']) });
      const r = await fetch(url, { method: a.method, ...(a.body !== undefined ? { body: a.body } : {}) });
      const text = await r.text();
      outcomes[a.name] = a.method === 'HEAD' ? `${r.status}` : `${r.status} ${/<Code>([^<]+)<\/Code>/.exec(text)?.[1]}`;
    }
    const expected = Object.fromEntries(attempts().map((a) => [a.name, a.method === 'HEAD' ? '403' : '403 AccessDenied']));
    expect(outcomes).toEqual(expected);
    await aliceUntouched();
  });

  it("a URL presigned by Alice serves Alice's object (and only with her signature intact)", async () => {
    const url = await getSignedUrl(alice, new GetObjectCommand({ Bucket: A, Key: 'secret' }), { expiresIn: 300 });
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(Buffer.from(await r.arrayBuffer()).equals(SECRET)).toBe(true);
    const tampered = await fetch(url.replace('/secret?', '/upload?'));
    expect(tampered.status).toBe(403);
    const put = await getSignedUrl(alice, new PutObjectCommand({ Bucket: A, Key: 'via-url' }), { expiresIn: 300 });
    expect((await fetch(put, { method: 'PUT', body: 'presigned put' })).status).toBe(200);
    const back = await alice.send(new GetObjectCommand({ Bucket: A, Key: 'via-url' }));
    expect((await bytesOf(back.Body)).toString()).toBe('presigned put');
    // A presigned CopyObject carries x-amz-copy-source in its query (the SDK hoists it): it copies.
    const copy = await getSignedUrl(alice, new CopyObjectCommand({ Bucket: A, Key: 'copied', CopySource: `${A}/via-url` }), { expiresIn: 300 });
    expect(new URL(copy).searchParams.get('x-amz-copy-source')).toBe(`${A}/via-url`);
    const copied = await fetch(copy, { method: 'PUT' });
    expect(copied.status).toBe(200);
    expect(await copied.text()).toContain('<CopyObjectResult ');
    expect((await bytesOf((await alice.send(new GetObjectCommand({ Bucket: A, Key: 'copied' }))).Body)).toString()).toBe('presigned put');
    await alice.send(new DeleteObjectsCommand({ Bucket: A, Delete: { Objects: [{ Key: 'via-url' }, { Key: 'copied' }] } }));
  });

  it('lists to each account only its own buckets', async () => {
    const names = async (c: S3Client) => ((await c.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
    expect(await names(alice)).toEqual([A]);
    expect(await names(bob)).toEqual([B]);
    expect(await names(server.client())).toEqual([]); // root owns none
    // A name taken by another account cannot be created again, and says so without revealing more.
    const taken = await refusal(bob.send(new CreateBucketCommand({ Bucket: A })));
    expect(`${taken.status} ${taken.code}`).toBe('409 BucketAlreadyExists');
  });
});
