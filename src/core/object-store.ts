/**
 * The ObjectStore: the one seam between the S3 wire protocol (s3/) and storage (src/store, mesh/).
 * Like MinIO's ObjectLayer or versitygw's Backend: s3/ handlers decode HTTP, call one method here,
 * and encode the answer. Methods throw only DomainErrors (src/core/errors.ts).
 *
 * ETags here are bare hex (no quotes); s3/ adds the quotes on the wire.
 */
import type { Readable } from 'node:stream';
import { Errors } from './errors.ts';
import type { CustomerKey } from './customer-key.ts';

export type { CustomerKey } from './customer-key.ts';

export type ChecksumAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
/** Base64 checksum values, by algorithm. */
export type Checksums = Partial<Record<ChecksumAlgorithm, string>>;
export type ChecksumType = 'FULL_OBJECT' | 'COMPOSITE';

/** What a client stored with the object besides its bytes. */
export interface ObjectMeta {
  contentType?: string;
  contentEncoding?: string;
  contentDisposition?: string;
  contentLanguage?: string;
  cacheControl?: string;
  expires?: string;
  /** x-amz-meta-* entries, names lower-case and without the prefix. */
  user: Record<string, string>;
}

export type Tags = Record<string, string>;

export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  meta: ObjectMeta;
  checksums: Checksums;
  checksumType?: ChecksumType;
  /** Number of parts for a multipart object; undefined for a single PUT. */
  partsCount?: number;
  tagCount: number;
  /** The version's id: 'null' for the null version (unversioned or suspended buckets). */
  versionId?: string;
  /** Object lock of this version. */
  lockMode?: LockMode;
  lockUntil?: Date;
  legalHold?: boolean;
  /** SSE-C: the bytes can be read only with the customer's key (its data keys are wrapped by it). */
  customerKeyed?: boolean;
}

/** A request body on its way into the store. */
export interface PutBody extends AsyncIterable<Uint8Array> {
  /**
   * Digests of every byte the iteration yielded; valid once iteration has ended. The client's own
   * values (Content-MD5, x-amz-checksum-* headers or trailers) were verified before the iterator
   * returned: on a mismatch the iterator throws BadDigest and the store must commit nothing.
   */
  digests(): { md5: Buffer; checksums: Checksums };
}

export interface WriteConditions {
  /** If-Match: the current object must have this ETag. */
  ifMatch?: string;
  /** If-None-Match: '*' means the key must not exist. */
  ifNoneMatch?: string;
}

export interface PutOptions {
  meta: ObjectMeta;
  /** x-amz-object-lock-* headers of the request. */
  lock?: LockSettings;
  tags?: Tags;
  /** Declared length, when the client sent one; the body is checked against it. */
  size?: number;
  conditions?: WriteConditions;
  signal?: AbortSignal;
  /** SSE-C: wrap the object's data key with this key (never stored). */
  customerKey?: CustomerKey;
}

/** A byte range as the client asked for it (Range: bytes=a-b | a- | -n). */
export type RangeSpec = { start: number; end?: number } | { suffix: number };
/** A resolved range, end inclusive, as in Content-Range. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface ReadOptions {
  /** A specific version (GET ?versionId=); the latest when absent. */
  versionId?: string;
  range?: RangeSpec;
  partNumber?: number;
  /** Runs with the object's info before any byte is read (conditional requests throw from here). */
  check?: (info: ObjectInfo) => void;
  signal?: AbortSignal;
  /** SSE-C: the key the object was stored with (required for such objects, refused for others). */
  customerKey?: CustomerKey;
}

/**
 * An object's bytes as getObject yields them: chunks that may be lent (src/core/lent.ts), views
 * of a pooled buffer the reader reuses once each is returned. Whoever consumes a chunk for good
 * calls consumed(chunk) when nothing will touch its bytes again: the S3 service in the socket's
 * write callback, a copy right after copying. Never earlier (the bytes would go to another
 * request), never touching the chunk after; a chunk never returned is only garbage collected.
 */
export type LendingBody = Readable;

export interface ReadResult {
  info: ObjectInfo;
  /** The range served, when a range or partNumber was asked for. */
  range?: ByteRange;
  /** May yield lent chunks: return each with consumed() (see LendingBody). */
  body: LendingBody;
}

export interface CopyOptions {
  /** COPY keeps the source's metadata, REPLACE takes `meta`. */
  metadataDirective: 'COPY' | 'REPLACE';
  meta?: ObjectMeta;
  taggingDirective: 'COPY' | 'REPLACE';
  tags?: Tags;
  lock?: LockSettings;
  /** Checks on the source (x-amz-copy-source-if-*). */
  check?: (source: ObjectInfo) => void;
  conditions?: WriteConditions;
  signal?: AbortSignal;
  /** SSE-C key of the source (x-amz-copy-source-server-side-encryption-customer-*). */
  sourceCustomerKey?: CustomerKey;
  /** SSE-C key of the copy; a copy whose encryption differs from its source's is re-written. */
  customerKey?: CustomerKey;
}

export interface BucketInfo {
  name: string;
  owner: string;
  region: string;
  created: Date;
}

export interface ListOptions {
  prefix?: string;
  delimiter?: string;
  /** Keys strictly after this one (marker / start-after / decoded continuation token). */
  after?: string;
  maxKeys: number;
}

export interface ListEntry {
  key: string;
  size: number;
  etag: string;
  lastModified: Date;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface ListResult {
  objects: ListEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** The last key or common prefix returned: where the next page starts after. */
  next?: string;
}

export interface MultipartCreateOptions {
  meta: ObjectMeta;
  lock?: LockSettings;
  tags?: Tags;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
  /** SSE-C: every part must be sent with this key. */
  customerKey?: CustomerKey;
  /** The ACL (as ObjectStore.putObjectAcl takes it) the completed object gets. */
  acl?: string;
}

export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: Date;
  checksums: Checksums;
}

export interface CompletePart {
  partNumber: number;
  etag: string;
  checksums?: Checksums;
}

export interface ListPartsOptions {
  partNumberMarker?: number;
  maxParts: number;
}

export interface ListPartsResult {
  upload: UploadInfo;
  parts: PartInfo[];
  isTruncated: boolean;
  nextPartNumberMarker?: number;
}

export interface ListUploadsOptions {
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  uploadIdMarker?: string;
  maxUploads: number;
}

export interface ListUploadsResult {
  uploads: UploadInfo[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextUploadIdMarker?: string;
}

// ---- versions, object lock, lifecycle (issue 16)

export type VersioningStatus = 'Enabled' | 'Suspended';
export type LockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** Object lock settings a write asks for (x-amz-object-lock-mode / -retain-until-date / -legal-hold). */
export interface LockSettings {
  mode?: LockMode;
  retainUntil?: Date;
  legalHold?: boolean;
}

/** Default retention of a bucket with object lock (Days or Years, not both). */
export interface LockConfiguration {
  enabled: boolean;
  rule?: { mode: LockMode; days?: number; years?: number };
}

/** Who removes a version and whether they asked to bypass GOVERNANCE retention. */
export interface RemoveOptions {
  versionId?: string;
  /** The requesting account (checked for the bypass permission). */
  account?: string;
  bypassGovernance?: boolean;
}

export interface DeleteResult {
  /** The version removed or the delete marker created. */
  versionId?: string;
  /** True when a delete marker was created, or the version removed was one. */
  deleteMarker: boolean;
}

export interface ListVersionsOptions {
  prefix?: string;
  delimiter?: string;
  keyMarker?: string;
  versionIdMarker?: string;
  maxKeys: number;
}

export interface VersionEntry {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  lastModified: Date;
  size: number;
  etag: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

export interface ListVersionsResult {
  versions: VersionEntry[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

export interface LifecycleFilter {
  prefix?: string;
  tags?: Tags;
  sizeGreaterThan?: number;
  sizeLessThan?: number;
}

export interface LifecycleRule {
  id?: string;
  status: 'Enabled' | 'Disabled';
  filter: LifecycleFilter;
  expiration?: { days?: number; date?: Date; expiredObjectDeleteMarker?: boolean };
  noncurrentExpiration?: { noncurrentDays: number; newerNoncurrentVersions?: number };
  abortIncompleteDays?: number;
}
/** A bucket's settings beyond its name and owner, each stored as one opaque text (JSON or XML). */
export type BucketConfigName = 'acl' | 'policy' | 'ownership' | 'public-access-block' | 'cors';

export interface ObjectStore {
  // buckets
  listBuckets(owner?: string): BucketInfo[];
  createBucket(name: string, owner: string, region: string): BucketInfo;
  getBucket(name: string): BucketInfo;
  deleteBucket(name: string): Promise<void>;
  /** A bucket setting, undefined when it was never set (or deleted). Throws NoSuchBucket. */
  getBucketConfig(bucket: string, name: BucketConfigName): string | undefined;
  /** Sets (or, with undefined, deletes) a bucket setting. Throws NoSuchBucket. */
  putBucketConfig(bucket: string, name: BucketConfigName, value: string | undefined): void;
  /**
   * The object's (a version's: the latest by default) owner and its ACL (undefined: the default,
   * owner-only). Throws NoSuchKey (NoSuchVersion; a delete marker as for GetObject).
   */
  getObjectAcl(bucket: string, key: string, versionId?: string): { owner: string; acl?: string; versionId?: string };
  /** Sets (or, with undefined, resets to owner-only) the ACL of the object (a version); returns the version id. */
  putObjectAcl(bucket: string, key: string, acl: string | undefined, versionId?: string): string | void;

  // objects
  putObject(bucket: string, key: string, body: PutBody, opts: PutOptions): Promise<ObjectInfo>;
  getObject(bucket: string, key: string, opts?: ReadOptions): Promise<ReadResult>;
  headObject(bucket: string, key: string, opts?: { partNumber?: number; customerKey?: CustomerKey }): ObjectInfo;
  deleteObject(bucket: string, key: string): Promise<void>;
  copyObject(
    src: { bucket: string; key: string; versionId?: string },
    dst: { bucket: string; key: string },
    opts: CopyOptions,
  ): Promise<ObjectInfo>;
  listObjects(bucket: string, opts: ListOptions): ListResult;

  // tagging
  getObjectTagging(bucket: string, key: string): Tags;
  putObjectTagging(bucket: string, key: string, tags: Tags): void;

  // multipart
  createMultipartUpload(bucket: string, key: string, opts: MultipartCreateOptions): UploadInfo;
  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: PutBody,
    opts: { size?: number; signal?: AbortSignal; customerKey?: CustomerKey },
  ): Promise<PartInfo>;
  completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts: { conditions?: WriteConditions; checksums?: Checksums },
  ): Promise<ObjectInfo>;
  /** UploadPartCopy: a byte range (or all) of an existing object becomes a part. */
  uploadPartCopy(
    src: { bucket: string; key: string; versionId?: string },
    dst: { bucket: string; key: string; uploadId: string; partNumber: number },
    opts: {
      range?: ByteRange;
      check?: (source: ObjectInfo) => void;
      signal?: AbortSignal;
      sourceCustomerKey?: CustomerKey;
      customerKey?: CustomerKey;
    },
  ): Promise<PartInfo>;
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  listParts(bucket: string, key: string, uploadId: string, opts: ListPartsOptions): ListPartsResult;
  listMultipartUploads(bucket: string, opts: ListUploadsOptions): ListUploadsResult;

  // versions, object lock, lifecycle
  getBucketVersioning(bucket: string): VersioningStatus | undefined;
  putBucketVersioning(bucket: string, status: VersioningStatus): void;
  /** DeleteObject with its version and lock semantics (deleteObject is this without options). */
  removeObject(bucket: string, key: string, opts: RemoveOptions): Promise<DeleteResult>;
  listObjectVersions(bucket: string, opts: ListVersionsOptions): ListVersionsResult;
  /**
   * HeadObject of a version. `operator`: the operator's view (`datamesh admin inspect`), which
   * reads no bytes, so an SSE-C object needs no key.
   */
  headVersion(bucket: string, key: string, opts: { versionId?: string; partNumber?: number; customerKey?: CustomerKey; operator?: true }): ObjectInfo;
  getVersionTagging(bucket: string, key: string, versionId?: string): { tags: Tags; versionId: string };
  putVersionTagging(bucket: string, key: string, tags: Tags, versionId?: string): string;
  /** CreateBucket with x-amz-bucket-object-lock-enabled (also enables versioning). */
  enableObjectLock(bucket: string): void;
  getObjectLockConfiguration(bucket: string): LockConfiguration;
  putObjectLockConfiguration(bucket: string, conf: LockConfiguration): void;
  getObjectRetention(bucket: string, key: string, versionId?: string): { mode?: LockMode; retainUntil?: Date };
  putObjectRetention(
    bucket: string,
    key: string,
    retention: { mode?: LockMode; retainUntil?: Date },
    opts: RemoveOptions,
  ): void;
  getObjectLegalHold(bucket: string, key: string, versionId?: string): boolean;
  putObjectLegalHold(bucket: string, key: string, on: boolean, versionId?: string): void;
  getBucketLifecycle(bucket: string): LifecycleRule[];
  putBucketLifecycle(bucket: string, rules: LifecycleRule[] | undefined): void;
  /** The expiration a rule gives this version (x-amz-expiration), if any. */
  expirationOf(info: ObjectInfo): { date: Date; ruleId: string } | undefined;

  /**
   * GetObjectAttributes: the version's info and, for a multipart object, its parts in order
   * (their numbers in the upload, sizes and checksums). SSE-C objects need their key.
   */
  getObjectAttributes(bucket: string, key: string, opts: { versionId?: string; customerKey?: CustomerKey }): { info: ObjectInfo; parts?: ObjectPart[] };

  /** True when the store can take and serve bytes (used by /_datamesh/health/ready). */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** One part of a multipart object, as GetObjectAttributes lists it. */
export interface ObjectPart {
  partNumber: number;
  size: number;
  checksums: Checksums;
}

/** S3's part numbers: 1 to 10000. */
export const MAX_PART_NUMBER = 10000;

/** Throws InvalidArgument unless `n` is a part number; `text` is the value as the client sent it. */
export function checkPartNumber(n: number, text = String(n)): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_PART_NUMBER) {
    throw Errors.invalidArgument('Part number must be an integer between 1 and 10000, inclusive', 'partNumber', text);
  }
}
