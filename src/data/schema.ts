/**
 * The erasure-coded data store's tables (module 'ec') and the statements on them.
 * A manifest is one written body: its size, code (k+m), segment size, wrapped data key, and either
 * its sealed bytes inline (small objects) or its segments -> shards (id, peer that holds it).
 * Tables are prefixed ec_ so they cannot collide with the catalog's.
 */
import type { SqlStatement as Statement } from '../core/db.ts';
import { migrate, type DB } from '../core/db.ts';

/**
 * Several gateways over one catalog (PostgreSQL): each process (writer) keeps a row alive while it
 * runs, so another gateway never takes its pending manifests (PUTs in flight) for garbage; and
 * collection is one gateway's at a time (the 'collect' lease). Portable SQL for both dialects.
 */
const WRITER_TABLES = `CREATE TABLE ec_writers (writer TEXT PRIMARY KEY, expires BIGINT NOT NULL);
   CREATE TABLE ec_leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires BIGINT NOT NULL);`;

export const EC_MIGRATIONS: readonly string[] = [
  `CREATE TABLE ec_manifests (
     id TEXT PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('pending', 'live', 'released')),
     size INTEGER NOT NULL DEFAULT 0,
     k INTEGER NOT NULL,
     m INTEGER NOT NULL,
     segment_size INTEGER NOT NULL,
     wrapped_key BLOB NOT NULL,
     inline BLOB,
     created INTEGER NOT NULL,
     writer TEXT NOT NULL
   );
   CREATE INDEX ec_manifests_garbage ON ec_manifests(state) WHERE state != 'live';
   CREATE TABLE ec_segments (
     manifest TEXT NOT NULL REFERENCES ec_manifests(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     size INTEGER NOT NULL,
     shard_size INTEGER NOT NULL,
     PRIMARY KEY (manifest, idx)
   ) WITHOUT ROWID;
   CREATE TABLE ec_shards (
     manifest TEXT NOT NULL,
     segment INTEGER NOT NULL,
     idx INTEGER NOT NULL,
     id TEXT NOT NULL,
     peer TEXT NOT NULL,
     PRIMARY KEY (manifest, segment, idx),
     FOREIGN KEY (manifest, segment) REFERENCES ec_segments(manifest, idx) ON DELETE CASCADE
   ) WITHOUT ROWID;
   CREATE INDEX ec_shards_id ON ec_shards(id);
   CREATE TABLE ec_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;`,
  // repair finds the shards a dead peer held
  `CREATE INDEX ec_shards_peer ON ec_shards(peer);`,
  // the catalog generation a manifest was released in: its data waits until a catalog copy of a
  // later generation is durable in the mesh (catalog-sync.ts)
  `ALTER TABLE ec_manifests ADD COLUMN released_gen INTEGER;`,
  WRITER_TABLES,
];

/** The same tables on PostgreSQL, at the latest shape (ids bytewise: COLLATE "C"; drop it on CockroachDB). */
export const EC_PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE ec_manifests (
     id TEXT COLLATE "C" PRIMARY KEY,
     state TEXT NOT NULL CHECK (state IN ('pending', 'live', 'released')),
     size BIGINT NOT NULL DEFAULT 0,
     k INTEGER NOT NULL,
     m INTEGER NOT NULL,
     segment_size BIGINT NOT NULL,
     wrapped_key BYTEA NOT NULL,
     inline BYTEA,
     created BIGINT NOT NULL,
     writer TEXT NOT NULL,
     released_gen BIGINT
   );
   CREATE INDEX ec_manifests_garbage ON ec_manifests(state) WHERE state != 'live';
   CREATE TABLE ec_segments (
     manifest TEXT COLLATE "C" NOT NULL REFERENCES ec_manifests(id) ON DELETE CASCADE,
     idx INTEGER NOT NULL,
     size BIGINT NOT NULL,
     shard_size BIGINT NOT NULL,
     PRIMARY KEY (manifest, idx)
   );
   CREATE TABLE ec_shards (
     manifest TEXT COLLATE "C" NOT NULL,
     segment INTEGER NOT NULL,
     idx INTEGER NOT NULL,
     id TEXT NOT NULL,
     peer TEXT NOT NULL,
     PRIMARY KEY (manifest, segment, idx),
     FOREIGN KEY (manifest, segment) REFERENCES ec_segments(manifest, idx) ON DELETE CASCADE
   );
   CREATE INDEX ec_shards_id ON ec_shards(id);
   CREATE INDEX ec_shards_peer ON ec_shards(peer);
   CREATE TABLE ec_meta (name TEXT PRIMARY KEY, value BYTEA NOT NULL);`,
  WRITER_TABLES,
];

export type ManifestState = 'pending' | 'live' | 'released';

export interface ManifestRow {
  id: string;
  state: ManifestState;
  size: number;
  k: number;
  m: number;
  segment_size: number;
  wrapped_key: Buffer;
  inline: Buffer | null;
  created: number;
  writer: string;
}

export interface SegmentRow {
  idx: number;
  size: number;
  shard_size: number;
}

export interface ShardRow {
  segment: number;
  idx: number;
  id: string;
  peer: string;
}

/** One segment as the reader and the scrubber see it: its shards ordered by index. */
export interface SegmentPlan extends SegmentRow {
  shards: { id: string; peer: string }[];
}

export class EcRepo {
  private readonly s: Record<string, Statement>;

  constructor(readonly db: DB) {
    migrate(db, 'ec', { sqlite: EC_MIGRATIONS, postgres: EC_PG_MIGRATIONS });
    const p = (sql: string) => db.prepare(sql);
    this.s = {
      insertManifest: p(
        `INSERT INTO ec_manifests (id, state, size, k, m, segment_size, wrapped_key, inline, created, writer)
         VALUES (@id, 'pending', 0, @k, @m, @segment_size, @wrapped_key, NULL, @created, @writer)`,
      ),
      finish: p(`UPDATE ec_manifests SET size = ?, inline = ? WHERE id = ?`),
      getManifest: p(`SELECT * FROM ec_manifests WHERE id = ?`),
      commit: p(`UPDATE ec_manifests SET state = 'live' WHERE id = ? AND state = 'pending'`),
      // The catalog generation is SQLite's (its copy in the mesh); PostgreSQL has none to wait for.
      release: p(
        db.dialect === 'sqlite'
          ? `UPDATE ec_manifests SET released_gen = CASE WHEN state = 'released' THEN released_gen
           ELSE COALESCE((SELECT value FROM ec_meta WHERE name = 'catalog-gen'), 0) END, state = 'released' WHERE id = ?`
          : `UPDATE ec_manifests SET released_gen = COALESCE(released_gen, 0), state = 'released' WHERE id = ?`,
      ),
      insertSegment: p(`INSERT INTO ec_segments (manifest, idx, size, shard_size) VALUES (?, ?, ?, ?)`),
      insertShard: p(`INSERT INTO ec_shards (manifest, segment, idx, id, peer) VALUES (?, ?, ?, ?, ?)`),
      segments: p(`SELECT idx, size, shard_size FROM ec_segments WHERE manifest = ? AND idx BETWEEN ? AND ? ORDER BY idx`),
      shards: p(`SELECT segment, idx, id, peer FROM ec_shards WHERE manifest = ? AND segment BETWEEN ? AND ? ORDER BY segment, idx`),
      setPeer: p(`UPDATE ec_shards SET peer = ? WHERE manifest = ? AND segment = ? AND idx = ?`),
      // A pending manifest is garbage once its writer is gone: on SQLite (one gateway) any other
      // writer is an earlier process; on a shared catalog, a writer whose row has expired.
      garbage: p(
        `SELECT id FROM ec_manifests
         WHERE (state = 'released' AND (CAST(@upTo AS BIGINT) IS NULL OR COALESCE(released_gen, 0) <= @upTo))
            OR (state = 'pending' AND writer != @writer${
              db.dialect === 'sqlite' ? '' : ' AND NOT EXISTS (SELECT 1 FROM ec_writers w WHERE w.writer = ec_manifests.writer AND w.expires > @now)'
            })
         ORDER BY id LIMIT @limit`,
      ),
      heartbeat: p(`INSERT INTO ec_writers (writer, expires) VALUES (?, ?) ON CONFLICT (writer) DO UPDATE SET expires = excluded.expires`),
      dropWriter: p(`DELETE FROM ec_writers WHERE writer = ? OR expires < ?`),
      takeLease: p(
        `INSERT INTO ec_leases (name, holder, expires) VALUES (@name, @holder, @expires)
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
         WHERE ec_leases.holder = excluded.holder OR ec_leases.expires < @now`,
      ),
      dropLease: p(`DELETE FROM ec_leases WHERE name = ? AND holder = ?`),
      allShards: p(`SELECT segment, idx, id, peer FROM ec_shards WHERE manifest = ?`),
      referencedElsewhere: p(`SELECT 1 FROM ec_shards WHERE id = ? AND manifest != ? LIMIT 1`),
      referenced: p(`SELECT 1 FROM ec_shards WHERE id = ? LIMIT 1`),
      referencedOn: p(`SELECT 1 FROM ec_shards WHERE id = ? AND peer = ? LIMIT 1`),
      deleteManifest: p(`DELETE FROM ec_manifests WHERE id = ?`),
      liveAfter: p(`SELECT id FROM ec_manifests WHERE state = 'live' AND inline IS NULL AND id > ? ORDER BY id LIMIT ?`),
      liveSegmentCount: p(
        `SELECT COUNT(*) AS n FROM ec_segments s JOIN ec_manifests m ON m.id = s.manifest WHERE m.state = 'live'`,
      ),
      onPeers: p(
        `SELECT DISTINCT s.manifest, s.segment FROM ec_shards s JOIN ec_manifests m ON m.id = s.manifest
         WHERE m.state = 'live' AND s.peer IN (SELECT value FROM json_each(?)) LIMIT ?`,
      ),
      countOnPeers: p(
        `SELECT COUNT(*) AS n FROM (SELECT DISTINCT s.manifest, s.segment FROM ec_shards s JOIN ec_manifests m ON m.id = s.manifest
         WHERE m.state = 'live' AND s.peer IN (SELECT value FROM json_each(?))) AS segs`,
      ),
      redundancy: p(
        `SELECT SUM(CASE WHEN up = n THEN 1 ELSE 0 END) AS "full", SUM(CASE WHEN up < n AND up >= k THEN 1 ELSE 0 END) AS degraded,
           SUM(CASE WHEN up < k THEN 1 ELSE 0 END) AS lost FROM (
           SELECT COUNT(*) AS n, m.k AS k, SUM(CASE WHEN s.peer IN (SELECT value FROM json_each(?)) THEN 1 ELSE 0 END) AS up
           FROM ec_shards s JOIN ec_manifests m ON m.id = s.manifest WHERE m.state = 'live' GROUP BY s.manifest, s.segment, m.k) AS segs`,
      ),
      shardsByPeer: p(
        `SELECT s.peer AS peer, COUNT(*) AS n FROM ec_shards s JOIN ec_manifests m ON m.id = s.manifest WHERE m.state = 'live' GROUP BY s.peer`,
      ),
      getMeta: p(`SELECT value FROM ec_meta WHERE name = ?`),
      setMeta: p(`INSERT INTO ec_meta (name, value) VALUES (?, ?)`),
    };
  }

  insertManifest(row: Pick<ManifestRow, 'id' | 'k' | 'm' | 'segment_size' | 'wrapped_key' | 'created' | 'writer'>): void {
    this.s.insertManifest!.run(row);
  }

  /** Records the final size (and the sealed bytes of an inline object). */
  finish(id: string, size: number, inline: Buffer | null): void {
    this.s.finish!.run(size, inline, id);
  }

  manifest(id: string): ManifestRow | undefined {
    return this.s.getManifest!.get(id) as ManifestRow | undefined;
  }

  commit(id: string): boolean {
    return this.s.commit!.run(id).changes === 1;
  }

  release(id: string): void {
    this.s.release!.run(id);
  }

  /** Records a segment and where its shards go, before they are written (a crash leaves them collectable). */
  readonly insertSegment = (manifest: string, idx: number, size: number, shardSize: number, ids: readonly string[], peers: readonly string[]): void => {
    this.db.transaction(() => {
      this.s.insertSegment!.run(manifest, idx, size, shardSize);
      ids.forEach((id, i) => this.s.insertShard!.run(manifest, idx, i, id, peers[i]));
    })();
  };

  /** Segments first..last (inclusive) of a manifest with their shards. */
  plans(manifest: string, first: number, last: number): SegmentPlan[] {
    const segs = this.s.segments!.all(manifest, first, last) as SegmentRow[];
    const shards = this.s.shards!.all(manifest, first, last) as ShardRow[];
    const byIdx = new Map<number, SegmentPlan>();
    const plans = segs.map((s) => {
      const plan: SegmentPlan = { ...s, shards: [] };
      byIdx.set(s.idx, plan);
      return plan;
    });
    for (const sh of shards) byIdx.get(sh.segment)?.shards.push({ id: sh.id, peer: sh.peer });
    return plans;
  }

  setPeer(manifest: string, segment: number, idx: number, peer: string): void {
    this.s.setPeer!.run(peer, manifest, segment, idx);
  }

  /**
   * Manifests whose data may go: released ones (with `releasedUpTo`, only those released in that
   * catalog generation or before), and pending ones written by another (earlier) store instance.
   */
  garbage(writer: string, limit: number, releasedUpTo?: number): string[] {
    const params = { writer, limit, upTo: releasedUpTo ?? null, ...(this.db.dialect === 'sqlite' ? {} : { now: Date.now() }) };
    return (this.s.garbage!.all(params) as { id: string }[]).map((r) => r.id);
  }

  /** This writer is alive for `ttlMs` more: its pending manifests are not garbage to other gateways. */
  heartbeat(writer: string, ttlMs: number): void {
    this.s.heartbeat!.run(writer, Date.now() + ttlMs);
  }

  /** This writer stopped (and rows of writers long gone are tidied). */
  dropWriter(writer: string): void {
    this.s.dropWriter!.run(writer, Date.now() - 86_400_000);
  }

  /** Takes or renews the lease `name` for `ttlMs`; false while another holder's lease runs. */
  takeLease(name: string, holder: string, ttlMs: number): boolean {
    const now = Date.now();
    return this.s.takeLease!.run({ name, holder, expires: now + ttlMs, now }).changes === 1;
  }

  dropLease(name: string, holder: string): void {
    this.s.dropLease!.run(name, holder);
  }

  shardsOf(manifest: string): ShardRow[] {
    return this.s.allShards!.all(manifest) as ShardRow[];
  }

  referencedElsewhere(id: string, manifest: string): boolean {
    return this.s.referencedElsewhere!.get(id, manifest) !== undefined;
  }

  referenced(id: string): boolean {
    return this.s.referenced!.get(id) !== undefined;
  }

  /** Whether a manifest (of any state) records shard `id` on `peer`. */
  referencedOn(id: string, peer: string): boolean {
    return this.s.referencedOn!.get(id, peer) !== undefined;
  }

  deleteManifest(id: string): void {
    this.s.deleteManifest!.run(id);
  }

  /** Live, sharded manifest ids after `after`, in id order (for scrub). */
  liveAfter(after: string, limit: number): string[] {
    return (this.s.liveAfter!.all(after, limit) as { id: string }[]).map((r) => r.id);
  }

  liveSegmentCount(): number {
    return (this.s.liveSegmentCount!.get() as { n: number }).n;
  }

  /** Live segments with at least one shard on one of `peers`. */
  segmentsOnPeers(peers: readonly string[], limit: number): { manifest: string; segment: number }[] {
    return this.s.onPeers!.all(JSON.stringify(peers), limit) as { manifest: string; segment: number }[];
  }

  /** How many live segments have a shard on one of `peers` (the repair queue). */
  countSegmentsOnPeers(peers: readonly string[]): number {
    return (this.s.countOnPeers!.get(JSON.stringify(peers)) as { n: number }).n;
  }

  /** Live segments by how many of their shards sit on `upPeers`: all n, at least k, fewer than k. */
  redundancy(upPeers: readonly string[]): { full: number; degraded: number; lost: number } {
    const r = this.s.redundancy!.get(JSON.stringify(upPeers)) as { full: number | null; degraded: number | null; lost: number | null };
    return { full: r.full ?? 0, degraded: r.degraded ?? 0, lost: r.lost ?? 0 };
  }

  /**
   * A random shard of a live manifest that `peer` is recorded as holding (an audit's challenge),
   * or undefined when it holds none. Walks the peer index up to a random offset: one index scan
   * of the peer's shards, once per audit.
   */
  randomShardOn(peer: string, random: () => number = Math.random): { manifest: string; segment: number; idx: number; id: string; shardSize: number } | undefined {
    const live = `FROM ec_shards s JOIN ec_manifests m ON m.id = s.manifest WHERE s.peer = ? AND m.state = 'live'`;
    const { n } = this.db.prepare(`SELECT count(*) AS n ${live}`).get(peer) as { n: number };
    if (n === 0) return undefined;
    return this.db
      .prepare(`SELECT s.manifest, s.segment, s.idx, s.id, g.shard_size AS "shardSize" ${live.replace('WHERE', 'JOIN ec_segments g ON g.manifest = s.manifest AND g.idx = s.segment WHERE')} LIMIT 1 OFFSET ?`)
      .get(peer, Math.floor(random() * n)) as { manifest: string; segment: number; idx: number; id: string; shardSize: number } | undefined;
  }

  /** Shards of live manifests by the peer recorded as holding them. */
  shardsByPeer(): Map<string, number> {
    return new Map((this.s.shardsByPeer!.all() as { peer: string; n: number }[]).map((r) => [r.peer, r.n]));
  }

  meta(name: string): Buffer | undefined {
    return (this.s.getMeta!.get(name) as { value: Buffer } | undefined)?.value;
  }

  setMeta(name: string, value: Buffer): void {
    this.s.setMeta!.run(name, value);
  }
}
