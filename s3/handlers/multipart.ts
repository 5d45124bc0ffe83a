/** Multipart upload: create, upload part (and copy), complete, abort, list parts and uploads. */
import { DomainError, Errors } from '../../src/core/errors.ts';
import type { Checksums, ChecksumType, CompletePart } from '../../src/core/object-store.ts';
import { CHECKSUM_ALGORITHMS } from '../../src/core/object-store.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import {
  checkCopySourceConditions,
  checksumFields,
  checksumHeaders,
  metaFromHeaders,
  parseChecksumAlgorithm,
  ownerXml,
  parseTaggingHeader,
  quoteEtag,
  requiredPartNumber,
  unquoteEtag,
  requireContentLength,
  validateKey,
  writeConditions,
} from '../headers.ts';
import { list, readXml, text, xmlDocument } from '../xml.ts';
import { parseCopySource } from './copy.ts';
import { encodingOf, maxKeysOf } from './list.ts';
import { resolveRange } from '../../src/core/range.ts';
import { lockFromHeaders } from './object-lock.ts';
import { versionHeaders } from './versioning.ts';
import { checkServerSideEncryption, customerKeyOf, encryptionHeaders } from '../sse.ts';
import { requestedAcl } from './access.ts';
import { canonicalIdOf, encodeAcl } from '../access/acl.ts';


function checksumTypeOf(v: string | undefined): ChecksumType | undefined {
  if (v === undefined) return undefined;
  const up = v.toUpperCase();
  if (up !== 'COMPOSITE' && up !== 'FULL_OBJECT') {
    throw Errors.invalidArgument(`x-amz-checksum-type '${v}' is not valid: use COMPOSITE or FULL_OBJECT.`, 'x-amz-checksum-type', v);
  }
  return up;
}

export const createMultipartUpload: Handler<'CreateMultipartUpload'> = async (ctx) => {
  const { store, op, headers } = ctx;
  validateKey(op.key);
  // x-amz-acl / x-amz-grant-*: checked now, set on the object at Complete
  const acl = await requestedAcl(ctx, canonicalIdOf(store.getBucket(op.bucket).owner), { body: false });
  const customerKey = customerKeyOf(headers, ctx);
  checkServerSideEncryption(headers, customerKey);
  const checksumAlgorithm = parseChecksumAlgorithm(headers['x-amz-checksum-algorithm']);
  const upload = store.createMultipartUpload(op.bucket, op.key, {
    meta: metaFromHeaders(headers),
    tags: parseTaggingHeader(headers['x-amz-tagging']),
    checksumAlgorithm,
    checksumType: checksumTypeOf(headers['x-amz-checksum-type']),
    lock: lockFromHeaders(headers),
    ...(customerKey ? { customerKey } : {}),
    ...(acl ? { acl: encodeAcl(acl) } : {}),
  });
  const h: Record<string, string> = encryptionHeaders({ customerKeyed: customerKey !== undefined }, customerKey);
  if (upload.checksumAlgorithm) h['x-amz-checksum-algorithm'] = upload.checksumAlgorithm;
  if (upload.checksumType) h['x-amz-checksum-type'] = upload.checksumType;
  return xmlResult(xmlDocument('InitiateMultipartUploadResult', { Bucket: op.bucket, Key: op.key, UploadId: upload.uploadId }), h);
};

export const uploadPart: Handler<'UploadPart'> = async (ctx) => {
  const { store, op, headers, body, signal } = ctx;
  const partNumber = requiredPartNumber(op.query);
  requireContentLength(headers); // 411 MissingContentLength
  const algorithm = parseChecksumAlgorithm(headers['x-amz-sdk-checksum-algorithm'] ?? headers['x-amz-checksum-algorithm']);
  const customerKey = customerKeyOf(headers, ctx);
  const part = await store.uploadPart(op.bucket, op.key, op.uploadId, partNumber, body.putBody({ algorithms: algorithm ? [algorithm] : [] }), {
    size: body.size,
    signal,
    ...(customerKey ? { customerKey } : {}),
  });
  const enc = encryptionHeaders({ customerKeyed: customerKey !== undefined }, customerKey);
  return { status: 200, headers: { ETag: quoteEtag(part.etag), ...checksumHeaders(part.checksums), ...enc } };
};

export const uploadPartCopy: Handler<'UploadPartCopy'> = async (ctx) => {
  const { store, op, headers, signal, authorizeBucket } = ctx;
  const partNumber = requiredPartNumber(op.query);
  const src = parseCopySource(op.copySource);
  authorizeBucket(src.bucket, 'read', src.key);
  const rangeHeader = headers['x-amz-copy-source-range'];
  let range: { start: number; end: number } | undefined;
  if (rangeHeader !== undefined) {
    const m = /^bytes=(\d+)-(\d+)$/.exec(rangeHeader.trim());
    if (!m || Number(m[2]) < Number(m[1])) {
      throw Errors.invalidArgument('The x-amz-copy-source-range value must be of the form bytes=first-last.', 'x-amz-copy-source-range', rangeHeader);
    }
    range = { start: Number(m[1]), end: Number(m[2]) };
  }
  const sourceCustomerKey = customerKeyOf(headers, ctx, true);
  const customerKey = customerKeyOf(headers, ctx);
  const part = await store.uploadPartCopy(src, { bucket: op.bucket, key: op.key, uploadId: op.uploadId, partNumber }, {
    range,
    check: (source) => {
      checkCopySourceConditions(headers, source);
      if (range) {
        const r = resolveRange(range, source.size);
        if (r.end !== range.end) {
          throw Errors.invalidArgument(`Range specified is not valid for source object of size: ${source.size}`, 'x-amz-copy-source-range', rangeHeader);
        }
      }
    },
    signal,
    ...(sourceCustomerKey ? { sourceCustomerKey } : {}),
    ...(customerKey ? { customerKey } : {}),
  });
  return xmlResult(
    xmlDocument('CopyPartResult', { ETag: quoteEtag(part.etag), LastModified: part.lastModified.toISOString(), ...checksumFields(part.checksums) }),
    encryptionHeaders({ customerKeyed: customerKey !== undefined }, customerKey),
  );
};

function partChecksums(node: unknown): Checksums | undefined {
  const c: Checksums = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = text(node, `Checksum${alg}`);
    if (v !== undefined && v !== '') c[alg] = v;
  }
  return Object.keys(c).length > 0 ? c : undefined;
}

export const completeMultipartUpload: Handler<'CompleteMultipartUpload'> = async (ctx) => {
  const { store, op, headers, body } = ctx;
  const doc = await readXml(body.putBody(), 'CompleteMultipartUpload');
  const parts: CompletePart[] = list(doc, 'Part').map((p) => {
    const n = Number(text(p, 'PartNumber'));
    const etag = text(p, 'ETag');
    if (!Number.isInteger(n) || etag === undefined) {
      throw new DomainError('MalformedXML', 'Every <Part> needs a <PartNumber> and the <ETag> UploadPart returned.');
    }
    return { partNumber: n, etag: unquoteEtag(etag), checksums: partChecksums(p) };
  });
  if (parts.length === 0) throw new DomainError('MalformedXML', 'The CompleteMultipartUpload document lists no <Part>; list every part to assemble.');
  const full: Checksums = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = headers[`x-amz-checksum-${alg.toLowerCase()}`];
    if (v !== undefined) full[alg] = v;
  }
  const info = await store.completeMultipartUpload(op.bucket, op.key, op.uploadId, parts, {
    conditions: writeConditions(headers),
    checksums: Object.keys(full).length > 0 ? full : undefined,
  });
  return xmlResult(
    xmlDocument('CompleteMultipartUploadResult', {
      Location: `/${op.bucket}/${encodeURI(op.key)}`,
      Bucket: op.bucket,
      Key: op.key,
      ETag: quoteEtag(info.etag),
      ...checksumFields(info.checksums),
      ...(info.checksumType && Object.keys(info.checksums).length > 0 ? { ChecksumType: info.checksumType } : {}),
    }),
    { ...versionHeaders(store, info, { lock: false }), ...encryptionHeaders(info, undefined) }, // x-amz-version-id, x-amz-expiration (issue 16)
  );
};

export const abortMultipartUpload: Handler<'AbortMultipartUpload'> = async (ctx) => {
  await ctx.store.abortMultipartUpload(ctx.op.bucket, ctx.op.key, ctx.op.uploadId);
  return { status: 204 };
};

export const listParts: Handler<'ListParts'> = (ctx) => {
  const { store, op, account } = ctx;
  const q = op.query;
  const markerText = q.get('part-number-marker');
  const marker = markerText === null || markerText === '' ? 0 : Number(markerText);
  if (!Number.isInteger(marker) || marker < 0) throw Errors.invalidArgument('part-number-marker must be a non-negative integer.', 'part-number-marker', markerText ?? '');
  const maxParts = maxKeysOf(q, 'max-parts');
  const r = store.listParts(op.bucket, op.key, op.uploadId, { partNumberMarker: marker, maxParts });
  return xmlResult(
    xmlDocument('ListPartsResult', {
      Bucket: op.bucket,
      Key: op.key,
      UploadId: r.upload.uploadId,
      Initiator: ownerXml(account),
      Owner: ownerXml(account),
      StorageClass: 'STANDARD',
      PartNumberMarker: marker,
      ...(r.nextPartNumberMarker !== undefined ? { NextPartNumberMarker: r.nextPartNumberMarker } : {}),
      MaxParts: maxParts,
      IsTruncated: r.isTruncated,
      ...(r.upload.checksumAlgorithm ? { ChecksumAlgorithm: r.upload.checksumAlgorithm, ChecksumType: r.upload.checksumType } : {}),
      Part: r.parts.map((p) => ({
        PartNumber: p.partNumber,
        LastModified: p.lastModified.toISOString(),
        ETag: quoteEtag(p.etag),
        Size: p.size,
        ...checksumFields(p.checksums),
      })),
    }),
  );
};

export const listMultipartUploads: Handler<'ListMultipartUploads'> = ({ store, op, account }) => {
  const q = op.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const uploadIdMarker = q.get('upload-id-marker') ?? '';
  const maxUploads = maxKeysOf(q, 'max-uploads');
  const enc = encodingOf(q);
  const r = store.listMultipartUploads(op.bucket, {
    prefix,
    delimiter: delimiter || undefined,
    keyMarker: keyMarker || undefined,
    uploadIdMarker: uploadIdMarker || undefined,
    maxUploads,
  });
  return xmlResult(
    xmlDocument('ListMultipartUploadsResult', {
      Bucket: op.bucket,
      KeyMarker: enc(keyMarker),
      UploadIdMarker: uploadIdMarker,
      ...(r.nextKeyMarker !== undefined ? { NextKeyMarker: enc(r.nextKeyMarker) } : {}),
      ...(r.nextUploadIdMarker !== undefined ? { NextUploadIdMarker: r.nextUploadIdMarker } : {}),
      Prefix: enc(prefix),
      ...(delimiter ? { Delimiter: enc(delimiter) } : {}),
      MaxUploads: maxUploads,
      IsTruncated: r.isTruncated,
      ...(q.has('encoding-type') ? { EncodingType: 'url' } : {}),
      Upload: r.uploads.map((u) => ({
        Key: enc(u.key),
        UploadId: u.uploadId,
        Initiator: ownerXml(account),
        Owner: ownerXml(account),
        StorageClass: 'STANDARD',
        Initiated: u.initiated.toISOString(),
        ...(u.checksumAlgorithm ? { ChecksumAlgorithm: u.checksumAlgorithm, ChecksumType: u.checksumType } : {}),
      })),
      CommonPrefixes: r.commonPrefixes.map((p) => ({ Prefix: enc(p) })),
    }),
  );
};
