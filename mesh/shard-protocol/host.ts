/**
 * The local side of the shard protocol: what this peer does with a put, get, has, delete or stat,
 * whether it came over the wire or from this node itself. Verifies every shard against its id,
 * enforces the capacity, records who stored each shard and lets only them delete it.
 */
import { stat } from 'node:fs/promises';
import { codecPool } from '../../src/codec/codec-pool.ts';
import { DiskFullError, isDomainError } from '../../src/core/errors.ts';
import type { LocalShardStore } from '../local-shards.ts';
import { formatBytes } from '../../src/core/sizes.ts';
import type { OwnedShard, OwnerIndex } from './owners.ts';
import { LIST_PAGE_MAX, type PeerStats, type ShardResponse } from './messages.ts';

export interface ShardHostInit {
  shards: LocalShardStore;
  owners: OwnerIndex;
  /** This peer's id, for messages. */
  self: string;
  /** Bytes this peer accepts in total (default unlimited). */
  capacity?: number;
  /** Called after a shard was newly stored (to announce it in the DHT). */
  onStored?: (id: string) => void;
}

const shortId = (peer: string): string => (peer.length > 16 ? `${peer.slice(0, 8)}…${peer.slice(-6)}` : peer);

export class ShardHost {
  private readonly shards: LocalShardStore;
  private readonly owners: OwnerIndex;
  private readonly self: string;
  private readonly capacity: number;
  private readonly onStored: (id: string) => void;
  private used = 0;
  private count = 0;
  /** Bytes of puts in flight, counted against the capacity before they land. */
  private reserved = 0;

  constructor(init: ShardHostInit) {
    this.shards = init.shards;
    this.owners = init.owners;
    this.self = init.self;
    this.capacity = init.capacity ?? Number.POSITIVE_INFINITY;
    this.onStored = init.onStored ?? (() => {});
  }

  /** Reads the store's usage; call before serving. */
  async refresh(): Promise<void> {
    const s = await this.shards.stats();
    this.used = s.bytes;
    this.count = s.count;
  }

  stats(): PeerStats {
    return { capacity: Number.isFinite(this.capacity) ? this.capacity : null, used: this.used, count: this.count };
  }

  /**
   * Stores a shard for `owner`. `trusted`: the caller computed the id from these very bytes
   * (this node's own data store), so they are not hashed again; bytes from the wire always are.
   */
  /**
   * `transfer`: the caller gives up `bytes` (a buffer of its own): they travel to the codec worker
   * that hashes them and back, instead of being copied there.
   */
  async put(id: string, bytes: Uint8Array, owner: string, opts: { trusted?: boolean; transfer?: boolean; signal?: AbortSignal } = {}): Promise<ShardResponse> {
    if (opts.trusted !== true) {
      const sent = bytes.byteLength;
      const { ids, buffers } = await codecPool().hash([bytes], { transfer: opts.transfer === true, like: [id] });
      bytes = buffers[0]!;
      if (ids[0] !== id) return { ok: false, code: 'BadId', reason: `the ${sent} bytes sent do not hash to shard id ${id}; nothing was stored` };
    }
    if (await this.shards.has(id)) {
      const owners = this.owners.owners(id);
      // A gateway claims only what it stored: re-putting someone else's shard is no way to
      // become its co-owner (and so to make the owner's delete drop only its own claim).
      if (owners.length > 0 && !owners.includes(owner))
        return {
          ok: false,
          code: 'Denied',
          reason: `shard ${id} on peer ${shortId(this.self)} was stored by another gateway; peer ${shortId(owner)} may not claim it`,
        };
      this.owners.record(id, owner);
      return { ok: true };
    }
    const size = bytes.byteLength;
    if (this.used + this.reserved + size > this.capacity) return this.full(size);
    this.reserved += size;
    try {
      await this.shards.put(id, bytes, { verify: false, ...(opts.signal ? { signal: opts.signal } : {}) });
      this.owners.record(id, owner);
      this.used += size;
      this.count += 1;
    } catch (err) {
      // The store's own capacity (when it was given one) says the same thing in its words.
      if (isDomainError(err) && err.code === 'ServiceUnavailable') return this.full(size);
      // so does a disk that filled up before the capacity was reached
      if (err instanceof DiskFullError) return { ok: false, code: 'Full', reason: `peer ${shortId(this.self)}: ${err.message}`, stats: this.stats() };
      throw err;
    } finally {
      this.reserved -= size;
    }
    this.onStored(id);
    return { ok: true };
  }

  private full(size: number): ShardResponse {
    return {
      ok: false,
      code: 'Full',
      reason: `peer ${shortId(this.self)} is full: ${formatBytes(this.capacity)} capacity, ${formatBytes(this.used + this.reserved)} used; it cannot take a shard of ${formatBytes(size)} (place it on another peer, or give this one a larger --capacity)`,
      stats: this.stats(),
    };
  }

  /** The shard's verified bytes, or the reason it cannot be served. */
  /** `verify: false` only for this node's own reads that authenticate the bytes themselves (ShardGetOptions.verify). */
  async get(id: string, opts: { verify?: boolean } = {}): Promise<{ response: ShardResponse; bytes?: Uint8Array }> {
    const bytes = await this.shards.get(id, opts);
    if (bytes !== undefined) return { response: { ok: true }, bytes };
    if (await this.shards.has(id))
      return { response: { ok: false, code: 'Corrupt', reason: `peer ${shortId(this.self)} holds shard ${id} but its bytes no longer match the id (disk corruption); read another shard of the segment` } };
    return { response: { ok: false, code: 'NotFound', reason: `peer ${shortId(this.self)} does not hold shard ${id}` } };
  }

  has(id: string): Promise<boolean> {
    return this.shards.has(id);
  }

  /** A page of the shards `owner` stored here (the paged inventory), and where the next page starts. */
  list(owner: string, after = '', limit = LIST_PAGE_MAX): { shards: OwnedShard[]; next?: string } {
    const n = Math.max(1, Math.min(limit, LIST_PAGE_MAX));
    const shards = this.owners.ownedBy(owner, after, n);
    return shards.length === n ? { shards, next: shards[n - 1]!.id } : { shards };
  }

  /**
   * Deletes the shards here that no admitted gateway claims (junk, or the shards of an evicted
   * gateway), once their file is older than `graceMs`. Returns how many went.
   */
  async collectUnclaimed(claims: (owner: string) => boolean, graceMs: number, now = Date.now()): Promise<number> {
    let removed = 0;
    for await (const id of this.shards.list()) {
      if (this.owners.owners(id).some(claims)) continue;
      const st = await stat(this.shards.path(id)).catch(() => undefined);
      if (st === undefined || now - st.mtimeMs < graceMs) continue;
      await this.shards.delete(id);
      for (const o of this.owners.owners(id)) this.owners.release(id, o);
      this.used = Math.max(0, this.used - st.size);
      this.count = Math.max(0, this.count - 1);
      removed++;
    }
    return removed;
  }

  /** Deletes `requester`'s claim on the shard, and the bytes once nobody claims them. */
  async delete(id: string, requester: string): Promise<ShardResponse> {
    const owners = this.owners.owners(id);
    const present = await this.shards.has(id);
    if (!present) {
      if (owners.includes(requester)) this.owners.release(id, requester);
      return { ok: true };
    }
    if (!owners.includes(requester)) {
      const by = owners.length === 0 ? 'no recorded gateway' : owners.map(shortId).join(', ');
      return {
        ok: false,
        code: 'Denied',
        reason: `shard ${id} on peer ${shortId(this.self)} was stored by ${by}; peer ${shortId(requester)} may not delete it (only the gateway that stored a shard can delete it)`,
      };
    }
    if (this.owners.release(id, requester).length > 0) return { ok: true };
    const size = await stat(this.shards.path(id)).then((s) => s.size, () => 0);
    await this.shards.delete(id);
    this.used = Math.max(0, this.used - size);
    this.count = Math.max(0, this.count - 1);
    return { ok: true };
  }
}
