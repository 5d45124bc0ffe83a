/**
 * `--sigv2=false`: SigV2 headers, query strings and POST forms are refused as a SigV4-only S3
 * region refuses them (400 InvalidRequest "…Please use AWS4-HMAC-SHA256."), SigV4 keeps working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ROOT, startTestServer, type TestServer } from '../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'v2off';
const sign = (s: string) => createHmac('sha1', ROOT.secretAccessKey).update(s, 'utf8').digest('base64');
const answer = async (r: Response) => {
  const text = await r.text();
  return { status: r.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] };
};
const REFUSED = { status: 400, code: 'InvalidRequest', message: 'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.' };

beforeAll(async () => {
  server = await startTestServer(['--sigv2=false']);
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'v4 still works' }));
});
afterAll(() => server.stop());

describe('--sigv2=false', () => {
  it('refuses a correct SigV2 header', async () => {
    const date = new Date().toUTCString();
    const r = await fetch(`${server.url}/${B}/k`, { headers: { date, authorization: `AWS ${ROOT.accessKeyId}:${sign(`GET\n\n\n${date}\n/${B}/k`)}` } });
    expect(await answer(r)).toEqual(REFUSED);
  });

  it('refuses a correct SigV2 query string', async () => {
    const expires = Math.floor(Date.now() / 1000) + 60;
    const r = await fetch(`${server.url}/${B}/k?AWSAccessKeyId=${ROOT.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sign(`GET\n\n\n${expires}\n/${B}/k`))}`);
    expect(await answer(r)).toEqual(REFUSED);
  });

  it('refuses a correct SigV2 POST form', async () => {
    const policy = Buffer.from(JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions: [{ bucket: B }, ['starts-with', '$key', '']] })).toString('base64');
    const form = new FormData();
    for (const [k, v] of Object.entries({ key: 'posted', AWSAccessKeyId: ROOT.accessKeyId, policy, signature: sign(policy) })) form.append(k, v);
    form.append('file', new Blob(['x']), 'x.txt');
    expect(await answer(await fetch(`${server.url}/${B}`, { method: 'POST', body: form }))).toEqual(REFUSED);
  });

  it('SigV4 is unaffected', async () => {
    const r = await fetch(`${server.url}/${B}/k`); // anonymous: still 403, not the SigV2 answer
    expect((await answer(r)).code).toBe('AccessDenied');
    await expect(s3.send(new PutObjectCommand({ Bucket: B, Key: 'k2', Body: 'x' }))).resolves.toBeDefined();
  });
});
