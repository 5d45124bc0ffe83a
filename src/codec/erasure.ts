/**
 * Reed-Solomon k+m erasure coding over a buffer, pure (no I/O). Backed by @ronomon/reed-solomon:
 * native, runs on the libuv thread pool (~8 GB/s for 4+2 here, see scripts/bench-codec.ts), so
 * coding never holds the event loop. Its rules: k <= 24, m <= 6, every shard the same size and a
 * multiple of 8 bytes; data shards contiguous in one buffer, parity shards in another.
 *
 * Layout: the data (length L) is cut into k data shards of `shardSizeFor(L, k)` bytes, the last
 * one(s) padded; shards k..k+m-1 are parity. Any k of the n = k+m shards give the data back.
 */
import { createRequire } from 'node:module';
import { Errors } from '../core/errors.ts';
import { shardSizeFor as coreShardSize } from './core.mjs';

interface RonomonReedSolomon {
  readonly MAX_K: number;
  readonly MAX_M: number;
  create(k: number, m: number): Buffer;
  encode(
    context: Buffer,
    sources: number,
    targets: number,
    buffer: Buffer,
    bufferOffset: number,
    bufferSize: number,
    parity: Buffer,
    parityOffset: number,
    paritySize: number,
    callback: (error?: Error) => void,
  ): void;
}

const RS = createRequire(import.meta.url)('@ronomon/reed-solomon') as RonomonReedSolomon;

/** Largest k and m the native coder supports. */
export const MAX_K = RS.MAX_K;
export const MAX_M = RS.MAX_M;
/** The bound on n = k + m. */
export const MAX_N = 32;
/** Shard sizes are multiples of this (the native coder's alignment rule). */
export const SHARD_ALIGN = 8;

export interface EcParams {
  k: number;
  m: number;
}

/** Parses "K+M" (e.g. "4+2"), rejecting what cannot work with a message that says what to use. */
export function parseEc(text: string): EcParams {
  const hint = '(use e.g. 4+2)';
  const match = /^\s*(\d+)\s*\+\s*(\d+)\s*$/.exec(text);
  if (!match) throw Errors.invalidArgument(`--ec ${text}: expected K+M, two whole numbers such as 4+2 ${hint}`);
  const k = Number(match[1]);
  const m = Number(match[2]);
  checkEc({ k, m }, `--ec ${text}`);
  return { k, m };
}

/** Throws when k+m is outside what the coder supports. */
export function checkEc({ k, m }: EcParams, what = `erasure code ${k}+${m}`): void {
  const hint = '(use e.g. 4+2)';
  if (!Number.isInteger(k) || !Number.isInteger(m)) throw Errors.invalidArgument(`${what}: k and m must be whole numbers ${hint}`);
  if (k < 1) throw Errors.invalidArgument(`${what}: k must be at least 1 ${hint}`);
  if (m < 0) throw Errors.invalidArgument(`${what}: m must not be negative ${hint}`);
  if (k + m > MAX_N) throw Errors.invalidArgument(`${what}: k+m must be at most ${MAX_N} ${hint}`);
  if (k > MAX_K) throw Errors.invalidArgument(`${what}: k must be at most ${MAX_K}, the Reed-Solomon coder's limit ${hint}`);
  if (m > MAX_M) throw Errors.invalidArgument(`${what}: m must be at most ${MAX_M}, the Reed-Solomon coder's limit ${hint}`);
}

/** Size of each of the k+m shards for `dataLength` bytes of data: ceil(L/k) rounded up to 8, at least 8. */
export const shardSizeFor: (dataLength: number, k: number) => number = coreShardSize;

const contexts = new Map<string, Buffer>();
function context(k: number, m: number): Buffer {
  const name = `${k}+${m}`;
  let ctx = contexts.get(name);
  if (!ctx) {
    checkEc({ k, m });
    ctx = RS.create(k, m);
    contexts.set(name, ctx);
  }
  return ctx;
}

function bits(indices: Iterable<number>): number {
  let mask = 0;
  for (const i of indices) mask |= 1 << i;
  return mask;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Runs the native coder: rebuilds `targets` from `sources` in place (data in `data`, parity in `parity`). */
function run(k: number, m: number, sources: number, targets: number, data: Buffer, parity: Buffer, shardSize: number): Promise<void> {
  return new Promise((resolve, reject) => {
    RS.encode(context(k, m), sources, targets, data, 0, shardSize * k, parity, 0, shardSize * m, (error) =>
      error ? reject(error) : resolve(),
    );
  });
}

/**
 * Computes the parity of `data`, which already holds the k data shards back to back
 * (data.length = k * shardSize, shardSize a multiple of 8). Returns the n shards as views:
 * the k data shards share `data`'s memory, no copy.
 */
export async function encodeShards(data: Uint8Array, k: number, m: number): Promise<Uint8Array[]> {
  checkEc({ k, m });
  const shardSize = data.length / k;
  if (!Number.isInteger(shardSize) || shardSize === 0 || shardSize % SHARD_ALIGN !== 0) {
    throw Errors.internal(`encodeShards: ${data.length} bytes is not k=${k} shards of a non-zero multiple of ${SHARD_ALIGN} bytes`);
  }
  const buf = asBuffer(data);
  const shards: Uint8Array[] = [];
  for (let i = 0; i < k; i++) shards.push(buf.subarray(i * shardSize, (i + 1) * shardSize));
  if (m === 0) return shards;
  const parity = Buffer.alloc(shardSize * m);
  const dataIdx = Array.from({ length: k }, (_, i) => i);
  const parityIdx = Array.from({ length: m }, (_, i) => k + i);
  await run(k, m, bits(dataIdx), bits(parityIdx), buf, parity, shardSize);
  for (let i = 0; i < m; i++) shards.push(parity.subarray(i * shardSize, (i + 1) * shardSize));
  return shards;
}

/** Cuts `data` into k padded data shards and m parity shards (n = k+m shards, equal size). */
export async function encode(data: Uint8Array, k: number, m: number): Promise<Uint8Array[]> {
  checkEc({ k, m });
  const shardSize = shardSizeFor(data.length, k);
  const padded = Buffer.alloc(shardSize * k);
  padded.set(data, 0);
  return encodeShards(padded, k, m);
}

interface Gathered {
  shardSize: number;
  data: Buffer;
  parity: Buffer;
  present: number[];
  missing: number[];
}

/** Copies the present shards into the contiguous buffers the native coder works on. */
function gather(shards: readonly (Uint8Array | undefined)[], k: number, m: number): Gathered {
  checkEc({ k, m });
  const n = k + m;
  if (shards.length !== n) throw Errors.internal(`expected ${n} shard slots for ${k}+${m}, got ${shards.length}`);
  const present: number[] = [];
  const missing: number[] = [];
  let shardSize = -1;
  shards.forEach((s, i) => {
    if (s === undefined) return void missing.push(i);
    if (shardSize === -1) shardSize = s.length;
    else if (s.length !== shardSize) throw Errors.internal(`shard ${i} is ${s.length} bytes, the others ${shardSize}: shards of one stripe must be the same size`);
    present.push(i);
  });
  if (present.length < k) {
    throw Errors.internal(`only ${present.length} of ${n} shards present, ${k} needed to reconstruct`);
  }
  if (shardSize % SHARD_ALIGN !== 0 || shardSize === 0) throw Errors.internal(`shard size ${shardSize} is not a non-zero multiple of ${SHARD_ALIGN}`);
  const data = Buffer.alloc(shardSize * k);
  const parity = Buffer.alloc(shardSize * Math.max(m, 1));
  for (const i of present) {
    const s = shards[i]!;
    if (i < k) data.set(s, i * shardSize);
    else parity.set(s, (i - k) * shardSize);
  }
  return { shardSize, data, parity, present, missing };
}

/**
 * The original data (first `dataLength` bytes of the k data shards) from any k present shards;
 * undefined slots are missing. Decodes only when a data shard is missing.
 */
export async function decode(
  shards: readonly (Uint8Array | undefined)[],
  k: number,
  m: number,
  dataLength: number,
): Promise<Uint8Array> {
  const g = gather(shards, k, m);
  if (dataLength > g.shardSize * k) throw Errors.internal(`data length ${dataLength} exceeds the ${k} shards of ${g.shardSize} bytes`);
  const targets = g.missing.filter((i) => i < k);
  if (targets.length > 0) await run(k, m, bits(g.present), bits(targets), g.data, g.parity, g.shardSize);
  return g.data.subarray(0, dataLength);
}

/** Rebuilds the missing shards (undefined slots) from any k present ones, for repair. */
export async function reconstruct(
  shards: readonly (Uint8Array | undefined)[],
  k: number,
  m: number,
): Promise<{ index: number; bytes: Uint8Array }[]> {
  const g = gather(shards, k, m);
  if (g.missing.length === 0) return [];
  await run(k, m, bits(g.present), bits(g.missing), g.data, g.parity, g.shardSize);
  return g.missing.map((index) => {
    const from = index < k ? g.data : g.parity;
    const at = (index < k ? index : index - k) * g.shardSize;
    return { index, bytes: from.subarray(at, at + g.shardSize) };
  });
}
