/**
 * SigV4 verification (server side): Authorization header and presigned URLs. Synchronous and pure
 * apart from the secret lookup; the body is checked later by verifyPayloadHash or decodeAwsChunked
 * according to the returned mode.
 */
import { AuthErrors, MAX_SKEW_MS } from './auth-errors.ts';
import { canonicalHeaders, canonicalQueries, canonicalRequest, canonicalUris, parseQuery, type QueryParam } from './canonical.ts';
import { checkScope, lookupKey, parseAuthorizationHeader, parsePayloadMode, parsePresigned, type SignatureParams } from './credentials.ts';
import { ALGORITHM, hmacHex, parseAmzDate, signaturesEqual, signingKey, stringToSign, toAmzDate } from './signing.ts';
import { AUTH_V2_PREFIX, authenticateV2Header, authenticateV2Query } from './sigv2.ts';
import type { AuthOptions, AuthRequest, AuthResult, SecretLookup } from './types.ts';

/**
 * Verifies a request's signature, SigV4 or (unless opts.sigv2 is false) SigV2, header or query
 * string; throws a DomainError (S3's codes) when it does not hold.
 */
export function authenticate(req: AuthRequest, lookup: SecretLookup, opts: AuthOptions): AuthResult {
  const service = opts.service ?? 's3';
  const now = opts.now ?? new Date();
  const authorization = req.headers['authorization'];
  const params = parseQuery(req.rawQuery);
  const has = (name: string): boolean => params.some((p) => p.name === name);
  const presigned = has('X-Amz-Algorithm') || has('X-Amz-Credential') || has('X-Amz-Signature');
  const presignedV2 = !presigned && (has('AWSAccessKeyId') || has('Signature'));
  const sigv2 = opts.sigv2 ?? true;

  if (authorization !== undefined && (presigned || presignedV2)) throw AuthErrors.twoMechanisms(authorization);
  if (authorization !== undefined && authorization.startsWith(AUTH_V2_PREFIX) && sigv2) return authenticateV2Header(req, authorization, lookup, opts);
  if (authorization !== undefined) return headerAuth(req, authorization, lookup, opts.region, service, now);
  if (presigned) return queryAuth(req, params, lookup, opts.region, service, now);
  if (presignedV2 && sigv2) return authenticateV2Query(req, lookup, opts);
  if (presignedV2) throw AuthErrors.unsupportedMechanism();
  throw AuthErrors.anonymous();
}

function headerAuth(req: AuthRequest, authorization: string, lookup: SecretLookup, region: string, service: string, now: Date): AuthResult {
  if (!authorization.startsWith(`${ALGORITHM} `) && authorization.trim() !== ALGORITHM) {
    if (/^(AWS |AWS4-ECDSA-P256-SHA256 )/.test(authorization)) throw AuthErrors.unsupportedMechanism();
    throw AuthErrors.unsupportedType(authorization);
  }
  const sig = parseAuthorizationHeader(authorization);
  const { credential } = sig;
  checkScope(credential, region, service, AuthErrors.headerMalformed);
  const account = lookupKey(lookup, credential.accessKey);

  const amzDate = req.headers['x-amz-date'];
  const httpDate = req.headers['date'];
  const date = amzDate !== undefined ? parseAmzDate(amzDate) : httpDate !== undefined ? parseHttpDate(httpDate) : undefined;
  if (date === undefined) throw AuthErrors.noDate();
  const datetime = toAmzDate(date);
  if (credential.date !== datetime.slice(0, 8)) {
    throw AuthErrors.headerMalformed('Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  if (Math.abs(now.getTime() - date.getTime()) > MAX_SKEW_MS) throw AuthErrors.skewed(date, now);

  const contentSha256 = req.headers['x-amz-content-sha256'];
  if (contentSha256 === undefined) throw AuthErrors.missingContentSha256();
  const payload = parsePayloadMode(contentSha256.trim());

  requireSigned(req, sig.signedHeaders, NONE_EXEMPT);

  const key = signingKey(account.secret, credential.date, region, service);
  const plus = verifySignature(req, sig, key, datetime, contentSha256.trim(), canonicalQueries(req.rawQuery));
  return result(credential.accessKey, account.account, payload, false, key, credential.scope, datetime, sig.signature, plus);
}

function queryAuth(req: AuthRequest, params: QueryParam[], lookup: SecretLookup, region: string, service: string, now: Date): AuthResult {
  const get = (name: string): string | undefined => params.find((p) => p.name === name)?.value;
  const sig = parsePresigned(get);
  const { credential } = sig;
  checkScope(credential, region, service, (detail, fields) =>
    AuthErrors.queryMalformed(`Error parsing the X-Amz-Credential parameter; ${detail}`, fields),
  );
  if (credential.date !== sig.datetime.slice(0, 8)) {
    throw AuthErrors.queryMalformed('Error parsing the X-Amz-Credential parameter; Invalid credential date. Date is not the same as X-Amz-Date.');
  }
  const account = lookupKey(lookup, credential.accessKey);
  if (sig.date.getTime() - now.getTime() > MAX_SKEW_MS) throw AuthErrors.notYetValid(sig.date, now);
  const expiresAt = new Date(sig.date.getTime() + sig.expires * 1000);
  if (now.getTime() > expiresAt.getTime()) throw AuthErrors.expired(expiresAt, sig.expires, now);

  const contentSha256 = (get('X-Amz-Content-Sha256') ?? req.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD').trim();
  const payload = parsePayloadMode(contentSha256);
  requireSigned(req, sig.signedHeaders, PRESIGNED_EXEMPT);
  const key = signingKey(account.secret, credential.date, region, service);
  const queries = canonicalQueries(req.rawQuery, (p) => p.name.toLowerCase() === 'x-amz-signature');
  const plus = verifySignature(req, sig, key, sig.datetime, contentSha256, queries);
  return result(credential.accessKey, account.account, payload, true, key, credential.scope, sig.datetime, sig.signature, plus);
}

const NONE_EXEMPT: ReadonlySet<string> = new Set();
/**
 * A presigned request's x-amz-content-sha256 header need not be listed: its value is the payload
 * hash of the canonical request, so a changed value breaks the signature anyway.
 */
const PRESIGNED_EXEMPT: ReadonlySet<string> = new Set(['x-amz-content-sha256']);

/**
 * As S3: `host` must be signed (else the bucket of a virtual-hosted request comes from an unsigned
 * header), and so must every x-amz-* header that was sent (else a holder of a presigned URL adds
 * x-amz-copy-source, metadata or tagging the signer never agreed to). `headers` are the request's
 * own headers, not the ones hoisted from a presigned query (those are signed with the query).
 */
function requireSigned(req: AuthRequest, signedHeaders: readonly string[], exempt: ReadonlySet<string>): void {
  const signed = new Set(signedHeaders);
  const unsigned = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-') && !signed.has(h) && !exempt.has(h));
  if (!signed.has('host')) unsigned.push('host');
  if (unsigned.length > 0) throw AuthErrors.headersNotSigned(unsigned.sort());
}

function parseHttpDate(value: string): Date | undefined {
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : new Date(t);
}

/**
 * Tries the canonical URI and query candidates (the request as sent first); throws
 * SignatureDoesNotMatch, with the first candidate's canonical request, when none matches. Returns
 * true when the query matched with '+' read as itself rather than as a space (canonicalQueries).
 */
function verifySignature(
  req: AuthRequest,
  sig: SignatureParams,
  key: Buffer,
  datetime: string,
  payloadHash: string,
  queries: string[],
): boolean {
  const headers = canonicalHeaders(req.headers, sig.signedHeaders);
  let first: { canonical: string; toSign: string } | undefined;
  for (const uri of canonicalUris(req.rawPath)) {
    for (const [i, query] of queries.entries()) {
      const canonical = canonicalRequest({ method: req.method.toUpperCase(), uri, query, headers, signedHeaders: sig.signedHeaders, payloadHash });
      const toSign = stringToSign(datetime, sig.credential.scope, canonical);
      if (signaturesEqual(hmacHex(key, toSign), sig.signature)) return i > 0;
      first ??= { canonical, toSign };
    }
  }
  throw AuthErrors.signatureDoesNotMatch({
    AWSAccessKeyId: sig.credential.accessKey,
    StringToSign: first?.toSign ?? '',
    SignatureProvided: sig.signature,
    CanonicalRequest: first?.canonical ?? '',
  });
}

function result(
  accessKey: string,
  account: string,
  payload: ReturnType<typeof parsePayloadMode>,
  presigned: boolean,
  key: Buffer,
  scope: string,
  datetime: string,
  signature: string,
  literalPlus: boolean,
): AuthResult {
  const out: AuthResult = { accessKey, account, mode: payload.mode, presigned, signatureVersion: ALGORITHM };
  if (literalPlus) out.literalPlus = true;
  if (payload.payloadHash !== undefined) out.payloadHash = payload.payloadHash;
  if (payload.mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' || payload.mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER') {
    out.chunkSigning = { signingKey: key, scope, datetime, seedSignature: signature.toLowerCase() };
  }
  return out;
}
