/**
 * Disk full on the gateway, on a real tiny file system (a tmpfs of 16 MiB; mounting one needs
 * root, as CI runs): the PUT that meets the full disk gets 503 SlowDown naming the cause, nothing
 * of it is visible or left behind, the server keeps serving, and PUTs succeed again as soon as
 * space returns. (Before: a 503 ServiceUnavailable "peers unavailable", or a 500 InternalError when
 * the catalog's file system was the full one.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadConfig } from './config.ts';
import { startServer, type RunningServer } from './main.ts';
import { pino } from 'pino';
import { ROOT, signedFetch } from './testing/server.ts';

const mountPoint = mkdtempSync(join(tmpdir(), 'datamesh-full-'));
let mounted = false;
try {
  if (process.getuid?.() === 0) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountPoint], { stdio: 'ignore' });
    mounted = true;
  }
} catch {
  mounted = false;
}
if (!mounted) process.stderr.write('disk-full.test.ts: skipped: mounting a 16 MiB tmpfs needs root (CI runs as root)\n');

let server: RunningServer | undefined;
const lines: string[] = [];
const logged = () => lines.join('');
afterAll(async () => {
  await server?.close(500);
  if (mounted) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills the file system with one file until it refuses another byte; returns the file. */
function fill(dir: string): string {
  const file = join(dir, 'filler');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
  return file;
}

function tempFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of readdirSync(p)) {
      const f = join(p, e);
      if (statSync(f).isDirectory()) walk(f);
      else if (e.endsWith('.tmp')) out.push(f);
    }
  };
  walk(dir);
  return out;
}

describe.skipIf(!mounted)('a full disk on the gateway', () => {
  it('answers 503 SlowDown naming the cause, commits nothing, and serves again once space returns', async () => {
    const data = join(mountPoint, 'data');
    mkdirSync(data);
    server = await startServer(loadConfig(['--listen', '127.0.0.1:0', '--data', data, '--log-level', 'silent'], {}), {
      env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
      log: pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
    });
    const s = server;
    expect((await signedFetch(s, { method: 'PUT', path: '/full' })).status).toBe(200);
    const before = randomBytes(1024 * 1024);
    expect((await signedFetch(s, { method: 'PUT', path: '/full/before', body: before })).status).toBe(200);

    const filler = fill(mountPoint);
    for (const size of [3 * 1024 * 1024, 200_000]) {
      const r = await signedFetch(s, { method: 'PUT', path: `/full/during-${size}`, body: randomBytes(size) });
      const xml = await r.text();
      expect(r.status, xml).toBe(503);
      expect(xml).toContain('<Code>SlowDown</Code>');
      expect(xml).toMatch(/insufficient storage: the disk holding the (shard store|catalog) is full \((ENOSPC|SQLITE_FULL)\)/);
      // The client is not told where the server keeps its data (issue 12); the log is.
      expect(xml).not.toContain(mountPoint);
      expect(logged()).toMatch(new RegExp(`server fault \\(SlowDown\\): insufficient storage: the disk holding the (shard store|catalog) ${mountPoint}/data`));
      expect((await signedFetch(s, { method: 'HEAD', path: `/full/during-${size}` })).status).toBe(404);
    }
    expect(tempFiles(join(data, 'shards'))).toEqual([]);
    const listed = await (await signedFetch(s, { method: 'GET', path: '/full', query: { 'list-type': '2' } })).text();
    expect([...listed.matchAll(/<Key>([^<]+)<\/Key>/g)].map((m) => m[1])).toEqual(['before']);
    // reads go on while the disk is full
    const got = await signedFetch(s, { method: 'GET', path: '/full/before' });
    expect(Buffer.from(await got.arrayBuffer()).equals(before)).toBe(true);

    // space returns: the next PUT succeeds, without a restart
    rmSync(filler);
    const after = randomBytes(3 * 1024 * 1024);
    expect((await signedFetch(s, { method: 'PUT', path: '/full/after', body: after })).status).toBe(200);
    const back = await signedFetch(s, { method: 'GET', path: '/full/after' });
    expect(Buffer.from(await back.arrayBuffer()).equals(after)).toBe(true);
  }, 120_000);
});
