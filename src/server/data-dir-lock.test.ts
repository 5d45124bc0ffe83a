/**
 * One process per data directory: a second `datamesh serve` (or `node`) on a directory in use is
 * refused before it reads or collects anything, naming the holder's PID; a crashed holder's lock is
 * gone with it. (Before the lock, the second server collected the first one's in-flight shards and
 * served the same directory on another port.)
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT, bytesOf, spawnServer, type SpawnedServer } from './testing/server.ts';
import { DataDirLockedError, lockDataDir } from './data-dir-lock.ts';

const ENTRY = fileURLToPath(new URL('./cli/datamesh.mjs', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'datamesh-lock-'));
const procs: SpawnedServer[] = [];
afterAll(() => {
  for (const p of procs) p.proc.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const client = (url: string) => new S3Client({ endpoint: url, region: 'us-east-1', credentials: ROOT, forcePathStyle: true });

function files(d: string): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    for (const e of readdirSync(p)) {
      const f = join(p, e);
      if (statSync(f).isDirectory()) walk(f);
      else out.push(f);
    }
  };
  walk(d);
  return out.sort();
}

/** Runs the CLI to its end: exit code and everything it printed. */
function runCli(args: string[]): Promise<{ code: number | string; out: string }> {
  const proc = spawn(process.execPath, [ENTRY, ...args], {
    env: { ...process.env, DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
  // a second server that starts anyway (what happened before the lock) is stopped, and fails the test
  const started = setInterval(() => /serving S3|storage node .* listening/.test(out) && proc.kill('SIGKILL'), 50);
  proc.on('exit', () => clearInterval(started));
  return new Promise((ok) => proc.on('exit', (code, signal) => ok({ code: code ?? signal ?? -1, out })));
}

describe('the data directory lock', () => {
  it('refuses a second serve or node on a directory in use, before it touches anything, and a crashed holder leaves no lock', async () => {
    const first = await spawnServer(dir);
    procs.push(first);
    const s3 = client(first.url);
    await s3.send(new CreateBucketCommand({ Bucket: 'locked' }));
    const body = randomBytes(300_000);
    await s3.send(new PutObjectCommand({ Bucket: 'locked', Key: 'k', Body: body }));
    const before = files(join(dir, 'shards'));

    const second = await runCli(['serve', '--listen', '127.0.0.1:0', '--data', dir, '--log-level', 'info']);
    expect(second.code).toBe(1);
    expect(second.out).toContain(`in use by another datamesh process (pid ${first.proc.pid}, 'serve'`);
    expect(second.out).not.toMatch(/collected|serving S3/);
    const node = await runCli(['node', '--data', dir, '--listen-mesh', '/ip4/127.0.0.1/tcp/0']);
    expect(node.code).toBe(1);
    expect(node.out).toContain(`pid ${first.proc.pid}`);

    // the first server's data is untouched and it still serves
    expect(files(join(dir, 'shards'))).toEqual(before);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'locked', Key: 'k' }));
    expect((await bytesOf(got.Body)).equals(body)).toBe(true);

    // kill -9: the kernel drops the lock with the process; the next server starts on the directory
    first.proc.kill('SIGKILL');
    await first.exited;
    const third = await spawnServer(dir);
    procs.push(third);
    const again = await client(third.url).send(new GetObjectCommand({ Bucket: 'locked', Key: 'k' }));
    expect((await bytesOf(again.Body)).equals(body)).toBe(true);
    third.proc.kill('SIGTERM');
    expect(await third.exited).toBe(0);

    // released on a clean exit: this process can take it, and a second open in one process is refused
    const lock = lockDataDir(dir, 'test');
    expect(() => lockDataDir(dir, 'test')).toThrow(DataDirLockedError);
    lock.release();
    lockDataDir(dir, 'test').release();
  }, 240_000);
});
