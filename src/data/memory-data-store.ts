/**
 * A DataStore that keeps bytes in memory: for unit tests of the store and of s3/. It follows the
 * DataStore contract strictly (commit only a pending manifest, release a manifest once) and throws
 * a plain Error on a violation, so tests catch bookkeeping bugs. `counts()` lets tests assert that
 * nothing leaked: after a sequence of operations, live manifests are exactly those referenced.
 */
import { randomUUID } from 'node:crypto';
import type { DataReadOptions, DataStore, WrittenData } from './data-store.ts';
import { Errors } from '../core/errors.ts';

type State = 'pending' | 'live' | 'released';

interface Entry {
  state: State;
  chunks: Buffer[];
  size: number;
}

export interface MemoryDataStoreOptions {
  /** Largest chunk read() yields (default 64 KiB). */
  readChunkSize?: number;
  /** Called before each chunk read() yields; throw from it to simulate a failing read. */
  onRead?: (manifestId: string, offset: number) => void;
}

export interface ManifestCounts {
  pending: number;
  live: number;
  released: number;
}

export class MemoryDataStore implements DataStore {
  private readonly entries = new Map<string, Entry>();
  private readonly readChunkSize: number;
  onRead: MemoryDataStoreOptions['onRead'];
  /** Number of write() calls that resolved. */
  writes = 0;

  constructor(opts: MemoryDataStoreOptions = {}) {
    this.readChunkSize = opts.readChunkSize ?? 64 * 1024;
    this.onRead = opts.onRead;
  }

  async write(body: AsyncIterable<Uint8Array>, opts: { signal?: AbortSignal; maxSize?: number } = {}): Promise<WrittenData> {
    opts.signal?.throwIfAborted();
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      opts.signal?.throwIfAborted();
      size += chunk.byteLength;
      if (opts.maxSize !== undefined && size > opts.maxSize) throw Errors.entityTooLarge(size, opts.maxSize);
      chunks.push(Buffer.from(chunk)); // a copy: callers may reuse their buffers
    }
    opts.signal?.throwIfAborted();
    const manifestId = `mem-${randomUUID()}`;
    this.entries.set(manifestId, { state: 'pending', chunks, size });
    this.writes++;
    return { manifestId, size };
  }

  async *read(manifestId: string, opts: DataReadOptions): AsyncIterable<Uint8Array> {
    const entry = this.entries.get(manifestId);
    if (!entry || entry.state === 'pending') {
      throw Errors.internal(`manifest ${manifestId} of ${opts.label.bucket}/${opts.label.key} is not committed`);
    }
    if (opts.start < 0 || opts.end > entry.size || opts.start > opts.end) {
      throw Errors.internal(`read [${opts.start}, ${opts.end}) is outside manifest ${manifestId} of ${entry.size} bytes`);
    }
    let offset = 0;
    for (const chunk of entry.chunks) {
      const chunkEnd = offset + chunk.length;
      let from = Math.max(opts.start, offset);
      const to = Math.min(opts.end, chunkEnd);
      while (from < to) {
        opts.signal?.throwIfAborted();
        this.onRead?.(manifestId, from);
        const n = Math.min(this.readChunkSize, to - from);
        yield chunk.subarray(from - offset, from - offset + n);
        from += n;
      }
      offset = chunkEnd;
      if (offset >= opts.end) break;
    }
  }

  commit(manifestId: string): void {
    const entry = this.entries.get(manifestId);
    if (entry?.state !== 'pending') throw new Error(`commit of manifest ${manifestId} which is ${entry?.state ?? 'unknown'}`);
    entry.state = 'live';
  }

  release(manifestId: string): void {
    const entry = this.entries.get(manifestId);
    if (!entry || entry.state === 'released') {
      throw new Error(`release of manifest ${manifestId} which is ${entry?.state ?? 'unknown'}`);
    }
    entry.state = 'released';
  }

  async collect(): Promise<{ manifests: number; shards: number }> {
    let manifests = 0;
    for (const [id, entry] of this.entries) {
      if (entry.state === 'released') {
        this.entries.delete(id);
        manifests++;
      }
    }
    return { manifests, shards: 0 };
  }

  /** Manifests by state (released ones stay counted until collect()). */
  counts(): ManifestCounts {
    const c: ManifestCounts = { pending: 0, live: 0, released: 0 };
    for (const e of this.entries.values()) c[e.state]++;
    return c;
  }

  /** Ids of live manifests. */
  liveIds(): string[] {
    return [...this.entries].filter(([, e]) => e.state === 'live').map(([id]) => id);
  }

  state(manifestId: string): State | undefined {
    return this.entries.get(manifestId)?.state;
  }

  async ready(): Promise<boolean> {
    return true;
  }

  async close(): Promise<void> {}
}
