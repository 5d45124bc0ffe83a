/**
 * Store: the ObjectStore over the catalog (SQLite metadata, catalog*.ts) and a DataStore (bytes).
 * Every change is one SQLite transaction that also commits/releases manifests and updates the
 * owner's usage, so a crash or a racing request never leaves half an object or a wrong count.
 * Multipart operations live in store-multipart.ts, the write path in store-write.ts, the read path
 * in store-read.ts.
 */
import type { DB as Database } from '../core/db.ts';
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
  DeleteResult,
  LifecycleRule,
  ListVersionsOptions,
  ListVersionsResult,
  LockConfiguration,
  LockMode,
  RemoveOptions,
  VersioningStatus,
  ChecksumAlgorithm,
  CustomerKey,
  ObjectPart,
} from '../core/object-store.ts';
import { createPutBody } from '../core/digest.ts';
import { checkObjectKey, keyCheckFields, sameEncryption } from './store-sse.ts';
import { DomainError, Errors, VersionErrors } from '../core/errors.ts';
import { noLimits, type LimitsLookup, type Usage } from '../core/quota.ts';
import type { DataStore } from '../data/data-store.ts';
import { Catalog } from './catalog.ts';
import { toObjectInfo, type ObjectRecord, type Piece } from './catalog-schema.ts';
import { bodyStream, partRange, servedRange } from './store-read.ts';
import {
  checkSameBucket,
  checkWriteConditions,
  maxObjectSizeFor,
  racedConditions,
  releaseOrphans,
  tooLarge,
  writeAndCommit,
  type StoreContext,
} from './store-write.ts';
import * as mp from './store-multipart.ts';
import * as locks from './store-lock.ts';
import { VersionLister } from './catalog-versions.ts';
import { checkRemovable, checkVersionId, live, lockOfNewVersion, versionIdFor, versionToRead } from './store-versions.ts';
import { applyLifecycle, expirationOf, rulesOf, type LifecycleCounts } from './lifecycle.ts';

/** S3's largest object: 5 TiB. */
export const DEFAULT_MAX_OBJECT_SIZE = 5 * 1024 ** 4;

export interface StoreOptions {
  db: Database;
  /** The catalog over `db`, when the caller needed it first (the server reports usage from it); else made here. */
  catalog?: Catalog;
  data: DataStore;
  limits?: LimitsLookup;
  /** The largest object the store accepts (default 5 TiB); accounts may have a lower limit. */
  maxObjectSize?: number;
  log?: Logger;
  /** Accounts allowed to bypass GOVERNANCE retention (default: none). */
  mayBypassGovernance?: (account: string) => boolean;
}

export class Store implements ObjectStore {
  readonly catalog: Catalog;
  private readonly ctx: StoreContext;
  private readonly versions: VersionLister;

  constructor(opts: StoreOptions) {
    this.catalog = opts.catalog ?? new Catalog(opts.db);
    this.ctx = {
      catalog: this.catalog,
      data: opts.data,
      limits: opts.limits ?? noLimits,
      maxObjectSize: opts.maxObjectSize ?? DEFAULT_MAX_OBJECT_SIZE,
      log: opts.log,
      mayBypassGovernance: opts.mayBypassGovernance ?? (() => false),
    };
    this.versions = new VersionLister(opts.db);
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

  /** A version's (the latest's by default) owner and ACL: ACLs are per version row. */
  getObjectAcl(bucket: string, key: string, versionId?: string): { owner: string; acl?: string; versionId: string } {
    return this.catalog.read(() => {
      const o = versionToRead(this.ctx, bucket, key, versionId, 'GET');
      const acl = this.catalog.getObjectAcl(o.id);
      return { owner: o.owner, versionId: o.versionId, ...(acl === undefined ? {} : { acl }) };
    });
  }

  putObjectAcl(bucket: string, key: string, acl: string | undefined, versionId?: string): string {
    return this.catalog.tx(() => {
      const o = versionToRead(this.ctx, bucket, key, versionId, 'PUT');
      this.catalog.setObjectAcl(o.id, acl);
      return o.versionId;
    });
  }

  // ---- objects

  async putObject(bucket: string, key: string, body: PutBody, opts: PutOptions): Promise<ObjectInfo> {
    const b = this.getBucket(bucket);
    const conditions = opts.conditions;
    const settings = this.catalog.settings(bucket);
    if (conditions) checkWriteConditions(live(this.catalog.getObject(bucket, key)), conditions, key); // before reading the body
    const lock = lockOfNewVersion(settings, bucket, opts.lock);
    const limits = this.ctx.limits(b.owner);
    const maxSize = maxObjectSizeFor(this.ctx, limits);
    const customerKey = opts.customerKey?.key;
    return writeAndCommit(this.ctx, { owner: b.owner, limits, body, size: opts.size, maxSize, signal: opts.signal, customerKey }, (w) => {
      checkSameBucket(this.ctx, b); // not deleted (and re-created) meanwhile
      if (conditions) racedConditions(live(this.catalog.getObject(bucket, key)), conditions, key); // a racing writer may have changed it
      const now = Date.now();
      const versionId = this.newVersionSlot(bucket, key, b.owner, limits);
      const hasChecksum = Object.keys(w.checksums).length > 0;
      const { dropped } = this.catalog.putObject(
        {
          bucket,
          key,
          versionId,
          size: w.size,
          etag: w.md5.toString('hex'),
          lastModified: now,
          meta: opts.meta,
          checksums: w.checksums,
          ...(hasChecksum ? { checksumType: 'FULL_OBJECT' as const } : {}),
          tags: opts.tags ?? {},
          owner: b.owner,
          ...lock,
          ...keyCheckFields(opts.customerKey),
        },
        [{ manifestId: w.manifestId, size: w.size, etag: w.md5.toString('hex'), checksums: w.checksums }],
      );
      this.ctx.data.commit(w.manifestId);
      releaseOrphans(this.ctx, dropped);
      return toObjectInfo(this.catalog.getObject(bucket, key)!);
    });
  }

  /**
   * Inside a write transaction: the version id the next version of (bucket, key) gets, after
   * checking the object quota and that a null version it replaces is not locked.
   */
  private newVersionSlot(bucket: string, key: string, owner: string, limits: ReturnType<LimitsLookup>): string {
    const versionId = versionIdFor(this.catalog.settings(bucket));
    const replaced = versionId === 'null' ? this.catalog.getObject(bucket, key, 'null') : undefined;
    checkRemovable(this.ctx, replaced);
    if (!live(replaced)) this.catalog.usage.checkObjects(owner, limits);
    return versionId;
  }

  async getObject(bucket: string, key: string, opts: ReadOptions = {}): Promise<ReadResult> {
    opts.signal?.throwIfAborted();
    const { o, pieces } = this.objectWithPieces(bucket, key, opts.versionId, 'GET');
    checkObjectKey(o, opts.customerKey);
    let info = toObjectInfo(o);
    opts.check?.(info);
    const range = servedRange(o, pieces, opts);
    const part = opts.partNumber === undefined || o.partsCount === undefined ? undefined : pieces[opts.partNumber - 1];
    if (part) info = { ...info, checksums: part.checksums }; // a part is served with its own checksum
    const start = range?.start ?? 0;
    const end = range ? range.end + 1 : o.size;
    const body = bodyStream(this.ctx.data, { bucket, key }, pieces, start, end, opts.signal, opts.customerKey?.key);
    return { info, ...(range ? { range } : {}), body };
  }

  headObject(bucket: string, key: string, opts: { partNumber?: number; customerKey?: CustomerKey } = {}): ObjectInfo {
    return this.headVersion(bucket, key, opts);
  }

  headVersion(bucket: string, key: string, opts: { versionId?: string; partNumber?: number; customerKey?: CustomerKey; operator?: true } = {}): ObjectInfo {
    const { o, pieces } = this.objectWithPieces(bucket, key, opts.versionId, 'HEAD');
    if (!opts.operator) checkObjectKey(o, opts.customerKey);
    if (opts.partNumber === undefined) return toObjectInfo(o);
    const part = partRange(o, pieces, opts.partNumber);
    const info = toObjectInfo(o);
    return { ...info, size: part.size, ...(part.piece ? { checksums: part.piece.checksums } : {}) };
  }

  async deleteObject(bucket: string, key: string): Promise<void> {
    await this.removeObject(bucket, key, {});
  }

  /**
   * DeleteObject: with a version id that version goes for good (unless locked); without, an
   * unversioned bucket loses the object, an Enabled bucket gets a delete marker, a Suspended one
   * loses its null version and gets a null delete marker.
   */
  async removeObject(bucket: string, key: string, opts: RemoveOptions): Promise<DeleteResult> {
    if (opts.versionId !== undefined) checkVersionId(opts.versionId);
    return this.catalog.tx(() => {
      const b = this.getBucket(bucket);
      const settings = this.catalog.settings(bucket);
      if (opts.versionId !== undefined || settings.versioning === undefined) {
        const target = this.catalog.getObject(bucket, key, opts.versionId);
        if (!target) return { ...(opts.versionId !== undefined ? { versionId: opts.versionId } : {}), deleteMarker: false };
        checkRemovable(this.ctx, target, opts);
        const { dropped } = this.catalog.deleteObject(bucket, key, target.versionId);
        releaseOrphans(this.ctx, dropped);
        return { ...(opts.versionId !== undefined ? { versionId: target.versionId } : {}), deleteMarker: target.deleteMarker };
      }
      const versionId = versionIdFor(settings);
      if (versionId === 'null') checkRemovable(this.ctx, this.catalog.getObject(bucket, key, 'null'), opts);
      const { dropped } = this.catalog.putObject(
        { bucket, key, versionId, deleteMarker: true, size: 0, etag: '', lastModified: Date.now(), meta: { user: {} }, checksums: {}, tags: {}, owner: b.owner },
        [],
      );
      releaseOrphans(this.ctx, dropped);
      return { versionId, deleteMarker: true };
    });
  }

  async copyObject(
    src: { bucket: string; key: string; versionId?: string },
    dst: { bucket: string; key: string },
    opts: CopyOptions,
  ): Promise<ObjectInfo> {
    opts.signal?.throwIfAborted();
    // SSE-C: a copy that changes the encryption (a key added, removed or changed) re-writes the bytes
    const first = this.copySource(src).o;
    checkObjectKey(first, opts.sourceCustomerKey, true);
    if (!sameEncryption(first, opts.customerKey)) return this.rewriteCopy(src, dst, opts);
    // No bytes move (the copy shares the source's manifests): the whole copy is one transaction.
    return this.catalog.tx(() => {
      const { o: source, pieces } = this.copySource(src);
      checkObjectKey(source, opts.sourceCustomerKey, true);
      if (!sameEncryption(source, opts.customerKey)) throw VersionErrors.conditionalConflict(); // replaced meanwhile by an object under another key
      opts.check?.(toObjectInfo(source));
      const d = this.getBucket(dst.bucket);
      if (src.bucket === dst.bucket && src.key === dst.key && opts.metadataDirective === 'COPY' && src.versionId === undefined) {
        throw Errors.invalidRequest(
          "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        );
      }
      checkWriteConditions(live(this.catalog.getObject(dst.bucket, dst.key)), opts.conditions, dst.key);
      const lock = lockOfNewVersion(this.catalog.settings(dst.bucket), dst.bucket, opts.lock);
      const limits = this.ctx.limits(d.owner);
      const max = maxObjectSizeFor(this.ctx, limits);
      if (source.size > max) throw tooLarge(d.owner, limits, source.size, max);
      const versionId = this.newVersionSlot(dst.bucket, dst.key, d.owner, limits);
      const granted = this.catalog.usage.reserve(d.owner, source.size, limits); // the storage check
      this.catalog.usage.apply(d.owner, { reserved: -granted }); // putObject counts the bytes
      const tags = opts.taggingDirective === 'COPY' ? this.catalog.getTags(source.id) : (opts.tags ?? {});
      const meta = opts.metadataDirective === 'COPY' ? source.meta : (opts.meta ?? { user: {} });
      const { dropped } = this.catalog.putObject(
        {
          bucket: dst.bucket,
          key: dst.key,
          versionId,
          ...lock,
          size: source.size,
          etag: source.etag,
          lastModified: Date.now(),
          meta,
          checksums: source.checksums,
          ...(source.checksumType ? { checksumType: source.checksumType } : {}),
          ...(source.partsCount !== undefined ? { partsCount: source.partsCount } : {}),
          ...(source.customerKeyCheck !== undefined ? { customerKeyCheck: source.customerKeyCheck } : {}),
          tags,
          owner: d.owner,
        },
        pieces,
      );
      releaseOrphans(this.ctx, dropped);
      return toObjectInfo(this.catalog.getObject(dst.bucket, dst.key)!);
    });
  }

  /**
   * A copy into another encryption (SSE-C key added, removed or changed): the source is read with
   * its key and written as a new object with the destination's, through the ordinary GET and PUT.
   */
  private async rewriteCopy(
    src: { bucket: string; key: string; versionId?: string },
    dst: { bucket: string; key: string },
    opts: CopyOptions,
  ): Promise<ObjectInfo> {
    const res = await this.getObject(src.bucket, src.key, {
      ...(src.versionId !== undefined ? { versionId: src.versionId } : {}),
      ...(opts.sourceCustomerKey ? { customerKey: opts.sourceCustomerKey } : {}),
      ...(opts.check ? { check: opts.check } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    try {
      const source = res.info;
      const algorithms = Object.keys(source.checksums) as ChecksumAlgorithm[];
      const tags = opts.taggingDirective === 'COPY' ? this.getVersionTagging(src.bucket, src.key, source.versionId).tags : (opts.tags ?? {});
      return await this.putObject(dst.bucket, dst.key, createPutBody(res.body, { algorithms, expectedSize: source.size }), {
        meta: opts.metadataDirective === 'COPY' ? source.meta : (opts.meta ?? { user: {} }),
        tags,
        size: source.size,
        ...(opts.conditions ? { conditions: opts.conditions } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.lock ? { lock: opts.lock } : {}),
        ...(opts.customerKey ? { customerKey: opts.customerKey } : {}),
      });
    } finally {
      res.body.destroy();
    }
  }

  listObjects(bucket: string, opts: ListOptions): ListResult {
    return this.catalog.read(() => {
      this.getBucket(bucket);
      return this.catalog.listObjects(bucket, opts);
    });
  }

  // ---- tagging

  getObjectTagging(bucket: string, key: string): Tags {
    return this.getVersionTagging(bucket, key).tags;
  }

  putObjectTagging(bucket: string, key: string, tags: Tags): void {
    this.putVersionTagging(bucket, key, tags);
  }

  /** DeleteObjectTagging: the object keeps no tags. */
  deleteObjectTagging(bucket: string, key: string): void {
    this.putObjectTagging(bucket, key, {});
  }

  getVersionTagging(bucket: string, key: string, versionId?: string): { tags: Tags; versionId: string } {
    const o = versionToRead(this.ctx, bucket, key, versionId, 'GET');
    return { tags: this.catalog.getTags(o.id), versionId: o.versionId };
  }

  /** Replaces a version's tags; returns its version id. */
  putVersionTagging(bucket: string, key: string, tags: Tags, versionId?: string): string {
    return this.catalog.tx(() => {
      const o = versionToRead(this.ctx, bucket, key, versionId, 'PUT');
      this.catalog.setTags(o.id, tags);
      return o.versionId;
    });
  }

  // ---- versioning, object lock, lifecycle (store-lock.ts, lifecycle.ts)

  getBucketVersioning(bucket: string): VersioningStatus | undefined {
    this.getBucket(bucket);
    return this.catalog.settings(bucket).versioning;
  }

  putBucketVersioning(bucket: string, status: VersioningStatus): void {
    this.catalog.tx(() => {
      this.getBucket(bucket);
      if (status === 'Suspended' && this.catalog.settings(bucket).objectLock) {
        throw VersionErrors.invalidBucketState('An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.');
      }
      this.catalog.setVersioning(bucket, status);
    });
  }

  listObjectVersions(bucket: string, opts: ListVersionsOptions): ListVersionsResult {
    return this.catalog.read(() => {
      this.getBucket(bucket);
      return this.versions.list(bucket, opts);
    });
  }

  enableObjectLock(bucket: string): void {
    locks.enableObjectLock(this.ctx, bucket);
  }

  getObjectLockConfiguration(bucket: string): LockConfiguration {
    return locks.getObjectLockConfiguration(this.ctx, bucket);
  }

  putObjectLockConfiguration(bucket: string, conf: LockConfiguration): void {
    locks.putObjectLockConfiguration(this.ctx, bucket, conf);
  }

  getObjectRetention(bucket: string, key: string, versionId?: string): { mode?: LockMode; retainUntil?: Date } {
    return locks.getObjectRetention(this.ctx, bucket, key, versionId);
  }

  putObjectRetention(bucket: string, key: string, retention: { mode?: LockMode; retainUntil?: Date }, opts: RemoveOptions): void {
    locks.putObjectRetention(this.ctx, bucket, key, retention, opts);
  }

  getObjectLegalHold(bucket: string, key: string, versionId?: string): boolean {
    return locks.getObjectLegalHold(this.ctx, bucket, key, versionId);
  }

  putObjectLegalHold(bucket: string, key: string, on: boolean, versionId?: string): void {
    locks.putObjectLegalHold(this.ctx, bucket, key, on, versionId);
  }

  getBucketLifecycle(bucket: string): LifecycleRule[] {
    this.getBucket(bucket);
    return rulesOf(this.catalog.settings(bucket));
  }

  putBucketLifecycle(bucket: string, rules: LifecycleRule[] | undefined): void {
    this.catalog.tx(() => {
      this.getBucket(bucket);
      this.catalog.setLifecycle(bucket, rules);
    });
  }

  expirationOf(info: ObjectInfo): { date: Date; ruleId: string } | undefined {
    return expirationOf(this.ctx, info, this.lifecycleDayMs);
  }

  /** The length of a lifecycle "day" (--lifecycle-day; 24 h unless a test shortens it). */
  lifecycleDayMs = 24 * 3600 * 1000;

  /** Applies every bucket's lifecycle rules once (the lifecycle worker calls this). */
  applyLifecycle(now = Date.now()): Promise<LifecycleCounts> {
    return applyLifecycle(this.ctx, { dayMs: this.lifecycleDayMs, now, remove: (b, k, o) => this.removeObject(b, k, o) });
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
    opts: { size?: number; signal?: AbortSignal; customerKey?: CustomerKey },
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
    src: { bucket: string; key: string; versionId?: string },
    dst: { bucket: string; key: string; uploadId: string; partNumber: number },
    opts: { range?: ByteRange; check?: (source: ObjectInfo) => void; signal?: AbortSignal; sourceCustomerKey?: CustomerKey; customerKey?: CustomerKey },
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
  objectPieces(bucket: string, key: string, versionId?: string): Piece[] {
    return this.objectWithPieces(bucket, key, versionId).pieces;
  }

  getObjectAttributes(bucket: string, key: string, opts: { versionId?: string; customerKey?: CustomerKey }): { info: ObjectInfo; parts?: ObjectPart[] } {
    const { o, pieces } = this.objectWithPieces(bucket, key, opts.versionId, 'GET');
    checkObjectKey(o, opts.customerKey);
    const info = toObjectInfo(o);
    if (o.partsCount === undefined) return { info };
    return { info, parts: pieces.map((p, i) => ({ partNumber: p.partNumber ?? i + 1, size: p.size, checksums: p.checksums })) };
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

  /** The version (latest by default) and its pieces, read in one transaction (a consistent snapshot). */
  private objectWithPieces(bucket: string, key: string, versionId?: string, method = 'GET'): { o: ObjectRecord; pieces: Piece[] } {
    return this.catalog.read(() => {
      const o = versionToRead(this.ctx, bucket, key, versionId, method);
      return { o, pieces: this.catalog.pieces(o.id) };
    });
  }

  /** A copy source: S3 refuses a delete marker named by version id with 400 InvalidRequest. */
  private copySource(src: { bucket: string; key: string; versionId?: string }): { o: ObjectRecord; pieces: Piece[] } {
    try {
      return this.objectWithPieces(src.bucket, src.key, src.versionId);
    } catch (e) {
      if (e instanceof DomainError && e.code === 'MethodNotAllowed') {
        throw Errors.invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.');
      }
      throw e;
    }
  }
}
