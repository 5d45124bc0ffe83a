/**
 * Reusable stripe buffers for the writer. A fresh multi-MiB buffer costs more than the work done
 * on it here (first-touch page faults run at ~1 GB/s on these VMs, see scripts/bench-codec.ts),
 * so the buffers of full segments are recycled: plain (the segment's plaintext, room for its
 * padding), sealed (the k data shards) and parity (the m parity shards). Short segments get
 * exact-size buffers instead, so small objects never hold a whole segment's worth of memory.
 */
import { paddedLength, TAG_BYTES } from '../../mesh/codec/core.mjs';

export interface StripeBuffers {
  plain: ArrayBuffer;
  sealed: ArrayBuffer;
  parity: ArrayBuffer;
}

export class StripeBufferPool {
  readonly plainCapacity: number;
  readonly shardSize: number;
  private readonly free: StripeBuffers[] = [];

  constructor(
    segmentSize: number,
    private readonly k: number,
    private readonly m: number,
    private readonly max = 4,
  ) {
    this.plainCapacity = paddedLength(segmentSize, k);
    this.shardSize = (this.plainCapacity + TAG_BYTES) / k;
  }

  /** Buffers for a full segment (recycled when possible). */
  take(): StripeBuffers {
    return (
      this.free.pop() ?? {
        plain: new ArrayBuffer(this.plainCapacity),
        sealed: new ArrayBuffer(this.shardSize * this.k),
        parity: new ArrayBuffer(this.shardSize * Math.max(1, this.m)),
      }
    );
  }

  /** Returns buffers from take() once nothing uses them any more. */
  give(b: StripeBuffers): void {
    if (this.free.length >= this.max || b.plain.byteLength !== this.plainCapacity || b.sealed.byteLength !== this.shardSize * this.k) return;
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
