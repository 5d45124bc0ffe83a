/**
 * A small pool of worker threads for the bulk codec work (AES-256-GCM, SHA-256 of shards, and the
 * Reed-Solomon call), so that the event loop, which also parses HTTP and computes the MD5 ETag,
 * stays free. Measured on the 2-core machine (scripts/bench-codec.ts): sealing through WebCrypto
 * kept the event loop ~75-90% busy (its per-call copies of 4 MiB buffers land on fresh pages,
 * which page-fault at ~1 GB/s on these VMs), the worker path ~5-15%.
 *
 * Buffers travel by transfer, never copied: a seal job hands over its plain/sealed/parity
 * ArrayBuffers and gets them back in the result, so a writer can reuse them. SharedArrayBuffers
 * (the recycled stripe buffers, src/data/buffers.ts) are shared instead: nothing moves, and
 * no fresh external memory is handed to V8 per job (a fresh multi-MiB buffer per segment made the
 * main thread run a full mark-compact every few segments). Jobs smaller than
 * `inlineBelow` bytes run on the calling thread (a round trip costs more than the work).
 */
import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { hashShard, openStripe, sealStripe, type OpenJob, type SealJob } from './core.mjs';
import type { BodyMd5 } from '../core/digest.ts';
import { WorkerBodyMd5 } from './body-md5.ts';

export type { OpenJob, SealJob };

export interface SealResult {
  shardSize: number;
  ids: string[];
  plain: ArrayBufferLike;
  sealed: ArrayBufferLike;
  parity: ArrayBufferLike;
}

export interface CodecPoolOptions {
  /** Worker threads (0: everything on the calling thread). Default: cores, at most 4. */
  workers?: number;
  /** Jobs of fewer bytes run inline (default 128 KiB). */
  inlineBelow?: number;
}

interface Pending {
  resolve: (v: never) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

const WORKER_URL = new URL('./codec-worker.mjs', import.meta.url);

/** True when `u8` is the whole of a plain ArrayBuffer, so it can be transferred. */
function ownsBuffer(u8: Uint8Array): boolean {
  return u8.buffer instanceof ArrayBuffer && u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength;
}

function rebuildError(e: { name: string; message: string }): Error {
  const err = new Error(e.message);
  err.name = e.name;
  return err;
}

export class CodecPool {
  private readonly size: number;
  private readonly inlineBelow: number;
  private readonly slots: (Slot | undefined)[];
  private nextId = 1;
  private broken = false;

  constructor(opts: CodecPoolOptions = {}) {
    this.size = Math.max(0, opts.workers ?? Math.min(4, availableParallelism()));
    this.inlineBelow = opts.inlineBelow ?? 128 * 1024;
    this.slots = new Array<Slot | undefined>(this.size).fill(undefined);
  }

  get workers(): number {
    return this.broken ? 0 : this.size;
  }

  private slot(): Slot | undefined {
    if (this.size === 0 || this.broken) return undefined;
    let best = -1;
    for (let i = 0; i < this.size; i++) {
      const s = this.slots[i];
      if (!s) {
        best = i;
        break;
      }
      if (best === -1 || s.pending.size < this.slots[best]!.pending.size) best = i;
    }
    let s = this.slots[best];
    if (!s) {
      try {
        s = this.start(best);
      } catch {
        this.broken = true; // cannot start workers here: run inline from now on
        return undefined;
      }
    }
    return s;
  }

  private start(i: number): Slot {
    const worker = new Worker(WORKER_URL);
    worker.unref();
    const slot: Slot = { worker, pending: new Map() };
    worker.on('message', (msg: { id: number; result?: never; error?: { name: string; message: string } }) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (slot.pending.size === 0) worker.unref();
      if (msg.error) p.reject(rebuildError(msg.error));
      else p.resolve(msg.result as never);
    });
    let online = false;
    worker.once('online', () => (online = true));
    const fail = (err: Error) => {
      if (!online) this.broken = true; // the worker cannot even start here: run inline from now on
      if (this.slots[i] === slot) this.slots[i] = undefined;
      for (const p of slot.pending.values()) p.reject(err);
      slot.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`codec worker exited (code ${code}); the job was not done, retry it`)));
    this.slots[i] = slot;
    return slot;
  }

  private run<T>(slot: Slot, op: string, job: object, transfer: ArrayBuffer[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      slot.pending.set(id, { resolve: resolve as (v: never) => void, reject });
      slot.worker.ref(); // a job in flight keeps the process alive
      slot.worker.postMessage({ id, op, job }, transfer);
    });
  }

  /**
   * Seals, codes and names one stripe (see core.mjs sealStripe). job.plain, job.sealed and
   * job.parity are transferred (detached here) and come back in the result.
   */
  async seal(job: SealJob): Promise<SealResult> {
    const slot = job.length < this.inlineBelow ? undefined : this.slot();
    if (!slot) {
      const r = await sealStripe(job);
      return { ...r, plain: job.plain, sealed: job.sealed, parity: job.parity };
    }
    const own = [job.plain, job.sealed, job.parity].filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    const r = await this.run<SealResult>(slot, 'seal', job, own);
    // shared buffers do not come back (codec-worker.mjs): the caller's own handles stand
    const pick = (given: ArrayBufferLike, back: ArrayBufferLike | null) => (given instanceof ArrayBuffer ? back! : given);
    return { ...r, plain: pick(job.plain, r.plain), sealed: pick(job.sealed, r.sealed), parity: pick(job.parity, r.parity) };
  }

  /**
   * Decrypts one stripe (see core.mjs openStripe); returns its plaintext, in `job.out` when given
   * (a view of a SharedArrayBuffer, for a worker to write into). With `transfer`, pieces that own
   * their whole ArrayBuffer are handed to the worker (they are detached here afterwards).
   */
  async open(job: OpenJob, opts: { transfer?: boolean } = {}): Promise<Buffer> {
    const slot = job.sealedLength < this.inlineBelow ? undefined : this.slot();
    if (job.out && slot && !(job.out.buffer instanceof SharedArrayBuffer)) {
      throw new TypeError('a codec worker can only decrypt into a SharedArrayBuffer');
    }
    let r: { plain: ArrayBuffer | null; size: number };
    if (!slot) r = openStripe(job);
    else {
      const transfer = opts.transfer ? job.pieces.filter(ownsBuffer).map((p) => p.buffer as ArrayBuffer) : [];
      r = await this.run(slot, 'open', job, [...new Set(transfer)]);
    }
    if (job.out) return Buffer.from(job.out.buffer, job.out.byteOffset, r.size);
    return Buffer.from(r.plain!, 0, r.size);
  }

  /**
   * The shard ids (CIDs) of `buffers`: BLAKE3 ids, or with `like` (the ids to check them against)
   * ids of the same kind as like[i] (old shards carry sha2-256 ids). With `transfer`, buffers that
   * own their whole ArrayBuffer travel to the worker and back; use the returned `buffers`, the ones
   * passed in are detached.
   */
  async hash(buffers: Uint8Array[], opts: { transfer?: boolean; like?: readonly string[] } = {}): Promise<{ ids: string[]; buffers: Uint8Array[] }> {
    const total = buffers.reduce((n, b) => n + b.length, 0);
    const slot = total < this.inlineBelow ? undefined : this.slot();
    if (!slot) return { ids: buffers.map((b, i) => hashShard(b, opts.like?.[i])), buffers };
    const moved = buffers.map((b) => (opts.transfer && ownsBuffer(b) ? (b.buffer as ArrayBuffer) : b));
    const transfer = moved.filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
    const r = await this.run<{ ids: string[]; buffers: (ArrayBuffer | null)[] }>(slot, 'hash', { buffers: moved, like: opts.like }, [...new Set(transfer)]);
    return { ids: r.ids, buffers: r.buffers.map((b, i) => (b instanceof ArrayBuffer ? Buffer.from(b) : buffers[i]!)) };
  }

  /**
   * A request body's MD5, computed in one worker (body-md5.ts); inline when there is none. For
   * useBodyMd5 (src/core/digest.ts).
   */
  md5(): BodyMd5 {
    return new WorkerBodyMd5(() => {
      const slot = this.slot();
      if (!slot) return undefined;
      const session = this.nextId++;
      return {
        update: (bytes, length) => this.run(slot, 'md5', { session, bytes, length }, []),
        end: (drop) => this.run(slot, 'md5End', { session, drop }, []),
      };
    });
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0, this.slots.length, ...new Array<Slot | undefined>(this.size).fill(undefined));
    await Promise.all(slots.map((s) => s?.worker.terminate()));
  }
}

let shared: CodecPool | undefined;

/** The process-wide pool (created on first use). */
export function codecPool(): CodecPool {
  return (shared ??= new CodecPool());
}

/** Replaces the process-wide pool (e.g. `--codec-workers N`); closes the previous one. */
export async function configureCodecPool(opts: CodecPoolOptions): Promise<CodecPool> {
  const old = shared;
  shared = new CodecPool(opts);
  await old?.close();
  return shared;
}
