/**
 * Test helpers: the real server on a loopback port with a fresh data directory, and clients
 * configured as a user would configure them (the SDK with its default settings).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig, type Config } from '../config.ts';
import { startServer, type RunningServer } from '../main.ts';
import { createLogger } from '../../core/log.ts';
import { testCatalogFlags } from '../../core/sql/testing/catalog.ts';

export const ROOT = { accessKeyId: 'DMTESTROOTACCESSKEY1', secretAccessKey: 'test-root-secret-key-0123456789abcdefghij' };

export interface TestServer extends RunningServer {
  dataDir: string;
  client(opts?: { credentials?: { accessKeyId: string; secretAccessKey: string }; forcePathStyle?: boolean }): S3Client;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

export async function startTestServer(flags: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datamesh-test-'));
  const config: Config = loadConfig(['--listen', '127.0.0.1:0', '--data', dataDir, '--log-level', 'silent', ...testCatalogFlags(dataDir), ...flags], {});
  const server = await startServer(config, {
    env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey, ...env },
    log: createLogger(process.env.DATAMESH_TEST_LOG ?? 'silent'),
  });
  return Object.assign(server, {
    dataDir,
    client(opts: { credentials?: { accessKeyId: string; secretAccessKey: string }; forcePathStyle?: boolean } = {}) {
      return new S3Client({
        endpoint: server.url,
        region: config.region,
        credentials: opts.credentials ?? ROOT,
        forcePathStyle: opts.forcePathStyle ?? true,
      });
    },
    async stop() {
      await server.close(500);
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Reads a whole (small) stream, for assertions. */
export async function bytesOf(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { NodeSha256 } from '../../../accounts/client.ts';

export interface SignedRequestInit {
  method: string;
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** x-amz-content-sha256: 'hash' (the body's real hash, the default), 'UNSIGNED-PAYLOAD', or a literal value. */
  payload?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  region?: string;
  signingDate?: Date;
  /** Headers sent but left out of SignedHeaders (for tests of what must be signed). */
  unsigned?: string[];
}

/** Signs a request with SigV4 as an SDK would, returning what to send (for raw-HTTP tests). */
export async function signRequest(server: { url: string }, init: SignedRequestInit) {
  const url = new URL(server.url);
  const body = init.body === undefined ? Buffer.alloc(0) : Buffer.from(init.body);
  const payload =
    init.payload === undefined || init.payload === 'hash' ? createHash('sha256').update(body).digest('hex') : init.payload;
  const signer = new SignatureV4({
    service: 's3',
    region: init.region ?? 'us-east-1',
    credentials: init.credentials ?? ROOT,
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    {
      method: init.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: init.path,
      query: init.query ?? {},
      headers: {
        host: url.host,
        'x-amz-content-sha256': payload,
        ...(body.length > 0 ? { 'content-length': String(body.length) } : {}),
        ...init.headers,
      },
      body,
    },
    { signingDate: init.signingDate, ...(init.unsigned ? { unsignableHeaders: new Set(init.unsigned) } : {}) },
  );
  const qs = new URLSearchParams(init.query ?? {}).toString().replace(/\+/g, '%20');
  return { url: `${server.url}${init.path}${qs ? '?' + qs : ''}`, headers: signed.headers as Record<string, string>, body };
}

/** Sends a signed request with fetch. */
export async function signedFetch(server: { url: string }, init: SignedRequestInit): Promise<Response> {
  const r = await signRequest(server, init);
  const headers = { ...r.headers };
  delete headers.host;
  return fetch(r.url, { method: init.method, headers, body: r.body.length > 0 ? r.body : undefined });
}

/** Runs `datamesh admin ARGS` in-process against a test server, capturing its output. */
export async function runAdminCli(server: { url: string }, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const { runAdmin } = await import('../cli/index.ts');
  let out = '';
  let err = '';
  const code = await runAdmin([...args, '--endpoint', server.url], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
  });
  return { code, out, err };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface SpawnedServer {
  url: string;
  proc: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
}

export const ENTRY = fileURLToPath(new URL('../cli/datamesh.mjs', import.meta.url));

/** Starts `datamesh serve` as a real process on a free loopback port; resolves once it serves. */
export function spawnServer(dataDir: string, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<SpawnedServer> {
  const proc = spawn(process.execPath, [ENTRY, 'serve', '--listen', '127.0.0.1:0', '--data', dataDir, '--log-level', 'info', ...args], {
    env: { ...process.env, DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return whenServing(proc);
}

/** Resolves once a started server process (any entry: the sources, the package, npm start) logs that it serves. */
export function whenServing(proc: ChildProcess): Promise<SpawnedServer> {
  let out = '';
  const exited = new Promise<number | string>((ok) => proc.on('exit', (code, signal) => ok(code ?? signal ?? -1)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /serving S3 at (https?:\/\/[0-9.:]+)/.exec(out);
      if (m) resolve({ url: m[1]!, proc, output: () => out, exited });
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`datamesh exited (${code}) before serving:\n${out}`)));
  });
}

/** 'ok', or "STATUS ErrorName" of the S3 error a call failed with: compact assertions on outcomes. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; $metadata?: { httpStatusCode?: number } };
    return `${err.$metadata?.httpStatusCode} ${err.name}`;
  }
  return 'ok';
}
