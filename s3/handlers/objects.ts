/** Single-object operations: PutObject, GetObject, HeadObject, DeleteObject, GetObjectAcl. */
import type { CustomerKey, ObjectInfo } from '../../src/core/object-store.ts';
import type { Handler, S3Context } from '../context.ts';
import {
  checkReadConditions,
  checksumHeaders,
  metaFromHeaders,
  objectHeaders,
  parseChecksumAlgorithm,
  parseRange,
  parseTaggingHeader,
  partNumberOf,
  quoteEtag,
  requireContentLength,
  validateKey,
  writeConditions,
} from '../headers.ts';
import { resolveRange } from '../../src/core/range.ts';
import { removeOptions, versionHeaders, versionIdOf } from './versioning.ts';
import { lockFromHeaders } from './object-lock.ts';
import { checkServerSideEncryption, customerKeyOf, encryptionHeaders } from '../sse.ts';

export const putObject: Handler<'PutObject'> = async (ctx) => {
  const { store, op, headers, body, signal } = ctx;
  validateKey(op.key);
  requireContentLength(headers);
  const customerKey = customerKeyOf(headers, ctx);
  checkServerSideEncryption(headers, customerKey);
  const meta = metaFromHeaders(headers);
  const tags = parseTaggingHeader(headers['x-amz-tagging']);
  const algorithm = parseChecksumAlgorithm(headers['x-amz-sdk-checksum-algorithm'] ?? headers['x-amz-checksum-algorithm']);
  const info = await store.putObject(op.bucket, op.key, body.putBody({ algorithms: algorithm ? [algorithm] : [] }), {
    meta,
    tags,
    size: body.size,
    conditions: writeConditions(headers),
    signal,
    lock: lockFromHeaders(headers),
    ...(customerKey ? { customerKey } : {}),
  });
  return {
    status: 200,
    headers: {
      ETag: quoteEtag(info.etag),
      ...checksumHeaders(info.checksums),
      ...versionHeaders(store, info, { lock: false }),
      ...encryptionHeaders(info, customerKey),
    },
  };
};

const OVERRIDES: [string, string][] = [
  ['response-content-type', 'Content-Type'],
  ['response-content-language', 'content-language'],
  ['response-expires', 'expires'],
  ['response-cache-control', 'cache-control'],
  ['response-content-disposition', 'content-disposition'],
  ['response-content-encoding', 'content-encoding'],
];

/** Checksums describe the whole object: they are sent only when the whole object is (as S3 does). */
function responseHeaders(ctx: S3Context, info: ObjectInfo, whole: boolean, customerKey: CustomerKey | undefined): Record<string, string> {
  const h = objectHeaders(info, { checksumMode: whole && ctx.headers['x-amz-checksum-mode']?.toUpperCase() === 'ENABLED' });
  Object.assign(h, versionHeaders(ctx.store, info), encryptionHeaders(info, customerKey));
  for (const [param, header] of OVERRIDES) {
    const v = ctx.op.query.get(param);
    if (v !== null) h[header] = v;
  }
  return h;
}

export const getObject: Handler<'GetObject'> = async (ctx) => {
  const { store, op, headers, signal } = ctx;
  const partNumber = partNumberOf(op.query);
  const range = partNumber === undefined ? parseRange(headers.range) : undefined;
  const customerKey = customerKeyOf(headers, ctx);
  const res = await store.getObject(op.bucket, op.key, {
    ...(customerKey ? { customerKey } : {}),
    versionId: versionIdOf(op.query),
    range,
    partNumber,
    check: (info) => checkReadConditions(headers, info),
    signal,
  });
  // a part (partNumber) is served with its own checksum, a byte range with none
  const h = responseHeaders(ctx, res.info, res.range === undefined || partNumber !== undefined, customerKey);
  if (res.range) {
    h['Content-Range'] = `bytes ${res.range.start}-${res.range.end}/${res.info.size}`;
    h['Content-Length'] = String(res.range.end - res.range.start + 1);
    return { status: 206, headers: h, body: res.body };
  }
  h['Content-Length'] = String(res.info.size);
  return { status: 200, headers: h, body: res.body };
};

export const headObject: Handler<'HeadObject'> = (ctx) => {
  const { store, op, headers } = ctx;
  const partNumber = partNumberOf(op.query);
  const customerKey = customerKeyOf(headers, ctx);
  const info = store.headVersion(op.bucket, op.key, { partNumber, versionId: versionIdOf(op.query), ...(customerKey ? { customerKey } : {}) });
  checkReadConditions(headers, info);
  const range = partNumber === undefined ? parseRange(headers.range) : undefined;
  const h = responseHeaders(ctx, info, range === undefined, customerKey);
  h['Content-Length'] = String(info.size);
  if (range !== undefined) {
    const r = resolveRange(range, info.size);
    h['Content-Range'] = `bytes ${r.start}-${r.end}/${info.size}`;
    h['Content-Length'] = String(r.end - r.start + 1);
    return { status: 206, headers: h };
  }
  return { status: partNumber === undefined ? 200 : 206, headers: h };
};

export const deleteObject: Handler<'DeleteObject'> = async (ctx) => {
  const { store, op } = ctx;
  const r = await store.removeObject(op.bucket, op.key, removeOptions(ctx, versionIdOf(op.query)));
  const h: Record<string, string> = {};
  if (r.versionId !== undefined) h['x-amz-version-id'] = r.versionId;
  if (r.deleteMarker) h['x-amz-delete-marker'] = 'true';
  return { status: 204, headers: h };
};

