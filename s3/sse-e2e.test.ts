/**
 * SSE-C through the real server with the SDK and boto3: PUT/GET/HEAD, copies, multipart, AWS's
 * errors, and the zero-knowledge property (the master key alone cannot unwrap the data key).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bytesOf, outcome, ROOT, runAdminCli, signedFetch, startTestServer, type TestServer } from '../src/server/testing/server.ts';
import type { InspectResult } from '../src/server/ops-api.ts';
import { verifyShard } from '../src/codec/cid.ts';
import { deriveKek, unwrapKey, unwrapManifestKey } from '../src/codec/crypto.ts';
import { parseMasterKey } from '../src/core/master-key.ts';
import { customerKeyOf } from './sse.ts';
import { openTestCatalog } from '../src/core/sql/testing/catalog.ts';

let server: TestServer;
let s3: S3Client;
const B = 'ssec';
const KEY = randomBytes(32);
const OTHER = randomBytes(32);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('base64');
const sse = (key: Buffer) => ({ SSECustomerAlgorithm: 'AES256', SSECustomerKey: key.toString('base64'), SSECustomerKeyMD5: md5(key) });
const sourceSse = (key: Buffer) => ({
  CopySourceSSECustomerAlgorithm: 'AES256',
  CopySourceSSECustomerKey: key.toString('base64'),
  CopySourceSSECustomerKeyMD5: md5(key),
});
const keyHeaders = (key: Buffer, md = md5(key)) => ({
  'x-amz-server-side-encryption-customer-algorithm': 'AES256',
  'x-amz-server-side-encryption-customer-key': key.toString('base64'),
  'x-amz-server-side-encryption-customer-key-md5': md,
});
const errorCode = async (r: Response) => /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1];

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(() => server.stop());

describe('SSE-C PUT, GET, HEAD', () => {
  const big = randomBytes(300 * 1024); // segments and shards, not inline
  const small = Buffer.from('a small SSE-C object kept inline');

  it('stores and reads back with the key; the responses echo the algorithm and key MD5', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'big', Body: big, ...sse(KEY) }));
    expect(put.SSECustomerAlgorithm).toBe('AES256');
    expect(put.SSECustomerKeyMD5).toBe(md5(KEY));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'small', Body: small, ...sse(KEY) }));
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', ...sse(KEY) }));
    expect(got.SSECustomerKeyMD5).toBe(md5(KEY));
    expect((await bytesOf(got.Body)).equals(big)).toBe(true);
    const ranged = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', Range: 'bytes=1000-1999', ...sse(KEY) }));
    expect((await bytesOf(ranged.Body)).equals(big.subarray(1000, 2000))).toBe(true);
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'small', ...sse(KEY) }))).Body)).equals(small)).toBe(true);
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big', ...sse(KEY) }));
    expect(head.ContentLength).toBe(big.length);
    expect(head.SSECustomerAlgorithm).toBe('AES256');
    const attrs = await s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'big', ObjectAttributes: ['ObjectSize'], ...sse(KEY) }));
    expect(attrs.ObjectSize).toBe(big.length);
    expect(await outcome(s3.send(new GetObjectAttributesCommand({ Bucket: B, Key: 'big', ObjectAttributes: ['ObjectSize'] })))).toBe('400 InvalidRequest');
  });

  it('a missing key is 400 InvalidRequest, a wrong key 403 AccessDenied, a key on a plain object 400', async () => {
    const missing = await signedFetch(server, { method: 'GET', path: `/${B}/big` });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('The object was stored using a form of Server Side Encryption');
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', ...sse(OTHER) })))).toBe('403 AccessDenied');
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'small', ...sse(OTHER) })))).toBe('403 AccessDenied');
    expect((await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big' })))).startsWith('400')).toBe(true);
    expect((await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'big', ...sse(OTHER) })))).startsWith('403')).toBe(true);
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'plain', Body: 'plain' }));
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'plain', ...sse(KEY) })))).toBe('400 InvalidRequest');
  });

  it('a bad key MD5 or key length is 400 InvalidArgument', async () => {
    const badMd5 = await signedFetch(server, { method: 'PUT', path: `/${B}/x`, body: 'x', headers: keyHeaders(KEY, md5(OTHER)) });
    expect(badMd5.status).toBe(400);
    expect(await errorCode(badMd5)).toBe('InvalidArgument');
    const short = randomBytes(16);
    const badLength = await signedFetch(server, { method: 'PUT', path: `/${B}/x`, body: 'x', headers: keyHeaders(short) });
    expect(badLength.status).toBe(400);
    expect(await errorCode(badLength)).toBe('InvalidArgument');
    const partial = await signedFetch(server, { method: 'PUT', path: `/${B}/x`, body: 'x', headers: { 'x-amz-server-side-encryption-customer-algorithm': 'AES256' } });
    expect(await errorCode(partial)).toBe('InvalidArgument');
  });

  it('x-amz-server-side-encryption: AES256 is accepted and reported; aws:kms is NotImplemented', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'sse-s3', Body: 'x', ServerSideEncryption: 'AES256' }));
    expect(put.ServerSideEncryption).toBe('AES256');
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sse-s3' }))).ServerSideEncryption).toBe('AES256');
    expect(await outcome(s3.send(new PutObjectCommand({ Bucket: B, Key: 'kms', Body: 'x', ServerSideEncryption: 'aws:kms' })))).toBe('501 NotImplemented');
  });

  it('the master key alone cannot unwrap an SSE-C data key; the customer key can', () => {
    const master = parseMasterKey(readFileSync(join(server.dataDir, 'master.key'), 'utf8'));
    const kek = deriveKek(master);
    const db = openTestCatalog(join(server.dataDir, 'datamesh.db')); // the server's catalog, SQLite or PostgreSQL
    try {
      const pieceOf = (key: string) =>
        db.prepare(`SELECT p.manifest_id AS id FROM pieces p JOIN objects o ON o.id = p.object_id WHERE o.bucket = ? AND o.key = ?`).get(B, key) as { id: string };
      const wrappedOf = (id: string) => (db.prepare('SELECT wrapped_key FROM ec_manifests WHERE id = ?').get(id) as { wrapped_key: Buffer }).wrapped_key;
      for (const key of ['big', 'small']) {
        const { id } = pieceOf(key);
        const wrapped = wrappedOf(id);
        expect(() => unwrapKey(kek, wrapped, id)).toThrow();
        expect(() => unwrapManifestKey(kek, wrapped, id)).toThrow();
        expect(() => unwrapManifestKey(kek, wrapped, id, OTHER)).toThrow();
        expect(unwrapManifestKey(kek, wrapped, id, KEY)).toHaveLength(32);
      }
      const plain = pieceOf('plain');
      expect(unwrapKey(kek, wrappedOf(plain.id), plain.id)).toHaveLength(32);
      // the catalog keeps a salted HMAC of the key, never the key or its MD5
      const row = db.prepare('SELECT sse_c FROM objects WHERE bucket = ? AND key = ?').get(B, 'big') as { sse_c: string };
      expect(row.sse_c).toMatch(/^v1\./);
      expect(row.sse_c).not.toContain(KEY.toString('base64url'));
    } finally {
      db.close();
    }
  });

  it('scrub rebuilds a lost shard of an SSE-C object without its key (it works on ciphertext)', async () => {
    const inspected = await runAdminCli(server, 'inspect', B, 'big', '--json');
    expect(inspected.err).toBe('');
    expect(inspected.code).toBe(0);
    const shard = (JSON.parse(inspected.out) as InspectResult).segments[0]!.shards[0]!;
    unlinkSync(shard.path!);
    const degraded = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', ...sse(KEY) }));
    expect((await bytesOf(degraded.Body)).length).toBe(300 * 1024);
    const scrub = await runAdminCli(server, 'scrub', '--json');
    expect(scrub.code).toBe(0);
    const summary = JSON.parse(scrub.out) as { shardsRebuilt: number; unrecoverable: unknown[] };
    expect(summary.unrecoverable).toEqual([]);
    expect(summary.shardsRebuilt).toBeGreaterThanOrEqual(1);
    expect(existsSync(shard.path!) && verifyShard(shard.id, readFileSync(shard.path!))).toBe(true);
  });

  it('refuses keys over plain HTTP from another host unless allowed', () => {
    expect(() => customerKeyOf(keyHeaders(KEY), { keysAllowed: false })).toThrow(/secure connection/);
    expect(customerKeyOf(keyHeaders(KEY), { keysAllowed: true })?.key.equals(KEY)).toBe(true);
  });
});

describe('SSE-C copies', () => {
  it('a copy of an SSE-C source needs the source key', async () => {
    expect(await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'c1', CopySource: `${B}/big` })))).toBe('400 InvalidRequest');
    expect(await outcome(s3.send(new CopyObjectCommand({ Bucket: B, Key: 'c1', CopySource: `${B}/big`, ...sourceSse(OTHER) })))).toBe('403 AccessDenied');
  });

  it('decrypts to a plain copy, encrypts a plain source, and rotates the key of an object in place', async () => {
    const original = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'big', ...sse(KEY) }))).Body);
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'decrypted', CopySource: `${B}/big`, ...sourceSse(KEY) }));
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'decrypted' }))).Body)).equals(original)).toBe(true);
    const enc = await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'encrypted', CopySource: `${B}/decrypted`, ...sse(OTHER) }));
    expect(enc.SSECustomerKeyMD5).toBe(md5(OTHER));
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'encrypted', ...sse(OTHER) }))).Body)).equals(original)).toBe(true);
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'encrypted', CopySource: `${B}/encrypted`, ...sourceSse(OTHER), ...sse(KEY) }));
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'encrypted', ...sse(OTHER) })))).toBe('403 AccessDenied');
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'encrypted', ...sse(KEY) }))).Body)).equals(original)).toBe(true);
    // the same key on both sides shares the bytes
    await s3.send(new CopyObjectCommand({ Bucket: B, Key: 'same-key', CopySource: `${B}/big`, ...sourceSse(KEY), ...sse(KEY) }));
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'same-key', ...sse(KEY) }))).Body)).equals(original)).toBe(true);
  });
});

describe('SSE-C multipart', () => {
  it('every part carries the upload key; the object reads back with it', async () => {
    const part1 = randomBytes(5 * 1024 * 1024);
    const part2 = randomBytes(5 * 1024 * 1024 + 1234);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp', ...sse(KEY) }));
    expect(await outcome(s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 1, Body: part1 })))).toBe('400 InvalidRequest');
    expect(await outcome(s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 1, Body: part1, ...sse(OTHER) })))).toBe(
      '400 InvalidRequest',
    );
    const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 1, Body: part1, ...sse(KEY) }));
    expect(p1.SSECustomerKeyMD5).toBe(md5(KEY));
    // UploadPartCopy from an SSE-C source, read with its key, written with the upload's
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 2, Body: part2, ...sse(KEY) }));
    const p3 = await s3.send(
      new UploadPartCopyCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 3, CopySource: `${B}/small`, ...sourceSse(KEY), ...sse(KEY) }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: B,
        Key: 'mp',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.ETag },
            { PartNumber: 2, ETag: p2.ETag },
            { PartNumber: 3, ETag: p3.CopyPartResult!.ETag },
          ],
        },
      }),
    );
    const small = Buffer.from('a small SSE-C object kept inline');
    const got = await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp', ...sse(KEY) }))).Body);
    expect(got.equals(Buffer.concat([part1, part2, small]))).toBe(true);
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp' })))).toBe('400 InvalidRequest');
    expect(await outcome(s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp', ...sse(OTHER) })))).toBe('403 AccessDenied');
  });
});

describe('SSE-C with boto3', () => {
  it('put_object and get_object with SSECustomerKey', async () => {
    const script = `
import boto3, sys, os
from botocore.config import Config
s3 = boto3.client('s3', endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3],
                  region_name='us-east-1', config=Config(s3={'addressing_style': 'path'}, retries={'max_attempts': 1}))
key = os.urandom(32)
s3.put_object(Bucket='${B}', Key='boto', Body=b'hello sse-c', SSECustomerAlgorithm='AES256', SSECustomerKey=key)
r = s3.get_object(Bucket='${B}', Key='boto', SSECustomerAlgorithm='AES256', SSECustomerKey=key)
assert r['Body'].read() == b'hello sse-c'
assert r['SSECustomerAlgorithm'] == 'AES256'
try:
    s3.get_object(Bucket='${B}', Key='boto', SSECustomerAlgorithm='AES256', SSECustomerKey=os.urandom(32))
    print('no error')
except s3.exceptions.ClientError as e:
    print(e.response['Error']['Code'])
`;
    const env = { ...process.env };
    delete env.AWS_CA_BUNDLE;
    const { stdout: out } = await promisify(execFile)('python3', ['-c', script, server.url, ROOT.accessKeyId, ROOT.secretAccessKey], { env, encoding: 'utf8' });
    expect(out.trim()).toBe('AccessDenied');
  });
});
