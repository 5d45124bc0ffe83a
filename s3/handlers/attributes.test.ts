/**
 * GetObjectAttributes and multipart checksums through the real server with the SDK and boto3:
 * FULL_OBJECT CRCs combined from the parts, COMPOSITE checksums with "-N", per-part checksums on
 * GetObject?partNumber=N, parts paged by MaxParts / PartNumberMarker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ObjectAttributes,
  type S3Client,
} from '@aws-sdk/client-s3';
import { outcome, ROOT, signedFetch, startTestServer, type TestServer } from '../../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'attrs';
const ALL: ObjectAttributes[] = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'];
const part1 = randomBytes(5 * 1024 * 1024);
const part2 = randomBytes(70_000);
const whole = Buffer.concat([part1, part2]);
const crc32b64 = (b: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(b));
  return out.toString('base64');
};
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest();

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(() => server.stop());

async function multipart(key: string, algorithm: ChecksumAlgorithm, type: 'FULL_OBJECT' | 'COMPOSITE') {
  const { UploadId, ChecksumType } = await s3.send(
    new CreateMultipartUploadCommand({ Bucket: B, Key: key, ChecksumAlgorithm: algorithm, ChecksumType: type }),
  );
  expect(ChecksumType).toBe(type);
  const parts = [];
  for (const [i, body] of [part1, part2].entries()) {
    const r = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: i + 1, Body: body, ChecksumAlgorithm: algorithm }));
    parts.push({ PartNumber: i + 1, ETag: r.ETag, ChecksumCRC32: r.ChecksumCRC32, ChecksumSHA256: r.ChecksumSHA256 });
  }
  return s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: parts } }));
}

describe('GetObjectAttributes', () => {
  it('a single PUT: ETag (unquoted), its checksum, size and storage class, no parts', async () => {
    const body = Buffer.from('attributes of a small object');
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'one', Body: body, ChecksumAlgorithm: 'CRC32' }));
    const a = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'one', ObjectAttributes: ALL }));
    expect(a.ETag).toBe(put.ETag!.replace(/"/g, ''));
    expect(a.Checksum?.ChecksumCRC32).toBe(crc32b64(body));
    expect(a.Checksum?.ChecksumType).toBe('FULL_OBJECT');
    expect(a.ObjectSize).toBe(body.length);
    expect(a.StorageClass).toBe('STANDARD');
    expect(a.ObjectParts).toBeUndefined();
    expect(a.LastModified).toBeInstanceOf(Date);
    const some = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'one', ObjectAttributes: ['ObjectSize'] }));
    expect(some.ETag).toBeUndefined();
    expect(some.ObjectSize).toBe(body.length);
  });

  it('a FULL_OBJECT CRC32 multipart object: the CRC of the whole, the parts with their own, paged', async () => {
    const done = await multipart('full', 'CRC32', 'FULL_OBJECT');
    expect(done.ChecksumCRC32).toBe(crc32b64(whole));
    expect(done.ChecksumType).toBe('FULL_OBJECT');
    const a = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'full', ObjectAttributes: ALL }));
    expect(a.Checksum?.ChecksumCRC32).toBe(crc32b64(whole));
    expect(a.ObjectSize).toBe(whole.length);
    expect(a.ObjectParts?.TotalPartsCount).toBe(2);
    expect(a.ObjectParts?.Parts?.map((p) => [p.PartNumber, p.Size, p.ChecksumCRC32])).toEqual([
      [1, part1.length, crc32b64(part1)],
      [2, part2.length, crc32b64(part2)],
    ]);
    const page1 = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'full', ObjectAttributes: ['ObjectParts'], MaxParts: 1 }));
    expect(page1.ObjectParts?.IsTruncated).toBe(true);
    expect(page1.ObjectParts?.NextPartNumberMarker).toBe('1');
    expect(page1.ObjectParts?.Parts?.map((p) => p.PartNumber)).toEqual([1]);
    const page2 = await s3.send(
      new GetObjectAttributesCommand({ Bucket: B, Key: 'full', ObjectAttributes: ['ObjectParts'], MaxParts: 1, PartNumberMarker: '1' }),
    );
    expect(page2.ObjectParts?.IsTruncated).toBe(false);
    expect(page2.ObjectParts?.Parts?.map((p) => p.PartNumber)).toEqual([2]);
  });

  it('a COMPOSITE SHA256 multipart object: the checksum of the part checksums, with -N', async () => {
    const done = await multipart('composite', 'SHA256', 'COMPOSITE');
    const expected = `${sha256(Buffer.concat([sha256(part1), sha256(part2)])).toString('base64')}-2`;
    expect(done.ChecksumSHA256).toBe(expected);
    const a = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'composite', ObjectAttributes: ['Checksum'] }));
    expect(a.Checksum?.ChecksumSHA256).toBe(expected);
    expect(a.Checksum?.ChecksumType).toBe('COMPOSITE');
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'composite', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(expected);
  });

  it('GetObject and HeadObject with partNumber give the part its own checksum', async () => {
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'full', PartNumber: 2, ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(crc32b64(part2));
    expect(got.ContentLength).toBe(part2.length);
    await got.Body?.transformToByteArray();
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'composite', PartNumber: 1, ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumSHA256).toBe(sha256(part1).toString('base64'));
  });

  it('needs x-amz-object-attributes with known names; a missing key is NoSuchKey', async () => {
    const none = await signedFetch(server, { method: 'GET', path: `/${B}/one`, query: { attributes: '' } });
    expect(none.status).toBe(400);
    expect(await none.text()).toContain('<Code>InvalidArgument</Code>');
    const bad = await signedFetch(server, { method: 'GET', path: `/${B}/one`, query: { attributes: '' }, headers: { 'x-amz-object-attributes': 'ETag,Colour' } });
    expect(bad.status).toBe(400);
    expect(await outcome(s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'nope', ObjectAttributes: ['ETag'] })))).toBe('404 NoSuchKey');
  });

  it('boto3 get_object_attributes', async () => {
    const script = `
import boto3, sys
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
r = s3.get_object_attributes(Bucket='${B}', Key='full', ObjectAttributes=['ETag', 'Checksum', 'ObjectParts', 'ObjectSize'])
print(r['ObjectSize'], r['Checksum']['ChecksumCRC32'], r['ObjectParts']['TotalPartsCount'], len(r['ObjectParts']['Parts']))
`;
    const env = { ...process.env };
    delete env.AWS_CA_BUNDLE;
    const { stdout } = await promisify(execFile)('python3', ['-c', script, server.url, ROOT.accessKeyId, ROOT.secretAccessKey], { env, encoding: 'utf8' });
    expect(stdout.trim()).toBe(`${whole.length} ${crc32b64(whole)} 2 2`);
  });
});
