/**
 * Multipart state in the catalog: open uploads and their parts. Parts count toward their owner's
 * bytes while the upload is open; removing an upload (complete or abort) gives them back and
 * returns the manifests that lost a reference (Catalog.orphans decides which to release).
 */
import type { DB as Database, SqlStatement as Statement } from '../core/db.ts';
import type { Checksums, ChecksumAlgorithm, ChecksumType, LockSettings, ObjectMeta, Tags } from '../core/object-store.ts';
import { UPLOAD_META_BYTES, type UsageLedger } from './catalog-usage.ts';
import type { Limits } from '../core/quota.ts';
import { rollupList, type Cursor } from './catalog-list.ts';

export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: number;
  meta: ObjectMeta;
  tags: Tags;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  owner: string;
  /** Object lock the completed version gets (x-amz-object-lock-* of CreateMultipartUpload). */
  lock?: LockSettings;
  /** SSE-C: the check value of the customer key every part must be sent with. */
  customerKeyCheck?: string;
  /** The ACL (encoded, s3/access/acl.ts) the completed object gets. */
  acl?: string;
}

export interface PartRecord {
  partNumber: number;
  manifestId: string;
  size: number;
  /** Hex MD5 of the part's bytes. */
  etag: string;
  checksums: Checksums;
  lastModified: number;
}

interface UploadRow {
  upload_id: string;
  bucket: string;
  key: string;
  initiated: number;
  meta: string;
  tags: string;
  checksum_algorithm: string | null;
  checksum_type: string | null;
  owner: string;
  lock: string | null;
  sse_c: string | null;
  acl: string | null;
}

interface PartRow {
  part_number: number;
  manifest_id: string;
  size: number;
  etag: string;
  checksums: string;
  last_modified: number;
}

export interface UploadListOptions {
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads: number;
}

export interface UploadListResult {
  uploads: UploadRecord[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

const UPLOAD_COLUMNS = 'upload_id, bucket, key, initiated, meta, tags, checksum_algorithm, checksum_type, owner, lock, sse_c, acl';
const PART_COLUMNS = 'part_number, manifest_id, size, etag, checksums, last_modified';

function toUpload(r: UploadRow): UploadRecord {
  return {
    uploadId: r.upload_id,
    bucket: r.bucket,
    key: r.key,
    initiated: r.initiated,
    meta: JSON.parse(r.meta) as ObjectMeta,
    tags: JSON.parse(r.tags) as Tags,
    ...(r.checksum_algorithm === null ? {} : { checksumAlgorithm: r.checksum_algorithm as ChecksumAlgorithm }),
    ...(r.checksum_type === null ? {} : { checksumType: r.checksum_type as ChecksumType }),
    owner: r.owner,
    ...(r.lock === null ? {} : { lock: reviveLock(JSON.parse(r.lock) as LockSettings) }),
    ...(r.sse_c === null ? {} : { customerKeyCheck: r.sse_c }),
    ...(r.acl === null ? {} : { acl: r.acl }),
  };
}

const reviveLock = (l: LockSettings): LockSettings => (l.retainUntil === undefined ? l : { ...l, retainUntil: new Date(l.retainUntil) });

function toPart(r: PartRow): PartRecord {
  return {
    partNumber: r.part_number,
    manifestId: r.manifest_id,
    size: r.size,
    etag: r.etag,
    checksums: JSON.parse(r.checksums) as Checksums,
    lastModified: r.last_modified,
  };
}

export class UploadCatalog {
  private readonly s: ReturnType<typeof prepare>;
  private readonly listStmts = new Map<string, Statement>();

  constructor(
    private readonly db: Database,
    private readonly usage: UsageLedger,
  ) {
    this.s = prepare(db);
  }

  /**
   * Opens an upload within the owner's limits: at most maxUploads open at once, and its key,
   * metadata and tags count toward maxStorage until it is completed or aborted.
   */
  create(u: UploadRecord, limits: Limits): void {
    const meta = JSON.stringify(u.meta);
    const tags = JSON.stringify(u.tags);
    this.db.transaction(() => {
      this.usage.checkUploads(u.owner, limits, (this.s.countOpen.get(u.owner) as { n: number }).n);
      this.usage.charge(u.owner, Buffer.byteLength(u.key) + Buffer.byteLength(meta) + Buffer.byteLength(tags), limits);
      this.s.insertUpload.run(
        u.uploadId,
        u.bucket,
        u.key,
        u.initiated,
        meta,
        tags,
        u.checksumAlgorithm ?? null,
        u.checksumType ?? null,
        u.owner,
        u.lock ? JSON.stringify(u.lock) : null,
        u.customerKeyCheck ?? null,
        u.acl ?? null,
      );
    }).immediate();
  }

  get(uploadId: string): UploadRecord | undefined {
    const r = this.s.getUpload.get(uploadId) as UploadRow | undefined;
    return r && toUpload(r);
  }

  anyInBucket(bucket: string): boolean {
    return this.s.anyUpload.get(bucket) !== undefined;
  }

  getPart(uploadId: string, partNumber: number): PartRecord | undefined {
    const r = this.s.getPart.get(uploadId, partNumber) as PartRow | undefined;
    return r && toPart(r);
  }

  /** Parts with a number above `after`, ascending, at most `limit` of them. */
  parts(uploadId: string, after = 0, limit = -1): PartRecord[] {
    return (this.s.parts.all(uploadId, after, limit) as PartRow[]).map(toPart);
  }

  /** Adds or replaces a part; returns the manifests that lost a reference. */
  putPart(upload: UploadRecord, p: PartRecord): { replaced?: PartRecord; dropped: string[] } {
    const old = this.getPart(upload.uploadId, p.partNumber);
    this.s.upsertPart.run(upload.uploadId, p.partNumber, p.manifestId, p.size, p.etag, JSON.stringify(p.checksums), p.lastModified);
    this.usage.apply(upload.owner, { bytes: p.size - (old?.size ?? 0) });
    return old ? { replaced: old, dropped: [old.manifestId] } : { dropped: [] };
  }

  /** Removes the upload and all its parts; returns the manifests that lost a reference. */
  remove(upload: UploadRecord): { dropped: string[]; bytes: number } {
    const parts = this.s.partManifests.all(upload.uploadId) as { manifest_id: string; size: number }[];
    const bytes = parts.reduce((n, p) => n + p.size, 0);
    const own = (this.s.metaBytes.get(upload.uploadId) as { n: number } | undefined)?.n ?? 0;
    this.s.deleteParts.run(upload.uploadId);
    this.s.deleteUpload.run(upload.uploadId);
    this.usage.apply(upload.owner, { bytes: -bytes - own });
    return { dropped: parts.map((p) => p.manifest_id), bytes };
  }

  /** Open uploads of a bucket by key, then upload id (which sorts by initiation: see newUploadId). */
  list(bucket: string, opts: UploadListOptions): UploadListResult {
    const prefix = opts.prefix ?? '';
    const marker: Cursor | undefined =
      opts.keyMarker === undefined || opts.keyMarker === ''
        ? undefined
        : opts.uploadIdMarker
          ? { key: opts.keyMarker, op: '>', uploadId: opts.uploadIdMarker }
          : { key: opts.keyMarker, op: '>' };
    const r = rollupList<UploadRow>(
      {
        fetch: (lower, upper, limit) => {
          const args: unknown[] = [bucket, lower.key];
          if (lower.uploadId !== undefined) args.push(lower.uploadId);
          if (upper !== undefined) args.push(upper);
          return this.listStmt(lower, upper).all(...args, limit) as UploadRow[];
        },
        keyOf: (row) => row.key,
        after: (row) => ({ key: row.key, op: '>', uploadId: row.upload_id }),
      },
      { prefix, ...(opts.delimiter ? { delimiter: opts.delimiter } : {}), ...(marker ? { start: marker } : {}), max: opts.maxUploads },
    );
    const result: UploadListResult = { uploads: r.items.map(toUpload), commonPrefixes: r.prefixes, isTruncated: r.isTruncated };
    if (r.last && 'prefix' in r.last) result.nextKeyMarker = r.last.prefix;
    else if (r.last) {
      result.nextKeyMarker = r.last.row.key;
      result.nextUploadIdMarker = r.last.row.upload_id;
    }
    return result;
  }

  private listStmt(lower: Cursor, upper: string | undefined): Statement {
    const id = `${lower.op}${lower.uploadId === undefined ? '' : 'u'}${upper === undefined ? '' : '<'}`;
    let st = this.listStmts.get(id);
    if (!st) {
      const from = lower.uploadId === undefined ? `key ${lower.op} ?` : '(key, upload_id) > (?, ?)';
      st = this.db.prepare(
        `SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE bucket = ? AND ${from} ${upper === undefined ? '' : 'AND key < ?'}
         ORDER BY key, upload_id LIMIT ?`,
      );
      this.listStmts.set(id, st);
    }
    return st;
  }
}

function prepare(db: Database) {
  return {
    insertUpload: db.prepare(`INSERT INTO uploads (${UPLOAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    getUpload: db.prepare(`SELECT ${UPLOAD_COLUMNS} FROM uploads WHERE upload_id = ?`),
    anyUpload: db.prepare('SELECT 1 FROM uploads WHERE bucket = ? LIMIT 1'),
    countOpen: db.prepare('SELECT count(*) AS n FROM uploads WHERE owner = ?'),
    metaBytes: db.prepare(`SELECT ${UPLOAD_META_BYTES} AS n FROM uploads WHERE upload_id = ?`),
    deleteUpload: db.prepare('DELETE FROM uploads WHERE upload_id = ?'),
    getPart: db.prepare(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? AND part_number = ?`),
    parts: db.prepare(`SELECT ${PART_COLUMNS} FROM parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?`),
    partManifests: db.prepare('SELECT manifest_id, size FROM parts WHERE upload_id = ?'),
    upsertPart: db.prepare(
      `INSERT INTO parts (upload_id, part_number, manifest_id, size, etag, checksums, last_modified) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (upload_id, part_number) DO UPDATE SET manifest_id = excluded.manifest_id, size = excluded.size,
         etag = excluded.etag, checksums = excluded.checksums, last_modified = excluded.last_modified`,
    ),
    deleteParts: db.prepare('DELETE FROM parts WHERE upload_id = ?'),
  };
}
