import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { AdminApiError, createAdminClient, NodeSha256, sha256Hex, type AdminClient } from '../../accounts/client.ts';
import type { AccountInfo, KeyInfo, NewKey, UsageReport } from '../../accounts/accounts.ts';
import type { QuotaView } from '../../accounts/limits.ts';
import { fixture, setBytes, startAdminServer, type Fixture } from '../../accounts/testing/helpers.ts';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { ERRORS } from '../core/errors.ts';
import { ROOT, startTestServer } from './testing/server.ts';

let f: Fixture;
let server: { url: string; close(): Promise<void> };
let root: AdminClient;

beforeEach(async () => {
  f = fixture({ defaults: { maxObjects: 10_000 } });
  server = await startAdminServer(f.accounts);
  const creds = f.accounts.bootstrap();
  root = createAdminClient({ endpoint: server.url, accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey });
});
afterEach(async () => {
  await server.close();
  f.cleanup();
});

const failure = async (p: Promise<unknown>): Promise<AdminApiError> => {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AdminApiError);
    return e as AdminApiError;
  }
  throw new Error('expected the request to fail');
};

describe('admin API', () => {
  it('creates, lists, shows, suspends, resumes and deletes users', async () => {
    const k = await root.request<NewKey>('POST', '/users', { body: { name: 'alice', quota: { maxStorage: 1000 } } });
    expect(Object.keys(k)).toEqual(['name', 'accessKeyId', 'secretAccessKey']);
    expect(f.accounts.lookup(k.accessKeyId)).toEqual({ secret: k.secretAccessKey, account: 'alice' });

    const list = await root.request<{ users: AccountInfo[] }>('GET', '/users');
    expect(list.users.map((u) => u.name)).toEqual(['alice', 'root']);

    const info = await root.request<AccountInfo & { keys: KeyInfo[] }>('GET', '/users/alice');
    expect(info).toMatchObject({ name: 'alice', role: 'user', status: 'active', accessKeys: 1 });
    expect(info.quota.maxStorage).toEqual({ limit: 1000, source: 'account' });
    expect(info.quota.maxObjects).toEqual({ limit: 10_000, source: 'default' });
    expect(info.keys.map((x) => x.accessKeyId)).toEqual([k.accessKeyId]);

    expect((await root.request<AccountInfo>('POST', '/users/alice/suspend')).status).toBe('suspended');
    expect(() => f.accounts.admit('alice', 'read')).toThrow(/suspended/);
    expect((await root.request<AccountInfo>('POST', '/users/alice/resume')).status).toBe('active');

    setBytes(f, 'alice', 10, 1);
    const e = await failure(root.request('DELETE', '/users/alice'));
    expect([e.status, e.code]).toEqual([409, 'AccountHasBuckets']);
    expect(e.message).toMatch(/owns 1 bucket/);
    setBytes(f, 'alice', 0, 0);
    expect(await root.request('DELETE', '/users/alice')).toBeUndefined();
    const gone = await failure(root.request('GET', '/users/alice'));
    expect([gone.status, gone.code]).toEqual([404, 'NoSuchAccount']);
    const dup = await failure(root.request('POST', '/users', { body: { name: 'root' } }));
    expect([dup.status, dup.code]).toEqual([409, 'AccountAlreadyExists']);
  });

  it('rotates keys', async () => {
    const k1 = await root.request<NewKey>('POST', '/users', { body: { name: 'bob' } });
    const k2 = await root.request<NewKey>('POST', '/users/bob/keys');
    expect(k2.name).toBe('bob');
    const keys = await root.request<{ keys: KeyInfo[] }>('GET', '/users/bob/keys');
    expect(keys.keys.map((k) => k.accessKeyId).sort()).toEqual([k1.accessKeyId, k2.accessKeyId].sort());
    await root.request('DELETE', `/users/bob/keys/${k1.accessKeyId}`);
    expect(f.accounts.lookup(k1.accessKeyId)).toBeUndefined();
    expect(f.accounts.lookup(k2.accessKeyId)?.account).toBe('bob');
    const e = await failure(root.request('DELETE', `/users/bob/keys/${k1.accessKeyId}`));
    expect([e.status, e.code]).toEqual([404, 'NoSuchAccessKey']);
  });

  it('sets quotas partially: numbers set, null lifts, "default" restores; bad fields are 400', async () => {
    await root.request('POST', '/users', { body: { name: 'carol' } });
    const r = await root.request<{ quota: QuotaView }>('PATCH', '/users/carol/quota', {
      body: { maxBuckets: 3, maxObjects: null },
    });
    expect(r.quota.maxBuckets).toEqual({ limit: 3, source: 'account' });
    expect(r.quota.maxObjects).toEqual({ limit: null, source: 'lifted' });
    expect(f.accounts.limits('carol')).toEqual({ maxBuckets: 3, maxUploads: 1000 });
    await root.request('PATCH', '/users/carol/quota', { body: { maxObjects: 'default' } });
    expect(f.accounts.limits('carol')).toEqual({ maxBuckets: 3, maxObjects: 10_000, maxUploads: 1000 });
    const bad = await failure(root.request('PATCH', '/users/carol/quota', { body: { maxStorag: 1 } }));
    expect([bad.status, bad.code]).toEqual([400, 'InvalidArgument']);
    expect(bad.message).toMatch(/unknown quota field 'maxStorag'/);
    const neg = await failure(root.request('PATCH', '/users/carol/quota', { body: { maxStorage: -5 } }));
    expect(neg.status).toBe(400);
  });

  it('reports usage for all accounts or one, by month', async () => {
    await root.request('POST', '/users', { body: { name: 'dave' } });
    f.accounts.admit('dave', 'read');
    f.accounts.recordTransfer('dave', { egress: 99 });
    const all = await root.request<{ month: string; usage: UsageReport[] }>('GET', '/usage');
    expect(all.month).toBe('2025-05');
    expect(all.usage.find((u) => u.account === 'dave')).toMatchObject({ readRequests: 1, egressBytes: 99, exists: true });
    const one = await root.request<{ usage: UsageReport[] }>('GET', '/users/dave/usage', { query: { month: '2025-04' } });
    expect(one.usage).toHaveLength(1);
    expect(one.usage[0]).toMatchObject({ account: 'dave', month: '2025-04', readRequests: 0 });
    const bad = await failure(root.request('GET', '/usage', { query: { month: 'May' } }));
    expect([bad.status, bad.code]).toEqual([400, 'InvalidArgument']);
  });

  it('refuses non-admin keys, wrong secrets, unsigned and tampered requests', async () => {
    const k = await root.request<NewKey>('POST', '/users', { body: { name: 'eve' } });
    const eve = createAdminClient({ endpoint: server.url, accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey });
    const denied = await failure(eve.request('GET', '/users'));
    expect([denied.status, denied.code]).toEqual([403, 'AccessDenied']);
    expect(denied.message).toMatch(/account 'eve' is not one/);

    const creds = f.accounts.bootstrap();
    const wrong = createAdminClient({ endpoint: server.url, accessKeyId: creds.accessKey, secretAccessKey: 'x'.repeat(40) });
    const sig = await failure(wrong.request('GET', '/users'));
    expect([sig.status, sig.code]).toEqual([403, 'SignatureDoesNotMatch']);

    const unsigned = await fetch(`${server.url}/_datamesh/admin/v1/users`);
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { error: { code: string } }).error.code).toBe('AccessDenied');

    // Sign one body, send another: the signature covers x-amz-content-sha256, the API checks the body.
    let captured: { url: string; init: RequestInit } | undefined;
    const capture = createAdminClient({
      endpoint: server.url,
      accessKeyId: creds.accessKey,
      secretAccessKey: creds.secretKey,
      fetch: (async (url: URL, init: RequestInit) => {
        captured = { url: String(url), init };
        return new Response('{}', { status: 200 });
      }) as typeof fetch,
    });
    await capture.request('POST', '/users', { body: { name: 'mallory', role: 'user' } });
    expect((captured!.init.headers as Record<string, string>)['x-amz-content-sha256']).toBe(
      sha256Hex(JSON.stringify({ name: 'mallory', role: 'user' })),
    );
    const tampered = await fetch(captured!.url, { ...captured!.init, body: JSON.stringify({ name: 'mallory', role: 'admin' }) });
    expect(tampered.status).toBe(400);
    expect(((await tampered.json()) as { error: { code: string } }).error.code).toBe('XAmzContentSHA256Mismatch');
    const replayed = await fetch(captured!.url, captured!.init);
    expect(replayed.status).toBe(201);
    expect(f.accounts.isAdmin('mallory')).toBe(false);
  });

  it('refuses presigned URLs, even from root', async () => {
    const creds = f.accounts.bootstrap();
    const signer = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials: { accessKeyId: creds.accessKey, secretAccessKey: creds.secretKey },
      sha256: NodeSha256,
      uriEscapePath: false,
    });
    const url = new URL(`${server.url}/_datamesh/admin/v1/users`);
    const signed = await signer.presign(
      { method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } },
      { expiresIn: 300 },
    );
    const query = new URLSearchParams(signed.query as Record<string, string>).toString();
    const res = await fetch(`${url}?${query}`);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(res.status).toBe(403);
    expect(body.error).toMatchObject({ code: 'AccessDenied' });
    expect(body.error.message).toMatch(/presigned/);
  });

  it('answers unknown endpoints with a JSON 404 and bad JSON with 400', async () => {
    const e = await failure(root.request('GET', '/nothing-here'));
    expect([e.status, e.code]).toEqual([404, 'NotFound']);
    const creds = f.accounts.bootstrap();
    const raw = createAdminClient({
      endpoint: server.url,
      accessKeyId: creds.accessKey,
      secretAccessKey: creds.secretKey,
    });
    const bad = await failure(raw.request('POST', '/users', { body: 'not an object' }));
    expect([bad.status, bad.code]).toEqual([400, 'MalformedJSON']);
  });
});

describe('admin API statuses come from the one error table (issue 11)', () => {
  it('an S3 error code keeps its S3 status on the admin API, but for the few that mean nothing there', () => {
    // A 304 or a 416 answers a conditional or ranged read, which the admin API never serves.
    const adminOnly = new Set(['NotModified', 'InvalidRange', 'InvalidPartNumber', 'EntityTooLarge', 'ExpiredToken', 'MissingSecurityHeader']);
    for (const [code, kind] of Object.entries(ERRORS) as [string, { s3: number | undefined; admin: number }][]) {
      if (kind.s3 === undefined || adminOnly.has(code) || kind.s3 >= 500) continue;
      expect([code, kind.admin]).toEqual([code, kind.s3]);
    }
  });

  it('a real server answers NoSuchBucket and NoSuchKey with 404', async () => {
    const s = await startTestServer();
    try {
      const admin = createAdminClient({ endpoint: s.url, accessKeyId: ROOT.accessKeyId, secretAccessKey: ROOT.secretAccessKey });
      const bucket = await failure(admin.request('GET', '/objects/no-such-bucket/k'));
      expect([bucket.status, bucket.code]).toEqual([404, 'NoSuchBucket']);
      await s.client().send(new CreateBucketCommand({ Bucket: 'there' }));
      const key = await failure(admin.request('GET', '/objects/there/no-such-key'));
      expect([key.status, key.code]).toEqual([404, 'NoSuchKey']);
    } finally {
      await s.stop();
    }
  });
});
