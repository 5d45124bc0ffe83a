/**
 * A request body's MD5 (the ETag) computed in a codec worker, off the event loop: the body's
 * chunks are copied into 1 MiB batches, SharedArrayBuffers shared with one worker in order (not
 * transferred: a transferred ArrayBuffer arrives as fresh external memory, which drives V8 to
 * major collections), are hashed there while the main thread goes on parsing and the other worker
 * seals, and are filled again once the worker says it is done with them. MD5 ran at ~0.5 GB/s on the main thread, a third of its CPU per
 * PUT byte. At most BACKLOG batches are out at once (update() then returns a promise: the body
 * waits), so a slow worker bounds, not grows, the memory of a PUT. A body that ends before its
 * first batch is full is hashed inline (a small object never pays a round trip).
 */
import { createHash, type Hash } from 'node:crypto';
import type { BodyMd5 } from '../core/digest.ts';
import { copyInto } from './core.mjs';

export const BATCH_BYTES = 1024 * 1024;
/** Batches in the worker at once per body. */
const BACKLOG = 4;
/** Spare batch buffers kept for the next bodies (a fresh buffer page-faults its first fill). */
const SPARES = 16;
const spares: SharedArrayBuffer[] = [];

/** What the pool offers a session: the jobs, sent in order to the one worker the session holds. */
export interface Md5Runner {
  update(bytes: SharedArrayBuffer, length: number): Promise<unknown>;
  end(drop: boolean): Promise<{ digest: Uint8Array | null }>;
}

export class WorkerBodyMd5 implements BodyMd5 {
  private buf: Buffer | undefined;
  private len = 0;
  private runner: Md5Runner | undefined;
  private inline: Hash | undefined;
  private readonly out: Promise<unknown>[] = [];
  private done = false;

  /** `start` gives a worker session, or undefined when there is no worker (hash inline). */
  constructor(private readonly start: () => Md5Runner | undefined) {}

  update(chunk: Uint8Array): void | Promise<void> {
    for (let off = 0; off < chunk.length; ) {
      this.buf ??= Buffer.from(spares.pop() ?? new SharedArrayBuffer(BATCH_BYTES));
      const n = Math.min(chunk.length - off, BATCH_BYTES - this.len);
      copyInto(this.buf, this.len, chunk.subarray(off, off + n));
      this.len += n;
      off += n;
      if (this.len === BATCH_BYTES) this.flush();
    }
    if (this.out.length >= BACKLOG) return this.drain(BACKLOG - 1);
  }

  private flush(): void {
    const buf = this.buf!;
    const length = this.len;
    this.len = 0;
    if (!this.runner && !this.inline) {
      this.runner = this.start();
      if (!this.runner) this.inline = createHash('md5');
    }
    if (this.inline) {
      this.inline.update(buf.subarray(0, length));
      return; // the batch buffer is filled again
    }
    this.buf = undefined;
    const sab = buf.buffer as SharedArrayBuffer;
    const sent = this.runner!.update(sab, length).then(() => void (spares.length < SPARES && spares.push(sab)));
    sent.catch(() => undefined); // reported by drain() or digest()
    this.out.push(sent);
  }

  private async drain(left: number): Promise<void> {
    while (this.out.length > left) await this.out.shift();
  }

  async digest(): Promise<Buffer> {
    this.done = true;
    if (!this.runner && !this.inline) {
      // the whole body fitted one batch: no round trip
      const d = createHash('md5').update(this.buf?.subarray(0, this.len) ?? new Uint8Array(0)).digest();
      this.recycle();
      return d;
    }
    if (this.len > 0) this.flush();
    this.recycle();
    if (this.inline) return this.inline.digest();
    const end = this.runner!.end(false);
    end.catch(() => undefined); // a failed batch is reported first, by drain()
    await this.drain(0);
    const { digest } = await end;
    return Buffer.from(digest!.buffer, digest!.byteOffset, digest!.byteLength);
  }

  dispose(): void {
    if (this.done) return;
    this.done = true;
    this.recycle();
    void this.runner?.end(true).catch(() => undefined);
  }

  private recycle(): void {
    if (this.buf && spares.length < SPARES) spares.push(this.buf.buffer as SharedArrayBuffer);
    this.buf = undefined;
  }
}
