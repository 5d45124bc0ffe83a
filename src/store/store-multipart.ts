/**
 * Multipart uploads over the catalog: create, upload a part (from a body or a copy), complete,
 * abort, list. Parts count toward the owner's bytes while the upload is open.
 */
import { createHash, randomBytes } from 'node:crypto';
import type {
  ByteRange,
  Checksums,
  CompletePart,
  ListPartsOptions,
  ListPartsResult,
  ListUploadsOptions,
  ListUploadsResult,
  MultipartCreateOptions,
  ObjectInfo,
  PartInfo,
  PutBody,
  UploadInfo,
  CustomerKey,
  WriteConditions,
} from '../core/object-store.ts';
import { Errors } from '../core/errors.ts';
import { createPutBody } from '../core/digest.ts';
import type { PartRecord, UploadRecord } from './catalog-multipart.ts';
import { toObjectInfo, type Piece } from './catalog-schema.ts';
import { checkPartNumber } from './store-read.ts';
import { checksumTypeFor, multipartChecksums } from './store-checksums.ts';
import { checkUploadKey, keyCheckFields } from './store-sse.ts';
import { checkRemovable, live, lockOfNewVersion, versionIdFor } from './store-versions.ts';
import {
  checkWriteConditions,
  maxObjectSizeFor,
  normalizeEtag,
  releaseOrphans,
  tooLarge,
  writeAndCommit,
  type StoreContext,
} from './store-write.ts';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_SIZE = 5 * 1024 * 1024 * 1024;

let lastStamp = 0;
let sequence = 0;

/**
 * A URL-safe upload id that sorts by initiation: 12 hex digits of ms and 4 of a sequence within
 * the ms (so ids made in the same ms keep their order), then 24 random characters.
 */
export function newUploadId(now = Date.now()): string {
  const stamp = Math.max(now, lastStamp);
  sequence = stamp === lastStamp ? sequence + 1 : 0;
  lastStamp = stamp;
  if (sequence > 0xffff) {
    lastStamp = stamp + 1;
    sequence = 0;
  }
  return (
    lastStamp.toString(16).padStart(12, '0') + sequence.toString(16).padStart(4, '0') + randomBytes(18).toString('base64url')
  );
}

function bucketOrThrow(ctx: StoreContext, bucket: string) {
  const b = ctx.catalog.getBucket(bucket);
  if (!b) throw Errors.noSuchBucket(bucket);
  return b;
}

function uploadOrThrow(ctx: StoreContext, bucket: string, key: string, uploadId: string): UploadRecord {
  const u = ctx.catalog.uploads.get(uploadId);
  if (!u || u.bucket !== bucket || u.key !== key) throw Errors.noSuchUpload(uploadId);
  return u;
}

const toUploadInfo = (u: UploadRecord): UploadInfo => ({
  uploadId: u.uploadId,
  bucket: u.bucket,
  key: u.key,
  initiated: new Date(u.initiated),
  ...(u.checksumAlgorithm ? { checksumAlgorithm: u.checksumAlgorithm } : {}),
  ...(u.checksumType ? { checksumType: u.checksumType } : {}),
});

const toPartInfo = (p: PartRecord): PartInfo => ({
  partNumber: p.partNumber,
  etag: p.etag,
  size: p.size,
  lastModified: new Date(p.lastModified),
  checksums: p.checksums,
});

export function createMultipartUpload(ctx: StoreContext, bucket: string, key: string, opts: MultipartCreateOptions): UploadInfo {
  const b = bucketOrThrow(ctx, bucket);
  const checksumType = checksumTypeFor(opts.checksumAlgorithm, opts.checksumType);
  lockOfNewVersion(ctx.catalog.settings(bucket), bucket, opts.lock); // refuses bad lock headers now, not at Complete
  const u: UploadRecord = {
    uploadId: newUploadId(),
    bucket,
    key,
    initiated: Date.now(),
    meta: opts.meta,
    tags: opts.tags ?? {},
    ...(opts.checksumAlgorithm ? { checksumAlgorithm: opts.checksumAlgorithm } : {}),
    ...(checksumType ? { checksumType } : {}),
    owner: b.owner,
    ...(opts.lock ? { lock: opts.lock } : {}),
    ...keyCheckFields(opts.customerKey),
    ...(opts.acl !== undefined ? { acl: opts.acl } : {}),
  };
  ctx.catalog.uploads.create(u, ctx.limits(b.owner));
  return toUploadInfo(u);
}

export async function uploadPart(
  ctx: StoreContext,
  dst: { bucket: string; key: string; uploadId: string; partNumber: number },
  body: PutBody,
  opts: { size?: number | undefined; signal?: AbortSignal | undefined; customerKey?: CustomerKey | undefined },
): Promise<PartInfo> {
  checkPartNumber(dst.partNumber);
  bucketOrThrow(ctx, dst.bucket);
  const u = uploadOrThrow(ctx, dst.bucket, dst.key, dst.uploadId);
  checkUploadKey(u, opts.customerKey); // every part under the upload's SSE-C key (or none)
  const limits = ctx.limits(u.owner);
  const maxSize = Math.min(MAX_PART_SIZE, maxObjectSizeFor(ctx, limits));
  const customerKey = opts.customerKey?.key;
  return writeAndCommit(ctx, { owner: u.owner, limits, body, size: opts.size, maxSize, signal: opts.signal, customerKey }, (w) => {
    const current = uploadOrThrow(ctx, dst.bucket, dst.key, dst.uploadId); // not aborted meanwhile
    const part: PartRecord = {
      partNumber: dst.partNumber,
      manifestId: w.manifestId,
      size: w.size,
      etag: w.md5.toString('hex'),
      checksums: w.checksums,
      lastModified: Date.now(),
    };
    const { dropped } = ctx.catalog.uploads.putPart(current, part);
    ctx.data.commit(w.manifestId);
    releaseOrphans(ctx, dropped);
    return toPartInfo(part);
  });
}

/** Reads a range of an object through the store's own GET and stores it as a part. */
export async function uploadPartCopy(
  ctx: StoreContext,
  read: (
    bucket: string,
    key: string,
    opts: { versionId?: string; range?: { start: number; end: number }; check: (i: ObjectInfo) => void; signal?: AbortSignal; customerKey?: CustomerKey },
  ) => Promise<{ body: AsyncIterable<Uint8Array> & { destroy(): void } }>,
  src: { bucket: string; key: string; versionId?: string },
  dst: { bucket: string; key: string; uploadId: string; partNumber: number },
  opts: { range?: ByteRange; check?: (source: ObjectInfo) => void; signal?: AbortSignal; sourceCustomerKey?: CustomerKey; customerKey?: CustomerKey },
): Promise<PartInfo> {
  checkPartNumber(dst.partNumber);
  bucketOrThrow(ctx, dst.bucket);
  const u = uploadOrThrow(ctx, dst.bucket, dst.key, dst.uploadId);
  checkUploadKey(u, opts.customerKey);
  let size = 0;
  const check = (info: ObjectInfo): void => {
    opts.check?.(info);
    if (opts.range && (opts.range.start > opts.range.end || opts.range.end >= info.size)) throw Errors.invalidRange(info.size);
    size = opts.range ? opts.range.end - opts.range.start + 1 : info.size;
  };
  const { body } = await read(src.bucket, src.key, {
    ...(src.versionId !== undefined ? { versionId: src.versionId } : {}),
    ...(opts.range ? { range: { start: opts.range.start, end: opts.range.end } } : {}),
    check,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.sourceCustomerKey ? { customerKey: opts.sourceCustomerKey } : {}),
  });
  try {
    const put = createPutBody(body, { algorithms: u.checksumAlgorithm ? [u.checksumAlgorithm] : [], expectedSize: size });
    return await uploadPart(ctx, dst, put, { size, signal: opts.signal, customerKey: opts.customerKey });
  } finally {
    body.destroy();
  }
}

export function completeMultipartUpload(
  ctx: StoreContext,
  target: { bucket: string; key: string; uploadId: string },
  parts: readonly CompletePart[],
  opts: { conditions?: WriteConditions | undefined; checksums?: Checksums | undefined },
): ObjectInfo {
  const { bucket, key, uploadId } = target;
  const b = bucketOrThrow(ctx, bucket);
  if (parts.length === 0) throw Errors.invalidRequest('You must specify at least one part');
  for (let i = 1; i < parts.length; i++) if (parts[i]!.partNumber <= parts[i - 1]!.partNumber) throw Errors.invalidPartOrder();
  return ctx.catalog.tx(() => {
    const u = ctx.catalog.uploads.get(uploadId);
    if (!u || u.bucket !== bucket || u.key !== key) return alreadyCompleted(ctx, target, parts);
    checkWriteConditions(live(ctx.catalog.getObject(bucket, key)), opts.conditions, key);
    const stored = parts.map((p) => listedPart(ctx, uploadId, p));
    stored.forEach((p, i) => {
      if (i < stored.length - 1 && p.size < MIN_PART_SIZE) throw Errors.entityTooSmall(p.partNumber, p.size);
    });
    const size = stored.reduce((n, p) => n + p.size, 0);
    const limits = ctx.limits(b.owner);
    const max = maxObjectSizeFor(ctx, limits);
    if (size > max) throw tooLarge(b.owner, limits, size, max);
    const settings = ctx.catalog.settings(bucket);
    const lock = lockOfNewVersion(settings, bucket, u.lock);
    const versionId = versionIdFor(settings);
    const replaced = versionId === 'null' ? ctx.catalog.getObject(bucket, key, 'null') : undefined;
    checkRemovable(ctx, replaced);
    if (!live(replaced)) ctx.catalog.usage.checkObjects(b.owner, limits);
    const md5 = createHash('md5');
    for (const p of stored) md5.update(Buffer.from(p.etag, 'hex'));
    const sums = multipartChecksums(u, stored, opts.checksums);
    const pieces: Piece[] = stored.map((p) => ({ manifestId: p.manifestId, size: p.size, partNumber: p.partNumber, etag: p.etag, checksums: p.checksums }));
    const obj = {
      bucket,
      key,
      size,
      etag: `${md5.digest('hex')}-${stored.length}`,
      lastModified: Date.now(),
      meta: u.meta,
      checksums: sums.checksums,
      ...(sums.checksumType ? { checksumType: sums.checksumType } : {}),
      partsCount: stored.length,
      tags: u.tags,
      owner: b.owner,
      uploadId,
      versionId,
      ...lock,
      ...(u.customerKeyCheck !== undefined ? { customerKeyCheck: u.customerKeyCheck } : {}),
    };
    const put = ctx.catalog.putObject(obj, pieces);
    const removed = ctx.catalog.uploads.remove(u);
    releaseOrphans(ctx, [...put.dropped, ...removed.dropped]);
    const made = ctx.catalog.getObject(bucket, key)!;
    if (u.acl !== undefined) ctx.catalog.setObjectAcl(made.id, u.acl); // the ACL CreateMultipartUpload asked for
    return toObjectInfo(made);
  });
}

/** The stored part a Complete request lists, checked against its ETag and checksums. */
function listedPart(ctx: StoreContext, uploadId: string, p: CompletePart): PartRecord {
  const r = ctx.catalog.uploads.getPart(uploadId, p.partNumber);
  if (!r || normalizeEtag(p.etag) !== r.etag) throw Errors.invalidPart();
  for (const [alg, value] of Object.entries(p.checksums ?? {})) {
    const have = r.checksums[alg as keyof Checksums];
    if (have !== undefined && have !== value) {
      throw Errors.invalidPart(`The ${alg} checksum given for part ${p.partNumber} does not match the part's checksum; list the value UploadPart returned.`);
    }
  }
  return r;
}

/** A repeated Complete of an upload that already made the current object answers the same. */
function alreadyCompleted(ctx: StoreContext, t: { bucket: string; key: string; uploadId: string }, parts: readonly CompletePart[]): ObjectInfo {
  const o = ctx.catalog.getObject(t.bucket, t.key);
  if (o?.uploadId === t.uploadId) {
    const pieces = ctx.catalog.pieces(o.id);
    const same =
      pieces.length === parts.length && pieces.every((p, i) => p.partNumber === parts[i]!.partNumber && p.etag === normalizeEtag(parts[i]!.etag));
    if (same) return toObjectInfo(o);
  }
  throw Errors.noSuchUpload(t.uploadId);
}

export function abortMultipartUpload(ctx: StoreContext, bucket: string, key: string, uploadId: string): void {
  bucketOrThrow(ctx, bucket);
  ctx.catalog.tx(() => {
    const u = uploadOrThrow(ctx, bucket, key, uploadId);
    releaseOrphans(ctx, ctx.catalog.uploads.remove(u).dropped);
  });
}

export function listParts(ctx: StoreContext, bucket: string, key: string, uploadId: string, opts: ListPartsOptions): ListPartsResult {
  bucketOrThrow(ctx, bucket);
  const u = uploadOrThrow(ctx, bucket, key, uploadId);
  const max = Math.max(0, opts.maxParts);
  const rows = ctx.catalog.uploads.parts(uploadId, opts.partNumberMarker ?? 0, max + 1);
  const parts = rows.slice(0, max).map(toPartInfo);
  const last = parts[parts.length - 1];
  return {
    upload: toUploadInfo(u),
    parts,
    isTruncated: rows.length > max,
    ...(last ? { nextPartNumberMarker: last.partNumber } : {}),
  };
}

export function listMultipartUploads(ctx: StoreContext, bucket: string, opts: ListUploadsOptions): ListUploadsResult {
  bucketOrThrow(ctx, bucket);
  const r = ctx.catalog.uploads.list(bucket, opts);
  return {
    uploads: r.uploads.map(toUploadInfo),
    commonPrefixes: r.commonPrefixes,
    isTruncated: r.isTruncated,
    ...(r.isTruncated && r.nextKeyMarker !== undefined ? { nextKeyMarker: r.nextKeyMarker } : {}),
    ...(r.isTruncated && r.nextUploadIdMarker !== undefined ? { nextUploadIdMarker: r.nextUploadIdMarker } : {}),
  };
}
