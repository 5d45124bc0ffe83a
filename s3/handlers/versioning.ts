/**
 * Versioning (issue 16): Get/PutBucketVersioning, ListObjectVersions, and the version headers the
 * object handlers share (versionId from the query, x-amz-version-id, lock and expiration headers).
 */
import { DomainError, Errors } from '../../src/core/errors.ts';
import type { ObjectInfo, ObjectStore, RemoveOptions } from '../../src/core/object-store.ts';
import type { Handler, S3Context } from '../context.ts';
import { xmlResult } from '../context.ts';
import { ownerXml, quoteEtag } from '../headers.ts';
import { parseXml, readSmallBody, text, xmlDocument } from '../xml.ts';
import { encodingOf, maxKeysOf } from './list.ts';
import { expirationHeader } from './lifecycle.ts';

/** ?versionId= of the request (undefined when absent). */
export function versionIdOf(q: URLSearchParams): string | undefined {
  const v = q.get('versionId');
  if (v === null) return undefined;
  if (v === '') throw Errors.invalidArgument('Version id cannot be the empty string', 'versionId', '');
  return v;
}

/** What DeleteObject / PutObjectRetention need besides the version: who asks, and whether to bypass GOVERNANCE. */
export function removeOptions(ctx: S3Context, versionId: string | undefined): RemoveOptions {
  return {
    ...(versionId !== undefined ? { versionId } : {}),
    account: ctx.account,
    bypassGovernance: ctx.headers['x-amz-bypass-governance-retention']?.trim().toLowerCase() === 'true',
  };
}

/**
 * x-amz-version-id (buckets that have had versioning; S3 sends none for a never-versioned bucket),
 * the object lock headers and x-amz-expiration of a version.
 */
export function versionHeaders(store: ObjectStore, info: ObjectInfo, opts: { lock?: boolean; expiration?: boolean } = {}): Record<string, string> {
  const h: Record<string, string> = {};
  if (info.versionId !== undefined && (info.versionId !== 'null' || store.getBucketVersioning(info.bucket) !== undefined)) {
    h['x-amz-version-id'] = info.versionId;
  }
  if (opts.lock !== false) {
    if (info.lockMode && info.lockUntil) {
      h['x-amz-object-lock-mode'] = info.lockMode;
      h['x-amz-object-lock-retain-until-date'] = info.lockUntil.toISOString();
    }
    if (info.legalHold) h['x-amz-object-lock-legal-hold'] = 'ON';
  }
  if (opts.expiration !== false) Object.assign(h, expirationHeader(store, info));
  return h;
}

export const getBucketVersioning: Handler<'GetBucketVersioning'> = ({ store, op }) => {
  const status = store.getBucketVersioning(op.bucket);
  return xmlResult(xmlDocument('VersioningConfiguration', status ? { Status: status } : {}));
};

export const putBucketVersioning: Handler<'PutBucketVersioning'> = async ({ store, op, headers, body }) => {
  const doc = parseXml((await readSmallBody(body.putBody())).toString('utf8'), 'VersioningConfiguration');
  const mfa = text(doc, 'MfaDelete') ?? text(doc, 'MFADelete');
  if (headers['x-amz-mfa'] !== undefined || mfa === 'Enabled') {
    throw new DomainError(
      'NotImplemented',
      'MFA delete is not supported by datamesh: leave out MfaDelete (or set it to Disabled) and the x-amz-mfa header.',
    );
  }
  if (mfa !== undefined && mfa !== 'Disabled') throw new DomainError('MalformedXML', `MfaDelete must be Enabled or Disabled, not '${mfa}'.`);
  const status = text(doc, 'Status');
  if (status === undefined && mfa !== undefined) return { status: 200 };
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw new DomainError('MalformedXML', `The versioning Status must be Enabled or Suspended, not '${status ?? ''}'.`);
  }
  store.putBucketVersioning(op.bucket, status);
  return { status: 200 };
};

export const listObjectVersions: Handler<'ListObjectVersions'> = ({ store, op, account }) => {
  const q = op.query;
  const encoding = q.get('encoding-type');
  const enc = encodingOf(q);
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const versionIdMarker = q.get('version-id-marker') ?? '';
  const maxKeys = maxKeysOf(q);
  const r = store.listObjectVersions(op.bucket, {
    prefix,
    ...(delimiter ? { delimiter } : {}),
    ...(keyMarker ? { keyMarker } : {}),
    ...(versionIdMarker ? { versionIdMarker } : {}),
    maxKeys,
  });
  const owner = ownerXml(account);
  return xmlResult(
    xmlDocument('ListVersionsResult', {
      Name: op.bucket,
      Prefix: enc(prefix),
      KeyMarker: enc(keyMarker),
      VersionIdMarker: versionIdMarker,
      ...(r.nextKeyMarker !== undefined ? { NextKeyMarker: enc(r.nextKeyMarker) } : {}),
      ...(r.nextVersionIdMarker !== undefined ? { NextVersionIdMarker: r.nextVersionIdMarker } : {}),
      MaxKeys: maxKeys,
      ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
      IsTruncated: r.isTruncated,
      ...(encoding !== null ? { EncodingType: 'url' } : {}),
      Version: r.versions
        .filter((v) => !v.deleteMarker)
        .map((v) => ({
          Key: enc(v.key),
          VersionId: v.versionId,
          IsLatest: v.isLatest,
          LastModified: v.lastModified.toISOString(),
          ETag: quoteEtag(v.etag),
          ...(v.checksumAlgorithm ? { ChecksumAlgorithm: v.checksumAlgorithm, ChecksumType: v.checksumType } : {}),
          Size: v.size,
          StorageClass: 'STANDARD',
          Owner: owner,
        })),
      DeleteMarker: r.versions
        .filter((v) => v.deleteMarker)
        .map((v) => ({ Key: enc(v.key), VersionId: v.versionId, IsLatest: v.isLatest, LastModified: v.lastModified.toISOString(), Owner: owner })),
      CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
    }),
  );
};
