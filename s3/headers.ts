/**
 * Object headers in and out: stored metadata, tags, ranges and conditional requests.
 */
import { canonicalIdOf } from './access/acl.ts';
import { headerText } from './auth/canonical.ts';
import { Errors, DomainError } from '../src/core/errors.ts';
import type { ObjectInfo, ObjectMeta, RangeSpec, Tags, Checksums, ChecksumAlgorithm } from '../src/core/object-store.ts';
import { CHECKSUM_ALGORITHMS, checkPartNumber } from '../src/core/object-store.ts';
import { etagListMatches } from '../src/core/etag.ts';

/** S3's limit on user metadata (names + values of x-amz-meta-*). */
export const MAX_USER_METADATA = 2048;

const STORED: [keyof Omit<ObjectMeta, 'user'>, string][] = [
  ['contentType', 'content-type'],
  ['contentEncoding', 'content-encoding'],
  ['contentDisposition', 'content-disposition'],
  ['contentLanguage', 'content-language'],
  ['cacheControl', 'cache-control'],
  ['expires', 'expires'],
];

export function metaFromHeaders(h: Record<string, string>): ObjectMeta {
  const meta: ObjectMeta = { user: {} };
  for (const [field, name] of STORED) {
    const v = h[name];
    if (v !== undefined) meta[field] = v;
  }
  // aws-chunked is how the body was framed on the wire, never a property of the object.
  if (meta.contentEncoding !== undefined) {
    const rest = meta.contentEncoding
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked');
    if (rest.length === 0) delete meta.contentEncoding;
    else meta.contentEncoding = rest.join(', ');
  }
  let size = 0;
  for (const [name, value] of Object.entries(h)) {
    if (!name.startsWith('x-amz-meta-')) continue;
    const short = name.slice('x-amz-meta-'.length);
    meta.user[short] = headerText(value);
    size += short.length + Buffer.byteLength(value);
  }
  if (size > MAX_USER_METADATA) {
    throw new DomainError(
      'MetadataTooLarge',
      `Your x-amz-meta-* headers are ${size} bytes; the limit is ${MAX_USER_METADATA} bytes. Store less metadata, or store it in the object.`,
      { Size: String(size), MaxSizeAllowed: String(MAX_USER_METADATA) },
    );
  }
  return meta;
}

const httpDate = (d: Date): string => d.toUTCString();

/** As S3 answers user metadata that is not printable US-ASCII: RFC 2047 `=?UTF-8?B?…?=`. */
export const rfc2047 = (v: string): string => (/^[\x20-\x7e]*$/.test(v) ? v : `=?UTF-8?B?${Buffer.from(v, 'utf8').toString('base64')}?=`);

export const quoteEtag = (etag: string): string => `"${etag}"`;
export const unquoteEtag = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');

/** Headers of a GET/HEAD response describing the object (Content-Length is set by the caller). */
export function objectHeaders(info: ObjectInfo, opts: { checksumMode?: boolean } = {}): Record<string, string> {
  const h: Record<string, string> = {
    ETag: quoteEtag(info.etag),
    'Last-Modified': httpDate(info.lastModified),
    'Accept-Ranges': 'bytes',
    'Content-Type': info.meta.contentType ?? 'binary/octet-stream',
  };
  for (const [field, name] of STORED) {
    const v = info.meta[field];
    if (v !== undefined && field !== 'contentType') h[name] = v;
  }
  for (const [k, v] of Object.entries(info.meta.user)) h[`x-amz-meta-${k}`] = rfc2047(v);
  if (info.tagCount > 0) h['x-amz-tagging-count'] = String(info.tagCount);
  if (info.partsCount !== undefined) h['x-amz-mp-parts-count'] = String(info.partsCount);
  if (opts.checksumMode) {
    Object.assign(h, checksumHeaders(info.checksums));
    if (info.checksumType && Object.keys(info.checksums).length > 0) h['x-amz-checksum-type'] = info.checksumType;
  }
  return h;
}

export function checksumHeaders(c: Checksums): Record<string, string> {
  const h: Record<string, string> = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = c[alg];
    if (v !== undefined) h[`x-amz-checksum-${alg.toLowerCase()}`] = v;
  }
  return h;
}

/** XML fields ChecksumCRC32... for a Checksums value. */
export function checksumFields(c: Checksums): Record<string, string> {
  const out: Record<string, string> = {};
  for (const alg of CHECKSUM_ALGORITHMS) {
    const v = c[alg];
    if (v !== undefined) out[`Checksum${alg}`] = v;
  }
  return out;
}

export function parseChecksumAlgorithm(v: string | undefined | null): ChecksumAlgorithm | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const up = v.toUpperCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(up)) {
    throw Errors.invalidArgument(
      `Checksum algorithm '${v}' is not supported; use one of ${CHECKSUM_ALGORITHMS.join(', ')}.`,
      'x-amz-checksum-algorithm',
      v,
    );
  }
  return up;
}

/**
 * Range: bytes=a-b | a- | -n. A header that is not a single valid byte range is ignored (the whole
 * object is served), as S3 and RFC 9110 do.
 */
export function parseRange(header: string | undefined): RangeSpec | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes=(\d*)-(\d*)\s*$/.exec(header);
  if (!m) return undefined;
  const [, a, b] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') return { suffix: Number(b) };
  const start = Number(a);
  if (b === '') return { start };
  const end = Number(b);
  if (end < start) return undefined;
  return { start, end };
}


const parseDate = (v: string | undefined): Date | undefined => {
  if (v === undefined) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
};

/** Whole seconds: HTTP dates have no milliseconds. */
const seconds = (d: Date): number => Math.floor(d.getTime() / 1000);

/** GET/HEAD conditions (RFC 9110 order, as S3 applies them): 412 PreconditionFailed or 304 NotModified. */
export function checkReadConditions(h: Record<string, string>, info: ObjectInfo): void {
  const ifMatch = h['if-match'];
  const ifNoneMatch = h['if-none-match'];
  const ifUnmodified = parseDate(h['if-unmodified-since']);
  const ifModified = parseDate(h['if-modified-since']);
  if (ifMatch !== undefined) {
    if (!etagListMatches(ifMatch, info.etag)) throw Errors.preconditionFailed('If-Match');
  } else if (ifUnmodified && seconds(info.lastModified) > seconds(ifUnmodified)) {
    throw Errors.preconditionFailed('If-Unmodified-Since');
  }
  if (ifNoneMatch !== undefined) {
    if (etagListMatches(ifNoneMatch, info.etag)) throw Errors.notModified();
  } else if (ifModified && seconds(info.lastModified) <= seconds(ifModified)) {
    throw Errors.notModified();
  }
}

/** x-amz-copy-source-if-*: every failure is 412. */
export function checkCopySourceConditions(h: Record<string, string>, info: ObjectInfo): void {
  const ifMatch = h['x-amz-copy-source-if-match'];
  const ifNoneMatch = h['x-amz-copy-source-if-none-match'];
  const ifUnmodified = parseDate(h['x-amz-copy-source-if-unmodified-since']);
  const ifModified = parseDate(h['x-amz-copy-source-if-modified-since']);
  if (ifMatch !== undefined && !etagListMatches(ifMatch, info.etag)) throw Errors.preconditionFailed('x-amz-copy-source-If-Match');
  if (ifMatch === undefined && ifUnmodified && seconds(info.lastModified) > seconds(ifUnmodified))
    throw Errors.preconditionFailed('x-amz-copy-source-If-Unmodified-Since');
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, info.etag))
    throw Errors.preconditionFailed('x-amz-copy-source-If-None-Match');
  if (ifNoneMatch === undefined && ifModified && seconds(info.lastModified) <= seconds(ifModified))
    throw Errors.preconditionFailed('x-amz-copy-source-If-Modified-Since');
}

/** If-Match / If-None-Match on PUT and CompleteMultipartUpload. */
export function writeConditions(h: Record<string, string>): { ifMatch?: string; ifNoneMatch?: string } | undefined {
  const ifMatch = h['if-match'];
  const ifNoneMatch = h['if-none-match'];
  if (ifMatch === undefined && ifNoneMatch === undefined) return undefined;
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== '*') {
    throw new DomainError('NotImplemented', "If-None-Match on a write accepts only '*' (create the object only if the key is free).", {
      Header: 'If-None-Match',
    });
  }
  return {
    ...(ifMatch !== undefined ? { ifMatch: unquoteEtag(ifMatch) } : {}),
    ...(ifNoneMatch !== undefined ? { ifNoneMatch: '*' } : {}),
  };
}

/** Tag rules: at most 10 tags, keys up to 128 and values up to 256 characters, keys unique. */
export function validateTags(entries: [string, string][]): Tags {
  if (entries.length > 10) throw new DomainError('InvalidTag', `Object tags cannot be greater than 10 (got ${entries.length}).`);
  const tags: Tags = {};
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 128) throw new DomainError('InvalidTag', `The tag key '${k}' must be 1 to 128 characters long.`);
    if (v.length > 256) throw new DomainError('InvalidTag', `The value of tag '${k}' is longer than 256 characters.`);
    if (k in tags) throw new DomainError('InvalidTag', `Cannot provide multiple tags with the same key ('${k}').`);
    tags[k] = v;
  }
  return tags;
}

/** x-amz-tagging: "k1=v1&k2=v2", URL-encoded. */
export function parseTaggingHeader(v: string | undefined): Tags | undefined {
  if (v === undefined) return undefined;
  return validateTags([...new URLSearchParams(v).entries()]);
}

/** S3 key rules: 1..1024 bytes of UTF-8. */
export function validateKey(key: string): void {
  const len = Buffer.byteLength(key);
  if (len > 1024) {
    throw new DomainError('KeyTooLongError', `Your key is ${len} bytes; keys are limited to 1024 bytes of UTF-8.`, {
      Size: String(len),
      MaxSizeAllowed: '1024',
    });
  }
}

/** S3 bucket name rules (3-63 chars, lower-case letters, digits, dots and hyphens, no IP form...). */
export function validateBucketName(name: string): void {
  const bad = (why: string): never => {
    throw new DomainError('InvalidBucketName', `The bucket name '${name}' is not valid: ${why}.`, { BucketName: name });
  };
  if (name.length < 3 || name.length > 63) bad('it must be 3 to 63 characters long');
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) bad('use only lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit');
  if (name.includes('..')) bad('it must not contain two adjacent dots');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) bad('it must not be formatted as an IP address');
  if (name.startsWith('xn--') || name.startsWith('sthree-') || name.endsWith('-s3alias') || name.endsWith('--ol-s3'))
    bad('it uses a prefix or suffix reserved by S3');
}

/** ?partNumber=N (1..10000); undefined when the query has none. */
export function partNumberOf(q: URLSearchParams): number | undefined {
  const v = q.get('partNumber');
  if (v === null) return undefined;
  const n = Number(v);
  checkPartNumber(n, v);
  return n;
}

/** ?partNumber=N where the operation needs one (UploadPart, UploadPartCopy). */
export function requiredPartNumber(q: URLSearchParams): number {
  const n = partNumberOf(q) ?? NaN;
  checkPartNumber(n, q.get('partNumber') ?? '');
  return n;
}

/** An Owner / Initiator element: the account's canonical id (stable, 64 hex digits) and its name. */
export const ownerXml = (account: string) => ({ ID: canonicalIdOf(account), DisplayName: account });

/**
 * PutObject and UploadPart need the body's length up front (S3: 411 MissingContentLength): a
 * Content-Length, or an aws-chunked body (whose decoded length may be declared or found as it flows).
 */
export function requireContentLength(h: Record<string, string>): void {
  if (h['content-length'] !== undefined || h['x-amz-decoded-content-length'] !== undefined) return;
  const awsChunked =
    (h['x-amz-content-sha256'] ?? '').startsWith('STREAMING-') ||
    (h['content-encoding'] ?? '').split(',').some((e) => e.trim().toLowerCase() === 'aws-chunked');
  if (!awsChunked) throw new DomainError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
}
