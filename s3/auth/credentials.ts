/** Parsing the SigV4 credentials out of an Authorization header or presigned query parameters. */
import { Errors } from '../../src/core/errors.ts';
import { AuthErrors } from './auth-errors.ts';
import { ALGORITHM, parseAmzDate } from './signing.ts';
import type { PayloadMode, SecretLookup } from './types.ts';

/** The account and secret of an access key; InvalidAccessKeyId when there is none. */
export function lookupKey(lookup: SecretLookup, accessKey: string): { secret: string; account: string } {
  const found = lookup(accessKey);
  if (found === undefined) throw AuthErrors.invalidAccessKeyId(accessKey);
  return found;
}

export interface Credential {
  accessKey: string;
  date: string;
  region: string;
  service: string;
  terminal: string;
  /** date/region/service/terminal, as signed. */
  scope: string;
}

/** AK/DATE/REGION/SERVICE/aws4_request; the access key is everything before the last four parts. */
export function parseCredential(value: string): Credential | undefined {
  const parts = value.trim().split('/');
  if (parts.length < 5) return undefined;
  const [date, region, service, terminal] = parts.slice(-4) as [string, string, string, string];
  const accessKey = parts.slice(0, -4).join('/');
  if (accessKey === '' || !/^\d{8}$/.test(date) || region === '' || service === '') return undefined;
  return { accessKey, date, region, service, terminal, scope: `${date}/${region}/${service}/${terminal}` };
}

export interface SignatureParams {
  credential: Credential;
  signedHeaders: string[];
  signature: string;
}

const CREDENTIAL_FORMAT = 'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".';

/** Parses `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`. */
export function parseAuthorizationHeader(value: string): SignatureParams {
  const rest = value.slice(ALGORITHM.length).trim();
  const fields = new Map<string, string>();
  for (const part of rest.split(',')) {
    const eq = part.indexOf('=');
    if (eq !== -1) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw AuthErrors.headerMalformed(
      'the authorization header requires three components: Credential, SignedHeaders, and Signature.',
    );
  }
  const parsed = parseCredential(credential);
  if (parsed === undefined) throw AuthErrors.headerMalformed(`the Credential is mal-formed; ${CREDENTIAL_FORMAT}`);
  const names = parseSignedHeaders(signedHeaders);
  if (names === undefined) throw AuthErrors.headerMalformed('SignedHeaders must be a non-empty, ;-separated list of header names.');
  return { credential: parsed, signedHeaders: names, signature };
}

function parseSignedHeaders(value: string): string[] | undefined {
  const names = value.split(';').map((n) => n.trim().toLowerCase());
  return names.length === 0 || names.some((n) => n === '') ? undefined : names;
}

/** Checks the scope's region, service and terminal; `malformed` builds the error for the auth kind. */
export function checkScope(
  c: Credential,
  region: string,
  service: string,
  malformed: (detail: string, fields?: Record<string, string>) => Error,
): void {
  if (c.region !== region) throw malformed(`the region '${c.region}' is wrong; expecting '${region}'`, { Region: region });
  if (c.service !== service) throw malformed(`incorrect service '${c.service}'. This endpoint belongs to '${service}'.`);
  if (c.terminal !== 'aws4_request') throw malformed(`incorrect terminal '${c.terminal}'. This endpoint uses 'aws4_request'.`);
}

export interface PresignedParams extends SignatureParams {
  datetime: string;
  date: Date;
  expires: number;
}

const QUERY_REQUIRED =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';
export const MAX_EXPIRES = 604800;

/** Parses and validates the X-Amz-* parameters of a presigned URL. */
export function parsePresigned(get: (name: string) => string | undefined): PresignedParams {
  const algorithm = get('X-Amz-Algorithm');
  const credential = get('X-Amz-Credential');
  const signature = get('X-Amz-Signature');
  const datetime = get('X-Amz-Date');
  const signedHeaders = get('X-Amz-SignedHeaders');
  const expires = get('X-Amz-Expires');
  if (
    algorithm === undefined ||
    credential === undefined ||
    signature === undefined ||
    datetime === undefined ||
    signedHeaders === undefined ||
    expires === undefined
  ) {
    throw AuthErrors.queryMalformed(QUERY_REQUIRED);
  }
  if (algorithm !== ALGORITHM) throw AuthErrors.queryMalformed('X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const parsed = parseCredential(credential);
  if (parsed === undefined) {
    throw AuthErrors.queryMalformed(`Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; ${CREDENTIAL_FORMAT}`);
  }
  const date = parseAmzDate(datetime);
  if (date === undefined) {
    throw AuthErrors.queryMalformed('X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd\'T\'HHmmss\'Z\'"');
  }
  if (!/^-?\d{1,12}$/.test(expires)) throw AuthErrors.queryMalformed('X-Amz-Expires should be a number');
  // As S3 answers them: 403 AccessDenied (0 is simply expired: see queryAuth)
  const seconds = Number(expires);
  if (seconds < 0) throw Errors.accessDenied('X-Amz-Expires must be non-negative');
  if (seconds > MAX_EXPIRES) {
    throw Errors.accessDenied('X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds');
  }
  const names = parseSignedHeaders(signedHeaders);
  if (names === undefined) throw AuthErrors.queryMalformed('X-Amz-SignedHeaders must be a non-empty, ;-separated list of header names.');
  return { credential: parsed, signedHeaders: names, signature, datetime, date, expires: seconds };
}

const MODES: ReadonlySet<string> = new Set<PayloadMode>([
  'UNSIGNED-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);

/** The payload mode an x-amz-content-sha256 value announces; throws InvalidArgument when unknown. */
export function parsePayloadMode(value: string): { mode: PayloadMode; payloadHash?: string } {
  if (/^[0-9a-fA-F]{64}$/.test(value)) return { mode: 'hash', payloadHash: value.toLowerCase() };
  if (MODES.has(value)) return { mode: value as PayloadMode };
  throw AuthErrors.invalidContentSha256(value);
}
