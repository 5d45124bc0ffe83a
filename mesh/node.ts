/**
 * A datamesh mesh peer: libp2p (TCP, Noise, Yamux, identify, ping, a private Kademlia DHT) with
 * a persistent identity (DIR/peer.key) and peer store (DIR/libp2p/), the shard protocol serving
 * the node's LocalShardStore, liveness probing and health scores, and a MeshNetwork (the
 * ShardNetwork the data store uses). A gateway also stores shards and counts itself as a peer;
 * a storage node only serves.
 */
import { silentLog, type Logger } from '../src/core/log.ts';
import '../src/core/polyfill.ts';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { identify } from '@libp2p/identify';
import type { PeerId } from '@libp2p/interface';
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht';
import { peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { preSharedKey } from './pnet.ts';
import { tcp } from '@libp2p/tcp';
import { createLibp2p } from 'libp2p';
import { join } from 'node:path';
import { Admission, type AdmissionState, type AdmitPolicy } from './admission.ts';
import { ProvideQueue } from './announce.ts';
import {
  DEFAULT_DOWN_AFTER_FAILURES,
  DEFAULT_PROBE_INTERVAL_MS,
  DEFAULT_REDIAL_INTERVAL_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
  KAD_PROTOCOL,
  MAX_MESSAGE_BYTES,
  SHARD_PROTOCOL,
  STREAM_WINDOW_BYTES,
} from './constants.ts';
import { catalogHeads } from './catalog-heads.ts';
import { Dialer } from './dialer.ts';
import { PeerTable, type DownListener, type PeerHealth, type PeerState, type UpListener } from './health.ts';
import { loadOrCreatePeerKey, peerIdOf } from './identity.ts';
import { LivenessMonitor } from './liveness.ts';
import type { LocalShardStore } from './local-shards.ts';
import { MeshNetwork } from './mesh-network.ts';
import { PeerCachingDatastore } from './peer-datastore.ts';
import { OwnerIndex, ShardHost, shardProtocol, type ShardProtocolService, type ShardRequest } from './shard-protocol/index.ts';


export interface MeshNodeOptions {
  /** Holds peer.key, the libp2p datastore (peer store, DHT records) and mesh.db (shard owners). */
  dataDir: string;
  /** Multiaddrs to listen on (default /ip4/127.0.0.1/tcp/0). */
  listen?: string[];
  /** Multiaddrs of peers to join through, e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3Koo... */
  bootstrap?: string[];
  /** Bytes of shards this node accepts (default unlimited). */
  capacity?: number;
  shards: LocalShardStore;
  role: 'gateway' | 'storage';
  log?: Pick<Logger, 'debug' | 'info' | 'warn'>;
  /** Probe the known peers' liveness (default: true for a gateway, false for a storage node). */
  probe?: boolean;
  /** Liveness probe interval (default 5 s). */
  probeIntervalMs?: number;
  /** Time a probe may take (default min(interval, 2 s)). */
  probeTimeoutMs?: number;
  /** Failed probes in a row before a peer is down (default 3). */
  downAfterFailures?: number;
  /** Time for one shard request (default 30 s). */
  requestTimeoutMs?: number;
  /** Bootstrap re-dial interval (default 10 s). */
  redialIntervalMs?: number;
  /** Announce stored shards in the DHT (default false: the manifest records where each shard is; the DHT finds peers). */
  announce?: boolean;
  /** Whether this node counts itself as a placement target (default: true for a gateway). */
  storesLocally?: boolean;
  /** The network secret (swarm-key.ts): every connection is encrypted with it first. */
  swarmKey: Uint8Array;
  /** Which peers holding the secret this node works with (default: manual, new peers wait). */
  admitPeers?: AdmitPolicy;
  /** Shards no admitted gateway claims are deleted once this old (default 1 h). */
  orphanGraceMs?: number;
  /** Bytes of inbound shard bodies held at once, all peers together (default MAX_INBOUND_BYTES). */
  maxInboundBytes?: number;
}

export interface PeerStatus {
  id: string;
  self: boolean;
  addresses: string[];
  state: PeerState;
  /** Since when (ms since epoch) the peer is in `state`. */
  since: number;
  shardsHeld: number | null;
  bytes: number | null;
  /** null: unlimited or not reported yet. */
  capacity: number | null;
  health: PeerHealth;
  /** Whether this node works with the peer: pending (waits for an operator), admitted, evicted. */
  admission: AdmissionState;
}

export interface MeshNode {
  readonly peerId: string;
  /** The addresses this node listens on, with /p2p/<peerId>: give them to --bootstrap. */
  readonly multiaddrs: string[];
  readonly role: 'gateway' | 'storage';
  readonly network: MeshNetwork;
  /** This node and every mesh peer it knows, with state, usage and health. */
  peers(): PeerStatus[];
  /** Called once when a peer is marked down (with when it stopped answering). Returns an unsubscribe. */
  onPeerDown(cb: DownListener): () => void;
  onPeerUp(cb: UpListener): () => void;
  /** When the peer stopped answering, if it is down now. */
  downSince(peer: string): number | undefined;
  /** Probes every known peer now (also done every probe interval). */
  probeAll(): Promise<void>;
  /** Resolves when the DHT announcements queued so far are done (tests, shutdown). */
  announced(): Promise<void>;
  readonly admission: Admission;
  /** DHT records this node keeps (they must not grow with the shards stored). */
  dhtRecords(): number;
  /** Deletes the local shards no admitted gateway claims, older than the grace period (also run periodically). */
  collectUnclaimed(): Promise<number>;
  readonly libp2p: Awaited<ReturnType<typeof startLibp2p>>;
  stop(): Promise<void>;
}

const THIRTY_DAYS = 30 * 24 * 3600 * 1000;
export const DEFAULT_ORPHAN_GRACE_MS = 3_600_000;
/** Time the pnet nonce exchange may take on a busy machine. */
const PNET_HANDSHAKE_MS = 10_000;

function startLibp2p(opts: {
  privateKey: Awaited<ReturnType<typeof loadOrCreatePeerKey>>;
  datastore: PeerCachingDatastore;
  listen: string[];
  host: ShardHost;
  swarmKey: Uint8Array;
  authorize: (peer: string, op: ShardRequest['op']) => boolean;
  maxInboundBytes?: number;
  dataDir: string;
  owners: OwnerIndex;
  admitted: (peer: string) => boolean;
}) {
  return createLibp2p({
    privateKey: opts.privateKey,
    datastore: opts.datastore,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    // The network secret: without it a connection never gets past its first bytes.
    connectionProtector: preSharedKey({ psk: opts.swarmKey, timeout: PNET_HANDSHAKE_MS }),
    connectionEncrypters: [noise()],
    // A request frame (up to MAX_MESSAGE_BYTES) may arrive before the protocol handler listens.
    streamMuxers: [yamux({ streamOptions: { maxReadBufferLength: MAX_MESSAGE_BYTES + 1024 * 1024, initialStreamWindowSize: STREAM_WINDOW_BYTES } })],
    // Remember peers (and their addresses) across restarts, well past a long outage.
    peerStore: { maxAddressAge: THIRTY_DAYS, maxPeerAge: THIRTY_DAYS },
    // Our own liveness probes judge peers; a ping that is late on a busy machine must not tear
    // down a connection that is carrying shards.
    connectionMonitor: { abortConnectionOnPingFailure: false },
    services: {
      identify: identify(),
      ping: ping(),
      dht: kadDHT({ protocol: KAD_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper }),
      shards: shardProtocol({ host: opts.host, authorize: opts.authorize, ...(opts.maxInboundBytes ? { maxInboundBytes: opts.maxInboundBytes } : {}) }),
      heads: catalogHeads({ dir: join(opts.dataDir, 'catalog-heads'), owned: (gw, since, limit) => opts.owners.ownedSince(gw, since, limit), mayPublish: opts.admitted }),
    },
  });
}

export async function createMeshNode(opts: MeshNodeOptions): Promise<MeshNode> {
  const log = opts.log ?? silentLog;
  const privateKey = await loadOrCreatePeerKey(opts.dataDir);
  const self = peerIdOf(privateKey);
  const announce = opts.announce ?? false;
  const provideQueue = new ProvideQueue({ onError: (id, err) => log.debug({}, `announcing shard ${id} in the DHT failed: ${err.message}`) });
  const owners = new OwnerIndex(join(opts.dataDir, 'mesh.db'));
  const host = new ShardHost({
    shards: opts.shards,
    owners,
    self,
    ...(opts.capacity !== undefined ? { capacity: opts.capacity } : {}),
    onStored: (id) => announce && provideQueue.add(id),
  });
  await host.refresh();
  const admission = new Admission(owners.db, opts.admitPeers ?? { mode: 'manual' });
  const admitted = (peer: string): boolean => peer === self || admission.isAdmitted(peer);
  const datastore = new PeerCachingDatastore(join(opts.dataDir, 'libp2p'));
  await datastore.open();
  // Shards are no longer announced (the manifests say where each one is; the DHT finds peers):
  // the provider records older versions made, one per shard, go, so nothing re-provides them.
  if (!announce) {
    const dropped = datastore.dropProviderRecords();
    if (dropped > 0) log.info({}, `removed ${dropped} DHT provider records of shards (shards are no longer announced)`);
  }

  const libp2p = await startLibp2p({
    privateKey,
    datastore,
    listen: opts.listen ?? ['/ip4/127.0.0.1/tcp/0'],
    host,
    swarmKey: opts.swarmKey,
    // Storage peers serve their admitted gateways; a gateway answers only liveness probes:
    // no peer stores, reads or deletes shards on a gateway's disk.
    authorize: (peer, op) => admitted(peer) && (opts.role === 'storage' || op === 'stat'),
    ...(opts.maxInboundBytes ? { maxInboundBytes: opts.maxInboundBytes } : {}),
    dataDir: opts.dataDir,
    owners,
    admitted,
  });
  const service: ShardProtocolService = libp2p.services.shards;

  // The mesh peers this node knows: remembered in the peer store, or learnt through identify.
  const known = new Map<string, { peerId: PeerId; addresses: string[] }>();
  const learn = (peerId: PeerId, protocols: readonly string[], addresses: readonly { toString(): string }[]): boolean => {
    const id = peerId.toString();
    if (id === self || !protocols.includes(SHARD_PROTOCOL)) return false;
    const isNew = !known.has(id);
    known.set(id, { peerId, addresses: addresses.map((a) => a.toString()) });
    admission.seen(id);
    return isNew;
  };
  for (const p of await libp2p.peerStore.all()) learn(p.id, p.protocols, p.addresses.map((a) => a.multiaddr));

  const table = new PeerTable({ downAfterFailures: opts.downAfterFailures ?? DEFAULT_DOWN_AFTER_FAILURES });
  for (const id of known.keys()) table.ensure(id, 'suspect');
  const interval = opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  const liveness = new LivenessMonitor({
    table,
    peers: () => [...known.keys()],
    probe: async (peer, signal) => {
      const entry = known.get(peer);
      const peerId = entry?.peerId ?? peerIdFromString(peer);
      const { header } = await service.request(peerId, { op: 'stat' }, undefined, { signal });
      if (!header.ok || header.stats === undefined) throw new Error(`peer ${peer} answered a stat without stats`);
      return header.stats;
    },
    intervalMs: interval,
    timeoutMs: opts.probeTimeoutMs ?? Math.min(interval, 2_000),
    onProbeError: (peer, err) => log.debug({}, `probe of mesh peer ${peer} failed: ${err.message}`),
  });
  table.onPeerDown((peer, since) => log.warn({}, `mesh peer ${peer} is down: no answer since ${new Date(since).toISOString()}`));
  table.onPeerUp((peer) => log.info({}, `mesh peer ${peer} is back up`));

  const onUpdate = (evt: CustomEvent<{ peer: { id: PeerId; protocols: string[]; addresses: { multiaddr: unknown }[] } }>): void => {
    const { peer } = evt.detail;
    const isNew = learn(peer.id, peer.protocols, peer.addresses.map((a) => String(a.multiaddr)));
    if (isNew) {
      table.ensure(peer.id.toString());
      const state = admission.state(peer.id.toString());
      if (opts.role === 'storage') log.debug({}, `mesh peer ${peer.id} joined`);
      else
        log.info(
          {},
          state === 'pending'
            ? `mesh peer ${peer.id} joined, pending: it gets no shard until an operator runs datamesh admin mesh admit ${peer.id}`
            : `mesh peer ${peer.id} joined (${state})`,
        );
      void liveness.probe(peer.id.toString());
    }
  };
  libp2p.addEventListener('peer:update', onUpdate);

  const network = new MeshNetwork({
    self,
    service,
    host,
    localPath: (id) => opts.shards.path(id),
    table,
    peers: () => [...known.keys()],
    storesLocally: opts.storesLocally ?? opts.role === 'gateway',
    admitted,
    requestTimeoutMs: opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    routing: libp2p.contentRouting,
    onLocalDelete: (id) => void provideQueue.forget(id),
    log: (msg) => log.warn({}, msg),
  });
  if (announce) provideQueue.attach(libp2p.contentRouting);

  const dialer = new Dialer({
    libp2p,
    bootstrap: opts.bootstrap ?? [],
    remembered: () => [...known.values()].map((k) => k.peerId),
    intervalMs: opts.redialIntervalMs ?? DEFAULT_REDIAL_INTERVAL_MS,
    dialTimeoutMs: 5_000,
    log: (msg) => log.debug({}, msg),
  });
  await dialer.start();
  const probing = opts.probe ?? opts.role === 'gateway';
  if (probing) liveness.start();

  // Shards here that no admitted gateway claims (junk, an evicted gateway's) go after the grace period.
  const grace = opts.orphanGraceMs ?? DEFAULT_ORPHAN_GRACE_MS;
  let collecting: Promise<number> | undefined;
  const collectUnclaimed = (): Promise<number> =>
    (collecting ??= host
      .collectUnclaimed(admitted, grace)
      .then((n) => {
        if (n > 0) log.info({}, `collected ${n} shards that no admitted gateway claims (older than ${grace} ms)`);
        return n;
      })
      .finally(() => (collecting = undefined)));
  const collectTimer = setInterval(() => void collectUnclaimed().catch((err: Error) => log.warn({}, `collecting unclaimed shards failed: ${err.message}`)), Math.min(3_600_000, Math.max(500, Math.floor(grace / 2))));
  collectTimer.unref();

  let stopped = false;
  const startedAt = Date.now();
  return {
    peerId: self,
    get multiaddrs() {
      return libp2p.getMultiaddrs().map((m) => m.toString());
    },
    role: opts.role,
    network,
    libp2p,
    peers(): PeerStatus[] {
      const me = host.stats();
      const selfStatus: PeerStatus = {
        id: self,
        self: true,
        addresses: libp2p.getMultiaddrs().map((m) => m.toString()),
        state: 'up',
        since: startedAt,
        shardsHeld: me.count,
        bytes: me.used,
        capacity: me.capacity,
        health: { successRate: 1, latencyMs: 0, score: 1 },
        admission: 'admitted',
      };
      const others = [...known.entries()].map(([id, k]): PeerStatus => {
        const r = table.ensure(id);
        return {
          id,
          self: false,
          addresses: k.addresses,
          state: r.state,
          since: r.since,
          shardsHeld: r.stats?.count ?? null,
          bytes: r.stats?.used ?? null,
          capacity: r.stats?.capacity ?? null,
          health: table.health(id),
          admission: admission.state(id) ?? 'pending',
        };
      });
      return [selfStatus, ...others];
    },
    onPeerDown: (cb) => table.onPeerDown(cb),
    onPeerUp: (cb) => table.onPeerUp(cb),
    downSince: (peer) => table.downSince(peer),
    probeAll: () => liveness.round(),
    announced: () => provideQueue.onIdle(),
    admission,
    collectUnclaimed,
    dhtRecords: () => datastore.dhtRecordCount(),
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(collectTimer);
      await collecting?.catch(() => {});
      dialer.stop();
      provideQueue.stop();
      await liveness.stop();
      libp2p.removeEventListener('peer:update', onUpdate);
      await libp2p.stop();
      await datastore.close();
      owners.close();
    },
  };
}
