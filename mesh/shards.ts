/**
 * The seam between the data store (src/store) and where shards live (mesh/). The data store
 * asks for placement, then puts and gets shards by id on the peers it was given. A shard id is
 * the CIDv1 (raw codec; BLAKE3, or sha2-256 for shards written before) of the shard's (ciphertext)
 * bytes, so any holder can verify it.
 * A single node is a network of one peer: every shard goes to the local shard store.
 * Nothing here knows about buckets, keys or objects.
 */
export interface ShardGetOptions {
  signal?: AbortSignal;
  into?: Uint8Array;
  /**
   * false: the caller authenticates the bytes itself (the read path: the segment's AES-GCM tag
   * covers every data shard), so the network may return them without hashing them against the id.
   * Default true: the bytes returned match the id.
   */
  verify?: boolean;
}

export interface ShardNetwork {
  /** This node's peer id (or 'local'). */
  readonly self: string;
  /**
   * Chooses peers for the n shards of one segment, deterministically from the shard ids and the
   * live peers, distinct when there are enough peers. Returns one peer id per shard id.
   */
  place(shardIds: readonly string[]): string[];
  /**
   * The peers that may take a shard now, in tiers tried in order (healthy ones, then those that
   * failed lately), for moving single shards (placement.ts replaceShards). Networks of one node
   * leave it out.
   */
  targets?(): string[][];
  put(peer: string, id: string, bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * The shard's bytes, verified against its id unless `verify` is false; undefined when the peer
   * does not have it (or it is found corrupt). With `into` (a buffer of exactly the shard's size, typically a view of a recycled
   * SharedArrayBuffer) a network may read the bytes into it and return it, or return bytes of its
   * own: callers use what is returned. Either way the returned promise settles only once nothing
   * writes into `into` any more.
   */
  get(peer: string, id: string, opts?: ShardGetOptions): Promise<Uint8Array | undefined>;
  has(peer: string, id: string, opts?: { signal?: AbortSignal }): Promise<boolean>;
  delete(peer: string, id: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /**
   * A page of the shards this node stored on `peer` (the paged inventory), in id order after
   * `after`; `next` is where the following page starts. Networks of one node leave it out.
   */
  list?(peer: string, after?: string, opts?: { signal?: AbortSignal; limit?: number }): Promise<{ shards: { id: string; storedAt: number }[]; next?: string }>;
  /** Path of a shard on this node's disk, when it is stored locally (for `admin inspect`). */
  localPath(id: string): string | undefined;
}
