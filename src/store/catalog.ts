/**
 * The catalog: buckets, objects and their pieces in SQLite (better-sqlite3), plus multipart state
 * (catalog-multipart.ts) and per-account usage (catalog-usage.ts). Everything here is synchronous;
 * the store runs each change inside one transaction (tx) together with DataStore.commit/release.
 *
 * Manifests may be shared (CopyObject shares an object's pieces): methods that drop references
 * return the manifest ids that lost one, and orphans() tells which of them nothing references any
 * more, to be released in the same transaction.
 */
import type { Database, Statement } from 'better-sqlite3';
import { migrate } from '../core/db.ts';
import type { BucketInfo, ListEntry, ListOptions, ListResult, Tags, ChecksumAlgorithm, ChecksumType } from '../core/object-store.ts';
import {
  CATALOG_MIGRATIONS,
  OBJECT_COLUMNS,
  firstAlgorithm,
  toObjectRecord,
  toPiece,
  type NewObject,
  type ObjectRecord,
  type ObjectRow,
  type Piece,
  type PieceRow,
} from './catalog-schema.ts';
import { UsageLedger } from './catalog-usage.ts';
import { UploadCatalog } from './catalog-multipart.ts';
import { rollupList, type Cursor } from './catalog-list.ts';

interface BucketRow {
  name: string;
  owner: string;
  region: string;
  created: number;
}

interface ListRow {
  key: string;
  size: number;
  etag: string;
  last_modified: number;
  checksum_algorithm: string | null;
  checksum_type: string | null;
}

const toBucket = (r: BucketRow): BucketInfo => ({ name: r.name, owner: r.owner, region: r.region, created: new Date(r.created) });

export class Catalog {
  readonly usage: UsageLedger;
  readonly uploads: UploadCatalog;
  private readonly s: ReturnType<typeof prepare>;
  private readonly listStmts = new Map<string, Statement>();

  constructor(readonly db: Database) {
    migrate(db, 'catalog', CATALOG_MIGRATIONS);
    this.s = prepare(db);
    this.usage = new UsageLedger(db);
    this.uploads = new UploadCatalog(db, this.usage);
  }

  /**
   * Runs fn in one write transaction (BEGIN IMMEDIATE, so a read-then-write never fails to upgrade
   * when another connection writes; a savepoint when already inside one). fn must be synchronous.
   */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  /** Runs fn in one read transaction: a consistent snapshot over several queries. */
  read<T>(fn: () => T): T {
    return this.db.transaction(fn).deferred();
  }

  // ---- buckets

  getBucket(name: string): BucketInfo | undefined {
    const r = this.s.getBucket.get(name) as BucketRow | undefined;
    return r && toBucket(r);
  }

  listBuckets(owner?: string): BucketInfo[] {
    const rows = (owner === undefined ? this.s.allBuckets.all() : this.s.ownerBuckets.all(owner)) as BucketRow[];
    return rows.map(toBucket);
  }

  insertBucket(b: BucketInfo): void {
    this.s.insertBucket.run(b.name, b.owner, b.region, b.created.getTime());
    this.usage.apply(b.owner, { buckets: 1 });
  }

  /** True when the bucket holds no object and no open multipart upload. */
  bucketIsEmpty(name: string): boolean {
    return this.s.anyObject.get(name) === undefined && !this.uploads.anyInBucket(name);
  }

  deleteBucket(b: BucketInfo): void {
    this.s.deleteBucket.run(b.name);
    this.usage.apply(b.owner, { buckets: -1 });
  }

  getBucketConfig(bucket: string, name: string): string | undefined {
    return (this.s.getBucketConfig.get(bucket, name) as { value: string } | undefined)?.value;
  }

  setBucketConfig(bucket: string, name: string, value: string | undefined): void {
    if (value === undefined) this.s.deleteBucketConfig.run(bucket, name);
    else this.s.putBucketConfig.run(bucket, name, value);
  }

  getObjectAcl(objectId: number): string | undefined {
    return (this.s.getObjectAcl.get(objectId) as { acl: string } | undefined)?.acl;
  }

  setObjectAcl(objectId: number, acl: string | undefined): void {
    if (acl === undefined) this.s.deleteObjectAcl.run(objectId);
    else this.s.putObjectAcl.run(objectId, acl);
  }

  // ---- objects

  getObject(bucket: string, key: string): ObjectRecord | undefined {
    const r = this.s.getObject.get(bucket, key) as ObjectRow | undefined;
    return r && toObjectRecord(r);
  }

  pieces(objectId: number): Piece[] {
    return (this.s.pieces.all(objectId) as PieceRow[]).map(toPiece);
  }

  /**
   * Creates or replaces the object at (bucket, key) with these pieces and updates the owner's usage.
   * Returns the replaced object and the manifests that lost a reference (see orphans()).
   */
  putObject(o: NewObject, pieces: readonly Piece[]): { replaced?: ObjectRecord; dropped: string[] } {
    const old = this.getObject(o.bucket, o.key);
    const dropped = old ? this.dropObject(old) : [];
    const tagCount = Object.keys(o.tags).length;
    const { lastInsertRowid } = this.s.insertObject.run(
      o.bucket,
      o.key,
      o.size,
      o.etag,
      o.lastModified,
      JSON.stringify(o.meta),
      JSON.stringify(o.checksums),
      firstAlgorithm(o.checksums) ?? null,
      o.checksumType ?? null,
      o.partsCount ?? null,
      JSON.stringify(o.tags),
      tagCount,
      o.owner,
      o.uploadId ?? null,
    );
    pieces.forEach((p, i) =>
      this.s.insertPiece.run(lastInsertRowid, i, p.manifestId, p.size, p.partNumber ?? null, p.etag, JSON.stringify(p.checksums)),
    );
    this.usage.apply(o.owner, { bytes: o.size, objects: 1 });
    return { ...(old ? { replaced: old } : {}), dropped };
  }

  /** Removes the object (if any); returns it and the manifests that lost a reference. */
  deleteObject(bucket: string, key: string): { deleted?: ObjectRecord; dropped: string[] } {
    const old = this.getObject(bucket, key);
    if (!old) return { dropped: [] };
    return { deleted: old, dropped: this.dropObject(old) };
  }

  private dropObject(old: ObjectRecord): string[] {
    const ids = (this.s.pieceManifests.all(old.id) as { manifest_id: string }[]).map((r) => r.manifest_id);
    this.s.deleteObject.run(old.id); // pieces go with it (ON DELETE CASCADE)
    this.usage.apply(old.owner, { bytes: -old.size, objects: -1 });
    return ids;
  }

  getTags(bucket: string, key: string): Tags | undefined {
    const r = this.s.getTags.get(bucket, key) as { tags: string } | undefined;
    return r && (JSON.parse(r.tags) as Tags);
  }

  /** Replaces the object's tags; false when there is no such object. */
  setTags(bucket: string, key: string, tags: Tags): boolean {
    return this.s.setTags.run(JSON.stringify(tags), Object.keys(tags).length, bucket, key).changes > 0;
  }

  // ---- manifests

  /** Those of `ids` that no object piece and no part references any more (deduplicated). */
  orphans(ids: Iterable<string>): string[] {
    return [...new Set(ids)].filter((id) => this.s.pieceRef.get(id) === undefined && this.s.partRef.get(id) === undefined);
  }

  /** Every manifest id referenced by an object or a part (for tests and consistency checks). */
  referencedManifests(): Set<string> {
    const rows = this.db.prepare('SELECT manifest_id FROM pieces UNION SELECT manifest_id FROM parts').all() as { manifest_id: string }[];
    return new Set(rows.map((r) => r.manifest_id));
  }

  // ---- listing

  listObjects(bucket: string, opts: ListOptions): ListResult {
    const prefix = opts.prefix ?? '';
    const r = rollupList<ListRow>(
      {
        fetch: (lower, upper, limit) => this.listStmt(lower, upper).all(bucket, lower.key, ...(upper === undefined ? [] : [upper]), limit) as ListRow[],
        keyOf: (row) => row.key,
        after: (row) => ({ key: row.key, op: '>' }),
      },
      {
        prefix,
        ...(opts.delimiter ? { delimiter: opts.delimiter } : {}),
        ...(opts.after === undefined || opts.after === '' ? {} : { start: { key: opts.after, op: '>' } }),
        max: opts.maxKeys,
      },
    );
    const objects = r.items.map(toListEntry);
    const next = r.last === undefined ? undefined : 'prefix' in r.last ? r.last.prefix : r.last.row.key;
    return { objects, commonPrefixes: r.prefixes, isTruncated: r.isTruncated, ...(next === undefined ? {} : { next }) };
  }

  private listStmt(lower: Cursor, upper: string | undefined): Statement {
    const id = `${lower.op}${upper === undefined ? '' : '<'}`;
    let st = this.listStmts.get(id);
    if (!st) {
      st = this.db.prepare(
        `SELECT key, size, etag, last_modified, checksum_algorithm, checksum_type FROM objects
         WHERE bucket = ? AND key ${lower.op} ? ${upper === undefined ? '' : 'AND key < ?'} ORDER BY key LIMIT ?`,
      );
      this.listStmts.set(id, st);
    }
    return st;
  }
}

function toListEntry(r: ListRow): ListEntry {
  return {
    key: r.key,
    size: r.size,
    etag: r.etag,
    lastModified: new Date(r.last_modified),
    ...(r.checksum_algorithm === null ? {} : { checksumAlgorithm: r.checksum_algorithm as ChecksumAlgorithm }),
    ...(r.checksum_type === null ? {} : { checksumType: r.checksum_type as ChecksumType }),
  };
}

function prepare(db: Database) {
  return {
    getBucket: db.prepare('SELECT name, owner, region, created FROM buckets WHERE name = ?'),
    allBuckets: db.prepare('SELECT name, owner, region, created FROM buckets ORDER BY name'),
    ownerBuckets: db.prepare('SELECT name, owner, region, created FROM buckets WHERE owner = ? ORDER BY name'),
    insertBucket: db.prepare('INSERT INTO buckets (name, owner, region, created) VALUES (?, ?, ?, ?)'),
    deleteBucket: db.prepare('DELETE FROM buckets WHERE name = ?'),
    getBucketConfig: db.prepare('SELECT value FROM bucket_config WHERE bucket = ? AND name = ?'),
    putBucketConfig: db.prepare('INSERT INTO bucket_config (bucket, name, value) VALUES (?, ?, ?) ON CONFLICT (bucket, name) DO UPDATE SET value = excluded.value'),
    deleteBucketConfig: db.prepare('DELETE FROM bucket_config WHERE bucket = ? AND name = ?'),
    getObjectAcl: db.prepare('SELECT acl FROM object_acls WHERE object_id = ?'),
    putObjectAcl: db.prepare('INSERT INTO object_acls (object_id, acl) VALUES (?, ?) ON CONFLICT (object_id) DO UPDATE SET acl = excluded.acl'),
    deleteObjectAcl: db.prepare('DELETE FROM object_acls WHERE object_id = ?'),
    anyObject: db.prepare('SELECT 1 FROM objects WHERE bucket = ? LIMIT 1'),
    getObject: db.prepare(`SELECT ${OBJECT_COLUMNS} FROM objects WHERE bucket = ? AND key = ?`),
    insertObject: db.prepare(
      `INSERT INTO objects (bucket, key, size, etag, last_modified, meta, checksums, checksum_algorithm, checksum_type,
         parts_count, tags, tag_count, owner, upload_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    deleteObject: db.prepare('DELETE FROM objects WHERE id = ?'),
    pieces: db.prepare('SELECT manifest_id, size, part_number, etag, checksums FROM pieces WHERE object_id = ? ORDER BY idx'),
    pieceManifests: db.prepare('SELECT manifest_id FROM pieces WHERE object_id = ?'),
    insertPiece: db.prepare(
      'INSERT INTO pieces (object_id, idx, manifest_id, size, part_number, etag, checksums) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    getTags: db.prepare('SELECT tags FROM objects WHERE bucket = ? AND key = ?'),
    setTags: db.prepare('UPDATE objects SET tags = ?, tag_count = ? WHERE bucket = ? AND key = ?'),
    pieceRef: db.prepare('SELECT 1 FROM pieces WHERE manifest_id = ? LIMIT 1'),
    partRef: db.prepare('SELECT 1 FROM parts WHERE manifest_id = ? LIMIT 1'),
  };
}
