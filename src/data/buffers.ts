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
 * given back is simply garbage collected.
 */
import { paddedLength, TAG_BYTES } from '../codec/core.mjs';

export interface StripeBuffers {
  plain: ArrayBufferLike;
  sealed: ArrayBufferLike;
  parity: ArrayBufferLike;
}

export class StripeBufferPool {
  readonly plainCapacity: number;
  readonly shardSize: number;
  private readonly free: StripeBuffers[] = [];

  constructor(
    segmentSize: number,
    private readonly k: number,
    private readonly m: number,
    private readonly max = 8,
  ) {
    this.plainCapacity = paddedLength(segmentSize, k);
    this.shardSize = (this.plainCapacity + TAG_BYTES) / k;
  }

  /** Shared buffers for a full segment (recycled when possible). */
  take(): StripeBuffers {
    return (
      this.free.pop() ?? {
        plain: new SharedArrayBuffer(this.plainCapacity),
        sealed: new SharedArrayBuffer(this.shardSize * this.k),
        parity: new SharedArrayBuffer(this.shardSize * Math.max(1, this.m)),
      }
    );
  }

  /** True when a segment coded k+m with shards of `shardSize` bytes fits the buffers of take(). */
  fits(k: number, m: number, shardSize: number): boolean {
    return k === this.k && m <= Math.max(1, this.m) && shardSize === this.shardSize;
  }

  /** Returns buffers from take() once nothing uses them any more (see the rule above). */
  give(b: StripeBuffers): void {
    if (this.free.length >= this.max || !(b.plain instanceof SharedArrayBuffer)) return;
    if (b.plain.byteLength !== this.plainCapacity || b.sealed.byteLength !== this.shardSize * this.k) return;
    this.free.push(b);
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
