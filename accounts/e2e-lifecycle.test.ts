/**
 * Issue 5 end to end: an account's life through the real server. Suspension refuses its requests
 * and keeps its data; a rotated key works alongside the old one until that is deleted; the admin
 * API refuses accounts that are not admins; metering counts the bytes and requests it served.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { bytesOf, signedFetch } from '../src/server/testing/server.ts';
import { runAdmin } from '../src/server/cli/index.ts';
import { admin, bytes, createUser, failure, refusal, startE2eServer, usageOf, userInfo, type Creds, type E2eServer } from './testing/e2e.ts';

const KiB = 1024;
let server: E2eServer;

beforeAll(async () => {
  server = await startE2eServer();
});
afterAll(() => server.stop());

describe('suspension', () => {
  it('refuses every request of a suspended account with AccessDenied, keeps its data, and resume lets it back', async () => {
    const s3 = server.client(await createUser(server, 'sus'));
    const body = bytes(50 * KiB, 1);
    await s3.send(new CreateBucketCommand({ Bucket: 'sus-data' }));
    await s3.send(new PutObjectCommand({ Bucket: 'sus-data', Key: 'k', Body: body }));
    const before = (await userInfo(server, 'sus')).usage;
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'sus-data', Key: 'k' }), { expiresIn: 300 });

    const out = JSON.parse(await admin(server, 'user', 'suspend', 'sus', '--json')) as { status: string };
    expect(out.status).toBe('suspended');
    const r = await refusal(s3.send(new GetObjectCommand({ Bucket: 'sus-data', Key: 'k' })));
    expect(`${r.status} ${r.code}`).toBe('403 AccessDenied');
    expect(r.message).toMatch(/suspended; its data is kept/);
    expect(await failure(s3.send(new ListBucketsCommand({})))).toBe('403 AccessDenied');
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: 'sus-data', Key: 'k2', Body: 'x' })))).toBe('403 AccessDenied');
    expect(await failure(s3.send(new DeleteObjectCommand({ Bucket: 'sus-data', Key: 'k' })))).toBe('403 AccessDenied');
    const viaUrl = await fetch(url); // a URL it presigned before is refused too
    expect(viaUrl.status).toBe(403);
    expect(await viaUrl.text()).toContain('<Code>AccessDenied</Code>');
    const info = await userInfo(server, 'sus');
    expect(info.status).toBe('suspended');
    expect(info.usage).toEqual(before);

    await admin(server, 'user', 'resume', 'sus');
    const got = await s3.send(new GetObjectCommand({ Bucket: 'sus-data', Key: 'k' }));
    expect((await bytesOf(got.Body)).equals(body)).toBe(true);
    expect((await fetch(url)).status).toBe(200);
    await s3.send(new PutObjectCommand({ Bucket: 'sus-data', Key: 'k2', Body: 'x' }));
  });
});

describe('key rotation', () => {
  it('a new key works beside the old one; once the old one is deleted it is InvalidAccessKeyId', async () => {
    const oldKey = await createUser(server, 'rot');
    const old = server.client(oldKey);
    await old.send(new CreateBucketCommand({ Bucket: 'rot-data' }));
    const created = JSON.parse(await admin(server, 'key', 'create', 'rot', '--json')) as Creds & { name: string };
    expect(Object.keys(created)).toEqual(['name', 'accessKeyId', 'secretAccessKey']);
    expect(created.accessKeyId).not.toBe(oldKey.accessKeyId);
    const fresh = server.client(created);
    // Both keys act as the same account.
    await fresh.send(new PutObjectCommand({ Bucket: 'rot-data', Key: 'by-new', Body: 'n' }));
    await old.send(new PutObjectCommand({ Bucket: 'rot-data', Key: 'by-old', Body: 'o' }));
    for (const c of [old, fresh]) {
      expect((await c.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toEqual(['rot-data']);
    }
    const keys = JSON.parse(await admin(server, 'key', 'list', 'rot', '--json')) as { keys: { accessKeyId: string }[] };
    expect(keys.keys.map((k) => k.accessKeyId).sort()).toEqual([oldKey.accessKeyId, created.accessKeyId].sort());

    const url = await getSignedUrl(old, new GetObjectCommand({ Bucket: 'rot-data', Key: 'by-old' }), { expiresIn: 300 });
    expect((await fetch(url)).status).toBe(200);

    await admin(server, 'key', 'delete', 'rot', oldKey.accessKeyId);
    const r = await refusal(old.send(new ListBucketsCommand({})));
    expect(`${r.status} ${r.code}`).toBe('403 InvalidAccessKeyId');
    const stale = await fetch(url); // URLs presigned with the deleted key stop working
    expect(stale.status).toBe(403);
    expect(await stale.text()).toContain('<Code>InvalidAccessKeyId</Code>');
    const listed = await fresh.send(new ListObjectsV2Command({ Bucket: 'rot-data' }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['by-new', 'by-old']);
  });
});

describe('the admin API', () => {
  it('refuses a non-admin account (403 AccessDenied) and changes nothing', async () => {
    const bob = await createUser(server, 'bob-user', '--max-storage', '1MiB');
    const list = await signedFetch(server, { method: 'GET', path: '/_datamesh/admin/v1/users', credentials: bob });
    expect(list.status).toBe(403);
    expect(((await list.json()) as { error: { code: string } }).error.code).toBe('AccessDenied');

    const create = await signedFetch(server, {
      method: 'POST',
      path: '/_datamesh/admin/v1/users',
      body: JSON.stringify({ name: 'mallory', role: 'admin' }),
      headers: { 'content-type': 'application/json' },
      credentials: bob,
    });
    expect(create.status).toBe(403);
    const lift = await signedFetch(server, {
      method: 'PATCH',
      path: '/_datamesh/admin/v1/users/bob-user/quota',
      body: JSON.stringify({ maxStorage: null }),
      headers: { 'content-type': 'application/json' },
      credentials: bob,
    });
    expect(lift.status).toBe(403);
    const self = await signedFetch(server, { method: 'GET', path: '/_datamesh/admin/v1/users/bob-user', credentials: bob });
    expect(self.status).toBe(403);

    // The CLI with bob's key says no, and exits 1.
    let err = '';
    const code = await runAdmin(['user', 'list', '--endpoint', server.url], {
      stdout: { write: () => true },
      stderr: { write: (s: string) => (err += s) },
      env: { DATAMESH_ACCESS_KEY: bob.accessKeyId, DATAMESH_SECRET_KEY: bob.secretAccessKey },
    });
    expect(code).toBe(1);
    expect(err).toMatch(/AccessDenied, HTTP 403/);

    const users = JSON.parse(await admin(server, 'user', 'list', '--json')) as { name: string }[];
    expect(users.map((u) => u.name)).not.toContain('mallory');
    expect((await userInfo(server, 'bob-user')).quota.maxStorage.limit).toBe(1024 * 1024);
  });
});

describe('metering', () => {
  it('shows the ingress and egress bytes and the requests by class an account made', async () => {
    const s3 = server.client(await createUser(server, 'meter'));
    const a = bytes(300 * KiB, 2);
    const b = bytes(200 * KiB, 3);
    await s3.send(new CreateBucketCommand({ Bucket: 'meter-data' })); // write
    await s3.send(new PutObjectCommand({ Bucket: 'meter-data', Key: 'a', Body: a })); // write
    await s3.send(new PutObjectCommand({ Bucket: 'meter-data', Key: 'b', Body: b })); // write
    const got = await s3.send(new GetObjectCommand({ Bucket: 'meter-data', Key: 'a' })); // read
    expect((await bytesOf(got.Body)).length).toBe(a.length);
    await s3.send(new HeadObjectCommand({ Bucket: 'meter-data', Key: 'b' })); // read
    await s3.send(new ListObjectsV2Command({ Bucket: 'meter-data' })); // list: counted with writes
    await s3.send(new DeleteObjectCommand({ Bucket: 'meter-data', Key: 'b' })); // write

    const u = await usageOf(server, 'meter');
    expect(u.exists).toBe(true);
    expect(u.ingressBytes).toBeGreaterThanOrEqual(a.length + b.length);
    expect(u.egressBytes).toBeGreaterThanOrEqual(a.length);
    expect(u.writeRequests).toBe(5);
    expect(u.readRequests).toBe(2);
    expect(u.current).toEqual({ bytes: a.length, objects: 1, buckets: 1, reservedBytes: 0 });
    expect(u.storageByteHours).toBeGreaterThan(0);

    // A restart keeps what was counted.
    await server.restart();
    const again = await usageOf(server, 'meter');
    expect(again).toMatchObject({ ingressBytes: u.ingressBytes, egressBytes: u.egressBytes, writeRequests: 5, readRequests: 2 });
  });
});
