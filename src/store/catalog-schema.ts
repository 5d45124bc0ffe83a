/**
 * The catalog's tables (module 'catalog' in schema_versions) and the row types the catalog hands out.
 * Keys are TEXT with SQLite's BINARY collation: memcmp of UTF-8, which is S3's listing order.
 */
import type { Checksums, ChecksumAlgorithm, ChecksumType, LockMode, ObjectInfo, ObjectMeta, Tags } from '../core/object-store.ts';

export const CATALOG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE buckets (
    name TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    region TEXT NOT NULL,
    created INTEGER NOT NULL
  );
  CREATE INDEX buckets_by_owner ON buckets (owner, name);

  CREATE TABLE objects (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    meta TEXT NOT NULL,
    checksums TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    parts_count INTEGER,
    tags TEXT NOT NULL,
    tag_count INTEGER NOT NULL,
    owner TEXT NOT NULL,
    upload_id TEXT,
    UNIQUE (bucket, key)
  );

  -- The ordered pieces of an object: one for a single PUT, one per part of a multipart upload.
  CREATE TABLE pieces (
    object_id INTEGER NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    manifest_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    part_number INTEGER,
    etag TEXT NOT NULL,
    checksums TEXT NOT NULL,
    PRIMARY KEY (object_id, idx)
  ) WITHOUT ROWID;
  CREATE INDEX pieces_by_manifest ON pieces (manifest_id);

  CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT NOT NULL,
    initiated INTEGER NOT NULL,
    meta TEXT NOT NULL,
    tags TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    owner TEXT NOT NULL
  );
  CREATE INDEX uploads_by_key ON uploads (bucket, key, upload_id);

  CREATE TABLE parts (
    upload_id TEXT NOT NULL REFERENCES uploads (upload_id),
    part_number INTEGER NOT NULL,
    manifest_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    checksums TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  ) WITHOUT ROWID;
  CREATE INDEX parts_by_manifest ON parts (manifest_id);

  -- Per account (= bucket owner): bytes of live objects and open parts, objects, buckets, and
  -- bytes reserved by uploads in flight. Changed in the transactions that change the rows above.
  CREATE TABLE account_usage (
    account TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL DEFAULT 0,
    objects INTEGER NOT NULL DEFAULT 0,
    buckets INTEGER NOT NULL DEFAULT 0,
    reserved INTEGER NOT NULL DEFAULT 0
  );
  `,
  // Access control and CORS: a bucket's settings (ACL, policy, ownership controls, public access
  // block, CORS), one row each, and an object's ACL when it is not the default (owner only).
  `
  CREATE TABLE bucket_config (
    bucket TEXT NOT NULL REFERENCES buckets (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
  ) WITHOUT ROWID;

  CREATE TABLE object_acls (
    object_id INTEGER PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    acl TEXT NOT NULL
  );
  `,
  // Versions (issue 16): an object row is one version of a key. The (bucket, key) uniqueness moves
  // to the latest version; existing objects become `null` versions. SQLite cannot drop a UNIQUE
  // constraint, so objects and pieces are rebuilt (pieces first: dropping objects would cascade).
  // object_acls (the access-control migration before this one) is rebuilt the same way, so an
  // object's ACL stays with its row (now: the version's row) and its foreign key with objects.
  `
  CREATE TABLE objects_v2 (
    id INTEGER PRIMARY KEY,
    bucket TEXT NOT NULL REFERENCES buckets (name),
    key TEXT NOT NULL,
    version_id TEXT NOT NULL DEFAULT 'null',
    is_latest INTEGER NOT NULL DEFAULT 1,
    delete_marker INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified INTEGER NOT NULL,
    meta TEXT NOT NULL,
    checksums TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    parts_count INTEGER,
    tags TEXT NOT NULL,
    tag_count INTEGER NOT NULL,
    owner TEXT NOT NULL,
    upload_id TEXT,
    lock_mode TEXT,
    lock_until INTEGER,
    legal_hold INTEGER NOT NULL DEFAULT 0,
    UNIQUE (bucket, key, version_id)
  );
  INSERT INTO objects_v2 (id, bucket, key, size, etag, last_modified, meta, checksums, checksum_algorithm, checksum_type,
      parts_count, tags, tag_count, owner, upload_id)
    SELECT id, bucket, key, size, etag, last_modified, meta, checksums, checksum_algorithm, checksum_type,
      parts_count, tags, tag_count, owner, upload_id FROM objects;
  CREATE TABLE pieces_v2 (
    object_id INTEGER NOT NULL REFERENCES objects_v2 (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    manifest_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    part_number INTEGER,
    etag TEXT NOT NULL,
    checksums TEXT NOT NULL,
    PRIMARY KEY (object_id, idx)
  ) WITHOUT ROWID;
  INSERT INTO pieces_v2 SELECT object_id, idx, manifest_id, size, part_number, etag, checksums FROM pieces;
  CREATE TABLE object_acls_v2 (
    object_id INTEGER PRIMARY KEY REFERENCES objects_v2 (id) ON DELETE CASCADE,
    acl TEXT NOT NULL
  );
  INSERT INTO object_acls_v2 SELECT object_id, acl FROM object_acls;
  DROP TABLE pieces;
  DROP TABLE object_acls;
  DROP TABLE objects;
  ALTER TABLE objects_v2 RENAME TO objects;
  ALTER TABLE pieces_v2 RENAME TO pieces;
  ALTER TABLE object_acls_v2 RENAME TO object_acls;
  CREATE INDEX pieces_by_manifest ON pieces (manifest_id);
  CREATE UNIQUE INDEX objects_latest ON objects (bucket, key) WHERE is_latest = 1;
  CREATE INDEX objects_versions ON objects (bucket, key, id);

  -- Per-bucket settings: versioning (NULL = never enabled, 'Enabled', 'Suspended'), object lock,
  -- its default retention ({mode, days?, years?} as JSON) and the lifecycle rules (JSON).
  ALTER TABLE buckets ADD COLUMN versioning TEXT;
  ALTER TABLE buckets ADD COLUMN object_lock INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE buckets ADD COLUMN lock_default TEXT;
  ALTER TABLE buckets ADD COLUMN lifecycle TEXT;
  -- The x-amz-object-lock-* headers of CreateMultipartUpload (JSON), applied at Complete.
  ALTER TABLE uploads ADD COLUMN lock TEXT;
  `,
  // SSE-C: a salted HMAC of the customer's key ("v1.salt.mac", src/core/customer-key.ts), never
  // the key, on the objects and uploads whose data keys that key wraps.
  `
  ALTER TABLE objects ADD COLUMN sse_c TEXT;
  ALTER TABLE uploads ADD COLUMN sse_c TEXT;
  -- The ACL CreateMultipartUpload asked for (x-amz-acl / x-amz-grant-*), set on the object at Complete.
  ALTER TABLE uploads ADD COLUMN acl TEXT;
  `,
];

/**
 * The same tables on PostgreSQL (a fresh catalog starts at the latest shape; later changes are added
 * to both lists). Integers are BIGINT (sizes, ms timestamps); keys, bucket names and upload ids
 * are COLLATE "C", byte order of UTF-8 like SQLite's BINARY (S3's listing order). CockroachDB: drop
 * the COLLATE clauses (its STRING order is already bytewise).
 */
export const CATALOG_PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE buckets (
    name TEXT COLLATE "C" PRIMARY KEY,
    owner TEXT NOT NULL,
    region TEXT NOT NULL,
    created BIGINT NOT NULL,
    versioning TEXT,
    object_lock INTEGER NOT NULL DEFAULT 0,
    lock_default TEXT,
    lifecycle TEXT
  );
  CREATE INDEX buckets_by_owner ON buckets (owner, name);
  CREATE TABLE objects (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    key TEXT COLLATE "C" NOT NULL,
    version_id TEXT COLLATE "C" NOT NULL DEFAULT 'null',
    is_latest INTEGER NOT NULL DEFAULT 1,
    delete_marker INTEGER NOT NULL DEFAULT 0,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    last_modified BIGINT NOT NULL,
    meta TEXT NOT NULL,
    checksums TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    parts_count INTEGER,
    tags TEXT NOT NULL,
    tag_count INTEGER NOT NULL,
    owner TEXT NOT NULL,
    upload_id TEXT,
    lock_mode TEXT,
    lock_until BIGINT,
    legal_hold INTEGER NOT NULL DEFAULT 0,
    UNIQUE (bucket, key, version_id)
  );
  CREATE UNIQUE INDEX objects_latest ON objects (bucket, key) WHERE is_latest = 1;
  CREATE INDEX objects_versions ON objects (bucket, key, id);
  CREATE TABLE pieces (
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    manifest_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    part_number INTEGER,
    etag TEXT NOT NULL,
    checksums TEXT NOT NULL,
    PRIMARY KEY (object_id, idx)
  );
  CREATE INDEX pieces_by_manifest ON pieces (manifest_id);
  CREATE TABLE uploads (
    upload_id TEXT COLLATE "C" PRIMARY KEY,
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets (name),
    key TEXT COLLATE "C" NOT NULL,
    initiated BIGINT NOT NULL,
    meta TEXT NOT NULL,
    tags TEXT NOT NULL,
    checksum_algorithm TEXT,
    checksum_type TEXT,
    owner TEXT NOT NULL,
    lock TEXT
  );
  CREATE INDEX uploads_by_key ON uploads (bucket, key, upload_id);
  CREATE TABLE parts (
    upload_id TEXT COLLATE "C" NOT NULL REFERENCES uploads (upload_id),
    part_number INTEGER NOT NULL,
    manifest_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    etag TEXT NOT NULL,
    checksums TEXT NOT NULL,
    last_modified BIGINT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
  );
  CREATE INDEX parts_by_manifest ON parts (manifest_id);
  CREATE TABLE account_usage (
    account TEXT PRIMARY KEY,
    bytes BIGINT NOT NULL DEFAULT 0,
    objects BIGINT NOT NULL DEFAULT 0,
    buckets BIGINT NOT NULL DEFAULT 0,
    reserved BIGINT NOT NULL DEFAULT 0
  );
  CREATE TABLE bucket_config (
    bucket TEXT COLLATE "C" NOT NULL REFERENCES buckets (name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
  );
  CREATE TABLE object_acls (
    object_id BIGINT PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    acl TEXT NOT NULL
  );
  `,
  // SSE-C (the key's check value) on objects and uploads; the ACL CreateMultipartUpload asked for.
  `
  ALTER TABLE objects ADD COLUMN sse_c TEXT;
  ALTER TABLE uploads ADD COLUMN sse_c TEXT;
  ALTER TABLE uploads ADD COLUMN acl TEXT;
  `,
];

/** The columns of an object row that the store writes and the catalog reads back alike. */
interface ObjectFields {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  lastModified: number;
  meta: ObjectMeta;
  checksums: Checksums;
  checksumType?: ChecksumType;
  partsCount?: number;
  owner: string;
  /** The multipart upload that made this object, if any (for an idempotent repeated Complete). */
  uploadId?: string;
  /** Object lock of this version: retention mode and retain-until (ms), legal hold. */
  lockMode?: LockMode;
  lockUntil?: number;
  legalHold?: boolean;
  /** SSE-C: the check value of the customer key that wraps the object's data keys. */
  customerKeyCheck?: string;
}


/** An object as the catalog stores it (tags are read separately: getTags). */
export interface ObjectRecord extends ObjectFields {
  id: number;
  tagCount: number;
  /** 'null' for the null version (unversioned or suspended buckets). */
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
}

/** What the store hands the catalog to create or replace an object. */
export interface NewObject extends ObjectFields {
  tags: Tags;
  /** Default 'null' (unversioned or suspended bucket), which replaces the key's null version. */
  versionId?: string;
  deleteMarker?: boolean;
}

/** One piece of an object's bytes, in order. */
export interface Piece {
  manifestId: string;
  size: number;
  /** The part number it had in its multipart upload; undefined for a single PUT. */
  partNumber?: number;
  /** Hex MD5 of the piece's bytes. */
  etag: string;
  checksums: Checksums;
}

export interface ObjectRow {
  id: number;
  bucket: string;
  key: string;
  size: number;
  etag: string;
  last_modified: number;
  meta: string;
  checksums: string;
  checksum_type: string | null;
  parts_count: number | null;
  tag_count: number;
  owner: string;
  upload_id: string | null;
  version_id: string;
  is_latest: number;
  delete_marker: number;
  lock_mode: string | null;
  lock_until: number | null;
  legal_hold: number;
  sse_c: string | null;
}

export interface PieceRow {
  manifest_id: string;
  size: number;
  part_number: number | null;
  etag: string;
  checksums: string;
}

export const OBJECT_COLUMNS =
  'id, bucket, key, size, etag, last_modified, meta, checksums, checksum_type, parts_count, tag_count, owner, upload_id, ' +
  'version_id, is_latest, delete_marker, lock_mode, lock_until, legal_hold, sse_c';

export function toObjectRecord(r: ObjectRow): ObjectRecord {
  return {
    id: r.id,
    bucket: r.bucket,
    key: r.key,
    size: r.size,
    etag: r.etag,
    lastModified: r.last_modified,
    meta: JSON.parse(r.meta) as ObjectMeta,
    checksums: JSON.parse(r.checksums) as Checksums,
    ...(r.checksum_type === null ? {} : { checksumType: r.checksum_type as ChecksumType }),
    ...(r.parts_count === null ? {} : { partsCount: r.parts_count }),
    tagCount: r.tag_count,
    owner: r.owner,
    ...(r.upload_id === null ? {} : { uploadId: r.upload_id }),
    versionId: r.version_id,
    isLatest: r.is_latest === 1,
    deleteMarker: r.delete_marker === 1,
    ...(r.lock_mode === null ? {} : { lockMode: r.lock_mode as LockMode }),
    ...(r.lock_until === null ? {} : { lockUntil: r.lock_until }),
    legalHold: r.legal_hold === 1,
    ...(r.sse_c === null ? {} : { customerKeyCheck: r.sse_c }),
  };
}

export function toPiece(r: PieceRow): Piece {
  return {
    manifestId: r.manifest_id,
    size: r.size,
    ...(r.part_number === null ? {} : { partNumber: r.part_number }),
    etag: r.etag,
    checksums: JSON.parse(r.checksums) as Checksums,
  };
}

export function toObjectInfo(o: ObjectRecord): ObjectInfo {
  return {
    bucket: o.bucket,
    key: o.key,
    size: o.size,
    etag: o.etag,
    lastModified: new Date(o.lastModified),
    meta: o.meta,
    checksums: o.checksums,
    ...(o.checksumType === undefined ? {} : { checksumType: o.checksumType }),
    ...(o.partsCount === undefined ? {} : { partsCount: o.partsCount }),
    tagCount: o.tagCount,
    versionId: o.versionId,
    ...(o.lockMode ? { lockMode: o.lockMode } : {}),
    ...(o.lockUntil !== undefined ? { lockUntil: new Date(o.lockUntil) } : {}),
    legalHold: o.legalHold === true,
    ...(o.customerKeyCheck !== undefined ? { customerKeyed: true } : {}),
  };
}

/** The algorithm of the first checksum stored (objects carry at most one client checksum). */
export function firstAlgorithm(checksums: Checksums): ChecksumAlgorithm | undefined {
  return Object.keys(checksums)[0] as ChecksumAlgorithm | undefined;
}
