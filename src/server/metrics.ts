/**
 * Prometheus metrics (prom-client) on a registry of their own, so several servers in one process
 * never collide. Request metrics are fed by the S3 service's onDone(RequestRecord); storage, data
 * store and mesh figures are read at scrape time through callbacks; the mesh feeds repair and shard
 * traffic through the small `shards` / `repair` / `setPeerSource` API below.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { RequestRecord } from '../../s3/service.ts';
import type { Usage } from '../core/quota.ts';
import type { ShardNetwork } from '../../mesh/shards.ts';
import type { LifecycleCounts } from '../store/lifecycle.ts';
import { packageInfo } from './version.ts';

/** The erasure-coded data store's counters (EcDataStore.counters). */
export interface EcCountersView {
  degradedReads: number;
  badShards: number;
  shardsRebuilt: number;
}

/** Mesh peers by state ('up', 'suspect', 'down'). */
export type PeerCounts = Record<string, number>;

/** Stored segments by redundancy: all n shards on up peers, fewer but readable, unrecoverable. */
export interface SegmentCounts {
  full: number;
  degraded: number;
  lost: number;
}

/** A request a server limit turned away (src/limits.ts). */
export type LimitName = 'concurrency' | 'body_idle_timeout' | 'header_size' | 'header_timeout';

export interface MetricsSources {
  /** The names of every account (accounts.listAccounts()). */
  accounts?: () => Iterable<string>;
  /** An account's stored objects and bytes (Store.usage). */
  usage?: (account: string) => Usage;
  /** The data store's counters, read at scrape time. */
  ec?: () => Readonly<EcCountersView>;
  /** S3 requests being served now. */
  inFlight?: () => number;
  /** Mesh peers by state; a single node is one peer, up. */
  peers?: () => PeerCounts;
  /**
   * Series labelled by account (stored bytes, objects, buckets, quota rejections). Only when the
   * metrics are behind a token (--metrics-token): open metrics would list every account's name and
   * usage to anyone who can reach the port. Default false.
   */
  accountSeries?: boolean;
}

export interface ShardMetrics {
  /** One shard read: 'ok', 'missing' (absent or failing its id check) or 'error' (the peer failed). */
  read(result: 'ok' | 'missing' | 'error', bytes?: number): void;
  write(result: 'ok' | 'error', bytes?: number): void;
}

export interface RepairMetrics {
  /** Segments waiting for repair now. */
  setQueue(segments: number): void;
  /** Segments repaired and the shard bytes written for them. */
  repaired(segments: number, bytes: number): void;
  /** Segments the last repair round could not rebuild: lost, or deferred (peers that do not answer). */
  setUnreadable(lost: number, deferred: number): void;
  /** One audit of a mesh peer (src/data/audit.ts). */
  audited(result: 'passed' | 'failed'): void;
}

export interface Metrics {
  readonly registry: Registry;
  observeRequest(r: RequestRecord): void;
  rejected(limit: LimitName): void;
  /** One lifecycle pass: what it expired, by action (issue 16). */
  lifecycle(c: LifecycleCounts): void;
  readonly shards: ShardMetrics;
  readonly repair: RepairMetrics;
  setPeerSource(fn: () => PeerCounts): void;
  /** Adds sources built after the metrics (the data store, accounts, the store, the request limits). */
  attach(more: Omit<MetricsSources, 'accountSeries' | 'peers'>): void;
  /** Segments by redundancy, read at scrape time (one aggregate query over the manifests). */
  setSegmentSource(fn: () => SegmentCounts): void;
  /** The catalog's copy in the mesh: lag and last durable copy (a gateway on a mesh). */
  setCatalogSource(fn: () => { lagSeconds: number; lastSync?: number } | undefined): void;
  /** The exposition text and its content type. */
  render(): Promise<{ contentType: string; body: string }>;
  close(): void;
}

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];
const PEER_STATES = ['up', 'suspect', 'down'];
const QUOTA_CODES = new Set(['QuotaExceeded', 'SlowDown']);

export function createMetrics(initial: MetricsSources = {}): Metrics {
  // Sources are read at scrape time; the ones built after the metrics are attached when they exist.
  const sources: MetricsSources = { ...initial };
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  let peers: () => PeerCounts = sources.peers ?? (() => ({ up: 1 }));
  let segments: (() => SegmentCounts) | undefined;
  const { version } = packageInfo();
  new Gauge({
    name: 'datamesh_build_info',
    help: 'Always 1: the datamesh version and the Node.js version that runs it',
    labelNames: ['version', 'node'] as const,
    registers,
  }).set({ version, node: process.version }, 1);
  new Gauge({
    name: 'datamesh_segments',
    help: 'Stored segments by redundancy: full (all n shards on up peers), degraded (fewer, still readable), lost (fewer than k)',
    labelNames: ['redundancy'] as const,
    registers,
    collect() {
      if (!segments) return;
      const c = segments();
      for (const redundancy of ['full', 'degraded', 'lost'] as const) this.set({ redundancy }, c[redundancy]);
    },
  });

  const requests = new Counter({
    name: 'datamesh_s3_requests_total',
    help: 'S3 requests by operation and HTTP status',
    labelNames: ['operation', 'status'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'datamesh_s3_request_duration_seconds',
    help: 'S3 request duration, from the request line to the last byte of the response, by operation',
    labelNames: ['operation'] as const,
    buckets: DURATION_BUCKETS,
    registers,
  });
  const bytesIn = new Counter({ name: 'datamesh_s3_received_bytes_total', help: 'Request body bytes received, by operation', labelNames: ['operation'] as const, registers });
  const bytesOut = new Counter({ name: 'datamesh_s3_sent_bytes_total', help: 'Response body bytes sent, by operation', labelNames: ['operation'] as const, registers });
  new Gauge({
    name: 'datamesh_s3_requests_in_flight',
    help: 'S3 requests being served now',
    registers,
    collect() {
      this.set(sources.inFlight?.() ?? 0);
    },
  });
  const accountSeries = sources.accountSeries === true;
  const quota = new Counter<'account' | 'code'>({
    name: 'datamesh_quota_rejections_total',
    help: `Requests refused by an account quota (QuotaExceeded) or its request rate (SlowDown)${accountSeries ? '' : '; by account only with --metrics-token'}`,
    labelNames: accountSeries ? ['account', 'code'] : ['code'],
    registers,
  });
  const limits = new Counter({
    name: 'datamesh_limit_rejections_total',
    help: 'Requests turned away by a server limit: concurrency, body_idle_timeout, header_size, header_timeout',
    labelNames: ['limit'] as const,
    registers,
  });

  if (accountSeries) perAccount(registers, sources);
  ecCounters(registers, sources);

  const shardReads = new Counter({ name: 'datamesh_shard_reads_total', help: 'Shard reads by result (ok, missing, error)', labelNames: ['result'] as const, registers });
  const shardWrites = new Counter({ name: 'datamesh_shard_writes_total', help: 'Shard writes by result (ok, error)', labelNames: ['result'] as const, registers });
  const shardBytesRead = new Counter({ name: 'datamesh_shard_read_bytes_total', help: 'Shard bytes read', registers });
  const shardBytesWritten = new Counter({ name: 'datamesh_shard_written_bytes_total', help: 'Shard bytes written', registers });

  const repairQueue = new Gauge({ name: 'datamesh_repair_queue_segments', help: 'Segments waiting for repair', registers });
  const repairSegments = new Counter({ name: 'datamesh_repair_segments_total', help: 'Segments repaired', registers });
  const repairBytes = new Counter({ name: 'datamesh_repair_bytes_total', help: 'Shard bytes written by repair', registers });
  const unreadable = new Gauge({
    name: 'datamesh_repair_unreadable_segments',
    help: 'Segments the last repair round could not rebuild: state="lost" (fewer than k shards exist) or "deferred" (short of k only on peers that do not answer)',
    labelNames: ['state'],
    registers,
  });
  const audits = new Counter({ name: 'datamesh_audits_total', help: 'Audits of mesh peers by result (passed, failed: the challenged shard was missing, corrupt or not served)', labelNames: ['result'] as const, registers });
  for (const result of ['passed', 'failed'] as const) audits.inc({ result }, 0);
  new Gauge({
    name: 'datamesh_mesh_peers',
    help: 'Mesh peers by state (this node included)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      this.reset();
      const counts = peers();
      for (const state of new Set([...PEER_STATES, ...Object.keys(counts)])) this.set({ state }, counts[state] ?? 0);
    },
  });

  const lifecycleActions = new Counter({
    name: 'datamesh_lifecycle_actions_total',
    help: 'What bucket lifecycle rules did: expired (current versions), noncurrent_expired, delete_markers_removed, uploads_aborted, kept_locked',
    labelNames: ['action'] as const,
    registers,
  });
  let catalog: () => { lagSeconds: number; lastSync?: number } | undefined = () => undefined;
  new Gauge({
    name: 'datamesh_catalog_sync_lag_seconds',
    help: 'Seconds the oldest catalog change not yet durable in the mesh has waited (0: all shipped); absent without catalog sync',
    registers,
    collect() {
      this.reset();
      const s = catalog();
      if (s) this.set(s.lagSeconds);
    },
  });
  new Gauge({
    name: 'datamesh_catalog_last_sync_timestamp_seconds',
    help: 'When the newest durable catalog copy in the mesh was taken (Unix time)',
    registers,
    collect() {
      this.reset();
      const s = catalog();
      if (s?.lastSync !== undefined) this.set(s.lastSync / 1000);
    },
  });

  return {
    registry,
    lifecycle(c) {
      const by: Record<string, number> = {
        expired: c.expired,
        noncurrent_expired: c.noncurrentExpired,
        delete_markers_removed: c.deleteMarkersRemoved,
        uploads_aborted: c.uploadsAborted,
        kept_locked: c.keptLocked,
      };
      for (const [action, n] of Object.entries(by)) lifecycleActions.inc({ action }, n);
    },
    observeRequest(r) {
      const operation = r.operation ?? 'Unknown';
      requests.inc({ operation, status: String(r.status) });
      duration.observe({ operation }, r.durationMs / 1000);
      if (r.bytesIn > 0) bytesIn.inc({ operation }, r.bytesIn);
      if (r.bytesOut > 0) bytesOut.inc({ operation }, r.bytesOut);
      if (r.account && r.errorCode && QUOTA_CODES.has(r.errorCode)) {
        quota.inc(accountSeries ? { account: r.account, code: r.errorCode } : { code: r.errorCode });
      }
    },
    rejected(limit) {
      limits.inc({ limit });
    },
    shards: {
      read(result, bytes = 0) {
        shardReads.inc({ result });
        if (bytes > 0) shardBytesRead.inc(bytes);
      },
      write(result, bytes = 0) {
        shardWrites.inc({ result });
        if (bytes > 0) shardBytesWritten.inc(bytes);
      },
    },
    repair: {
      setQueue(segments) {
        repairQueue.set(segments);
      },
      repaired(segments, bytes) {
        if (segments > 0) repairSegments.inc(segments);
        if (bytes > 0) repairBytes.inc(bytes);
      },
      setUnreadable(lost, deferred) {
        unreadable.set({ state: 'lost' }, lost);
        unreadable.set({ state: 'deferred' }, deferred);
      },
      audited(result) {
        audits.inc({ result });
      },
    },
    setPeerSource(fn) {
      peers = fn;
    },
    attach(more) {
      Object.assign(sources, more);
    },
    setSegmentSource(fn) {
      segments = fn;
    },
    setCatalogSource(fn) {
      catalog = fn;
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    close() {
      registry.clear();
    },
  };
}

/** Objects, bytes and buckets stored per account, read from the catalog at scrape time. */
function perAccount(registers: Registry[], sources: MetricsSources): void {
  const each = (pick: (u: Usage) => number) =>
    function (this: Gauge<'account'>) {
      this.reset();
      if (!sources.accounts || !sources.usage) return;
      for (const account of sources.accounts()) this.set({ account }, pick(sources.usage(account)));
    };
  new Gauge({ name: 'datamesh_account_objects', help: 'Objects stored per account', labelNames: ['account'] as const, registers, collect: each((u) => u.objects) });
  new Gauge({
    name: 'datamesh_account_stored_bytes',
    help: 'Bytes stored per account (live objects plus parts of open multipart uploads)',
    labelNames: ['account'] as const,
    registers,
    collect: each((u) => u.bytes),
  });
  new Gauge({ name: 'datamesh_account_buckets', help: 'Buckets per account', labelNames: ['account'] as const, registers, collect: each((u) => u.buckets) });
}

/** The data store's own counters, mirrored at scrape time. */
function ecCounters(registers: Registry[], sources: MetricsSources): void {
  const mirror = (name: string, help: string, pick: (c: Readonly<EcCountersView>) => number) =>
    new Counter({
      name,
      help,
      registers,
      collect() {
        this.reset();
        const c = sources.ec?.();
        if (c) this.inc(pick(c));
      },
    });
  mirror('datamesh_degraded_reads_total', 'Segment reads that needed parity because a data shard was missing, unreadable or corrupt', (c) => c.degradedReads);
  mirror(
    'datamesh_shard_verification_failures_total',
    'Shards a read or scrub found missing, unreadable or not matching their id',
    (c) => c.badShards,
  );
  mirror('datamesh_shards_rebuilt_total', 'Shards rebuilt from the survivors and written back by scrub or repair', (c) => c.shardsRebuilt);
}

/** Constant-time check of an `Authorization: Bearer TOKEN` header against the configured token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(header?.trim() ?? '');
  if (!m) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]!.trim()), digest(token));
}

/**
 * The GET /_datamesh/metrics answer: open without a token, else only with `Authorization: Bearer
 * TOKEN` (401 in plain text otherwise).
 */
export async function metricsResponse(metrics: Metrics, authorization: string | undefined, token?: string): Promise<Response> {
  if (token !== undefined && token !== '' && !bearerMatches(authorization, token)) {
    return new Response('401 Unauthorized: /_datamesh/metrics needs the header "Authorization: Bearer TOKEN" with the --metrics-token of this server.\n', {
      status: 401,
      headers: { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Bearer realm="datamesh metrics"' },
    });
  }
  const { contentType, body } = await metrics.render();
  return new Response(body, { status: 200, headers: { 'Content-Type': contentType, 'Cache-Control': 'no-store' } });
}

/**
 * Wraps a ShardNetwork so that every shard put and get is counted (datamesh_shard_reads_total,
 * datamesh_shard_writes_total and their bytes). Everything else passes straight through.
 */
export function instrumentNetwork(network: ShardNetwork, shards: ShardMetrics): ShardNetwork {
  return {
    get self() {
      return network.self;
    },
    place: (ids) => network.place(ids),
    ...(network.targets ? { targets: () => network.targets!() } : {}),
    async put(peer, id, bytes, opts) {
      try {
        await network.put(peer, id, bytes, opts);
      } catch (e) {
        shards.write('error');
        throw e;
      }
      shards.write('ok', bytes.length);
    },
    async get(peer, id, opts) {
      let got: Uint8Array | undefined;
      try {
        got = await network.get(peer, id, opts);
      } catch (e) {
        shards.read('error');
        throw e;
      }
      shards.read(got === undefined ? 'missing' : 'ok', got?.length ?? 0);
      return got;
    },
    has: (peer, id, opts) => network.has(peer, id, opts),
    delete: (peer, id, opts) => network.delete(peer, id, opts),
    localPath: (id) => network.localPath(id),
  };
}
