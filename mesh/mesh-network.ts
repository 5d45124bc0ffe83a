/**
 * ShardNetwork over libp2p: shards go to peers chosen by rendezvous hashing among the live,
 * healthy, not-full ones; requests to this node go straight to its ShardHost, others over
 * /datamesh/shard/1.0.0 with a per-request timeout. Every outcome feeds the PeerTable (health),
 * and a shard a peer serves is verified against its id here, whatever the peer claims.
 */
import type { ContentRouting, PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { existsSync } from 'node:fs';
import { codecPool } from '../src/codec/codec-pool.ts';
import { DiskFullError, Errors } from '../src/core/errors.ts';
import { findProviders } from './announce.ts';
import type { PeerTable } from './health.ts';
import { placeShards } from './placement.ts';
import type { ShardNetwork } from './shards.ts';
import type { ShardHost } from './shard-protocol/host.ts';
import type { ShardProtocolService } from './shard-protocol/service.ts';
import { decodeListBody, type Frame, type ShardRequest, type ShardResponse } from './shard-protocol/messages.ts';

export interface MeshNetworkInit {
  self: string;
  service: ShardProtocolService;
  host: ShardHost;
  /** Path of a locally stored shard. */
  localPath: (id: string) => string;
  table: PeerTable;
  /** The other mesh peers known to this node. */
  peers: () => string[];
  /** Whether this node stores shards itself (a gateway that is also a storage peer). */
  storesLocally: boolean;
  /** Whether a peer is admitted: shards go only to admitted peers. */
  admitted?: (peer: string) => boolean;
  requestTimeoutMs: number;
  routing?: ContentRouting;
  /** Called after a shard was deleted here (to stop announcing it). */
  onLocalDelete?: (id: string) => void;
  log?: (msg: string) => void;
}

type Opts = { signal?: AbortSignal; verify?: boolean };

const short = (peer: string): string => (peer.length > 16 ? `${peer.slice(0, 8)}…${peer.slice(-6)}` : peer);

export class MeshNetwork implements ShardNetwork {
  readonly self: string;
  private readonly init: MeshNetworkInit;
  private readonly peerIds = new Map<string, PeerId>();

  constructor(init: MeshNetworkInit) {
    this.self = init.self;
    this.init = init;
  }

  /** Peers that can take a shard now: up (or not yet probed), not full, not failing. */
  candidates(): string[] {
    return this.usable().filter((p) => p === this.self || this.init.table.isPlaceable(p));
  }

  /** Peers that are not down and not full, failing or not. */
  private usable(): string[] {
    const { table } = this.init;
    const admitted = this.init.admitted ?? (() => true);
    const all = [...(this.init.storesLocally ? [this.self] : []), ...this.init.peers().filter((p) => p !== this.self && admitted(p))];
    return all.filter((p) => (p === this.self ? !this.selfFull() : table.get(p)?.state !== 'down' && !table.isFull(p)));
  }

  /**
   * n distinct peers for the n shards whenever n peers can take them (healthy ones preferred).
   * With fewer, the extra shards stay on this node when it stores shards: the gateway serves the
   * object anyway, while doubling up on a storage peer would let two peer failures cost three shards.
   */
  place(shardIds: readonly string[]): string[] {
    const n = shardIds.length;
    const healthy = this.candidates();
    // Peers that failed recently come in only to keep the shards on distinct peers.
    const ordered = [...healthy, ...this.usable().filter((p) => !healthy.includes(p))];
    if (ordered.length === 0)
      throw Errors.serviceUnavailable(
        'No live mesh peer can take shards: every known peer is down or full and this node stores none. Start storage peers (datamesh node --bootstrap ...) or check their health with datamesh admin mesh.',
      );
    const peers = healthy.length >= n ? healthy : ordered.slice(0, Math.max(n, healthy.length));
    // the least loaded of each shard's two heaviest peers (load: shards held, as last reported)
    const placed = placeShards(shardIds, peers, { load: (p) => (p === this.self ? this.init.host.stats().count : (this.init.table.get(p)?.stats?.count ?? 0)) });
    if (peers.length >= n || !peers.includes(this.self)) return placed;
    const seen = new Set<string>();
    return placed.map((p) => {
      const dup = seen.has(p) && p !== this.self;
      seen.add(p);
      return dup ? this.self : p;
    });
  }

  /** Healthy candidates, then the usable peers that failed lately (see ShardNetwork.targets). */
  targets(): string[][] {
    const healthy = this.candidates();
    return [healthy, this.usable().filter((p) => !healthy.includes(p))];
  }

  /** `peers` ordered best first for reading (up before suspect before down, then health score). */
  rank(peers: readonly string[]): string[] {
    return this.init.table.rank(peers);
  }

  async put(peer: string, id: string, bytes: Uint8Array, opts: Opts = {}): Promise<void> {
    if (peer === this.self) {
      const res = await this.init.host.put(id, bytes, this.self, { trusted: true, ...(opts.signal ? { signal: opts.signal } : {}) });
      if (!res.ok) throw res.code === 'Full' ? new DiskFullError(res.reason) : Errors.internal(res.reason);
      return;
    }
    const { header } = await this.call(peer, { op: 'put', id }, bytes, opts, 'store');
    if (header.ok) return;
    if (header.code === 'Full') {
      this.init.table.markFull(peer, header.stats);
      throw new DiskFullError(header.reason);
    }
    this.init.table.recordFailure(peer);
    throw Errors.internal(`peer ${short(peer)} refused shard ${id}: ${header.reason}`);
  }

  async get(peer: string, id: string, opts: Opts = {}): Promise<Uint8Array | undefined> {
    if (peer === this.self) return (await this.init.host.get(id, { verify: opts.verify !== false })).bytes;
    const { header, body } = await this.call(peer, { op: 'get', id }, undefined, opts, 'read');
    if (!header.ok) {
      if (header.code !== 'NotFound') this.init.table.recordFailure(peer);
      return undefined;
    }
    let bytes = body.subarray();
    // the storing peer checked its disk; here the read path may rely on the segment's AEAD tag instead
    if (opts.verify !== false) {
      // the body is a buffer of its own (service.request): it travels to the codec worker and back, uncopied
      const { ids, buffers } = await codecPool().hash([bytes], { transfer: true, like: [id] });
      bytes = buffers[0]!;
      if (ids[0] !== id) {
        this.init.table.recordFailure(peer, { severe: true });
        this.init.log?.(`peer ${peer} served ${bytes.byteLength} bytes for shard ${id} that do not match the id; rejected, and the peer's health score lowered`);
        return undefined;
      }
    }
    return bytes;
  }

  async has(peer: string, id: string, opts: Opts = {}): Promise<boolean> {
    if (peer === this.self) return this.init.host.has(id);
    const { header } = await this.call(peer, { op: 'has', id }, undefined, opts, 'check');
    if (!header.ok) throw Errors.serviceUnavailable(`peer ${short(peer)} could not check shard ${id}: ${header.reason}`);
    return header.has === true;
  }

  async delete(peer: string, id: string, opts: Opts = {}): Promise<void> {
    if (peer === this.self) {
      const res = await this.init.host.delete(id, this.self);
      if (!res.ok) throw Errors.accessDenied(res.reason);
      this.init.onLocalDelete?.(id);
      return;
    }
    const sig = await this.init.service.signDelete(id);
    const { header } = await this.call(peer, { op: 'delete', id, sig }, undefined, opts, 'delete');
    if (header.ok) return;
    if (header.code === 'Denied') throw Errors.accessDenied(header.reason);
    throw Errors.serviceUnavailable(`peer ${short(peer)} could not delete shard ${id}: ${header.reason}`);
  }

  /** A page of the shards this node stored on `peer` (the paged inventory), in id order after `after`. */
  async list(peer: string, after = '', opts: Opts & { limit?: number } = {}): Promise<{ shards: { id: string; storedAt: number }[]; next?: string }> {
    if (peer === this.self) return this.init.host.list(this.self, after, opts.limit);
    const { header, body } = await this.call(peer, { op: 'list', ...(after ? { after } : {}), ...(opts.limit ? { limit: opts.limit } : {}) }, undefined, opts, 'list');
    if (!header.ok) throw Errors.serviceUnavailable(`peer ${short(peer)} could not list its shards: ${header.reason}`);
    return { shards: decodeListBody(body.subarray()), ...(header.next !== undefined ? { next: header.next } : {}) };
  }

  localPath(id: string): string | undefined {
    const path = this.init.localPath(id);
    return existsSync(path) ? path : undefined;
  }

  /** Peers that announced shard `id` in the DHT (this node first when it holds it). */
  async findProviders(id: string, opts: { signal?: AbortSignal; limit?: number } = {}): Promise<string[]> {
    const found: string[] = (await this.init.host.has(id)) ? [this.self] : [];
    if (this.init.routing === undefined) return found;
    const providers = await findProviders(this.init.routing, id, opts);
    for (const p of providers) {
      const key = p.peer.toString();
      if (!found.includes(key)) found.push(key);
    }
    return found;
  }

  private selfFull(): boolean {
    const s = this.init.host.stats();
    return s.capacity !== null && s.used >= s.capacity;
  }

  private peerId(peer: string): PeerId {
    let id = this.peerIds.get(peer);
    if (id === undefined) {
      try {
        id = peerIdFromString(peer);
      } catch {
        throw Errors.invalidArgument(`"${peer}" is not a libp2p peer id; shard locations name peers by their id (12D3Koo…).`);
      }
      this.peerIds.set(peer, id);
    }
    return id;
  }

  /** One request with a timeout; transport failures and timeouts count against the peer's health. */
  private async call(
    peer: string,
    req: ShardRequest,
    body: Uint8Array | undefined,
    opts: Opts,
    verb: string,
  ): Promise<Frame<ShardResponse>> {
    const { table, service, requestTimeoutMs } = this.init;
    const id = 'id' in req ? req.id : '';
    const since = table.downSince(peer);
    if (since !== undefined)
      throw Errors.serviceUnavailable(`peer ${short(peer)} is down since ${new Date(since).toISOString()}; cannot ${verb} shard ${id} there. Use another peer or wait for repair.`);
    opts.signal?.throwIfAborted();
    const signal = AbortSignal.any([...(opts.signal ? [opts.signal] : []), AbortSignal.timeout(requestTimeoutMs)]);
    const started = performance.now();
    try {
      const frame = await service.request(this.peerId(peer), req, body, { signal });
      table.recordSuccess(peer, performance.now() - started);
      return frame;
    } catch (err) {
      if (opts.signal?.aborted === true) throw opts.signal.reason ?? err;
      table.recordFailure(peer);
      const why = signal.aborted ? `no answer within ${requestTimeoutMs} ms` : (err as Error).message;
      throw Errors.serviceUnavailable(`could not ${verb} shard ${id} on peer ${short(peer)}: ${why}. Retry on another peer.`);
    }
  }
}
