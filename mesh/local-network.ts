/**
 * A ShardNetwork of one peer: this node. Every shard goes to (and comes from) the local shard
 * store. The single-node server runs on it; the libp2p mesh replaces it without touching the codec.
 */
import { Errors } from '../src/core/errors.ts';
import type { ShardGetOptions, ShardNetwork } from './shards.ts';
import type { LocalShardStore } from './local-shards.ts';

export class LocalNetwork implements ShardNetwork {
  readonly self: string;
  readonly store: LocalShardStore;

  constructor(self: string, store: LocalShardStore) {
    this.self = self;
    this.store = store;
  }

  place(shardIds: readonly string[]): string[] {
    return shardIds.map(() => this.self);
  }

  private check(peer: string): void {
    if (peer !== this.self) {
      throw Errors.serviceUnavailable(
        `peer ${peer} is not reachable: this node (${this.self}) runs without a mesh and stores every shard itself; join the mesh to reach other peers`,
      );
    }
  }

  /**
   * The data store computed `id` from these very bytes a moment ago, so they are not hashed again
   * here (reads still verify every shard).
   */
  async put(peer: string, id: string, bytes: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<void> {
    this.check(peer);
    await this.store.put(id, bytes, { signal: opts.signal, verify: false });
  }

  async get(peer: string, id: string, opts: ShardGetOptions = {}): Promise<Uint8Array | undefined> {
    if (peer !== this.self) return undefined;
    return this.store.get(id, opts);
  }

  async has(peer: string, id: string): Promise<boolean> {
    if (peer !== this.self) return false;
    return this.store.has(id);
  }

  async delete(peer: string, id: string): Promise<void> {
    this.check(peer);
    await this.store.delete(id);
  }

  localPath(id: string): string | undefined {
    return this.store.path(id);
  }
}
