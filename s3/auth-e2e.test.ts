/** Authentication through the real server: every x-amz-content-sha256 mode, presigned URLs, the errors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bytesOf, ROOT, signedFetch, startTestServer, type TestServer, outcome } from '../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'auth';
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(() => server.stop());

const client = (opts: Partial<ConstructorParameters<typeof S3Client>[0]>) =>
  new S3Client({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, forcePathStyle: true, maxAttempts: 1, ...opts });
const errorCode = async (r: Response) => /<Code>([^<]+)<\/Code>/.exec(await r.text())?.[1];

describe('SigV4 errors', () => {
  it('InvalidAccessKeyId for an unknown key', async () => {
    const c = client({ credentials: { accessKeyId: 'DMNOSUCHKEY000000000', secretAccessKey: 'x' } });
    expect(await outcome(c.send(new ListBucketsCommand({})))).toBe('403 InvalidAccessKeyId');
  });

  it('SignatureDoesNotMatch for a wrong secret', async () => {
    const c = client({ credentials: { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'wrong-secret' } });
    expect(await outcome(c.send(new ListBucketsCommand({})))).toBe('403 SignatureDoesNotMatch');
  });

  it('RequestTimeTooSkewed for a clock 20 minutes off', async () => {
    const c = client({ systemClockOffset: 20 * 60 * 1000 });
    expect(await outcome(c.send(new ListBucketsCommand({})))).toBe('403 RequestTimeTooSkewed');
  });

  it('AuthorizationHeaderMalformed naming the expected region', async () => {
    const r = await signedFetch(server, { method: 'GET', path: '/', region: 'eu-west-1' });
    expect(r.status).toBe(400);
    const body = await r.text();
    expect(body).toContain('<Code>AuthorizationHeaderMalformed</Code>');
    expect(body).toContain('us-east-1');
  });

  it('AccessDenied for an anonymous request', async () => {
    const r = await fetch(`${server.url}/${B}/k`, { method: 'PUT', body: 'x' });
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe('AccessDenied');
  });
});

describe('payload modes', () => {
  it('accepts a hex payload hash that matches, and refuses one that does not', async () => {
    const ok = await signedFetch(server, { method: 'PUT', path: `/${B}/hashed`, body: 'hello' });
    expect(ok.status).toBe(200);
    const bad = await signedFetch(server, {
      method: 'PUT',
      path: `/${B}/hashed2`,
      body: 'hello',
      payload: createHash('sha256').update('other').digest('hex'),
    });
    expect(bad.status).toBe(400);
    expect(await errorCode(bad)).toBe('XAmzContentSHA256Mismatch');
    const missing = await signedFetch(server, { method: 'GET', path: `/${B}/hashed2` });
    expect(missing.status).toBe(404);
  });

  it('accepts UNSIGNED-PAYLOAD', async () => {
    const r = await signedFetch(server, { method: 'PUT', path: `/${B}/unsigned`, body: 'unsigned body', payload: 'UNSIGNED-PAYLOAD' });
    expect(r.status).toBe(200);
    const g = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'unsigned' }));
    expect((await bytesOf(g.Body)).toString()).toBe('unsigned body');
  });

  it('accepts the SDK default (STREAMING-UNSIGNED-PAYLOAD-TRAILER with a CRC32 trailer)', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'trailer', Body: Buffer.alloc(200_000, 7) }));
    expect(put.ChecksumCRC32).toBeTruthy();
  });
});

describe('presigned URLs', () => {
  it('GET and PUT with a presigned URL', async () => {
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: 'pre' }), { expiresIn: 300 });
    const put = await fetch(putUrl, { method: 'PUT', body: 'presigned body' });
    expect(put.status).toBe(200);
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'pre' }), { expiresIn: 300 });
    const get = await fetch(getUrl);
    expect(get.status).toBe(200);
    expect(await get.text()).toBe('presigned body');
  });

  it('refuses an expired URL and an expiry over 7 days', async () => {
    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'pre' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3_600_000),
    });
    const r = await fetch(old);
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe('AccessDenied');
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'pre' }), { expiresIn: 60 }));
    url.searchParams.set('X-Amz-Expires', String(8 * 24 * 3600));
    const long = await fetch(url);
    expect(long.status).toBe(403); // as S3 answers it (s3/status-tail.test.ts)
    expect(await errorCode(long)).toBe('AccessDenied');
  });

  it('refuses a tampered presigned URL', async () => {
    const url = new URL(await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'pre' }), { expiresIn: 60 }));
    url.pathname = `/${B}/other`;
    const r = await fetch(url);
    expect(r.status).toBe(403);
    expect(await errorCode(r)).toBe('SignatureDoesNotMatch');
  });
});
