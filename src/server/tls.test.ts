/**
 * HTTPS with --tls-cert / --tls-key on the real process: an SDK client that trusts only the test's
 * CA works, the console cookie is Secure, SIGHUP swaps the certificate for new connections while an
 * open connection keeps working, a bad pair on SIGHUP is logged and the old one stays, a bad pair at
 * start is one line; plain HTTP on a non-loopback address warns about the admin API.
 */
import { execFileSync, spawn as spawnProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, spawnServer, type SpawnedServer } from './testing/server.ts';
import { waitForOutput } from './testing/shutdown.ts';

const ENTRY = new URL('./cli/datamesh.mjs', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'datamesh-tls-'));
const procs: SpawnedServer[] = [];
afterAll(() => {
  for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** A self-signed certificate for 127.0.0.1 (its own CA), made by the openssl CLI. */
function makeCert(name: string): { cert: string; key: string; pem: string; fingerprint: string } {
  const cert = join(tmp, `${name}.crt`);
  const key = join(tmp, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  const pem = execFileSync('cat', [cert]).toString();
  return { cert, key, pem, fingerprint: new X509Certificate(pem).fingerprint256 };
}

/** The certificate a new connection is served, and the response status of GET /. */
function peerOf(url: string, ca: string[], agent?: Agent): Promise<{ fingerprint: string; socket: TLSSocket; status: number }> {
  return new Promise((ok, fail) => {
    const req = request(url, { ca, agent: agent ?? false }, (res) => {
      const socket = res.socket as TLSSocket;
      const fingerprint = socket.getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => ok({ fingerprint, socket, status: res.statusCode ?? 0 }));
    });
    req.on('error', fail);
    req.end();
  });
}

describe('HTTPS (--tls-cert, --tls-key)', () => {
  let a: ReturnType<typeof makeCert>;
  let b: ReturnType<typeof makeCert>;
  let server: SpawnedServer;
  const live = { cert: join(tmp, 'live.crt'), key: join(tmp, 'live.key') };

  beforeAll(async () => {
    a = makeCert('cert-a');
    b = makeCert('cert-b');
    copyFileSync(a.cert, live.cert);
    copyFileSync(a.key, live.key);
    server = await spawnServer(join(tmp, 'data'), ['--scrub-interval', '0', '--tls-cert', live.cert], { DATAMESH_TLS_KEY: live.key });
    procs.push(server);
  }, 60_000);

  test('serves S3 over HTTPS to an SDK that trusts the certificate, and the console cookie is Secure', async () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const client = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: ROOT,
      forcePathStyle: true,
      requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: [a.pem] }) }),
    });
    await client.send(new CreateBucketCommand({ Bucket: 'tls' }));
    await client.send(new PutObjectCommand({ Bucket: 'tls', Key: 'k', Body: 'over tls' }));
    const got = await client.send(new GetObjectCommand({ Bucket: 'tls', Key: 'k' }));
    expect(await got.Body!.transformToString()).toBe('over tls');
    client.destroy();

    const cookie = await new Promise<string>((ok, fail) => {
      const body = new URLSearchParams({ accessKeyId: ROOT.accessKeyId, secretAccessKey: ROOT.secretAccessKey }).toString();
      const req = request(`${server.url}/console/sign-in`, {
        method: 'POST',
        ca: [a.pem],
        agent: false,
        headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
      }, (res) => {
        res.resume();
        ok(String(res.headers['set-cookie'] ?? ''));
      });
      req.on('error', fail);
      req.end(body);
    });
    expect(cookie).toMatch(/^datamesh_console=[\w-]{40,};.*; Secure/);
  });

  test('SIGHUP reloads the pair for new connections without dropping an open one; a bad pair keeps the old one', async () => {
    const keepAlive = new Agent({ ca: [a.pem, b.pem], keepAlive: true, maxSockets: 1, maxCachedSessions: 0 });
    const before = await peerOf(server.url, [a.pem], keepAlive);
    expect(before.fingerprint).toBe(a.fingerprint);

    copyFileSync(b.cert, live.cert);
    copyFileSync(b.key, live.key);
    server.proc.kill('SIGHUP');
    await waitForOutput(server.proc, server.output, /TLS certificate and key reloaded/);
    const fresh = await peerOf(server.url, [b.pem]);
    expect([fresh.fingerprint, fresh.status]).toEqual([b.fingerprint, 403]);
    // The connection opened before the reload is still open and still served (with the old certificate).
    const reused = await peerOf(server.url, [a.pem, b.pem], keepAlive);
    expect(reused.socket).toBe(before.socket);
    expect([reused.fingerprint, reused.status]).toEqual([a.fingerprint, 403]);
    keepAlive.destroy();

    // A broken key on the next SIGHUP: logged, the process keeps serving certificate B.
    writeFileSync(live.key, 'not a key\n');
    server.proc.kill('SIGHUP');
    await waitForOutput(server.proc, server.output, /TLS reload failed; still serving the previous certificate: --tls-key/);
    expect((await peerOf(server.url, [b.pem])).fingerprint).toBe(b.fingerprint);
    expect(server.proc.exitCode).toBeNull();
  });
});

/** Runs `datamesh serve ARGS` to its exit (it is expected to refuse to start). */
function refusedStart(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((ok) => {
    const p = spawnProcess(process.execPath, [ENTRY, 'serve', '--listen', '127.0.0.1:0', '--data', join(tmp, 'refused'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('exit', (code) => ok({ code, stderr }));
  });
}

describe('a bad TLS setting at start', () => {
  test('is one line naming the file and the fix', async () => {
    const a = makeCert('start-a');
    const other = makeCert('start-other');
    const junk = join(tmp, 'junk.pem');
    writeFileSync(junk, 'hello\n');
    const cases: [string[], RegExp][] = [
      [['--tls-cert', junk, '--tls-key', a.key], /^datamesh: --tls-cert .*junk\.pem: not a PEM file; give a PEM file holding the certificate chain/],
      [['--tls-cert', a.cert, '--tls-key', other.key], /^datamesh: --tls-key .*start-other\.key: does not belong to the certificate in --tls-cert/],
      [['--tls-cert', join(tmp, 'missing.crt'), '--tls-key', a.key], /^datamesh: --tls-cert .*missing\.crt: cannot read it \(ENOENT\)/],
      [['--tls-cert', a.cert], /^datamesh: --tls-cert is set without --tls-key: give both/],
    ];
    for (const [args, want] of cases) {
      const r = await refusedStart(args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(want);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  }, 60_000);

  test('plain HTTP on a non-loopback address warns that the admin API is exposed', async () => {
    const p = await spawnServer(join(tmp, 'public'), ['--scrub-interval', '0', '--listen', '0.0.0.0:0']);
    procs.push(p);
    expect(p.output()).toMatch(/the admin API \(\/_datamesh\/admin\) and the console are reachable over plain HTTP on 0\.0\.0\.0/);
    p.proc.kill('SIGKILL');
  }, 60_000);
});
