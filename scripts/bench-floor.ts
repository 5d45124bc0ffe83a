/**
 * The work floor, for scripts/bench.ts: the CPU seconds per GiB of exactly the work a PUT must do
 * (MD5 of the body for the ETag, AES-256-GCM, Reed-Solomon k+m, hashing the n shards for their ids,
 * writing n/k of the bytes to files with fsync) and a GET must do (reading the k data shards,
 * authenticating and decrypting them), measured in isolation, in this process, on the same cores
 * and in the same run as the servers. Nothing else: no HTTP, no catalog, no copies it can avoid.
 * The CPU is this process's (every thread: the libuv pool runs the Reed-Solomon and fs calls).
 *
 *   npx tsx scripts/bench-floor.ts [64MiB] [4+2]     prints the floor alone
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hashShard, TAG_BYTES } from '../src/codec/core.mjs';

const RS = createRequire(import.meta.url)('@ronomon/reed-solomon') as {
  create(k: number, m: number): unknown;
  encode(ctx: unknown, sources: number, targets: number, buf: Buffer, o: number, l: number, par: Buffer, po: number, pl: number, cb: (e?: Error) => void): void;
};

export interface Floor {
  /** CPU seconds per GiB of plaintext. */
  put: number;
  get: number;
  /** The PUT's and GET's CPU s/GiB by step. */
  putSteps: Record<string, number>;
  getSteps: Record<string, number>;
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Measures the floor over `total` bytes of plaintext in segments of `segment` bytes, coded k+m. */
export async function measureFloor(total: number, opts: { segment?: number; k?: number; m?: number; dir?: string } = {}): Promise<Floor> {
  const segment = opts.segment ?? 4 << 20;
  const k = opts.k ?? 4;
  const m = opts.m ?? 2;
  const dir = mkdtempSync(join(opts.dir ?? tmpdir(), 'datamesh-floor-'));
  const ctx = RS.create(k, m);
  const key = randomBytes(32);
  const plain = randomBytes(segment);
  const S = Math.ceil((segment + TAG_BYTES) / k / 8) * 8;
  const sealed = Buffer.alloc(S * k);
  const parity = Buffer.alloc(S * m);
  const out = Buffer.alloc(S * k);
  const segments = Math.max(1, Math.round(total / segment));
  const putSteps: Record<string, number> = { md5: 0, 'aes-gcm seal': 0, 'reed-solomon': 0, 'shard ids': 0, 'write+fsync': 0 };
  const getSteps: Record<string, number> = { 'read k shards': 0, 'aes-gcm open': 0 };
  const step = async (steps: Record<string, number>, name: string, fn: () => unknown) => {
    const t = cpu();
    await fn();
    steps[name]! += cpu() - t;
  };
  const nonce = (i: number) => {
    const b = Buffer.alloc(12);
    b.writeUInt32BE(i, 8);
    return b;
  };
  const file = (s: number, i: number) => join(dir, `${s}.${i}`);
  try {
    const md5 = createHash('md5');
    for (let s = 0; s < segments; s++) {
      await step(putSteps, 'md5', () => md5.update(plain));
      await step(putSteps, 'aes-gcm seal', () => {
        const c = createCipheriv('aes-256-gcm', key, nonce(s));
        const n = c.update(plain).copy(sealed, 0);
        c.final();
        c.getAuthTag().copy(sealed, n);
      });
      await step(putSteps, 'reed-solomon', () => new Promise<void>((ok, fail) => RS.encode(ctx, (1 << k) - 1, ((1 << (k + m)) - 1) ^ ((1 << k) - 1), sealed, 0, S * k, parity, 0, S * m, (e) => (e ? fail(e) : ok()))));
      const shard = (i: number) => (i < k ? sealed.subarray(i * S, (i + 1) * S) : parity.subarray((i - k) * S, (i - k + 1) * S));
      await step(putSteps, 'shard ids', () => {
        for (let i = 0; i < k + m; i++) hashShard(shard(i));
      });
      await step(putSteps, 'write+fsync', () => {
        for (let i = 0; i < k + m; i++) {
          const fd = openSync(file(s, i), 'w');
          writeSync(fd, shard(i));
          fsyncSync(fd);
          closeSync(fd);
        }
      });
    }
    md5.digest();
    for (let s = 0; s < segments; s++) {
      await step(getSteps, 'read k shards', () => {
        for (let i = 0; i < k; i++) {
          const fd = openSync(file(s, i), 'r');
          readSync(fd, sealed, i * S, S, 0);
          closeSync(fd);
        }
      });
      await step(getSteps, 'aes-gcm open', () => {
        const d = createDecipheriv('aes-256-gcm', key, nonce(s));
        d.setAuthTag(sealed.subarray(segment, segment + TAG_BYTES));
        d.update(sealed.subarray(0, segment)).copy(out);
        d.final();
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const gib = (segments * segment) / 2 ** 30;
  const per = (steps: Record<string, number>) => Object.fromEntries(Object.entries(steps).map(([n, v]) => [n, v / gib]));
  const sum = (steps: Record<string, number>) => Object.values(steps).reduce((a, b) => a + b, 0) / gib;
  return { put: sum(putSteps), get: sum(getSteps), putSteps: per(putSteps), getSteps: per(getSteps) };
}

export const formatSteps = (steps: Record<string, number>): string =>
  Object.entries(steps)
    .map(([n, v]) => `${n} ${v.toFixed(2)}`)
    .join(', ');

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { parseSize } = await import('../src/server/config.ts');
  const [k, m] = (process.argv[3] ?? '4+2').split('+').map(Number);
  const f = await measureFloor(parseSize(process.argv[2] ?? '256MiB'), { k: k!, m: m! });
  console.log(`work floor PUT ${f.put.toFixed(2)} CPU s/GiB (${formatSteps(f.putSteps)})`);
  console.log(`work floor GET ${f.get.toFixed(2)} CPU s/GiB (${formatSteps(f.getSteps)})`);
}
