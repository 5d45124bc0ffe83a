/**
 * The seam inside the store between the catalog (buckets, objects, multipart state: catalog.ts)
 * and the bytes (segments -> encryption -> erasure coding -> shards: the codec in src/codec and
 * the shard stores in mesh/).
 *
 * A write produces a *manifest*: the recipe to read the bytes back. A manifest starts out pending;
 * the catalog commits it inside the same SQLite transaction that makes the object (or part)
 * visible, and releases it in the transaction that drops the last reference to it. Pending
 * manifests older than a process start (a cut PUT, a kill -9) and released ones are collected:
 * their shards deleted, their rows removed.
 */

export interface WrittenData {
  manifestId: string;
  size: number;
}

export interface DataReadOptions {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, exclusive. */
  end: number;
  signal?: AbortSignal;
  /** Names the object in errors ("bucket/key"), e.g. when a segment cannot be reconstructed. */
  label: { bucket: string; key: string };
  /** SSE-C: the customer's key that wraps the manifest's data key (needed for such manifests). */
  customerKey?: Uint8Array;
}

export interface DataWriteOptions {
  signal?: AbortSignal;
  maxSize?: number;
  /** SSE-C: wrap the data key with this customer key instead of the KEK (never stored). */
  customerKey?: Uint8Array;
}

export interface DataStore {
  /**
   * Stores every byte of `body`. Resolves once the data is durable (write quorum met) with a
   * pending manifest. Throws (and leaves only collectable garbage) when the body throws, the
   * signal aborts, or storage fails. `maxSize` bounds the body (EntityTooLarge past it).
   */
  write(body: AsyncIterable<Uint8Array>, opts: DataWriteOptions): Promise<WrittenData>;
  /** Streams bytes [start, end) of a committed manifest. */
  read(manifestId: string, opts: DataReadOptions): AsyncIterable<Uint8Array>;
  /** Marks a pending manifest live. Synchronous: call it inside the catalog's transaction. */
  commit(manifestId: string): void;
  /** Marks a manifest garbage. Synchronous: call it inside the catalog's transaction. */
  release(manifestId: string): void;
  /** Deletes the data of released manifests (and of pending ones left by an earlier process). */
  collect(): Promise<{ manifests: number; shards: number }>;
  ready(): Promise<boolean>;
  close(): Promise<void>;
}
