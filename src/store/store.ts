/**
 * Store: the ObjectStore over the catalog (SQLite metadata, catalog*.ts) and a DataStore (bytes).
 * Every change is one SQLite transaction that also commits/releases manifests and updates the
 * owner's usage, so a crash or a racing request never leaves half an object or a wrong count.
 * Multipart operations live in store-multipart.ts, the write path in store-write.ts, the read path
 * in store-read.ts.
 */
import type { Database } from 'better-sqlite3';
import type { Logger } from '../core/log.ts';
import type {
  BucketConfigName,
  BucketInfo,
  ByteRange,
  CompletePart,
  CopyOptions,
  ListOptions,
  ListPartsOptions,
  ListPartsResult,
  ListResult,
  ListUploadsOptions,
  ListUploadsResult,
  MultipartCreateOptions,
  ObjectInfo,
  ObjectStore,
  PartInfo,
  PutBody,
  PutOptions,
  ReadOptions,
  ReadResult,
  Tags,
  UploadInfo,
  WriteConditions,
  Checksums,
} from '../core/object-store.ts';
import { Errors } from '../core/errors.ts';
import { noLimits, type LimitsLookup, type Usage } from '../core/quota.ts';
import type { DataStore } from '../data/data-store.ts';
import { Catalog } from './catalog.ts';
import { toObjectInfo, type ObjectRecord, type Piece } from './catalog-schema.ts';
import { bodyStream, partRange, servedRange } from './store-read.ts';
import {
  checkWriteConditions,
  maxObjectSizeFor,
  releaseOrphans,
  tooLarge,
  writeAndCommit,
  type StoreContext,
} from './store-write.ts';
import * as mp from './store-multipart.ts';

/** S3's largest object: 5 TiB. */
export const DEFAULT_MAX_OBJECT_SIZE = 5 * 1024 ** 4;

export interface StoreOptions {
  db: Database;
  data: DataStore;
  limits?: LimitsLookup;
  /** The largest object the store accepts (default 5 TiB); accounts may have a lower limit. */
  maxObjectSize?: number;
  log?: Logger;
}

export class Store implements ObjectStore {
  readonly catalog: Catalog;
  private readonly ctx: StoreContext;

  constructor(opts: StoreOptions) {
    this.catalog = new Catalog(opts.db);
    this.ctx = {
      catalog: this.catalog,
      data: opts.data,
      limits: opts.limits ?? noLimits,
      maxObjectSize: opts.maxObjectSize ?? DEFAULT_MAX_OBJECT_SIZE,
      log: opts.log,
    };
    // Reservations of an earlier process died with it; counts are recomputed from the rows.
    this.catalog.usage.recalculate(true);
  }

  // ---- buckets

  listBuckets(owner?: string): BucketInfo[] {
    return this.catalog.listBuckets(owner);
  }

  createBucket(name: string, owner: string, region: string): BucketInfo {
    return this.catalog.tx(() => {
      const existing = this.catalog.getBucket(name);
      if (existing) {
        throw existing.owner === owner ? Errors.bucketAlreadyOwnedByYou(name) : Errors.bucketAlreadyExists(name);
      }
      this.catalog.usage.checkBuckets(owner, this.ctx.limits(owner));
      const b: BucketInfo = { name, owner, region, created: new Date() };
      this.catalog.insertBucket(b);
      return b;
    });
  }

  getBucket(name: string): BucketInfo {
    const b = this.catalog.getBucket(name);
    if (!b) throw Errors.noSuchBucket(name);
    return b;
  }

  async deleteBucket(name: string): Promise<void> {
    this.catalog.tx(() => {
      const b = this.getBucket(name);
      if (!this.catalog.bucketIsEmpty(name)) throw Errors.bucketNotEmpty(name);
      this.catalog.deleteBucket(b);
    });
  }

  getBucketConfig(bucket: string, name: BucketConfigName): string | undefined {
    this.getBucket(bucket);
    return this.catalog.getBucketConfig(bucket, name);
  }

  putBucketConfig(bucket: string, name: BucketConfigName, value: string | undefined): void {
    this.catalog.tx(() => {
      this.getBucket(bucket);
      this.catalog.setBucketConfig(bucket, name, value);
    });
  }

  getObjectAcl(bucket: string, key: string): { owner: string; acl?: string } {
    return this.catalog.tx(() => {
      this.getBucket(bucket);
      const o = this.catalog.getObject(bucket, key);
      if (!o) throw Errors.noSuchKey(key);
      const acl = this.catalog.getObjectAcl(o.id);
      return { owner: o.owner, ...(acl === undefined ? {} : { acl }) };
    });
  }

  putObjectAcl(bucket: string, key: string, acl: string | undefined): void {
    this.catalog.tx(() => {
      this.getBucket(bucket);
      const o = this.catalog.getObject(bucket, key);
      if (!o) throw Errors.noSuchKey(key);
      this.catalog.setObjectAcl(o.id, acl);
    });
  }

  // ---- objects

  async putObject(bucket: string, key: string, body: PutBody, opts: PutOptions): Promise<ObjectInfo> {
    const b = this.getBucket(bucket);
    const conditions = opts.conditions;
    const existing = this.catalog.getObject(bucket, key);
    checkWriteConditions(existing, conditions, key); // before reading the body
    const limits = this.ctx.limits(b.owner);
    if (!existing) this.catalog.usage.checkObjects(b.owner, limits);
    const maxSize = maxObjectSizeFor(this.ctx, limits);
    return writeAndCommit(this.ctx, { owner: b.owner, limits, body, size: opts.size, maxSize, signal: opts.signal }, (w) => {
      this.getBucket(bucket); // not deleted meanwhile
      const current = this.catalog.getObject(bucket, key);
      checkWriteConditions(current, conditions, key); // a racing writer may have changed it
      if (!current) this.catalog.usage.checkObjects(b.owner, limits);
      const hasChecksum = Object.keys(w.checksums).length > 0;
      const { dropped } = this.catalog.putObject(
        {
          bucket,
          key,
          size: w.size,
          etag: w.md5.toString('hex'),
          lastModified: Date.now(),
          meta: opts.meta,
          checksums: w.checksums,
          ...(hasChecksum ? { checksumType: 'FULL_OBJECT' as const } : {}),
          tags: opts.tags ?? {},
          owner: b.owner,
        },
        [{ manifestId: w.manifestId, size: w.size, etag: w.md5.toString('hex'), checksums: w.checksums }],
      );
      this.ctx.data.commit(w.manifestId);
      releaseOrphans(this.ctx, dropped);
      return toObjectInfo(this.catalog.getObject(bucket, key)!);
    });
  }

  async getObject(bucket: string, key: string, opts: ReadOptions = {}): Promise<ReadResult> {
    opts.signal?.throwIfAborted();
    const { o, pieces } = this.objectWithPieces(bucket, key);
    let info = toObjectInfo(o);
    opts.check?.(info);
    const range = servedRange(o, pieces, opts);
    const part = opts.partNumber === undefined || o.partsCount === undefined ? undefined : pieces[opts.partNumber - 1];
    if (part) info = { ...info, checksums: part.checksums }; // a part is served with its own checksum
    const start = range?.start ?? 0;
    const end = range ? range.end + 1 : o.size;
    const body = bodyStream(this.ctx.data, { bucket, key }, pieces, start, end, opts.signal);
    return { info, ...(range ? { range } : {}), body };
  }

  headObject(bucket: string, key: string, opts: { partNumber?: number } = {}): ObjectInfo {
    if (opts.partNumber === undefined) return toObjectInfo(this.objectOrThrow(bucket, key));
    const { o, pieces } = this.objectWithPieces(bucket, key);
    const part = partRange(o, pieces, opts.partNumber);
    const info = toObjectInfo(o);
    return { ...info, size: part.size, ...(part.piece ? { checksums: part.piece.checksums } : {}) };
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    this.catalog.tx(() => {
      const { deleted, dropped } = this.catalog.deleteObject(bucket, key);
      if (!deleted) this.getBucket(bucket);
      releaseOrphans(this.ctx, dropped);
    });
  }

  async copyObject(src: { bucket: string; key: string }, dst: { bucket: string; key: string }, opts: CopyOptions): Promise<ObjectInfo> {
    opts.signal?.throwIfAborted();
    // No bytes move (the copy shares the source's manifests): the whole copy is one transaction.
    return this.catalog.tx(() => {
      const { o: source, pieces } = this.objectWithPieces(src.bucket, src.key);
      opts.check?.(toObjectInfo(source));
      const d = this.getBucket(dst.bucket);
      if (src.bucket === dst.bucket && src.key === dst.key && opts.metadataDirective === 'COPY') {
        throw Errors.invalidRequest(
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      const current = this.catalog.getObject(dst.bucket, dst.key);
      checkWriteConditions(current, opts.conditions, dst.key);
      const limits = this.ctx.limits(d.owner);
      const max = maxObjectSizeFor(this.ctx, limits);
      if (source.size > max) throw tooLarge(d.owner, limits, source.size, max);
      if (!current) this.catalog.usage.checkObjects(d.owner, limits);
      const granted = this.catalog.usage.reserve(d.owner, source.size, limits); // the storage check
      this.catalog.usage.apply(d.owner, { reserved: -granted }); // putObject counts the bytes
      const tags = opts.taggingDirective === 'COPY' ? (this.catalog.getTags(src.bucket, src.key) ?? {}) : (opts.tags ?? {});
      const meta = opts.metadataDirective === 'COPY' ? source.meta : (opts.meta ?? { user: {} });
      const { dropped } = this.catalog.putObject(
        {
          bucket: dst.bucket,
          key: dst.key,
          size: source.size,
          etag: source.etag,
          lastModified: Date.now(),
          meta,
          checksums: source.checksums,
          ...(source.checksumType ? { checksumType: source.checksumType } : {}),
          ...(source.partsCount !== undefined ? { partsCount: source.partsCount } : {}),
          tags,
          owner: d.owner,
        },
        pieces,
      );
      releaseOrphans(this.ctx, dropped);
      return toObjectInfo(this.catalog.getObject(dst.bucket, dst.key)!);
    });
  }

  listObjects(bucket: string, opts: ListOptions): ListResult {
    return this.catalog.read(() => {
      this.getBucket(bucket);
      return this.catalog.listObjects(bucket, opts);
    });
  }

  // ---- tagging

  getObjectTagging(bucket: string, key: string): Tags {
    const tags = this.catalog.getTags(bucket, key);
    if (tags === undefined) throw this.missing(bucket, key);
    return tags;
  }

  putObjectTagging(bucket: string, key: string, tags: Tags): void {
    if (!this.catalog.setTags(bucket, key, tags)) throw this.missing(bucket, key);
  }

  /** DeleteObjectTagging: the object keeps no tags. */
  deleteObjectTagging(bucket: string, key: string): void {
    this.putObjectTagging(bucket, key, {});
  }

  // ---- multipart

  createMultipartUpload(bucket: string, key: string, opts: MultipartCreateOptions): UploadInfo {
    return mp.createMultipartUpload(this.ctx, bucket, key, opts);
  }

  uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: PutBody,
    opts: { size?: number; signal?: AbortSignal },
  ): Promise<PartInfo> {
    return mp.uploadPart(this.ctx, { bucket, key, uploadId, partNumber }, body, opts);
  }

  async completeMultipartUpload(
    bucket: string,
    key: string,
    uploadId: string,
    parts: CompletePart[],
    opts: { conditions?: WriteConditions; checksums?: Checksums },
  ): Promise<ObjectInfo> {
    return mp.completeMultipartUpload(this.ctx, { bucket, key, uploadId }, parts, opts);
  }

  uploadPartCopy(
    src: { bucket: string; key: string },
    dst: { bucket: string; key: string; uploadId: string; partNumber: number },
    opts: { range?: ByteRange; check?: (source: ObjectInfo) => void; signal?: AbortSignal },
  ): Promise<PartInfo> {
    return mp.uploadPartCopy(this.ctx, (b, k, o) => this.getObject(b, k, o), src, dst, opts);
  }

  async abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void> {
    mp.abortMultipartUpload(this.ctx, bucket, key, uploadId);
  }

  listParts(bucket: string, key: string, uploadId: string, opts: ListPartsOptions): ListPartsResult {
    return mp.listParts(this.ctx, bucket, key, uploadId, opts);
  }

  listMultipartUploads(bucket: string, opts: ListUploadsOptions): ListUploadsResult {
    return mp.listMultipartUploads(this.ctx, bucket, opts);
  }

  /** The object's pieces in order (manifest id, size, part number...), for `datamesh admin inspect`. */
  objectPieces(bucket: string, key: string): Piece[] {
    return this.objectWithPieces(bucket, key).pieces;
  }

  // ---- usage and lifecycle

  /** The account's usage: bytes of live objects and open parts, objects, buckets, bytes reserved. */
  usage(account: string): Usage {
    return this.catalog.usage.get(account);
  }

  /** Recomputes every account's usage from the live rows (reservations in flight are kept). */
  recalculateUsage(): void {
    this.catalog.usage.recalculate(false);
  }

  ready(): Promise<boolean> {
    return this.ctx.data.ready();
  }

  /** Closes the data store. The database belongs to whoever opened it. */
  async close(): Promise<void> {
    await this.ctx.data.close();
  }

  // ---- helpers

  private objectOrThrow(bucket: string, key: string): ObjectRecord {
    const o = this.catalog.getObject(bucket, key);
    if (!o) throw this.missing(bucket, key);
    return o;
  }

  /** The object and its pieces, read in one transaction (a consistent snapshot). */
  private objectWithPieces(bucket: string, key: string): { o: ObjectRecord; pieces: Piece[] } {
    return this.catalog.read(() => {
      const o = this.objectOrThrow(bucket, key);
      return { o, pieces: this.catalog.pieces(o.id) };
    });
  }

  /** NoSuchBucket when the bucket is missing, else NoSuchKey. */
  private missing(bucket: string, key: string) {
    return this.catalog.getBucket(bucket) ? Errors.noSuchKey(key) : Errors.noSuchBucket(bucket);
  }
}
