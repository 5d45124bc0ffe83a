/** Shared types of the erasure-coded data store (ec-*.ts). */
import type { DB } from '../core/db.ts';
import type { Logger } from '../core/log.ts';
import type { DataStore } from './data-store.ts';
import type { ShardNetwork } from '../../mesh/shards.ts';
import type { LocalShardStore } from '../../mesh/local-shards.ts';
import type { EcParams } from '../codec/erasure.ts';
import type { EcRepo } from './schema.ts';
import type { CodecPool } from '../codec/codec-pool.ts';
import type { StripeBufferPool } from './buffers.ts';

/** The levels the data store logs at. */
export type EcLog = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface EcDataStoreOptions {
  db: DB;
  network: ShardNetwork;
  /** The node's master secret (loadMasterKey); the KEK that wraps data keys is derived from it. */
  masterKey: Buffer;
  ec: EcParams;
  /** Plaintext bytes per segment (default 4 MiB). */
  segmentSize?: number;
  /** Bodies up to this many bytes are kept sealed inside the manifest row (default 4096). */
  inlineThreshold?: number;
  /** Segments of one body sealed and written at once (default SEGMENTS_IN_FLIGHT, 4). */
  segmentsInFlight?: number;
  /** Bytes of stripe buffers all transfers may hold before they stop working ahead (buffers.ts; default 64 MiB). */
  stripeBudget?: number;
  log?: EcLog;
  /**
   * This node's own shard store, when it holds only this node's shards (a single node): lets
   * sweepOrphans delete shard files no manifest references. Leave it out on a mesh, where the
   * local store also holds other peers' shards.
   */
  localShards?: LocalShardStore;
  /** The data directory, named in the wrong-master-key message (default: the database's directory). */
  dataDir?: string;
  /** Worker threads for encryption, coding and hashing (default: the process-wide codecPool()). */
  codec?: CodecPool;
  /** A read asks for parity in place of data shards still outstanding after this long (default 2000 ms). */
  hedgeAfterMs?: number;
  /**
   * What collection may take while the catalog is kept in the mesh (CatalogSync.gate): 'hold' for
   * nothing, or released manifests up to a catalog generation. Without it everything garbage goes.
   */
  collectGate?: () => { releasedUpTo: number } | 'hold';
}

export interface EcCounters {
  /** Segment reads that needed parity (a data shard was missing, unreadable or corrupt). */
  degradedReads: number;
  /** Shards a read or scrub found missing, unreadable or corrupt. */
  badShards: number;
  /** Shards rebuilt and written back by scrub. */
  shardsRebuilt: number;
}

/** What every ec-* module works with. */
export interface EcContext {
  repo: EcRepo;
  network: ShardNetwork;
  kek: Buffer;
  ec: EcParams;
  segmentSize: number;
  inlineThreshold: number;
  segmentsInFlight: number;
  log: EcLog;
  localShards?: LocalShardStore;
  /** This store instance: pending manifests of any other writer are left over from an earlier process. */
  writer: string;
  openedAt: number;
  counters: EcCounters;
  codec: CodecPool;
  buffers: StripeBufferPool;
  hedgeAfterMs: number;
  collectGate?: () => { releasedUpTo: number } | 'hold';
}

export interface ShardDescription {
  index: number;
  id: string;
  /** The peer that holds the shard. */
  location: string;
  /** The shard's file on this node's disk, when it is local. */
  path?: string;
}

export interface ManifestDescription {
  size: number;
  ec: EcParams;
  state: 'pending' | 'live' | 'released';
  /** True when the (sealed) bytes are kept in the manifest row: no segments, no shards. */
  inline: boolean;
  segments: { index: number; size: number; shards: ShardDescription[] }[];
}

export interface ScrubOptions {
  onProgress?: (done: number, total: number) => void;
  /** Called with the size of every shard rebuilt and written (repair progress). */
  onRebuilt?: (bytes: number) => void;
  signal?: AbortSignal;
}

export interface ScrubResult {
  segmentsChecked: number;
  shardsRebuilt: number;
  unrecoverable: { manifestId: string; segment: number }[];
  /** Segments with too few shards now, some of them on peers that did not answer (not lost: retried later). */
  deferred?: number;
}

export interface RepairResult extends ScrubResult {
  bytesRebuilt: number;
  /** Milliseconds spent per step, summed over the segments (they overlap): where a slow repair waits. */
  ms?: { fetch: number; code: number; write: number };
}

export interface EcDataStore extends DataStore {
  /** The manifest as `datamesh admin inspect` shows it. */
  describe(manifestId: string): ManifestDescription;
  /** Verifies every shard of every live manifest, rebuilding missing or corrupt ones from the survivors. */
  scrub(opts?: ScrubOptions): Promise<ScrubResult>;
  /** Runs scrub every `intervalMs` (one at a time); returns the function that stops it. */
  startBackgroundScrub(intervalMs: number): () => void;
  /** Rebuilds the shards recorded on `dead` peers onto live ones (mesh self-healing). */
  repairPeers(dead: readonly string[], opts?: ScrubOptions): Promise<RepairResult>;
  /** Audits of the peers (src/data/audit.ts); start() runs them every opts.intervalMs. */
  createAuditor(opts: AuditorOptions): PeerAuditor;
  /** Live segments by how many of their shards sit on `upPeers`. */
  redundancy(upPeers: readonly string[]): { full: number; degraded: number; lost: number };
  /** Live segments with a shard on one of `peers`. */
  segmentsOnPeersCount(peers: readonly string[]): number;
  /** Shards of live objects by the peer that holds them. */
  shardsByPeer(): Map<string, number>;
  /** Every `intervalMs`, deletes the data of manifests released at least one interval ago. */
  startCollector(intervalMs: number): () => void;
  /**
   * Deletes the shards this node stored on `peers` that no manifest records there, once older
   * than `graceMs` (through the network's paged inventory).
   */
  collectUnclaimed(peers: readonly string[], graceMs: number): Promise<{ shards: number; peersListed: number }>;
  /** Deletes local shard files that no manifest references (needs `localShards`). */
  sweepOrphans(): Promise<{ shards: number }>;
  readonly counters: Readonly<EcCounters>;
}

/** Audits of the mesh peers (src/data/audit.ts). */
export type AuditResult = 'passed' | 'failed';

export interface AuditCounts {
  passed: number;
  failed: number;
}

export interface AuditorOptions {
  /** The peers to audit this round: admitted, live, not this node. */
  peers: () => string[];
  /** Time between two audits of one peer. */
  intervalMs: number;
  /** Failures among the last `window` audits that make a peer untrusted (default 3 of 10; --audit-threshold). */
  failuresToDistrust?: number;
  window?: number;
  /** Peers audited at once (default 4). */
  concurrency?: number;
  /** Time a peer has to serve the challenged shard (default 30 s). */
  timeoutMs?: number;
  /** A peer crossed the threshold (called once per crossing). */
  onUntrusted: (peer: string, counts: AuditCounts) => void;
  /** Every audit's outcome (metrics). */
  onAudit?: (peer: string, result: AuditResult) => void;
  random?: () => number;
}

export interface PeerAuditor {
  /** Passed and failed audits of `peer` since this process started. */
  counts(peer: string): AuditCounts;
  /** Forgets the recent failures of a peer an operator admitted again. */
  forgive(peer: string): void;
  /** Challenges `peer` once; undefined when it holds nothing to challenge. */
  audit(peer: string): Promise<AuditResult | undefined>;
  /** One audit of every peer. */
  round(): Promise<void>;
  /** Runs a round every intervalMs. */
  start(): void;
  stop(): Promise<void>;
}
