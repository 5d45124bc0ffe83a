/**
 * Builds the data path for this process: the node's identity, its local shard store, the shard
 * network (this node alone, or the libp2p mesh when --listen-mesh or --bootstrap is given) and the
 * encrypted erasure-coded data store over it. On a mesh it also runs self-healing: the shards of a
 * peer that has been down longer than --repair-after are rebuilt from survivors onto live peers.
 */
import { join } from 'node:path';
import { ConfigError, parseAuditThreshold, type Config } from './config.ts';
import { isSqlite, type DB } from '../core/db.ts';
import type { Logger } from '../core/log.ts';
import { createEcDataStore } from '../data/ec-data-store.ts';
import type { AuditCounts, EcDataStore, PeerAuditor } from '../data/types.ts';
import { LocalShardStore } from '../../mesh/local-shards.ts';
import { LocalNetwork } from '../../mesh/local-network.ts';
import { parseEc } from '../codec/erasure.ts';
import { codecPool } from '../codec/codec-pool.ts';
import { useBodyMd5 } from '../core/digest.ts';
import { parseAdmitPeers } from '../../mesh/admission.ts';
import { isPeerId } from '../../mesh/identity.ts';
import { Errors } from '../core/errors.ts';
// libp2p (and its crypto) is loaded only when it is needed: a single node starts without it.
import type { MeshNode, PeerStatus } from '../../mesh/node.ts';
import type { loadSwarmKey } from '../../mesh/swarm-key.ts';
import { instrumentNetwork, type Metrics } from './metrics.ts';
import { CatalogSync, type CatalogSyncState } from '../data/catalog-sync.ts';
import { placeShards } from '../../mesh/placement.ts';
import { PEER_KEY_FILE } from '../../mesh/identity.ts';
import { readFile } from 'node:fs/promises';

export interface RepairState {
  running: boolean;
  /** Segments with a shard on a peer that is down now (waiting for --repair-after, or being rebuilt). */
  queue: number;
  rounds: number;
  shardsRebuilt: number;
  bytesRebuilt: number;
  /** The round running now: segments done of those it has to repair, and shard bytes rebuilt so far. */
  progress?: { segmentsDone: number; segmentsToRepair: number; bytesRebuilt: number };
  /**
   * Segments the last round could not rebuild: `lost` (fewer than k shards on peers that answered
   * or are gone for good; logged once, then hourly) and `deferred` (short of shards only because
   * some peers do not answer now, e.g. restarting: retried, not lost).
   */
  lost: number;
  deferred: number;
  /** MB of shards rebuilt per second, over the last round that rebuilt something. */
  lastThroughputMBs?: number;
  lastRound?: string;
}

/** A peer as `datamesh admin mesh` shows it: its status and, for storage peers, its audits. */
export type MeshPeerView = PeerStatus & { audits?: AuditCounts };

export interface MeshView {
  self: string;
  peers: MeshPeerView[];
  redundancy: { full: number; degraded: number; lost: number };
  repair: RepairState;
  /** The catalog's copy in the mesh (a gateway on a mesh with --catalog-sync-interval > 0). */
  catalog?: CatalogView;
}

export interface CatalogView {
  /** When the newest durable copy was taken (ISO time), null before the first one. */
  lastSync: string | null;
  /** Seconds the oldest change not yet in the mesh has waited; 0 when everything is there. */
  lagSeconds: number;
  seq: number;
  stale: boolean;
  lastError?: string;
}

export function catalogView(s: CatalogSyncState): CatalogView {
  return {
    lastSync: s.lastSync === undefined ? null : new Date(s.lastSync).toISOString(),
    lagSeconds: Math.round(s.lagSeconds * 10) / 10,
    seq: s.seq,
    stale: s.stale,
    ...(s.lastError === undefined ? {} : { lastError: s.lastError }),
  };
}

export interface OpenedData {
  store: EcDataStore;
  /** This node's peer id: the location of the shards it holds. */
  nodeId: string;
  shards: LocalShardStore;
  mesh?: MeshNode;
  /** Ships the catalog to the mesh (a gateway on a mesh). */
  catalog?: CatalogSync;
  /** Peers, redundancy of the stored data and the repair queue (`datamesh admin mesh`). */
  view(): MeshView;
  /** `datamesh admin mesh admit|evict PEER_ID`: returns the peer's admission afterwards. */
  setAdmission(peer: string, action: 'admit' | 'evict'): { peer: string; admission: string };
  close(): Promise<void>;
}

export async function openDataStore(opts: {
  config: Config;
  db: DB;
  masterKey: Buffer;
  dataDir: string;
  log: Logger;
  metrics?: Metrics;
}): Promise<OpenedData> {
  const { config, db, masterKey, dataDir, log, metrics } = opts;
  const ec = parseEc(config.ec); // validated with the configuration
  const shards = new LocalShardStore(join(dataDir, 'shards'), { capacity: config.capacity, fsync: config.fsync });
  if (shards.migrated > 0) log.info({ shards: shards.migrated }, `moved ${shards.migrated} shards to the one-level layout DIR/shards/xx/<id>`);
  const meshed = config.listenMesh.length > 0 || config.bootstrap.length > 0;
  let mesh: MeshNode | undefined;
  let nodeId: string;
  if (meshed) {
    const swarm = await meshSecret({ dataDir, given: config.swarmKey, create: true });
    if (swarm.created) log.info({ file: swarm.file }, `created the mesh network secret ${swarm.file}: give a copy (mode 0600) to every storage peer with --swarm-key FILE`);
    const { createMeshNode } = await import('../../mesh/node.ts');
    mesh = await createMeshNode({
      swarmKey: swarm.key,
      admitPeers: parseAdmitPeers(config.admitPeers),
      orphanGraceMs: config.orphanGrace,
      dataDir,
      listen: config.listenMesh.length > 0 ? config.listenMesh : ['/ip4/127.0.0.1/tcp/0'],
      bootstrap: config.bootstrap,
      ...(config.capacity !== undefined ? { capacity: config.capacity } : {}),
      shards,
      role: 'gateway',
      // Probes often enough to notice a dead peer well inside --repair-after, with a timeout that a
      // peer busy moving shards on a loaded machine still meets.
      probeIntervalMs: Math.max(1_000, Math.min(5_000, Math.floor(config.repairAfter / 5))),
      probeTimeoutMs: 3_000,
      log,
    });
    nodeId = mesh.peerId;
    log.info({ peerId: mesh.peerId, multiaddrs: mesh.multiaddrs }, `mesh peer ${mesh.peerId} listening on ${mesh.multiaddrs.join(' ')}`);
  } else {
    const { loadOrCreatePeerKey, peerIdOf } = await import('../../mesh/identity.ts');
    nodeId = peerIdOf(await loadOrCreatePeerKey(dataDir));
  }
  const base = mesh ? mesh.network : new LocalNetwork(nodeId, shards);
  const network = metrics ? instrumentNetwork(base, metrics.shards) : base;
  // The catalog's copy in the mesh is SQLite's: a PostgreSQL catalog has the database's own backups.
  const catalog =
    mesh && config.catalogSyncInterval > 0 && isSqlite(db)
      ? new CatalogSync({
          db,
          masterKey,
          gateway: mesh.peerId,
          network,
          heads: mesh.libp2p.services.heads,
          peers: () => mesh!.network.candidates().filter((p) => p !== mesh!.peerId),
          place: placeShards,
          peerKey: () => readFile(join(dataDir, PEER_KEY_FILE)),
          ec,
          segmentSize: config.segmentSize,
          intervalMs: config.catalogSyncInterval,
          log,
        })
      : undefined;
  // request bodies' MD5 (the ETag) in a codec worker, overlapped with coding: off the event loop
  useBodyMd5(() => codecPool().md5());
  const store = createEcDataStore({
    db,
    network,
    masterKey,
    ec,
    segmentSize: config.segmentSize,
    inlineThreshold: config.inlineThreshold,
    segmentsInFlight: config.segmentsInFlight,
    log,
    // On a mesh this node's disk also holds other gateways' shards: never sweep it as orphans.
    ...(mesh ? {} : { localShards: shards }),
    dataDir,
    ...(catalog ? { collectGate: () => catalog.gate() } : {}),
  });
  if (catalog && mesh) {
    try {
      await checkCatalog(catalog, mesh, config.bootstrap.length > 0);
    } catch (err) {
      await store.close();
      await mesh.stop();
      throw err;
    }
    catalog.start();
  }
  const stopScrub = config.scrubInterval > 0 ? store.startBackgroundScrub(config.scrubInterval) : () => {};
  const stopCollector = store.startCollector(config.collectInterval);

  const repair: RepairState = { running: false, queue: 0, rounds: 0, shardsRebuilt: 0, bytesRebuilt: 0, lost: 0, deferred: 0 };
  const downPeers = (): PeerStatus[] => (mesh ? mesh.peers().filter((p) => p.state === 'down') : []);
  // An evicted or untrusted peer is drained at once: its shards are rebuilt elsewhere, as for a dead peer.
  const drained = (): string[] => (mesh ? [...mesh.admission.inState('evicted'), ...mesh.admission.inState('untrusted')] : []);
  const evictedHolding = (): string[] => drained().filter((p) => store.segmentsOnPeersCount([p]) > 0);
  let auditor: PeerAuditor | undefined;
  let repairTimer: NodeJS.Timeout | undefined;
  let collectTimer: NodeJS.Timeout | undefined;
  let collectingUnclaimed: Promise<unknown> | undefined;
  let repairing: Promise<void> | undefined;
  if (mesh) {
    const tick = () => {
      if (repairing) return;
      const now = Date.now();
      const dead = [
        ...downPeers()
          .filter((p) => now - p.since >= config.repairAfter)
          .map((p) => p.id),
        ...evictedHolding(),
      ];
      if (dead.length === 0) return;
      repairing = (async () => {
        repair.running = true;
        const started = performance.now();
        try {
          const progress = { segmentsDone: 0, segmentsToRepair: 0, bytesRebuilt: 0 };
          repair.progress = progress;
          const r = await store.repairPeers(dead, {
            onProgress: (done, total) => Object.assign(progress, { segmentsDone: done, segmentsToRepair: total }),
            onRebuilt: (bytes) => (progress.bytesRebuilt += bytes),
          });
          metrics?.repair.repaired(r.segmentsChecked, r.bytesRebuilt);
          repair.rounds++;
          repair.lost = r.unrecoverable.length;
          repair.deferred = r.deferred ?? 0;
          metrics?.repair.setUnreadable(repair.lost, repair.deferred);
          repair.shardsRebuilt += r.shardsRebuilt;
          repair.bytesRebuilt += r.bytesRebuilt;
          repair.lastRound = new Date().toISOString();
          if (r.shardsRebuilt > 0) {
            const secs = (performance.now() - started) / 1000;
            repair.lastThroughputMBs = r.bytesRebuilt / 1e6 / secs;
            log.info(
              { dead, shardsRebuilt: r.shardsRebuilt, bytes: r.bytesRebuilt, seconds: secs, unrecoverable: r.unrecoverable.length, ms: r.ms },
              `repair: rebuilt ${r.shardsRebuilt} shards of peers down longer than ${config.repairAfter} ms (${repair.lastThroughputMBs.toFixed(1)} MB/s)`,
            );
          }
        } catch (err) {
          log.error({ err }, 'repair round failed; the next round retries');
        } finally {
          repair.running = false;
          delete repair.progress;
          repairing = undefined;
        }
      })();
    };
    repairTimer = setInterval(tick, Math.max(100, Math.min(10_000, Math.floor(config.repairAfter / 4))));
    repairTimer.unref();
    mesh.admission.onChange((peer, state) => {
      if (state === 'evicted' || state === 'untrusted') setImmediate(tick);
      if (state === 'admitted') auditor?.forgive(peer);
    });
    if (config.auditInterval > 0) {
      const m = mesh;
      const threshold = parseAuditThreshold(config.auditThreshold); // validated with the configuration
      auditor = store.createAuditor({
        intervalMs: config.auditInterval,
        failuresToDistrust: threshold.failures,
        window: threshold.window,
        // only peers that answer probes now: a restarting (suspect) peer is not challenged
        peers: () => m.peers().filter((p) => !p.self && p.admission === 'admitted' && p.state === 'up').map((p) => p.id),
        onAudit: (_peer, result) => metrics?.repair.audited(result),
        onUntrusted: (peer, counts) => {
          log.error({ peer, audits: counts }, `mesh peer ${peer} is now untrusted: it failed ${threshold.failures} of its last ${threshold.window} audits (--audit-threshold; ${counts.failed} in all: missing or corrupt shards); its shards are rebuilt on other peers. Check its disk, then datamesh admin mesh admit ${peer} to trust it again`);
          m.admission.distrust(peer);
        },
      });
      auditor.start();
    }
    // Shards this gateway stored that no manifest records (cut writes, junk) go after --orphan-grace.
    const m = mesh;
    collectTimer = setInterval(() => {
      if (collectingUnclaimed) return;
      const peers = m.peers().filter((p) => p.admission === 'admitted' && p.state !== 'down').map((p) => p.id);
      collectingUnclaimed = store
        .collectUnclaimed(peers, config.orphanGrace)
        .catch((err: unknown) => log.warn({ err }, 'collecting unclaimed shards failed; will retry'))
        .finally(() => (collectingUnclaimed = undefined));
    }, Math.min(3_600_000, Math.max(500, Math.floor(config.orphanGrace / 2))));
    collectTimer.unref();
  }

  const opened: OpenedData = {
    store,
    nodeId,
    shards,
    mesh,
    ...(catalog ? { catalog } : {}),
    view(): MeshView {
      const peers = mesh
        ? mesh.peers()
        : [
            {
              id: nodeId,
              self: true,
              addresses: [],
              state: 'up' as const,
              since: 0,
              shardsHeld: null,
              bytes: null,
              capacity: config.capacity ?? null,
              health: { successRate: 1, latencyMs: 0, score: 1 },
              admission: 'admitted' as const,
            },
          ];
      const out = drained();
      const up = peers.filter((p) => p.state !== 'down' && !out.includes(p.id)).map((p) => p.id);
      const down = peers.filter((p) => p.state === 'down' || out.includes(p.id)).map((p) => p.id);
      repair.queue = down.length > 0 ? store.segmentsOnPeersCount(down) : 0;
      metrics?.repair.setQueue(repair.queue);
      const viewed: MeshPeerView[] = peers.map((p) => (p.self || !auditor ? p : { ...p, audits: auditor.counts(p.id) }));
      return { self: nodeId, peers: viewed, redundancy: store.redundancy(up), repair: { ...repair, ...(repair.progress ? { progress: { ...repair.progress } } : {}) }, ...(catalog ? { catalog: catalogView(catalog.state()) } : {}) };
    },
    setAdmission(peer, action) {
      if (!mesh) throw Errors.invalidArgument('this server is not on a mesh (start it with --listen-mesh or --bootstrap): there are no peers to admit or evict');
      if (peer === mesh.peerId) throw Errors.invalidArgument(`${peer} is this gateway itself; admit or evict storage peers`);
      if (!isPeerId(peer)) throw Errors.invalidArgument(`"${peer}" is not a libp2p peer id: copy the id from datamesh admin mesh (12D3KooW...)`);
      const admission = action === 'admit' ? mesh.admission.admit(peer) : mesh.admission.evict(peer);
      log.info({ peer, admission }, `mesh peer ${peer} is now ${admission}${admission === 'evicted' ? ': its shards are rebuilt on other peers' : ''}`);
      return { peer, admission };
    },
    async close() {
      stopScrub();
      await auditor?.stop();
      stopCollector();
      if (repairTimer) clearInterval(repairTimer);
      if (collectTimer) clearInterval(collectTimer);
      await collectingUnclaimed;
      await repairing;
      // A graceful stop leaves the mesh with the newest catalog (bounded: peers may be gone too).
      if (catalog) await Promise.race([catalog.syncNow().catch(() => false), new Promise((r) => setTimeout(r, 10_000).unref())]);
      await catalog?.stop();
      await store.close();
      await mesh?.stop();
    },
  };
  if (catalog) metrics?.setCatalogSource(() => catalog.state());
  metrics?.setPeerSource(() => {
    const counts: Record<string, number> = { up: 0, suspect: 0, down: 0 };
    for (const p of mesh ? mesh.peers() : [{ state: 'up' as const }]) counts[p.state] = (counts[p.state] ?? 0) + 1;
    return counts;
  });
  // Redundancy (and the repair queue gauge, which view() refreshes) at every scrape.
  metrics?.setSegmentSource(() => opened.view().redundancy);
  return opened;
}

/** The mesh's network secret (mesh/swarm-key.ts), its problems as one configuration line. */
export async function meshSecret(opts: Parameters<typeof loadSwarmKey>[0]): Promise<ReturnType<typeof loadSwarmKey>> {
  const { loadSwarmKey, SwarmKeyError } = await import('../../mesh/swarm-key.ts');
  try {
    return loadSwarmKey(opts);
  } catch (e) {
    if (e instanceof SwarmKeyError) throw new ConfigError(e.message);
    throw e;
  }
}

/**
 * Before anything is collected or shipped: does the mesh hold a newer copy of this gateway's
 * catalog (this directory restored from an old backup)? Then CatalogSync.check throws and the
 * gateway does not start. Waits a few seconds for a peer to answer when peers are expected; if
 * none does, the sync checks again before its first copy, and holds collection until then.
 */
async function checkCatalog(catalog: CatalogSync, mesh: MeshNode, expectPeers: boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  const askable = () => [...new Set([...mesh.libp2p.getPeers().map(String), ...mesh.peers().filter((p) => !p.self).map((p) => p.id)])];
  for (;;) {
    const peers = askable();
    if (peers.length > 0 && (await catalog.check(peers))) return;
    if ((!expectPeers && peers.length === 0) || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}
