/**
 * The one place that renders an error as S3's XML body, with the S3 status of the error table
 * (src/core/errors.ts). Anything that is not a DomainError is logged by the caller and becomes
 * InternalError, as does a code that is not an S3 error; no stack trace ever reaches a client.
 */
import { DomainError, ERRORS, HeaderedError, isDomainError, redactInternals, type ErrorKind } from '../src/core/errors.ts';
import { xmlDocument } from './xml.ts';

export interface S3ErrorResponse {
  status: number;
  code: string;
  message: string;
  /** The XML body; empty for HEAD requests and 304. */
  body: string;
  /**
   * Set when `message` hides server paths or peer ids (a server fault's): the full message, for
   * the log only.
   */
  detail?: string;
  headers: Record<string, string>;
}

/** Maps any thrown value to an S3 error. Unknown errors become InternalError (the caller logs them). */
export function toS3Error(err: unknown, ctx: { resource: string; requestId: string; head?: boolean }): S3ErrorResponse {
  const e: DomainError = isDomainError(err) ? err : new DomainError('InternalError', ERRORS.InternalError.message);
  const known: ErrorKind = ERRORS[e.code];
  const s3 = known.s3 !== undefined;
  const status = known.s3 ?? ERRORS.InternalError.s3;
  const full = e.message || (s3 ? known : ERRORS.InternalError).message || '';
  // A server fault may name this host's paths or the mesh's peers: the client gets neither.
  const redacted = status >= 500 ? redactInternals(full) : undefined;
  const message = redacted ?? full;
  const headers: Record<string, string> = {};
  if (e.retryAfter !== undefined) headers['Retry-After'] = String(e.retryAfter);
  if (e instanceof HeaderedError) Object.assign(headers, e.headers); // versions (issue 16): x-amz-delete-marker, x-amz-version-id...
  const noBody = ctx.head === true || status === 304;
  const body = noBody
    ? ''
    : xmlDocument('Error', {
        Code: s3 ? e.code : 'InternalError',
        Message: message,
        ...e.fields,
        Resource: ctx.resource,
        RequestId: ctx.requestId,
      });
  return { status, code: e.code, message, body, headers, ...(redacted !== undefined ? { detail: full } : {}) };
}
