/**
 * The libp2p datastore of a mesh node: datastore-fs, with the peer store's records (/peers/...)
 * held in memory and written behind. libp2p merges the remote peer's protocol into the peer store
 * on every stream it opens or accepts, under a per-peer lock, and the record always changes (its
 * `updated` time), so with a plain FsDatastore each shard request waited for a file read, a file
 * write and a rename, one request after another per peer. Here reads come from memory after the
 * first, and the latest record of each peer reaches the disk within FLUSH_DELAY_MS (and on close),
 * which is all the persistence the peer store needs: remembering peers across restarts.
 */
import { FsDatastore } from 'datastore-fs';
import type { Key, Pair, Query, KeyQuery } from 'interface-datastore';
import type { AbortOptions } from '@libp2p/interface';

const PEER_PREFIX = '/peers/';
const FLUSH_DELAY_MS = 1_000;
/** Past this many cached records the cache starts over (reads fall back to the disk). */
const MAX_CACHED = 10_000;

export class PeerCachingDatastore extends FsDatastore {
  private readonly cache = new Map<string, Uint8Array>();
  private readonly pending = new Map<string, { key: Key; value: Uint8Array }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  private static cached(key: Key): boolean {
    return key.toString().startsWith(PEER_PREFIX);
  }

  override async put(key: Key, val: Uint8Array, options?: AbortOptions): Promise<Key> {
    if (!PeerCachingDatastore.cached(key)) return super.put(key, val, options);
    const k = key.toString();
    this.remember(k, val);
    this.pending.set(k, { key, value: val });
    this.schedule();
    return key;
  }

  override async get(key: Key, options?: AbortOptions): Promise<Uint8Array> {
    if (!PeerCachingDatastore.cached(key)) return super.get(key, options);
    const k = key.toString();
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    const value = await super.get(key, options);
    // a put may have landed while the file was read: it is newer
    const now = this.cache.get(k);
    if (now !== undefined) return now;
    this.remember(k, value);
    return value;
  }

  override async has(key: Key, options?: AbortOptions): Promise<boolean> {
    if (PeerCachingDatastore.cached(key) && this.cache.has(key.toString())) return true;
    return super.has(key, options);
  }

  override async delete(key: Key, options?: AbortOptions): Promise<void> {
    if (PeerCachingDatastore.cached(key)) {
      const k = key.toString();
      this.cache.delete(k);
      this.pending.delete(k);
      // a flush in progress may still write the record: delete after it
      await this.flushing;
    }
    return super.delete(key, options);
  }

  // Queries read the files: write the pending records first.
  override async *_all(q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    await this.flush();
    yield* super._all(q, options);
  }

  override async *_allKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    await this.flush();
    yield* super._allKeys(q, options);
  }

  override async close(): Promise<void> {
    await this.flush();
    await super.close();
  }

  /** Writes every pending record now. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.flushing = this.flushing.then(async () => {
      for (const { key, value } of batch) {
        // best effort: the record stays in memory, and the next change writes it again
        await super.put(key, value).catch(() => undefined);
      }
    });
    return this.flushing;
  }

  private remember(k: string, value: Uint8Array): void {
    if (this.cache.size >= MAX_CACHED && !this.cache.has(k)) this.cache.clear();
    this.cache.set(k, value);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
    this.timer.unref();
  }
}
