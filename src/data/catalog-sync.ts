/**
 * Keeps the gateway's catalog in the mesh (catalog-snapshot.ts has the format). Every interval,
 * when the database changed since the last copy, it takes a consistent image (sqlite3_serialize,
 * one synchronous read: no write can fall between the sequence bump and the image), ships it as a
 * snapshot to the remote storage peers and gives each of them the new signed head. A copy is
 * durable once its shards met the write quorum and m+1 peers (or all, when fewer) keep its head.
 *
 * Whole snapshots, not a journal: an image of a catalog of 100k objects gzips to a few MB and
 * ships in well under a second here (scripts/bench-catalog-sync.ts), and only when something
 * changed; the previous copy is kept until a newer one is durable, older ones are deleted.
 *
 * Deleted data waits for the catalog: a manifest released while the generation counter was G may
 * be collected only after a copy taken at generation > G is durable (gate()), so a catalog
 * recovered from the mesh never points at collected shards.
 *
 * At start (check()) it asks the peers for this gateway's newest head: a head newer than the
 * local catalog means this directory was restored from an old backup; the gateway then refuses
 * to run (the mesh's copy wins: `datamesh recover`), and never ships or collects anything.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { ShardNetwork } from '../../mesh/shards.ts';
import { headFields, type SignedHead } from '../../mesh/catalog-heads.ts';
import { openHead, snapshotShards, writeSnapshot, type HeadBody, type ShardRef } from './catalog-snapshot.ts';
import { settleLimited } from './gc.ts';
import type { EcLog } from './types.ts';

/** What the sync needs from the mesh: heads, and the remote storage peers. */
export interface HeadsTransport {
  sign(body: string): Promise<SignedHead>;
  publish(peer: string, head: SignedHead, opts?: { signal?: AbortSignal }): Promise<void>;
  fetch(peer: string, gateway?: string, opts?: { signal?: AbortSignal }): Promise<SignedHead[]>;
}

export interface CatalogSyncOptions {
  /** SQLite only: a PostgreSQL catalog has its own backups and replicas. */
  db: SqliteDatabase;
  masterKey: Buffer;
  /** This gateway's peer id. */
  gateway: string;
  network: ShardNetwork;
  heads: HeadsTransport;
  /** Remote storage peers that can take shards now (not this gateway). */
  peers: () => string[];
  place: (ids: string[], peers: string[]) => string[];
  /** The gateway's peer key file (protobuf): travels in the snapshot so a recovered gateway keeps its id. */
  peerKey: () => Promise<Buffer>;
  ec: { k: number; m: number };
  segmentSize: number;
  intervalMs: number;
  log: EcLog;
}

export interface CatalogSyncState {
  /** When the newest durable copy was taken (ms), if any. */
  lastSync?: number;
  /** Seconds the oldest change not yet in a durable copy has waited (0: everything is in the mesh). */
  lagSeconds: number;
  seq: number;
  /** The mesh holds a newer catalog than this directory (restored from an old backup). */
  stale: boolean;
  lastError?: string;
}

export class StaleCatalogError extends Error {}

const META = {
  seq: 'catalog-seq',
  gen: 'catalog-gen',
  durableGen: 'catalog-durable-gen',
  lastSync: 'catalog-last-sync',
  snapshots: 'catalog-snapshots',
} as const;

interface KeptSnapshot {
  seq: number;
  shards: ShardRef[];
}

export class CatalogSync {
  private readonly o: CatalogSyncOptions;
  private baseline = -1;
  /** When a change not yet shipped was first seen. */
  private dirtySince: number | undefined = Date.now();
  private checked = false;
  private stale = false;
  private durable: number | undefined;
  private lastError: string | undefined;
  private running: Promise<boolean> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly abort = new AbortController();

  constructor(opts: CatalogSyncOptions) {
    this.o = opts;
  }

  private meta(name: string): number | undefined {
    const row = this.o.db.prepare('SELECT value FROM ec_meta WHERE name = ?').get(name) as { value: unknown } | undefined;
    return row === undefined ? undefined : Number(row.value);
  }

  private metaText(name: string): string | undefined {
    const row = this.o.db.prepare('SELECT value FROM ec_meta WHERE name = ?').get(name) as { value: unknown } | undefined;
    return row === undefined ? undefined : String(row.value);
  }

  private setMeta(name: string, value: number | string): void {
    this.o.db.prepare('INSERT INTO ec_meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }

  private changes(): number {
    return (this.o.db.prepare('SELECT total_changes() AS n').get() as { n: number }).n;
  }

  /**
   * What the collector may take: nothing before the start-up check passed (an old backup's
   * pending uploads may be live objects in the mesh's newer catalog); then released manifests up
   * to the newest durable generation.
   */
  gate(): { releasedUpTo: number } | 'hold' {
    if (!this.checked || this.stale) return 'hold';
    this.durable ??= this.meta(META.durableGen) ?? -1;
    return { releasedUpTo: this.durable };
  }

  state(): CatalogSyncState {
    const lastSync = this.meta(META.lastSync);
    return {
      ...(lastSync === undefined ? {} : { lastSync }),
      lagSeconds: this.dirtySince === undefined ? 0 : Math.max(0, (Date.now() - this.dirtySince) / 1000),
      seq: this.meta(META.seq) ?? 0,
      stale: this.stale,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /**
   * Asks the reachable peers for this gateway's heads. Throws StaleCatalogError when the mesh has
   * a newer copy than this directory; returns false when no peer answered (check again later).
   */
  async check(peers: string[] = this.o.peers()): Promise<boolean> {
    if (this.checked) return true;
    const local = this.meta(META.seq) ?? 0;
    let answered = 0;
    let newest: HeadBody | undefined;
    await settleLimited(peers, 8, async (peer) => {
      const heads = await this.o.heads.fetch(peer, this.o.gateway, { signal: AbortSignal.timeout(5_000) });
      answered++;
      for (const h of heads) {
        const body = await openHead(this.o.masterKey, h);
        if (body && body.gateway === this.o.gateway && (!newest || body.seq > newest.seq)) newest = body;
      }
    });
    if (newest && newest.seq > local) {
      this.stale = true;
      throw new StaleCatalogError(
        `the catalog in this data directory (copy #${local}) is older than the one in the mesh (copy #${newest.seq} of ${new Date(newest.time).toISOString()}): ` +
          `it was restored from an old backup. Nothing was changed. Bring the newer catalog back with 'datamesh recover --data DIR --bootstrap MULTIADDR --force', then serve again`,
      );
    }
    if (answered === 0) return false;
    this.checked = true;
    return true;
  }

  /** Ships a copy now if anything changed (or `force`); resolves true when the mesh holds the newest catalog. */
  syncNow(force = false): Promise<boolean> {
    this.running ??= this.ship(force).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async ship(force: boolean): Promise<boolean> {
    if (this.stale) return false;
    if (!force && this.dirtySince === undefined && this.changes() === this.baseline) return true;
    const peers = this.o.peers();
    try {
      if (peers.length === 0) throw new Error('no storage peer is reachable to keep the catalog copy');
      if (!(await this.check(peers))) throw new Error('no storage peer answered for the catalog heads yet');
      const { db } = this.o;
      // One synchronous step: bump the counters, then the image (which holds the bumped values).
      let seq = 0;
      let gen = 0;
      const image = db.transaction(() => {
        seq = (this.meta(META.seq) ?? 0) + 1;
        gen = (this.meta(META.gen) ?? 0) + 1;
        this.setMeta(META.seq, seq);
        this.setMeta(META.gen, gen);
        return db.serialize();
      })();
      // The image of a WAL database says so in its header (bytes 18-19 = 2); as a rollback-journal
      // image it opens from memory or from a fresh file alike (openDatabase turns WAL on again).
      image[18] = 1;
      image[19] = 1;
      this.baseline = this.changes();
      const changedSince = this.dirtySince ?? Date.now();
      this.dirtySince = undefined;
      const time = Date.now();
      let body: HeadBody;
      try {
        body = await writeSnapshot({
          masterKey: this.o.masterKey,
          network: this.o.network,
          gateway: this.o.gateway,
          meta: { seq, gen, time, peerKey: (await this.o.peerKey()).toString('base64') },
          image,
          ec: this.o.ec,
          segmentSize: this.o.segmentSize,
          peers,
          place: this.o.place,
          signal: this.abort.signal,
        });
        await this.publish(body, peers);
      } catch (err) {
        this.dirtySince = Math.min(changedSince, this.dirtySince ?? changedSince);
        throw err;
      }
      // Durable: releases before this copy's generation may go; older copies may go.
      this.durable = gen - 1;
      const imageChanges = this.baseline;
      const kept: KeptSnapshot[] = [...this.keptSnapshots(), { seq, shards: snapshotShards(body) }];
      const remaining = await this.deleteOld(kept);
      // A write that landed while this copy was shipping is not in it.
      if (this.changes() !== imageChanges) this.dirtySince ??= time;
      db.transaction(() => {
        this.setMeta(META.durableGen, gen - 1);
        this.setMeta(META.lastSync, time);
        this.setMeta(META.snapshots, JSON.stringify(remaining));
      })();
      this.baseline = this.changes();
      this.lastError = undefined;
      this.o.log.info({ seq, bytes: body.size, segments: body.segments.length, peers: peers.length }, `catalog copy #${seq} is durable in the mesh`);
      return true;
    } catch (err) {
      if (err instanceof StaleCatalogError) throw err;
      this.dirtySince ??= Date.now();
      this.lastError = (err as Error).message;
      this.o.log.warn({ err: this.lastError }, 'shipping the catalog to the mesh failed; the next interval retries');
      return false;
    }
  }

  private async publish(body: HeadBody, peers: string[]): Promise<void> {
    const head = await this.o.heads.sign(JSON.stringify(body));
    headFields(head); // the body we sign is one peers accept
    let acks = 0;
    let newer: number | undefined;
    await settleLimited(peers, 8, async (peer) => {
      try {
        await this.o.heads.publish(peer, head, { signal: AbortSignal.timeout(10_000) });
        acks++;
      } catch (err) {
        const e = err as { code?: string; seq?: number };
        if (e.code === 'Stale') newer = Math.max(newer ?? 0, e.seq ?? 0);
        throw err;
      }
    });
    if (newer !== undefined) {
      this.stale = true;
      throw new StaleCatalogError(`a peer keeps catalog copy #${newer}, newer than this gateway's #${body.seq}: this data directory is older than the mesh's catalog; stop it and run 'datamesh recover'`);
    }
    const need = Math.min(this.o.ec.m + 1, peers.length);
    if (acks < need) throw new Error(`only ${acks} peers took catalog head #${body.seq} (need ${need})`);
  }

  private keptSnapshots(): KeptSnapshot[] {
    try {
      return JSON.parse(this.metaText(META.snapshots) ?? '[]') as KeptSnapshot[];
    } catch {
      return [];
    }
  }

  /** Deletes the shards of all but the two newest copies; returns the copies still kept. */
  private async deleteOld(kept: KeptSnapshot[]): Promise<KeptSnapshot[]> {
    kept.sort((a, b) => a.seq - b.seq);
    const old = kept.slice(0, -2);
    const remaining = kept.slice(-2);
    for (const snap of old) {
      const results = await settleLimited(snap.shards, 8, (s) => this.o.network.delete(s.peer, s.id));
      const left = snap.shards.filter((_, i) => results[i]!.status === 'rejected');
      if (left.length > 0) remaining.unshift({ seq: snap.seq, shards: left });
    }
    return remaining;
  }

  /** Ships every interval (checking for changes more often, so the lag is measured to the second). */
  start(): void {
    const tickMs = Math.max(50, Math.min(1_000, this.o.intervalMs));
    let due = Date.now();
    this.timer = setInterval(() => {
      if (this.dirtySince === undefined && this.changes() !== this.baseline) this.dirtySince = Date.now();
      if (Date.now() < due || this.running) return;
      due = Date.now() + this.o.intervalMs;
      this.syncNow().catch((err: unknown) => {
        this.lastError = (err as Error).message;
        this.o.log.error({ err: this.lastError }, 'catalog sync stopped');
      });
    }, tickMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.abort.abort();
    await this.running?.catch(() => {});
  }
}
