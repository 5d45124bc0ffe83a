/**
 * Issue 14 end to end, real processes on loopback: a gateway and 3 storage peers (2+1); two
 * accounts with quotas and extra keys write objects of every shape; the catalog copy is made
 * durable; one more object is written; the gateway is SIGKILLed and its directory deleted.
 * `datamesh recover` with the 24-word kit rebuilds it in a new directory: every object reads back
 * byte-identical, every key works, quotas and usage are as they were, the late object is reported
 * lost and never served. Then the same gateway's directory from an old backup meets the newer
 * heads: it refuses to serve, and `recover --force` brings the newer catalog back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { freePortRange, startCluster } from '../../scripts/cluster.ts';
import { bytesOf, outcome, ROOT, runAdminCli, spawnServer, type SpawnedServer } from './testing/server.ts';
import type { RecoverReport } from './cli/recover.ts';
import type { MeshView } from './open-data.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const ENTRY = fileURLToPath(new URL('./cli/datamesh.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'datamesh-recovery-'));
let cluster: Awaited<ReturnType<typeof startCluster>>;
const servers: SpawnedServer[] = [];
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}
const users: Record<string, Creds[]> = {};
const written: { creds: Creds; bucket: string; key: string; body: Buffer; tags?: string; meta?: Record<string, string>; type?: string }[] = [];
const accountsBefore: Record<string, unknown> = {};
let words = '';
let swarmKeyCopy = '';
let late: { bucket: string; key: string; creds: Creds };
let backupDir = '';

const client = (endpoint: string, credentials: Creds) => new S3Client({ endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
const admin = async (endpoint: string, ...args: string[]) => {
  const r = await runAdminCli({ url: endpoint }, ...args);
  if (r.code !== 0) throw new Error(`admin ${args.join(' ')}: ${r.err}`);
  return args.includes('--json') ? (JSON.parse(r.out) as Record<string, unknown>) : r.out;
};
const storage = () => cluster.members.filter((m) => m.role === 'storage');
const bootstrapFlags = () => storage().flatMap((m) => ['--bootstrap', m.multiaddrs[0]!]);
const FLAGS = ['--ec', '2+1', '--segment-size', '1MiB', '--catalog-sync-interval', '1h', '--collect-interval', '100ms'];
// A gateway started again runs with the flags it had: the cluster's gateway admits every holder of
// the network secret (its admissions are in mesh.db, not in the catalog copy).
const GATEWAY_FLAGS = [...FLAGS, '--admit-peers', 'auto'];

function datamesh(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    execFile(process.execPath, [ENTRY, ...args], { env: { ...process.env, DATAMESH_MASTER_KEY: '', ...env }, maxBuffer: 16 * MiB }, (e, out, err) =>
      ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
  });
}

async function put(endpoint: string, creds: Creds, bucket: string, key: string, body: Buffer, extra: { tags?: string; meta?: Record<string, string>; type?: string } = {}) {
  await client(endpoint, creds).send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, Tagging: extra.tags, Metadata: extra.meta, ContentType: extra.type }),
  );
  written.push({ creds, bucket, key, body, ...extra });
}

async function accountState(endpoint: string, name: string) {
  const info = (await admin(endpoint, 'user', 'info', name, '--json')) as { quota: unknown; usage: { storage?: unknown; objects?: unknown; buckets?: unknown }; accessKeys: unknown; status: unknown };
  return { quota: info.quota, accessKeys: info.accessKeys, status: info.status, usage: info.usage };
}

beforeAll(async () => {
  cluster = await startCluster({
    nodes: 3,
    dataDir: dir,
    basePort: await freePortRange(6),
    extra: FLAGS,
    // `datamesh recover` joins with a throw-away identity: storage peers serve it only when they
    // admit every holder of the network secret (README "Disaster recovery").
    nodeAdmitPeers: 'auto',
    env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
  });
  const gw = cluster.endpoint;
  const gwDir = cluster.members[0]!.dataDir;
  words = (await datamesh(['key', 'export', '--data', gwDir])).out.trim();
  // The operator keeps the mesh's network secret off the gateway too (README "Disaster recovery").
  swarmKeyCopy = join(dir, 'swarm.key.kept');
  copyFileSync(cluster.swarmKeyFile, swarmKeyCopy);
  chmodSync(swarmKeyCopy, 0o600);
  expect(words.split(' ')).toHaveLength(24);

  for (const [name, quota] of [['alice', ['--max-storage', '50MiB', '--max-objects', '100']], ['bob', ['--max-buckets', '3']]] as const) {
    const first = (await admin(gw, 'user', 'create', name, ...quota, '--json')) as unknown as Creds;
    const second = (await admin(gw, 'key', 'create', name, '--json')) as unknown as Creds;
    users[name] = [first, second];
  }
  const [alice, alice2] = users.alice!;
  const [bob, bob2] = users.bob!;
  await client(gw, alice!).send(new CreateBucketCommand({ Bucket: 'alice-a' }));
  await client(gw, bob!).send(new CreateBucketCommand({ Bucket: 'bob-b' }));
  await put(gw, alice!, 'alice-a', 'inline.txt', Buffer.from('small enough to live in the manifest'), { type: 'text/plain' });
  await put(gw, alice2!, 'alice-a', 'dir/multi-segment.bin', randomBytes(2 * MiB + 200 * KiB + 17));
  await put(gw, alice!, 'alice-a', 'tagged.bin', randomBytes(70 * KiB), { tags: 'team=blue&tier=gold', meta: { owner: 'alice', purpose: 'test' } });
  await put(gw, bob!, 'bob-b', 'overwritten.bin', randomBytes(90 * KiB));
  await put(gw, bob2!, 'bob-b', 'deleted.bin', randomBytes(80 * KiB));
  // multipart: 5 MiB + a tail, as the SDK's lib-storage would send
  const parts = [randomBytes(5 * MiB), randomBytes(100 * KiB)];
  const s3 = client(gw, bob!);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'bob-b', Key: 'multipart.bin', Metadata: { kind: 'mpu' } }));
  const etags: string[] = [];
  for (const [i, p] of parts.entries()) etags.push((await s3.send(new UploadPartCommand({ Bucket: 'bob-b', Key: 'multipart.bin', UploadId, PartNumber: i + 1, Body: p }))).ETag!);
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'bob-b', Key: 'multipart.bin', UploadId, MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) } }));
  written.push({ creds: bob!, bucket: 'bob-b', key: 'multipart.bin', body: Buffer.concat(parts), meta: { kind: 'mpu' } });

  // The operator's backup of the gateway directory, taken now (an old copy by the time of the loss).
  expect(await admin(gw, 'catalog', 'sync', '--json')).toMatchObject({ stale: false });
  backupDir = join(dir, 'gateway-backup');
  mkdirSync(backupDir);
  for (const f of ['master.key', 'peer.key', 'swarm.key']) copyFileSync(join(gwDir, f), join(backupDir, f));
  const live = new Database(join(gwDir, 'datamesh.db'), { readonly: true });
  await live.backup(join(backupDir, 'datamesh.db'));
  live.close();

  // After the backup: an overwrite and a delete (their old shards must outlive the collector until the copy is durable).
  written.splice(written.findIndex((w) => w.key === 'overwritten.bin'), 1);
  await put(gw, bob2!, 'bob-b', 'overwritten.bin', randomBytes(95 * KiB));
  await client(gw, bob!).send(new DeleteObjectCommand({ Bucket: 'bob-b', Key: 'deleted.bin' }));
  written.splice(written.findIndex((w) => w.key === 'deleted.bin'), 1);
  for (const name of ['alice', 'bob']) accountsBefore[name] = await accountState(gw, name);

  const synced = (await admin(gw, 'catalog', 'sync', '--json')) as { lastSync: string; lagSeconds: number };
  expect(Date.parse(synced.lastSync)).toBeGreaterThan(0);
  const view = (await admin(gw, 'mesh', '--json')) as unknown as MeshView;
  expect(view.catalog).toMatchObject({ lastSync: synced.lastSync });
  const metrics = await (await fetch(`${gw}/_datamesh/metrics`)).text();
  expect(metrics).toMatch(/^datamesh_catalog_sync_lag_seconds \d/m);

  // Written after the last durable copy: lost with the gateway, and must never be served corrupt.
  late = { bucket: 'bob-b', key: 'late.bin', creds: bob! };
  await client(gw, bob!).send(new PutObjectCommand({ Bucket: 'bob-b', Key: 'late.bin', Body: randomBytes(150 * KiB) }));

  const gateway = cluster.procs.at(-1)!;
  await new Promise<void>((ok) => {
    gateway.once('exit', () => ok());
    gateway.kill('SIGKILL');
  });
  rmSync(gwDir, { recursive: true, force: true });
}, 600_000);

afterAll(async () => {
  for (const s of servers) if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function checkEverything(endpoint: string) {
  for (const w of written) {
    const s3 = client(endpoint, w.creds);
    const r = await s3.send(new GetObjectCommand({ Bucket: w.bucket, Key: w.key }));
    expect(sha(await bytesOf(r.Body)), `${w.bucket}/${w.key}`).toBe(sha(w.body));
    if (w.meta) expect(r.Metadata).toEqual(w.meta);
    if (w.type) expect(r.ContentType).toBe(w.type);
    if (w.tags) {
      const t = await s3.send(new GetObjectTaggingCommand({ Bucket: w.bucket, Key: w.key }));
      expect(t.TagSet).toEqual([
        { Key: 'team', Value: 'blue' },
        { Key: 'tier', Value: 'gold' },
      ]);
    }
  }
  // every access key works with its secret, and only on its own account's buckets
  for (const [name, keys] of Object.entries(users)) {
    for (const k of keys) {
      const list = await client(endpoint, k).send(new ListObjectsV2Command({ Bucket: name === 'alice' ? 'alice-a' : 'bob-b' }));
      expect(list.KeyCount).toBeGreaterThan(0);
    }
    expect(await outcome(client(endpoint, keys[0]!).send(new HeadObjectCommand({ Bucket: name === 'alice' ? 'bob-b' : 'alice-a', Key: 'x' })))).toMatch(/^403/);
    expect(await accountState(endpoint, name)).toEqual(accountsBefore[name]);
  }
  expect(await outcome(client(endpoint, users.bob![0]!).send(new GetObjectCommand({ Bucket: 'bob-b', Key: 'deleted.bin' })))).toBe('404 NoSuchKey');
}

describe('losing the gateway disk loses nothing', () => {
  let recoveredDir = '';

  it('recover rebuilds the gateway from the mesh with the kit; it serves every object as before; the late write is reported lost', async () => {
    recoveredDir = join(dir, 'recovered');
    const r = await datamesh(['recover', '--data', recoveredDir, ...bootstrapFlags(), '--swarm-key', swarmKeyCopy, '--key-words', words, '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as RecoverReport;
    expect(report).toMatchObject({
      buckets: 2,
      objects: written.length,
      accounts: 3,
      accessKeys: 5,
      objectsShortOfK: [],
      gateway: cluster.members[0]!.peerId,
    });
    expect(report.writtenAfterCopy.shards).toBeGreaterThan(0);
    expect(Date.parse(report.newestChange!)).toBeLessThanOrEqual(Date.parse(report.copy.takenAt));
    expect(existsSync(join(recoveredDir, 'master.key'))).toBe(true);
    expect(existsSync(join(recoveredDir, 'swarm.key'))).toBe(true);

    const server = await spawnServer(recoveredDir, ['--listen-mesh', '/ip4/127.0.0.1/tcp/0', ...bootstrapFlags(), ...GATEWAY_FLAGS]);
    servers.push(server);
    await checkEverything(server.url);
    expect(await outcome(client(server.url, late.creds).send(new GetObjectCommand({ Bucket: late.bucket, Key: late.key })))).toBe('404 NoSuchKey');
    // the same peer id as before: the manifests' locations and the peers' delete rights still hold
    const view = (await admin(server.url, 'mesh', '--json')) as unknown as MeshView;
    expect(view.self).toBe(cluster.members[0]!.peerId);
    expect(await admin(server.url, 'catalog', 'sync', '--json')).toMatchObject({ stale: false });
    server.proc.kill('SIGTERM');
    await server.exited;
  }, 600_000);

  it('a directory restored from an old backup meets the newer heads: it refuses to serve, and recover --force brings the newer catalog', async () => {
    const refused = await spawnServer(backupDir, ['--listen-mesh', '/ip4/127.0.0.1/tcp/0', ...bootstrapFlags(), ...GATEWAY_FLAGS]).then(
      (s) => {
        servers.push(s);
        return 'served';
      },
      (e: Error) => e.message,
    );
    expect(refused).toMatch(/older than the one in the mesh.*datamesh recover/);
    const r = await datamesh(['recover', '--data', backupDir, ...bootstrapFlags(), '--force', '--json'], {
      DATAMESH_MASTER_KEY: (await import('node:fs')).readFileSync(join(backupDir, 'master.key'), 'utf8').trim(),
    });
    expect(r.code).toBe(0);
    expect(existsSync(join(backupDir, 'datamesh.db.before-recover'))).toBe(true);
    const server = await spawnServer(backupDir, ['--listen-mesh', '/ip4/127.0.0.1/tcp/0', ...bootstrapFlags(), ...GATEWAY_FLAGS]);
    servers.push(server);
    await checkEverything(server.url);
    server.proc.kill('SIGTERM');
    await server.exited;
  }, 600_000);
});
