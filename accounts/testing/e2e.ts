/**
 * Helpers for the accounts end-to-end tests (accounts/e2e-*.test.ts; imported only by tests): the
 * real server on a data directory that survives a restart, accounts made through `datamesh admin`,
 * S3 clients for their keys, and a compact way to assert S3 errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { loadConfig } from '../../src/server/config.ts';
import { testCatalogFlags } from '../../src/core/sql/testing/catalog.ts';
import { createLogger } from '../../src/core/log.ts';
import { startServer, type RunningServer } from '../../src/server/main.ts';
import { ROOT, runAdminCli } from '../../src/server/testing/server.ts';
import type { AccountInfo, UsageReport } from '../accounts.ts';

export interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
}

/** The real server on a data directory of its own, which restart() keeps. */
export interface E2eServer {
  readonly url: string;
  readonly dataDir: string;
  readonly running: RunningServer;
  /** An S3 client as a user configures it, without retries (so a refusal is seen as it is). */
  client(creds?: Creds): S3Client;
  /** Stops the server and starts it again on the same data directory (a new port). */
  restart(): Promise<void>;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

export async function startE2eServer(flags: string[] = []): Promise<E2eServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datamesh-e2e-accounts-'));
  const config = loadConfig(['--listen', '127.0.0.1:0', '--data', dataDir, '--log-level', 'silent', ...testCatalogFlags(dataDir), ...flags], {});
  const start = () =>
    startServer(config, {
      env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
      log: createLogger(process.env.DATAMESH_TEST_LOG ?? 'silent'),
    });
  let running = await start();
  const clients: S3Client[] = [];
  return {
    get url() {
      return running.url;
    },
    dataDir,
    get running() {
      return running;
    },
    client(creds = ROOT) {
      const c = new S3Client({ endpoint: running.url, region: config.region, credentials: creds, forcePathStyle: true, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    async restart() {
      await running.close(500);
      running = await start();
    },
    async stop() {
      for (const c of clients.splice(0)) c.destroy();
      await running.close(500);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `datamesh admin ARGS` and fails the test unless it succeeds; returns its stdout. */
export async function admin(server: { url: string }, ...args: string[]): Promise<string> {
  const r = await runAdminCli(server, ...args);
  expect(r.err, `datamesh admin ${args.join(' ')}`).toBe('');
  expect(r.code).toBe(0);
  return r.out;
}

/** `datamesh admin user create NAME FLAGS --json`: the new account's key. */
export async function createUser(server: { url: string }, name: string, ...flags: string[]): Promise<Creds> {
  const k = JSON.parse(await admin(server, 'user', 'create', name, ...flags, '--json')) as Creds & { name: string };
  expect(k.name).toBe(name);
  return { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey };
}

/** `datamesh admin user info NAME --json`. */
export async function userInfo(server: { url: string }, name: string): Promise<AccountInfo> {
  return JSON.parse(await admin(server, 'user', 'info', name, '--json')) as AccountInfo;
}

/** `datamesh admin usage NAME --json`: this month's metering of one account. */
export async function usageOf(server: { url: string }, name: string): Promise<UsageReport> {
  const r = JSON.parse(await admin(server, 'usage', name, '--json')) as { usage: UsageReport[] };
  const row = r.usage.find((u) => u.account === name);
  expect(row, `usage of ${name}`).toBeDefined();
  return row!;
}

export interface Refusal {
  status: number | undefined;
  code: string;
  message: string;
  headers: Record<string, string>;
}

/** Awaits an SDK call that must fail; returns its HTTP status, S3 error code and message. */
export async function refusal(p: Promise<unknown>): Promise<Refusal> {
  try {
    await p;
  } catch (e) {
    const err = e as {
      name: string;
      Code?: string;
      message: string;
      $metadata?: { httpStatusCode?: number };
      $response?: { headers?: Record<string, string> };
    };
    return { status: err.$metadata?.httpStatusCode, code: err.Code ?? err.name, message: err.message, headers: err.$response?.headers ?? {} };
  }
  throw new Error('expected the request to be refused, but it succeeded');
}

/** "STATUS CODE" of a call that must fail, for compact assertions. */
export const failure = async (p: Promise<unknown>): Promise<string> => {
  const r = await refusal(p);
  return `${r.status} ${r.code}`;
};

/** Every object of a bucket (all pages of ListObjectsV2): key -> size. */
export async function listAll(s3: S3Client, bucket: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  let token: string | undefined;
  do {
    const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token, MaxKeys: 100 }));
    for (const o of r.Contents ?? []) out.set(o.Key!, o.Size!);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** A small seeded PRNG (mulberry32), so a failing random sequence can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Deterministic bytes (cheap to make, distinct per seed). */
export function bytes(size: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(size);
  const rnd = seeded(seed);
  let i = 0;
  for (; i + 4 <= size; i += 4) b.writeUInt32LE((rnd() * 2 ** 32) >>> 0, i);
  for (; i < size; i++) b[i] = (rnd() * 256) | 0;
  return b;
}
