/** PostObject (browser form uploads with a SigV4 POST policy) through the real server, forms made by @aws-sdk/s3-presigned-post. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { createHmac } from 'node:crypto';
import { bytesOf, outcome, ROOT, startTestServer, type TestServer } from '../../src/server/testing/server.ts';
import { createUser } from '../../accounts/testing/e2e.ts';

let server: TestServer;
let s3: S3Client;
const B = 'postform';
beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
});
afterAll(() => server.stop());

const errorOf = async (r: Response) => {
  const text = await r.text();
  return { status: r.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '' };
};

async function presign(opts: Partial<PresignedPostOptions> & { Key: string }, client = s3) {
  return createPresignedPost(client, { Bucket: B, Expires: 600, ...opts });
}

/** Posts the form the way a browser does: the fields, then the file last. */
async function post(
  form: { url: string; fields: Record<string, string> },
  content: string | Uint8Array,
  opts: { filename?: string; extra?: Record<string, string>; edit?: (f: Record<string, string>) => void } = {},
): Promise<Response> {
  const fields = { ...form.fields, ...opts.extra };
  opts.edit?.(fields);
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  fd.append('file', new Blob([content], { type: 'application/octet-stream' }), opts.filename ?? 'upload.bin');
  // The SDK's URL is virtual-hosted or path style by the client's setting; the test client is path style.
  return fetch(form.url, { method: 'POST', body: fd });
}

describe('PostObject', () => {
  it('uploads the file with the policy fields: bytes and Content-Type as posted, 204 with an ETag', async () => {
    const form = await presign({ Key: 'docs/hello.txt', Fields: { 'Content-Type': 'text/plain', 'x-amz-meta-origin': 'form' } });
    const r = await post(form, 'hello from a form\n');
    expect(r.status).toBe(204);
    const etag = r.headers.get('etag');
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'docs/hello.txt' }));
    expect((await bytesOf(got.Body)).toString()).toBe('hello from a form\n');
    expect(got.ContentType).toBe('text/plain');
    expect(got.Metadata).toEqual({ origin: 'form' });
    expect(got.ETag).toBe(etag);
  });

  it('replaces ${filename} in the key with the uploaded file name', async () => {
    const form = await presign({ Key: 'uploads/${filename}' });
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    const r = await post(form, bytes, { filename: 'photo.jpg' });
    expect(r.status).toBe(204);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'uploads/photo.jpg' }));
    expect(Buffer.compare(await bytesOf(got.Body), Buffer.from(bytes))).toBe(0);
  });

  it('success_action_status 201 answers the PostResponse document', async () => {
    const form = await presign({ Key: 'created.txt', Fields: { success_action_status: '201' } });
    const r = await post(form, 'x');
    expect(r.status).toBe(201);
    const text = await r.text();
    expect(text).toContain('<PostResponse');
    expect(text).toContain(`<Bucket>${B}</Bucket>`);
    expect(text).toContain('<Key>created.txt</Key>');
    expect(text).toContain(`<ETag>&quot;`);
  });

  it("accepts a SigV2 form (boto3's default: AWSAccessKeyId, base64 HMAC-SHA1 signature)", async () => {
    const policy = Buffer.from(
      JSON.stringify({ expiration: new Date(Date.now() + 600_000).toISOString(), conditions: [{ bucket: B }, ['starts-with', '$key', 'v2/']] }),
    ).toString('base64');
    const sign = (secret: string) => createHmac('sha1', secret).update(policy).digest('base64');
    const form = { url: `${server.url}/${B}`, fields: { key: 'v2/${filename}', AWSAccessKeyId: ROOT.accessKeyId, policy, signature: sign(ROOT.secretAccessKey) } };
    expect((await post(form, 'v2 bytes', { filename: 'a.txt' })).status).toBe(204);
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'v2/a.txt' }));
    expect((await bytesOf(got.Body)).toString()).toBe('v2 bytes');
    const bad = await post(form, 'x', { edit: (f) => (f.signature = sign('wrong')) });
    expect(await errorOf(bad)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('refuses an expired policy', async () => {
    const form = await presign({ Key: 'late.txt', Expires: -60 });
    const e = await errorOf(await post(form, 'x'));
    expect(e).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(e.message).toContain('Policy expired');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'late.txt' })))).toBe('404 NotFound');
  });

  it('caps a policy lifetime at 7 days, as presigned URLs', async () => {
    const week = 7 * 24 * 3600;
    expect((await post(await presign({ Key: 'week.txt', Expires: week }), 'x')).status).toBe(204);
    const e = await errorOf(await post(await presign({ Key: 'month.txt', Expires: 30 * 24 * 3600 }), 'x'));
    expect(e).toMatchObject({ status: 400, code: 'InvalidPolicyDocument' });
    expect(e.message).toContain('more than 7 days');
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'month.txt' })))).toBe('404 NotFound');
  });

  it('refuses a tampered policy or signature', async () => {
    const form = await presign({ Key: 'locked/${filename}' });
    const policy = JSON.parse(Buffer.from(form.fields.Policy!, 'base64').toString()) as { conditions: unknown[] };
    policy.conditions = policy.conditions.filter((c) => !(Array.isArray(c) && c[0] === 'starts-with'));
    const forged = Buffer.from(JSON.stringify(policy)).toString('base64');
    const a = await errorOf(await post(form, 'x', { edit: (f) => ((f.Policy = forged), (f.key = 'elsewhere.txt')) }));
    expect(a).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    const sig = form.fields['X-Amz-Signature']!;
    const b = await errorOf(await post(form, 'x', { edit: (f) => (f['X-Amz-Signature'] = (sig[0] === 'a' ? 'b' : 'a') + sig.slice(1)) }));
    expect(b).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
  });

  it('enforces content-length-range both ways, storing nothing', async () => {
    const form = await presign({ Key: 'sized.bin', Conditions: [['content-length-range', 10, 100]] });
    expect(await errorOf(await post(form, 'x'.repeat(101)))).toMatchObject({ status: 400, code: 'EntityTooLarge' });
    expect(await errorOf(await post(form, 'x'.repeat(9)))).toMatchObject({ status: 400, code: 'EntityTooSmall' });
    expect(await outcome(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'sized.bin' })))).toBe('404 NotFound');
    expect((await post(form, 'x'.repeat(100))).status).toBe(204);
  });

  it('refuses a key outside the policy and a field the policy does not cover', async () => {
    const form = await presign({ Key: 'only/${filename}' });
    const a = await errorOf(await post(form, 'x', { edit: (f) => (f.key = 'other/a.txt') }));
    expect(a).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(a.message).toContain('Policy Condition failed');
    const b = await errorOf(await post(form, 'x', { extra: { 'x-amz-meta-sneaky': 'yes' } }));
    expect(b).toMatchObject({ status: 403, code: 'AccessDenied' });
    expect(b.message).toContain('Extra input fields: x-amz-meta-sneaky');
    // x-ignore-* fields need no condition.
    expect((await post(form, 'x', { extra: { 'x-ignore-note': 'fine' } })).status).toBe(204);
  });

  it("refuses another account's form for this bucket with AccessDenied", async () => {
    const other = await createUser(server, 'poster');
    const form = await presign({ Key: 'intruder.txt' }, server.client({ credentials: other }));
    expect(await errorOf(await post(form, 'x'))).toMatchObject({ status: 403, code: 'AccessDenied' });
  });

  it('refuses a form without a policy, and a body that is not multipart/form-data', async () => {
    const fd = new FormData();
    fd.append('key', 'anon.txt');
    fd.append('file', new Blob(['x']), 'a.txt');
    expect(await errorOf(await fetch(`${server.url}/${B}`, { method: 'POST', body: fd }))).toMatchObject({ status: 403, code: 'AccessDenied' });
    const r = await fetch(`${server.url}/${B}`, { method: 'POST', body: 'key=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(await errorOf(r)).toMatchObject({ status: 412, code: 'PreconditionFailed' });
  });
});
