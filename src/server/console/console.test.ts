/**
 * The console over plain HTTP (no browser): headers, the session cookie, CSRF and Origin checks,
 * expiry, the upload API with presigned URLs, and S3 requests to a bucket named "console".
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { createAdminClient, type AdminClient } from '../../../accounts/client.ts';
import type { NewKey } from '../../../accounts/accounts.ts';
import { bytesOf, ROOT, startTestServer, type TestServer } from '../testing/server.ts';
import { createSessions } from './session.ts';
import { MAX_FORM_BODY } from './pages/forms.ts';
import { VERSIONS_PAGE } from './pages/versions.ts';
import { peerRow, type MeshPeer } from './pages/admin.ts';

let server: TestServer;
let admin: AdminClient;

beforeAll(async () => {
  server = await startTestServer();
  admin = createAdminClient({ endpoint: server.url, ...ROOT });
});
afterAll(async () => {
  await server?.stop();
});

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

/** Signs in over HTTP; answers the session cookie and the page's CSRF token. */
async function signIn(creds: { accessKeyId: string; secretAccessKey: string }, headers: Record<string, string> = {}) {
  const r = await fetch(`${server.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }),
  });
  const setCookie = r.headers.get('set-cookie') ?? '';
  const cookie = setCookie.split(';')[0]!;
  const page = await fetch(`${server.url}/console/buckets`, { headers: { cookie } });
  const csrf = /name="csrf-token" content="([^"]+)"/.exec(await page.text())?.[1] ?? '';
  return { status: r.status, setCookie, cookie, csrf };
}

const post = (path: string, cookie: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie, origin: server.url, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });

const api = (path: string, s: { cookie: string; csrf: string }, body: object) =>
  fetch(`${server.url}/console/api/uploads/${path}`, {
    method: 'POST',
    headers: { cookie: s.cookie, origin: server.url, 'content-type': 'application/json', 'x-csrf-token': s.csrf },
    body: JSON.stringify(body),
  });

/**
 * A POST sent as raw HTTP, the body in chunks (chunked transfer encoding unless a content-length
 * is given); answers the status and body of the response, which may come before the body is sent.
 */
function rawPost(path: string, headers: Record<string, string>, chunks: Buffer[]): Promise<{ status: number; body: string; type: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { method: 'POST', headers: { origin: server.url, ...headers } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: String(res.headers['content-type']) }));
      res.on('error', reject);
    });
    req.on('error', () => {}); // the server may close while the rest of the body is on its way
    const write = (i: number) => {
      if (i === chunks.length) return void req.end();
      if (req.destroyed) return;
      req.write(chunks[i], () => write(i + 1));
    };
    write(0);
  });
}

describe('console over HTTP', () => {
  it('refuses form and API bodies past the size limit with 413, declared or streamed', async () => {
    const s = await signIn(ROOT);
    const pad = (n: number) => Buffer.from(`csrf=${s.csrf}&name=big-form&pad=${'x'.repeat(n)}`);
    const urlencoded = { 'content-type': 'application/x-www-form-urlencoded', cookie: s.cookie };
    // Declared too large: refused before the body is read (sign-in has no session yet).
    const whole = pad(MAX_FORM_BODY);
    const declared = await rawPost('/console/sign-in', { ...urlencoded, 'content-length': String(whole.length) }, [whole]);
    expect(declared.status).toBe(413);
    expect(declared.body).toMatch(/larger than the console accepts \(1048576 bytes\)/);
    // Streamed without a length: cut once it passes the limit, on every form route and the upload API.
    const chunks = Array.from({ length: 40 }, () => Buffer.alloc(64 * 1024, 'x'));
    for (const path of ['/console/buckets', '/console/admin/users', '/console/buckets/b/delete-objects']) {
      const r = await rawPost(path, urlencoded, [pad(10), ...chunks]);
      expect([path, r.status]).toEqual([path, 413]);
      expect(r.type).toMatch(/text\/html/);
    }
    const json = await rawPost('/console/api/uploads/complete', { 'content-type': 'application/json', cookie: s.cookie, 'x-csrf-token': s.csrf }, [Buffer.from('{"parts":['), ...chunks]);
    expect(json.status).toBe(413);
    expect(JSON.parse(json.body)).toMatchObject({ error: { code: 'EntityTooLarge' } });
    // Just under the limit is still a form: the bucket is created.
    const fits = await rawPost('/console/buckets', urlencoded, [pad(MAX_FORM_BODY - 200)]);
    expect(fits.status).toBe(303);
    expect(await (await fetch(`${server.url}/console/buckets`, { headers: { cookie: s.cookie } })).text()).toContain('big-form');
  });

  it('serves pages with a strict CSP and no inline script', async () => {
    const r = await fetch(`${server.url}/console/sign-in`);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    const body = await r.text();
    expect(body).not.toMatch(/<script>|<script [^>]*>[^<]+<\/script>|style="|\son\w+="/);
    expect(body).not.toMatch(/https?:\/\//); // nothing from elsewhere
    const js = await fetch(`${server.url}/console/assets/console.js`);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
  });

  it('keeps the session in an HttpOnly SameSite=Strict cookie, Secure over HTTPS, without the secret', async () => {
    const s = await signIn(ROOT);
    expect(s.status).toBe(303);
    expect(s.setCookie).toMatch(/^datamesh_console=[\w-]{40,}; Path=\/console; HttpOnly; SameSite=Strict$/);
    expect(s.setCookie).not.toContain(ROOT.secretAccessKey);
    const https = await signIn(ROOT, { 'x-forwarded-proto': 'https', origin: server.url.replace('http:', 'https:') });
    expect(https.setCookie).toMatch(/; Secure/);
    // Wrong secret: 401 with the sign-in page, no cookie.
    const bad = await signIn({ accessKeyId: ROOT.accessKeyId, secretAccessKey: 'wrong' });
    expect([bad.status, bad.setCookie]).toEqual([401, '']);
  });

  it('refuses state changes without the CSRF token or from another origin', async () => {
    const s = await signIn(ROOT);
    expect(s.csrf).toMatch(/^[\w-]{40,}$/);
    const cases: [string, Record<string, string>, string][] = [
      ['no token', {}, form({ name: 'csrf-none' })],
      ['wrong token', {}, form({ name: 'csrf-wrong', csrf: 'x'.repeat(43) })],
      ['other origin', { origin: 'http://evil.example' }, form({ name: 'csrf-origin', csrf: s.csrf })],
      ['cross-site fetch', { 'sec-fetch-site': 'cross-site' }, form({ name: 'csrf-site', csrf: s.csrf })],
      ['no origin or referer', { origin: '' }, form({ name: 'csrf-noorigin', csrf: s.csrf })],
    ];
    for (const [what, headers, body] of cases) {
      const h = { ...headers };
      const r = await fetch(`${server.url}/console/buckets`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie: s.cookie, 'content-type': 'application/x-www-form-urlencoded', ...(h.origin === '' ? {} : { origin: h.origin ?? server.url }), ...(h['sec-fetch-site'] ? { 'sec-fetch-site': h['sec-fetch-site'] } : {}) },
        body,
      });
      expect([what, r.status]).toEqual([what, 403]);
    }
    const ok = await post('/console/buckets', s.cookie, form({ name: 'csrf-ok', csrf: s.csrf }));
    expect(ok.status).toBe(303);
    const list = await (await fetch(`${server.url}/console/buckets`, { headers: { cookie: s.cookie } })).text();
    expect(list).toContain('csrf-ok');
    expect(list).not.toMatch(/csrf-(none|wrong|origin|site|noorigin)/);
  });

  it('ends sessions on sign-out and when the key is deleted; refuses a suspended account', async () => {
    const key = await admin.request<NewKey>('POST', '/users', { body: { name: 'bob' } });
    const creds = { accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey };
    const s = await signIn(creds);
    expect((await fetch(`${server.url}/console/buckets`, { headers: { cookie: s.cookie }, redirect: 'manual' })).status).toBe(200);
    const out = await post('/console/sign-out', s.cookie, form({ csrf: s.csrf }));
    expect(out.headers.get('set-cookie')).toMatch(/Max-Age=0/);
    expect((await fetch(`${server.url}/console/buckets`, { headers: { cookie: s.cookie }, redirect: 'manual' })).status).toBe(303);

    const again = await signIn(creds);
    const second = await admin.request<NewKey>('POST', '/users/bob/keys');
    await admin.request('DELETE', `/users/bob/keys/${key.accessKeyId}`);
    const r = await fetch(`${server.url}/console/buckets`, { headers: { cookie: again.cookie }, redirect: 'manual' });
    expect([r.status, r.headers.get('location')]).toEqual([303, '/console/sign-in']);

    await admin.request('POST', '/users/bob/suspend');
    const suspended = await fetch(`${server.url}/console/sign-in`, {
      method: 'POST',
      headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: form({ accessKeyId: second.accessKeyId, secretAccessKey: second.secretAccessKey }),
    });
    expect(suspended.status).toBe(401);
    expect(await suspended.text()).toMatch(/suspended/);
  });

  it('uploads through presigned URLs: a PUT, and a multipart upload that completes or aborts', async () => {
    const s = await signIn(ROOT);
    await post('/console/buckets', s.cookie, form({ name: 'uploads', csrf: s.csrf }));
    // Without the CSRF header the API refuses.
    const noToken = await fetch(`${server.url}/console/api/uploads/put-url`, {
      method: 'POST',
      headers: { cookie: s.cookie, origin: server.url, 'content-type': 'application/json' },
      body: JSON.stringify({ bucket: 'uploads', key: 'a' }),
    });
    expect(noToken.status).toBe(403);

    const { url } = (await (await api('put-url', s, { bucket: 'uploads', key: 'dir/a b.txt' })).json()) as { url: string };
    expect((await fetch(url, { method: 'PUT', body: 'hello' })).status).toBe(200);
    const got = await server.client().send(new GetObjectCommand({ Bucket: 'uploads', Key: 'dir/a b.txt' }));
    expect((await bytesOf(got.Body)).toString()).toBe('hello');

    const part1 = Buffer.alloc(5 * 1024 * 1024, 1);
    const part2 = Buffer.from('tail');
    const created = (await (await api('create', s, { bucket: 'uploads', key: 'big', size: part1.length + part2.length })).json()) as {
      uploadId: string;
      partSize: number;
    };
    expect(created.partSize).toBe(16 * 1024 * 1024);
    const { urls } = (await (await api('part-urls', s, { bucket: 'uploads', key: 'big', uploadId: created.uploadId, partNumbers: [1, 2] })).json()) as {
      urls: Record<string, string>;
    };
    const etags: string[] = [];
    for (const [n, body] of [[1, part1], [2, part2]] as const) {
      const r = await fetch(urls[n]!, { method: 'PUT', body });
      expect(r.status).toBe(200);
      etags.push(r.headers.get('etag')!);
    }
    const done = await api('complete', s, { bucket: 'uploads', key: 'big', uploadId: created.uploadId, parts: etags.map((etag, i) => ({ partNumber: i + 1, etag })) });
    expect(done.status).toBe(200);
    const big = await server.client().send(new GetObjectCommand({ Bucket: 'uploads', Key: 'big' }));
    expect((await bytesOf(big.Body)).equals(Buffer.concat([part1, part2]))).toBe(true);

    const aborted = (await (await api('create', s, { bucket: 'uploads', key: 'gone', size: 1 })).json()) as { uploadId: string };
    expect((await api('abort', s, { bucket: 'uploads', key: 'gone', uploadId: aborted.uploadId })).status).toBe(200);
    const again = await api('complete', s, { bucket: 'uploads', key: 'gone', uploadId: aborted.uploadId, parts: [{ partNumber: 1, etag: 'x' }] });
    expect([again.status, ((await again.json()) as { error: { code: string } }).error.code]).toEqual([404, 'NoSuchUpload']);

    // Another account's bucket: S3 says no, and so does the console.
    const key = await admin.request<NewKey>('POST', '/users', { body: { name: 'carol' } });
    const carol = await signIn({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    const denied = await api('create', carol, { bucket: 'uploads', key: 'x', size: 1 });
    expect([denied.status, ((await denied.json()) as { error: { code: string } }).error.code]).toEqual([403, 'AccessDenied']);
    const page = await fetch(`${server.url}/console/buckets/uploads`, { headers: { cookie: carol.cookie } });
    expect(page.status).toBe(403);
  });

  it('lists an object\'s versions and delete markers, downloads and deletes one version', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'doc.txt', Body: 'plain' }));
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'doc.txt.bak', Body: 'another key' }));
    const s = await signIn(ROOT);
    const objectPage = async (key = 'doc.txt', extra = '') => {
      const r = await fetch(`${server.url}/console/buckets/versioned/object?key=${encodeURIComponent(key)}${extra}`, { headers: { cookie: s.cookie } });
      return { status: r.status, text: await r.text() };
    };
    // Never versioned: one version, said so, and no versions table.
    const plain = await objectPage();
    expect(plain.text).toMatch(/Versioning is not enabled on versioned/);
    expect(plain.text).not.toMatch(/older versions are not listed|does not list older versions/);

    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
    const v1 = (await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'doc.txt', Body: 'first' }))).VersionId!;
    const v2 = (await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'doc.txt', Body: 'second!' }))).VersionId!;
    const marker = (await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'doc.txt' }))).VersionId!;
    const rowsOf = (text: string) => [...text.matchAll(/<tr class="(delete-marker)?">\s*<td><code>([^<]+)<\/code>/g)].map((m) => `${m[2]}${m[1] ? ' marker' : ''}`);

    // The newest version is a delete marker: the page says the object is deleted and lists the rest (not doc.txt.bak's).
    const deleted = await objectPage();
    expect(deleted.status).toBe(200);
    expect(deleted.text).toMatch(/doc.txt is deleted: its newest version is a delete marker/);
    expect(rowsOf(deleted.text)).toEqual([`${marker} marker`, v2, v1, 'null']);
    expect(deleted.text).toContain('4 versions');

    // Download one version: a presigned GET of that versionId.
    const dl = await fetch(`${server.url}/console/buckets/versioned/download?key=doc.txt&versionId=${encodeURIComponent(v1)}`, { headers: { cookie: s.cookie }, redirect: 'manual' });
    expect(dl.status).toBe(303);
    const presigned = dl.headers.get('location')!;
    expect(new URL(presigned).searchParams.get('versionId')).toBe(v1);
    expect(await (await fetch(presigned)).text()).toBe('first');

    // Deleting the delete marker brings v2 back; deleting v1 removes it for good.
    for (const id of [marker, v1]) {
      const r = await post('/console/buckets/versioned/delete-version', s.cookie, form({ csrf: s.csrf, key: 'doc.txt', versionId: id }));
      expect([r.status, r.headers.get('location')]).toEqual([303, '/console/buckets/versioned/object?key=doc.txt&done=version-deleted']);
    }
    const back = await objectPage('doc.txt', '&done=version-deleted');
    expect(back.text).toMatch(/Version deleted/);
    expect(back.text).toMatch(/Versioning is enabled on versioned/);
    expect(rowsOf(back.text)).toEqual([v2, 'null']);
    expect(back.text).toMatch(/this adds a delete marker/);
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'doc.txt' }));
    expect((left.Versions ?? []).filter((x) => x.Key === 'doc.txt').map((x) => x.VersionId)).toEqual([v2, 'null']);
    expect(left.DeleteMarkers ?? []).toEqual([]);
    // A form without a version id deletes nothing.
    const none = await post('/console/buckets/versioned/delete-version', s.cookie, form({ csrf: s.csrf, key: 'doc.txt' }));
    expect(none.status).toBe(400);
    expect(await none.text()).toMatch(/nothing was deleted/);
  });

  it('shows the object page to a key that may read the object but not the bucket\'s versions', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'lent' }));
    await s3.send(new PutObjectCommand({ Bucket: 'lent', Key: 'read-me.txt', Body: 'shared' }));
    const policy = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::dave:root' }, Action: ['s3:GetObject', 's3:GetObjectTagging'], Resource: 'arn:aws:s3:::lent/*' }] };
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'lent', Policy: JSON.stringify(policy) }));
    const key = await admin.request<NewKey>('POST', '/users', { body: { name: 'dave' } });
    const dave = await signIn({ accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
    const r = await fetch(`${server.url}/console/buckets/lent/object?key=read-me.txt`, { headers: { cookie: dave.cookie } });
    const text = await r.text();
    expect(r.status).toBe(200);
    expect(text).toMatch(/S3 does not let this key read the versions: .*\(AccessDenied\)/);
  });

  it('pages through many versions of one key', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'many-versions' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'many-versions', VersioningConfiguration: { Status: 'Enabled' } }));
    const ids: string[] = [];
    for (let i = 0; i < VERSIONS_PAGE + 3; i++) ids.unshift((await s3.send(new PutObjectCommand({ Bucket: 'many-versions', Key: 'k', Body: `v${i}` }))).VersionId!);
    const s = await signIn(ROOT);
    const first = await (await fetch(`${server.url}/console/buckets/many-versions/object?key=k`, { headers: { cookie: s.cookie } })).text();
    const shown = (t: string) => [...t.matchAll(/<td><code>([^<]+)<\/code>/g)].map((m) => m[1]);
    expect(shown(first)).toEqual(ids.slice(0, VERSIONS_PAGE));
    const older = /<a rel="next" href="([^"]+)">Older versions<\/a>/.exec(first)![1]!.replace(/&amp;/g, '&');
    const second = await (await fetch(`${server.url}${older}`, { headers: { cookie: s.cookie } })).text();
    expect(shown(second)).toEqual(ids.slice(VERSIONS_PAGE));
    expect(second).not.toMatch(/Older versions/);
  });

  it('leaves signed S3 requests under /console to S3 (a bucket may be named "console")', async () => {
    const s3 = server.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'console' }));
    await s3.send(new PutObjectCommand({ Bucket: 'console', Key: 'sign-in', Body: 'not a page' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'console', Key: 'sign-in' }));
    expect((await bytesOf(got.Body)).toString()).toBe('not a page');
    // A browser form upload (PostObject) to the bucket is signed inside its form: S3 too.
    const form = await createPresignedPost(s3, { Bucket: 'console', Key: 'posted.txt', Expires: 600 });
    const fd = new FormData();
    for (const [k, v] of Object.entries(form.fields)) fd.append(k, v);
    fd.append('file', new Blob(['by form']), 'posted.txt');
    expect(form.url).toBe(`${server.url}/console`);
    expect((await fetch(form.url, { method: 'POST', body: fd })).status).toBe(204);
    const posted = await s3.send(new GetObjectCommand({ Bucket: 'console', Key: 'posted.txt' }));
    expect((await bytesOf(posted.Body)).toString()).toBe('by form');
    // The browser (unsigned) still gets the console.
    expect(await (await fetch(`${server.url}/console/sign-in`)).text()).toContain('Secret access key');
  });
});

describe('console sessions', () => {
  it('expire after the idle time and after the longest age', () => {
    let t = 0;
    const sessions = createSessions({ idleMs: 100, maxAgeMs: 250, now: () => t });
    const s = sessions.create('alice', 'AK');
    t = 90;
    expect(sessions.get(s.id)?.account).toBe('alice');
    t = 180;
    expect(sessions.get(s.id)?.account).toBe('alice'); // touched at 90
    t = 260;
    expect(sessions.get(s.id)).toBeUndefined(); // older than maxAge
    const idle = sessions.create('bob', 'AK2');
    t = 361;
    expect(sessions.get(idle.id)).toBeUndefined();
    expect(sessions.size).toBe(0);
  });
});

describe('the mesh page\'s peer rows', () => {
  const viewer = { account: 'root', admin: true, csrf: 'token' };
  const peer = (over: Partial<MeshPeer>): MeshPeer => ({
    id: '12D3KooWPeerPeerPeerPeer',
    self: false,
    addresses: [],
    state: 'up',
    since: 0,
    shardsHeld: 3,
    bytes: 1024,
    capacity: null,
    health: { successRate: 1, latencyMs: 5, score: 1 },
    admission: 'pending',
    ...over,
  });
  const cells = async (p: MeshPeer) => {
    const row = String(await peerRow(viewer, p));
    return {
      audits: /<td>([^<]*(?:<span[^>]*>[^<]*<\/span>)?)<\/td><td class="actions">/.exec(row)?.[1]?.replace(/<[^>]+>/g, ''),
      buttons: [...row.matchAll(/<button[^>]*>([^<]+)<\/button>/g)].map((m) => m[1]),
      row,
    };
  };

  it('shows audits when the mesh view has them, "—" otherwise', async () => {
    expect((await cells(peer({}))).audits).toBe('—');
    expect((await cells(peer({ audits: { passed: 12, failed: 1 } }))).audits).toBe('12 passed, 1 failed');
  });

  it('offers Admit to pending and evicted peers, Evict to the others, nothing for this node', async () => {
    expect((await cells(peer({ admission: 'pending' }))).buttons).toEqual(['Admit', 'Evict']);
    expect((await cells(peer({ admission: 'admitted' }))).buttons).toEqual(['Evict']);
    expect((await cells(peer({ admission: 'evicted' }))).buttons).toEqual(['Admit']);
    expect((await cells(peer({ self: true, admission: 'admitted' }))).buttons).toEqual([]);
    const { row } = await cells(peer({ admission: 'pending' }));
    expect(row).toContain('action="/console/admin/mesh/peers/12D3KooWPeerPeerPeerPeer/admit"');
    expect(row).toContain('name="csrf" value="token"');
  });
});
