/**
 * The real process (`datamesh serve`) on SIGTERM: in-flight uploads and downloads finish, new
 * connections are refused, the process exits 0 and leaves a consistent database; a second signal
 * exits at once.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, test } from 'vitest';
import { signedFetch, spawnServer, startTestServer, type SpawnedServer } from './testing/server.ts';
import { countOpenUploads } from './shutdown.ts';
import { dataChunk, MiB, openDownload, openUpload, waitForOutput } from './testing/shutdown.ts';

const dirs: string[] = [];
const procs: SpawnedServer[] = [];
afterAll(() => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const newDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'datamesh-shutdown-'));
  dirs.push(d);
  return d;
};

const spawn = async (dir: string, args: string[] = []) => {
  const p = await spawnServer(dir, ['--scrub-interval', '0', ...args]);
  procs.push(p);
  return p;
};

const SIZE_MIB = 64;

/** Uploads `mib` MiB of the seeded stream in one PUT; returns its MD5. */
async function putBig(url: string, path: string, seed: string, mib: number): Promise<string> {
  const u = await openUpload({ url }, path, mib * MiB);
  await u.continued;
  for (let i = 0; i < mib; i++) await u.write(dataChunk(seed, i));
  u.req.end();
  const r = await u.response;
  expect(r.status, r.body).toBe(200);
  return u.md5.digest('hex');
}

const integrity = (dir: string): string => {
  const db = new Database(join(dir, 'datamesh.db'), { readonly: true });
  try {
    return (db.pragma('integrity_check', { simple: true }) as string) ?? '';
  } finally {
    db.close();
  }
};

describe('graceful shutdown of the real process', () => {
  test('SIGTERM during a large upload and a large download: both finish, exit 0, database consistent', async () => {
    const dir = newDir();
    const first = await spawn(dir);
    const server = { url: first.url };
    expect((await signedFetch(server, { method: 'PUT', path: '/life' })).status).toBe(200);
    const getMd5 = await putBig(first.url, '/life/download', 'download', SIZE_MIB);
    // An upload a client left open: the next start reports it.
    expect((await signedFetch(server, { method: 'POST', path: '/life/left-open', query: { uploads: '' } })).status).toBe(200);

    // In flight: an upload with a quarter of its body sent...
    const up = await openUpload(server, '/life/upload', SIZE_MIB * MiB);
    await up.continued;
    for (let i = 0; i < SIZE_MIB / 4; i++) await up.write(dataChunk('upload', i));
    // ...and a download that has its headers and first bytes, then stops reading.
    const down = await openDownload(server, '/life/download');
    expect(down.statusCode).toBe(200);
    const downHash = createHash('md5');
    let downBytes = 0;
    let firstData!: () => void;
    const started = new Promise<void>((ok) => (firstData = ok));
    const downloaded = new Promise<void>((ok, fail) => {
      down.on('data', (c: Buffer) => {
        downHash.update(c);
        if (downBytes === 0) {
          down.pause();
          firstData();
        }
        downBytes += c.length;
      });
      down.on('end', ok);
      down.on('error', fail);
    });
    downloaded.catch(() => {});
    await started;

    first.proc.kill('SIGTERM');
    await waitForOutput(first.proc, first.output, /SIGTERM: finishing in-flight requests/);
    await waitForOutput(first.proc, first.output, /"msg":"stopping: no new connections; 2 requests in flight/);
    // No new connections once stopping.
    await expect(fetch(`${first.url}/_datamesh/health/live`)).rejects.toThrow();

    // Both in-flight requests carry on to the end.
    down.resume();
    for (let i = SIZE_MIB / 4; i < SIZE_MIB; i++) await up.write(dataChunk('upload', i));
    up.req.end();
    const upResponse = await up.response;
    await downloaded;
    const putMd5 = up.md5.digest('hex');
    expect(upResponse.status, upResponse.body).toBe(200);
    expect(upResponse.headers.etag).toBe(`"${putMd5}"`);
    expect(downBytes).toBe(SIZE_MIB * MiB);
    expect(downHash.digest('hex')).toBe(getMd5);

    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/stopped: database and data store closed/);
    expect(integrity(dir)).toBe('ok');

    // Restarted on the same data: both objects are there, listing works, the open upload is reported.
    const second = await spawn(dir);
    expect(second.output()).toMatch(/"interruptedUploads":1/);
    const head = await signedFetch({ url: second.url }, { method: 'HEAD', path: '/life/upload' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(SIZE_MIB * MiB));
    expect(head.headers.get('etag')).toBe(`"${putMd5}"`);
    const list = await signedFetch({ url: second.url }, { method: 'GET', path: '/life', query: { 'list-type': '2' } });
    const xml = await list.text();
    expect(xml).toContain('<Key>download</Key>');
    expect(xml).toContain('<Key>upload</Key>');
    second.proc.kill('SIGINT');
    expect(await second.exited).toBe(0);
    expect(integrity(dir)).toBe('ok');
  });

  test('a second signal exits at once, whatever is in flight', async () => {
    const dir = newDir();
    const p = await spawn(dir, ['--shutdown-grace', '60s']);
    expect((await signedFetch({ url: p.url }, { method: 'PUT', path: '/twice' })).status).toBe(200);
    const up = await openUpload({ url: p.url }, '/twice/stalled', 8 * MiB);
    await up.continued;
    await up.write(dataChunk('twice', 0));
    p.proc.kill('SIGTERM');
    await waitForOutput(p.proc, p.output, /"msg":"stopping: no new connections; 1 requests in flight/);
    const started = performance.now();
    p.proc.kill('SIGTERM');
    expect(await p.exited).toBe(143);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(p.output()).toMatch(/SIGTERM again: exiting now/);
    expect(integrity(dir)).toBe('ok');
  });
});

describe('countOpenUploads', () => {
  test('counts the open multipart uploads of every bucket, across pages', async () => {
    const s = await startTestServer();
    try {
      expect(countOpenUploads(s.store)).toBe(0);
      for (const b of ['mp-one', 'mp-two']) expect((await signedFetch(s, { method: 'PUT', path: `/${b}` })).status).toBe(200);
      const create = (path: string) => signedFetch(s, { method: 'POST', path, query: { uploads: '' } });
      for (let i = 0; i < 3; i++) expect((await create(`/mp-one/k${i}`)).status).toBe(200);
      expect((await create('/mp-two/x')).status).toBe(200);
      expect(countOpenUploads(s.store)).toBe(4);
      const paged = { listBuckets: () => s.store.listBuckets(), listMultipartUploads: (b: string, o: { maxUploads: number }) => s.store.listMultipartUploads(b, { ...o, maxUploads: 1 }) };
      expect(countOpenUploads(paged as Parameters<typeof countOpenUploads>[0])).toBe(4);
    } finally {
      await s.stop();
    }
  });
});
