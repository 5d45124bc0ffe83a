/**
 * Reusable stripe buffers for the writer and the reader. A fresh multi-MiB buffer costs more than
 * the work done on it here: first-touch page faults run at ~1 GB/s on these VMs
 * (scripts/bench-codec.ts), and every fresh buffer counts as external memory, which drives V8 to
 * a full mark-compact every ~64 MiB allocated (a third of the CPU of a GET before these were
 * recycled). So the buffers of full segments are recycled: plain (the segment's plaintext, room
 * for its padding), sealed (the k data shards) and parity (the m parity shards). They are
 * SharedArrayBuffers: codec workers and file reads work on them in place, nothing is transferred
 * or copied. Short segments get exact-size ArrayBuffers instead, so small objects never hold a
 * whole segment's worth of memory.
 *
 * The rule that keeps recycling safe: a stripe is given back only by the one holder that knows
 * nothing reads or writes it any more (the writer once its shards are stored; the reader once the
 * socket has taken the plaintext and every shard read into it has settled). A stripe that is not
 * given back is simply garbage collected (and its bytes stop counting, below).
 *
 * Memory is bounded in total, not only per request: the pool counts the bytes of its buffers that
 * are out (taken and not given back) against `budget` (default 64 MiB), and keeps a few budgets'
 * worth of spares at most.
 * Past the budget a writer keeps one segment in flight instead of --segments-in-flight and a
 * reader stops fetching ahead (roomy()), so N concurrent transfers hold about budget + N stripes
 * rather than N x (in flight + prefetch). Nobody ever waits on the budget: a request always gets
 * the stripe it needs to progress, so a stuck client cannot starve the others. A reader takes
 * only the `sealed` part (it decrypts in place); plain and parity are taken only when needed.
 */
import { paddedLength, TAG_BYTES } from '../codec/core.mjs';

export interface StripeBuffers {
  plain: ArrayBufferLike;
  sealed: ArrayBufferLike;
  parity: ArrayBufferLike;
}

type Part = keyof StripeBuffers;
const PARTS: readonly Part[] = ['plain', 'sealed', 'parity'];
/** Stands for a part that was not taken (StripeBufferPool.take with that part false). */
const NONE = new SharedArrayBuffer(0);

/** Bytes of stripe buffers out and spare past which transfers stop working ahead (see above). */
export const STRIPE_BUDGET = 64 * 1024 * 1024;

/** Spares kept, in budgets: enough that a steady load never drops one (see give()). */
const SPARES_PER_BUDGET = 4;

export class StripeBufferPool {
  readonly plainCapacity: number;
  readonly shardSize: number;
  private readonly sizes: Record<Part, number>;
  private readonly free: Record<Part, SharedArrayBuffer[]> = { plain: [], sealed: [], parity: [] };
  /** Bytes of taken buffers not given back (a collected one stops counting: see `lost`). */
  private out = 0;
  private spare = 0;
  private readonly lost = new FinalizationRegistry<number>((bytes) => (this.out -= bytes));

  constructor(
    segmentSize: number,
    private readonly k: number,
    private readonly m: number,
    readonly budget = STRIPE_BUDGET,
  ) {
    this.plainCapacity = paddedLength(segmentSize, k);
    this.shardSize = (this.plainCapacity + TAG_BYTES) / k;
    this.sizes = { plain: this.plainCapacity, sealed: this.shardSize * k, parity: this.shardSize * Math.max(1, m) };
  }

  /** The bytes of one whole stripe (plain, sealed and parity). */
  get stripeBytes(): number {
    return this.sizes.plain + this.sizes.sealed + this.sizes.parity;
  }

  /** Bytes of pooled buffers now taken and not given back. */
  get bytesOut(): number {
    return this.out;
  }

  /** True while one more whole stripe fits the budget: a transfer may work ahead. */
  roomy(): boolean {
    return this.out + this.stripeBytes <= this.budget;
  }

  /**
   * Shared buffers for a full segment (recycled when possible); a part given as false is not
   * taken (a zero-length placeholder stands for it).
   */
  take(parts: Partial<Record<Part, boolean>> = {}): StripeBuffers {
    const b = { plain: NONE, sealed: NONE, parity: NONE };
    for (const part of PARTS) {
      if (parts[part] === false) continue;
      const size = this.sizes[part];
      let buf = this.free[part].pop();
      if (buf) this.spare -= size;
      else buf = new SharedArrayBuffer(size);
      this.out += size;
      this.lost.register(buf, size, buf);
      b[part] = buf;
    }
    return b;
  }

  /** True when a segment coded k+m with shards of `shardSize` bytes fits the buffers of take(). */
  fits(k: number, m: number, shardSize: number): boolean {
    return k === this.k && m <= Math.max(1, this.m) && shardSize === this.shardSize;
  }

  /** Returns buffers from take() once nothing uses them any more (see the rule above). */
  give(b: StripeBuffers): void {
    for (const part of PARTS) {
      const buf = b[part];
      const size = this.sizes[part];
      if (!(buf instanceof SharedArrayBuffer) || buf.byteLength !== size || !this.lost.unregister(buf)) continue;
      this.out -= size;
      // spares up to a few budgets; past that a buffer is left to the garbage collector. Not fewer:
      // V8 frees a dropped SharedArrayBuffer late, so dropping buffers under a steady load made a
      // fresh one per segment (16 readers with a 16 MiB cap of spares: RSS 588 MiB, not 378)
      if (this.spare + size <= this.budget * SPARES_PER_BUDGET) {
        this.free[part].push(buf);
        this.spare += size;
      }
    }
  }

  /** Exact-size buffers for a short segment of `length` bytes whose plaintext is in `bytes`. */
  exact(bytes: Uint8Array, length: number): StripeBuffers {
    const padded = paddedLength(length, this.k);
    const shardSize = (padded + TAG_BYTES) / this.k;
    const plain = new ArrayBuffer(padded);
    new Uint8Array(plain).set(bytes.subarray(0, length));
    return { plain, sealed: new ArrayBuffer(shardSize * this.k), parity: new ArrayBuffer(shardSize * Math.max(1, this.m)) };
  }
}
