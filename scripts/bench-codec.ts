/**
 * Codec throughput on this machine, each stage alone and all together:
 *   encrypt (AES-256-GCM: node:crypto on the calling thread, and WebCrypto on the libuv pool),
 *   erasure-code (Reed-Solomon encode, and decode with m data shards lost), shard hashing (SHA-256
 *   CIDs of the n shards), seal = encrypt + code + hash as the writer runs it (core.mjs), open =
 *   decrypt as the reader runs it; then the worker pool pipelined (2 segments in flight, as the
 *   writer does) and the erasure-coded data store end to end on disk (write with and without
 *   fsync, read, degraded read), with how busy the event loop was and the peak RSS.
 * Single-stage figures are per segment, best and median of the runs, so other load on the
 * machine shows up in the median rather than hiding the capability.
 *
 *   npx tsx scripts/bench-codec.ts [--mib 256] [--ec 4+2] [--segment-mib 4] [--workers N] [--no-store]
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decode, encodeShards, parseEc } from '../src/codec/erasure.ts';
import { encryptSegment, importSegmentKey, newDataKey, sealSegment } from '../src/codec/crypto.ts';
import { shardId } from '../src/codec/cid.ts';
import { openStripe, paddedLength, sealStripe } from '../src/codec/core.mjs';
import { CodecPool, type SealJob } from '../src/codec/codec-pool.ts';
import { ecFixture } from '../src/data/testing/ec.ts';

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '256' },
    ec: { type: 'string', default: '4+2' },
    'segment-mib': { type: 'string', default: '4' },
    workers: { type: 'string' },
    'no-store': { type: 'boolean', default: false },
  },
});
const { k, m } = parseEc(values.ec);
const segmentSize = Math.round(Number(values['segment-mib']) * 1024 * 1024);
const segments = Math.max(2, Math.floor((Number(values.mib) * 1024 * 1024) / segmentSize));
const bytes = segments * segmentSize;
const padded = paddedLength(segmentSize, k);
const shardSize = (padded + 16) / k;
const key = newDataKey();
const plainBuf = new ArrayBuffer(padded);
randomBytes(segmentSize).copy(Buffer.from(plainBuf));
const plain = new Uint8Array(plainBuf, 0, segmentSize);
const job = (): SealJob => ({ key, manifestId: 'bench', index: 1, length: segmentSize, k, m, plain: plainBuf, sealed: new ArrayBuffer(shardSize * k), parity: new ArrayBuffer(shardSize * Math.max(1, m)) });
const mbs = (n: number, ms: number) => `${((n / 1e6) / (ms / 1000)).toFixed(0).padStart(6)} MB/s`;

/** Runs `fn` once per segment; prints MB/s at the best and the median segment time. */
async function stage(name: string, fn: () => unknown): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < segments; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(50)} best ${mbs(segmentSize, times[0]!)}   median ${mbs(segmentSize, times[times.length >> 1]!)}`);
}

/** Runs `fn(i)` for every segment with `depth` in flight; prints MB/s and event loop use. */
async function pipeline(name: string, depth: number, fn: (i: number) => Promise<unknown>, total = bytes): Promise<void> {
  const elu0 = performance.eventLoopUtilization();
  const t0 = performance.now();
  const inflight = new Set<Promise<unknown>>();
  for (let i = 0; i < segments; i++) {
    const p: Promise<unknown> = fn(i).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= depth) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  report(name, total, performance.now() - t0, performance.eventLoopUtilization(elu0).utilization);
}

function report(name: string, n: number, ms: number, elu: number): void {
  console.log(`${name.padEnd(50)}      ${mbs(n, ms)}   event loop busy ${(elu * 100).toFixed(0).padStart(3)}%`);
}

console.log(`datamesh codec bench: ${(bytes / 1048576).toFixed(0)} MiB = ${segments} segments of ${segmentSize} bytes, ec ${k}+${m}, node ${process.version}`);
const sealedRef = Buffer.from(job().sealed);
await sealStripe({ ...job(), sealed: sealedRef.buffer as ArrayBuffer });
const shardsRef = await encodeShards(sealedRef, k, m);
const cryptoKey = await importSegmentKey(key);

console.log('-- one stage at a time, on one thread');
await stage('encrypt AES-256-GCM (node:crypto)', () => encryptSegment(key, 'bench', 1, plain));
await stage('encrypt AES-256-GCM (WebCrypto, libuv pool)', () => sealSegment(cryptoKey, 'bench', 1, plain));
await stage(`erasure encode ${k}+${m} (native, libuv pool)`, () => encodeShards(sealedRef, k, m));
await stage(`erasure decode ${k}+${m}, ${Math.min(k, m)} data shards lost`, () => decode(shardsRef.map((s, i) => (i < m ? undefined : s)), k, m, shardSize * k));
await stage(`hash the ${k + m} shards (SHA-256 CIDs)`, () => shardsRef.forEach((s) => shardId(s)));
await stage('seal = encrypt + encode + hash (core.mjs)', () => sealStripe(job()));
const pieces = shardsRef.slice(0, k);
await stage('open = decrypt the k data shards (core.mjs)', () => openStripe({ key, manifestId: 'bench', index: 1, size: segmentSize, sealedLength: shardSize * k, pieces }));

const workerCounts = values.workers !== undefined ? [Number(values.workers)] : [1, 2];
for (const workers of workerCounts) {
  console.log(`-- worker pool of ${workers}, 2 segments in flight (as the writer runs)`);
  const pool = new CodecPool({ workers });
  const free = [job(), job(), job()];
  await pipeline('seal through the pool', 2, async (i) => {
    const j = free.pop()!;
    const r = await pool.seal({ ...j, index: i, plain: j.plain === plainBuf ? new ArrayBuffer(padded) : j.plain });
    free.push({ ...j, plain: r.plain, sealed: r.sealed, parity: r.parity });
  });
  await pipeline('open through the pool', 2, () => pool.open({ key, manifestId: 'bench', index: 1, size: segmentSize, sealedLength: shardSize * k, pieces }));
  await pool.close();
}

if (!values['no-store']) {
  console.log('-- erasure-coded data store, one node, shards on local disk');
  for (const fsync of [true, false]) {
    const f = ecFixture({ ec: { k, m }, segmentSize });
    (f.shards as unknown as { opts: { fsync: boolean } }).opts.fsync = fsync;
    const chunk = Buffer.from(plainBuf, 0, 64 * 1024);
    const body = async function* () {
      for (let i = 0; i < bytes / chunk.length; i++) yield chunk;
    };
    const label = { bucket: 'bench', key: 'x' };
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    try {
      let e0 = performance.eventLoopUtilization();
      let t0 = performance.now();
      const w = await f.store.write(body(), {});
      f.store.commit(w.manifestId);
      report(`write (fsync ${fsync ? 'on' : 'off'})`, bytes, performance.now() - t0, performance.eventLoopUtilization(e0).utilization);
      const read = async (name: string) => {
        e0 = performance.eventLoopUtilization();
        t0 = performance.now();
        let n = 0;
        for await (const c of f.store.read(w.manifestId, { start: 0, end: bytes, label })) n += c.length;
        if (n !== bytes) throw new Error(`read ${n} bytes, wrote ${bytes}`);
        report(name, bytes, performance.now() - t0, performance.eventLoopUtilization(e0).utilization);
      };
      await read('read');
      if (!fsync) {
        for (const s of f.store.describe(w.manifestId).segments) await f.shards.delete(s.shards[0]!.id);
        await read('read, a data shard lost in every segment');
      }
      console.log(`${''.padEnd(50)}      peak RSS ${(peak / 1048576).toFixed(0)} MiB (${((peak - rss0) / 1048576).toFixed(0)} MiB above the start)`);
    } finally {
      clearInterval(sampler);
      await f.cleanup();
    }
  }
}
