/**
 * AWS Signature Version 2 (S3's "RESTAuthentication"): the `Authorization: AWS AKID:signature`
 * header and the `AWSAccessKeyId` / `Signature` / `Expires` query string. Still what aws-cli v1's
 * `s3 presign`, boto3's default `generate_presigned_url`, older s3cmd and backup tools send.
 *
 *   StringToSign = VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
 *   Signature    = base64(HMAC-SHA1(secret, UTF-8(StringToSign)))
 *
 * Date is the Date header, empty when x-amz-date is sent (that header is then signed among the
 * amz headers), and the Expires value for a query-string request. The resource is /bucket/key as
 * sent (percent-encoding untouched; the bucket of a virtual-hosted request comes from the Host),
 * plus the sub-resources below, sorted, with their decoded values.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { DomainError } from '../../src/core/errors.ts';
import { AuthErrors, MAX_SKEW_MS } from './auth-errors.ts';
import { headerText, parseQuery, percentDecode } from './canonical.ts';
import { lookupKey, MAX_EXPIRES } from './credentials.ts';
import type { AuthOptions, AuthRequest, AuthResult, SecretLookup } from './types.ts';

/**
 * The query parameters that are part of the CanonicalizedResource: AWS's list, botocore's
 * (HmacV1Auth.QSAOfInterest) and the sub-resources S3 added since. Every sub-resource that selects
 * an operation must be signed: a request is never verified against a shorter list, else a holder
 * of a signed GetObject could append ?retention or ?legal-hold and have it run as another operation
 * (the price: botocore, which does not sign those newer ones, cannot call them with SigV2).
 */
const SUBRESOURCES = [
  'acl', 'cors', 'delete', 'lifecycle', 'location', 'logging', 'notification', 'partNumber', 'policy',
  'requestPayment', 'restore', 'tagging', 'torrent', 'uploadId', 'uploads', 'versionId', 'versioning',
  'versions', 'website', 'accelerate', 'analytics', 'inventory', 'metrics', 'replication', 'select',
  'select-type', 'object-lock', 'storageClass', 'defaultObjectAcl',
  'response-cache-control', 'response-content-disposition', 'response-content-encoding',
  'response-content-language', 'response-content-type', 'response-expires',
  'retention', 'legal-hold', 'encryption', 'ownershipControls', 'publicAccessBlock', 'policyStatus',
  'intelligent-tiering', 'attributes',
];
const ALL: ReadonlySet<string> = new Set(SUBRESOURCES);

/** A query-string request must carry all three. */
const QUERY_PARAMS = ['AWSAccessKeyId', 'Signature', 'Expires'] as const;

export const AUTH_V2_PREFIX = 'AWS ';

/** The CanonicalizedResource: `/bucket` + path as sent, then `?` + sorted sub-resources (decoded values). */
export function canonicalResource(path: string, params: readonly V2Param[], virtualBucket: string | undefined, subresources: ReadonlySet<string> = ALL): string {
  let out = (virtualBucket === undefined ? '' : `/${virtualBucket}`) + (path === '' ? '/' : path);
  const sub = params
    .filter((p) => subresources.has(p.name))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (sub.length > 0) out += '?' + sub.map((s) => (s.bare ? s.name : `${s.name}=${s.value}`)).join('&');
  return out;
}

/**
 * Lower-case x-amz-* headers, sorted, one `name:value\n` each, the value trimmed and unfolded
 * (repeated headers arrive joined by ',': see lowerHeaders in s3/service.ts).
 */
export function canonicalAmzHeaders(headers: Readonly<Record<string, string>>): string {
  return Object.keys(headers)
    .filter((h) => h.startsWith('x-amz-'))
    .sort()
    .map((h) => `${h}:${headerText(headers[h]!).replace(/\s*\r?\n\s*/g, ' ').trim()}\n`)
    .join('');
}

export interface StringToSignParts {
  method: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string>>;
  /** The Date slot: the Date header, '' with x-amz-date, or the Expires of a query-string request. */
  date: string;
  resource: string;
}

export const stringToSignV2 = (p: StringToSignParts): string =>
  `${p.method.toUpperCase()}\n${(p.headers['content-md5'] ?? '').trim()}\n${(p.headers['content-type'] ?? '').trim()}\n${p.date}\n` +
  `${canonicalAmzHeaders(p.headers)}${p.resource}`;

export const signV2 = (secret: string, stringToSign: string): string =>
  createHmac('sha1', secret).update(stringToSign, 'utf8').digest('base64');

/**
 * Constant-time comparison of base64 HMAC-SHA1 signatures, as text (decoding first would accept
 * variants in the padding bits); a '+' read from a query as a space is put back.
 */
export function signaturesEqualV2(computedB64: string, providedB64: string): boolean {
  const given = Buffer.from(providedB64.trim().replaceAll(' ', '+'), 'utf8');
  const expected = Buffer.from(computedB64, 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function virtualBucketOf(host: string | undefined, domain: string | undefined): string | undefined {
  if (!domain || host === undefined) return undefined;
  const h = host.toLowerCase().replace(/:\d+$/, '');
  const d = domain.toLowerCase();
  return h.endsWith('.' + d) ? h.slice(0, h.length - d.length - 1) : undefined;
}

/**
 * The resource candidates, most likely first: the path as sent and decoded (some older tools sign
 * the unencoded key; both name the same object). HMAC-SHA1 is cheap.
 */
function resourceCandidates(req: AuthRequest, params: readonly V2Param[], domain: string | undefined): string[] {
  const bucket = virtualBucketOf(req.headers['host'], domain);
  // A path-style bucket request signs as /bucket/ (AWS's list example; botocore), sent as /bucket or /bucket/.
  const paths = bucket === undefined && /^\/[^/]+$/.test(req.rawPath) ? [`${req.rawPath}/`, req.rawPath] : [req.rawPath];
  const decoded = percentDecode(req.rawPath, false).toString('utf8');
  if (decoded !== req.rawPath) paths.push(decoded);
  return [...new Set(paths.map((p) => canonicalResource(p, params, bucket)))];
}

/** A decoded query parameter; `bare` when it was sent without '=' (`?acl`): it signs as its name alone. */
export interface V2Param {
  name: string;
  value: string;
  bare: boolean;
}

export function v2Params(rawQuery: string): V2Param[] {
  const pairs = rawQuery === '' ? [] : rawQuery.split('&').filter((p) => p !== '');
  return parseQuery(rawQuery).map((p, i) => ({ name: p.name, value: p.value, bare: !(pairs[i] ?? '').includes('=') }));
}

/** Verifies a SigV2 Authorization header (`AWS AKID:signature`). */
export function authenticateV2Header(req: AuthRequest, authorization: string, lookup: SecretLookup, opts: AuthOptions): AuthResult {
  const now = opts.now ?? new Date();
  const rest = authorization.slice(AUTH_V2_PREFIX.length).trim();
  const colon = rest.lastIndexOf(':');
  if (colon <= 0 || colon === rest.length - 1) {
    throw new DomainError('InvalidArgument', 'AWS authorization header is invalid.  Expected AwsAccessKeyId:signature', {
      ArgumentName: 'Authorization',
      ArgumentValue: authorization,
    });
  }
  const accessKey = rest.slice(0, colon);
  const signature = rest.slice(colon + 1);
  const account = lookupKey(lookup, accessKey);

  const amzDate = req.headers['x-amz-date'];
  const dateHeader = amzDate ?? req.headers['date'];
  const when = dateHeader === undefined ? NaN : Date.parse(dateHeader);
  if (Number.isNaN(when)) throw AuthErrors.noDate();
  if (Math.abs(now.getTime() - when) > MAX_SKEW_MS) throw AuthErrors.skewed(new Date(when), now);

  const params = v2Params(req.rawQuery);
  const date = amzDate !== undefined ? '' : req.headers['date']!.trim();
  verify(req, params, req.headers, date, accessKey, account.secret, signature, opts.domain);
  return { accessKey, account: account.account, mode: 'UNSIGNED-PAYLOAD', presigned: false, signatureVersion: 'AWS' };
}

/** Verifies a SigV2 query-string request (`?AWSAccessKeyId=…&Expires=…&Signature=…`). */
export function authenticateV2Query(req: AuthRequest, lookup: SecretLookup, opts: AuthOptions): AuthResult {
  const now = opts.now ?? new Date();
  const params = v2Params(req.rawQuery);
  const get = (name: string): string | undefined => params.find((p) => p.name === name)?.value;
  const [accessKey, signature, expires] = QUERY_PARAMS.map(get);
  if (accessKey === undefined || signature === undefined || expires === undefined) {
    throw new DomainError('AccessDenied', 'Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters');
  }
  if (!/^\d{1,12}$/.test(expires)) {
    throw new DomainError('AccessDenied', `Invalid date (should be seconds since epoch): ${expires}`);
  }
  const expiresAt = new Date(Number(expires) * 1000);
  if (now.getTime() > expiresAt.getTime()) {
    throw new DomainError('AccessDenied', 'Request has expired', { Expires: expiresAt.toISOString(), ServerTime: now.toISOString() });
  }
  // S3 sets SigV2 URLs no limit; here they live at most a week, as SigV4 URLs and POST forms do.
  if (expiresAt.getTime() - now.getTime() > MAX_EXPIRES * 1000) {
    throw new DomainError('AccessDenied', `Expires must be at most a week (${MAX_EXPIRES} seconds) from now; sign a URL that expires sooner.`, {
      Expires: expiresAt.toISOString(),
      ServerTime: now.toISOString(),
    });
  }
  const account = lookupKey(lookup, accessKey);
  // botocore moves the signed x-amz-*, Content-Type and Content-MD5 headers into the query.
  const headers: Record<string, string> = { ...req.headers };
  for (const p of params) {
    const h = p.name.toLowerCase();
    if ((h.startsWith('x-amz-') || h === 'content-type' || h === 'content-md5') && headers[h] === undefined) headers[h] = p.value;
  }
  verify(req, params, headers, expires, accessKey, account.secret, signature, opts.domain);
  return { accessKey, account: account.account, mode: 'UNSIGNED-PAYLOAD', presigned: true, signatureVersion: 'AWS' };
}

function verify(
  req: AuthRequest,
  params: readonly V2Param[],
  headers: Readonly<Record<string, string>>,
  date: string,
  accessKey: string,
  secret: string,
  signature: string,
  domain: string | undefined,
): void {
  let first: string | undefined;
  for (const resource of resourceCandidates(req, params, domain)) {
    const toSign = stringToSignV2({ method: req.method, headers, date, resource });
    if (signaturesEqualV2(signV2(secret, toSign), signature)) return;
    first ??= toSign;
  }
  throw AuthErrors.signatureDoesNotMatch({
    AWSAccessKeyId: accessKey,
    StringToSign: first ?? '',
    SignatureProvided: signature,
    StringToSignBytes: Buffer.from(first ?? '', 'utf8').toString('hex').replace(/(..)(?!$)/g, '$1 '),
  });
}
