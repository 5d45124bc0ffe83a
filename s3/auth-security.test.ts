/**
 * What a signature covers, through the real server (issue 12): every x-amz-* header and `host`
 * must be signed, presigned or not; a signed hex payload hash governs whatever Content-Encoding
 * says; a query signed with a literal '+' is routed with that '+'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, GetObjectTaggingCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bytesOf, outcome, signRequest, signedFetch, startTestServer, type TestServer } from '../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'authsec';
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'secret', Body: 'the victim data' }));
});
afterAll(() => server.stop());

const errorOf = async (r: Response) => {
  const body = await r.text();
  return `${r.status} ${/<Code>([^<]+)<\/Code>/.exec(body)?.[1]}`;
};
const text = async (key: string) => (await bytesOf((await s3.send(new GetObjectCommand({ Bucket: B, Key: key }))).Body)).toString();

describe('presigned URLs: unsigned x-amz-* headers are refused', () => {
  const presignedPut = (key: string) => getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: key }), { expiresIn: 300 });

  it('an unsigned x-amz-copy-source does not turn a presigned PutObject into a CopyObject', async () => {
    const r = await fetch(await presignedPut('stolen'), { method: 'PUT', headers: { 'x-amz-copy-source': `/${B}/secret` } });
    expect(await errorOf(r)).toBe('403 AccessDenied');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'stolen' })))).toBe('404 NotFound');
  });

  it('unsigned metadata and tagging are refused, with the headers named', async () => {
    const url = await presignedPut('tagged');
    const r = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-meta-owner': 'mallory', 'x-amz-tagging': 'a=b' } });
    expect(r.status).toBe(403);
    const body = await r.text();
    expect(body).toContain('There were headers present in the request which were not signed');
    expect(body).toContain('x-amz-meta-owner, x-amz-tagging');
    expect(await outcome(s3.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'tagged' })))).toBe('404 NoSuchKey');
  });

  it('the URL alone still works, and so do headers that were signed or hoisted into the query', async () => {
    expect((await fetch(await presignedPut('plain'), { method: 'PUT', body: 'plain' })).status).toBe(200);
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: B, Key: 'meta', Metadata: { a: '1' } }), { expiresIn: 300 });
    expect((await fetch(url, { method: 'PUT', body: 'm' })).status).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'meta' }))).Metadata).toEqual({ a: '1' });
  });
});

describe('signed requests', () => {
  it('host must be in SignedHeaders', async () => {
    const r = await signedFetch(server, { method: 'GET', path: `/${B}/secret`, unsigned: ['host'] });
    expect(r.status).toBe(403);
    const body = await r.text();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain('<HeadersNotSigned>host</HeadersNotSigned>');
  });

  it('an unsigned Content-Encoding: aws-chunked does not switch off the signed payload hash', async () => {
    const signedBody = Buffer.alloc(24, 'a'); // what the signer hashed
    const frame = Buffer.from('e\r\nother content!\r\n0\r\n\r\n'); // an aws-chunked frame of other bytes
    expect(frame.length).toBe(signedBody.length);
    const signed = await signRequest(server, { method: 'PUT', path: `/${B}/replayed`, body: signedBody });
    const headers: Record<string, string> = { ...signed.headers, 'content-encoding': 'aws-chunked' };
    delete headers.host;
    const r = await fetch(signed.url, { method: 'PUT', headers, body: frame });
    expect(await errorOf(r)).toBe('400 XAmzContentSHA256Mismatch');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'replayed' })))).toBe('404 NotFound');
    expect(createHash('sha256').update(signedBody).digest('hex')).toBe(signed.headers['x-amz-content-sha256']);
  });

  it("a query signed with a literal '+' (%2B) and sent as '+' is routed with the '+'", async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'p/a+b', Body: 'plus' }));
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'p/a b', Body: 'space' }));
    const signed = await signRequest(server, { method: 'GET', path: `/${B}`, query: { 'list-type': '2', prefix: 'p/a+b' } });
    expect(signed.url).toContain('%2B');
    const headers = { ...signed.headers };
    delete headers.host;
    const r = await fetch(signed.url.replace('%2B', '+'), { headers });
    expect(r.status).toBe(200);
    const keys = [...(await r.text()).matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1]);
    expect(keys).toEqual(['p/a+b']);
    expect(await text('p/a+b')).toBe('plus');
  });
});
