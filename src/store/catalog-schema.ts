/**
 * The catalog's tables (module 'catalog' in schema_versions) and the row types the catalog hands out.
 * Keys are TEXT with SQLite's BINARY collation: memcmp of UTF-8, which is S3's listing order.
 */
import type { Checksums, ChecksumAlgorithm, ChecksumType, ObjectInfo, ObjectMeta, Tags } from '../core/object-store.ts';

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
}

/** An object as the catalog stores it (tags are read separately: getTags). */
export interface ObjectRecord extends ObjectFields {
  id: number;
  tagCount: number;
}

/** What the store hands the catalog to create or replace an object. */
export interface NewObject extends ObjectFields {
  tags: Tags;
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
}

export interface PieceRow {
  manifest_id: string;
  size: number;
  part_number: number | null;
  etag: string;
  checksums: string;
}

export const OBJECT_COLUMNS =
  'id, bucket, key, size, etag, last_modified, meta, checksums, checksum_type, parts_count, tag_count, owner, upload_id';

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
  };
}

/** The algorithm of the first checksum stored (objects carry at most one client checksum). */
export function firstAlgorithm(checksums: Checksums): ChecksumAlgorithm | undefined {
  return Object.keys(checksums)[0] as ChecksumAlgorithm | undefined;
}
