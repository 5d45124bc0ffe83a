/**
 * The one S3 error table: domain error code -> HTTP status (and the default message), and the one
 * place that renders an error as S3's XML body. Anything that is not a DomainError is logged by the
 * caller and becomes InternalError; no stack trace ever reaches a client.
 */
import { DomainError, isDomainError } from '../src/core/errors.ts';
import { xmlDocument } from './xml.ts';

const TABLE: Record<string, { status: number; message: string }> = {
  AccessDenied: { status: 403, message: 'Access Denied' },
  AuthorizationHeaderMalformed: { status: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: { status: 400, message: 'Error parsing the X-Amz-Credential parameter.' },
  BadDigest: { status: 400, message: 'The Content-MD5 or checksum value that you specified did not match what the server received.' },
  BucketAlreadyExists: { status: 409, message: 'The requested bucket name is not available.' },
  BucketAlreadyOwnedByYou: { status: 409, message: 'The bucket you tried to create already exists, and you own it.' },
  BucketNotEmpty: { status: 409, message: 'The bucket you tried to delete is not empty.' },
  EntityTooLarge: { status: 400, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { status: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  ExpiredToken: { status: 400, message: 'The provided token has expired.' },
  IncompleteBody: { status: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { status: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { status: 403, message: 'The AWS access key ID you provided does not exist in our records.' },
  InvalidArgument: { status: 400, message: 'Invalid Argument' },
  InvalidBucketName: { status: 400, message: 'The specified bucket is not valid.' },
  InvalidDigest: { status: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidLocationConstraint: { status: 400, message: 'The specified location constraint is not valid.' },
  InvalidPart: { status: 400, message: 'One or more of the specified parts could not be found.' },
  InvalidPartNumber: { status: 416, message: 'The requested partnumber is not satisfiable.' },
  InvalidPolicyDocument: { status: 400, message: 'The content of the form does not meet the conditions specified in the policy document.' },
  InvalidPartOrder: { status: 400, message: 'The list of parts was not in ascending order.' },
  InvalidRange: { status: 416, message: 'The requested range is not satisfiable.' },
  InvalidRequest: { status: 400, message: 'Invalid Request' },
  InvalidTag: { status: 400, message: 'The tag provided was not a valid tag.' },
  KeyTooLongError: { status: 400, message: 'Your key is too long.' },
  MalformedXML: { status: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MalformedPOSTRequest: { status: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  MaxPostPreDataLengthExceededError: { status: 400, message: 'Your POST request fields preceding the upload file were too large.' },
  MetadataTooLarge: { status: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { status: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { status: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingRequestBodyError: { status: 400, message: 'Request Body is empty.' },
  NoSuchBucket: { status: 404, message: 'The specified bucket does not exist.' },
  NoSuchKey: { status: 404, message: 'The specified key does not exist.' },
  NoSuchUpload: { status: 404, message: 'The specified multipart upload does not exist.' },
  NotImplemented: { status: 501, message: 'A header or query you provided implies functionality that is not implemented.' },
  NotModified: { status: 304, message: 'Not Modified' },
  PreconditionFailed: { status: 412, message: 'At least one of the preconditions you specified did not hold.' },
  QuotaExceeded: { status: 403, message: 'A quota of this account was exceeded.' },
  RequestHeaderSectionTooLarge: { status: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  RequestTimeTooSkewed: { status: 403, message: 'The difference between the request time and the current time is too large.' },
  RequestTimeout: { status: 400, message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  ServiceUnavailable: { status: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: { status: 403, message: 'The request signature we calculated does not match the signature you provided.' },
  SlowDown: { status: 503, message: 'Please reduce your request rate.' },
  TooManyParts: { status: 400, message: 'You have attempted to upload more than 10000 parts.' },
  // versions, object lock, lifecycle (issue 16)
  NoSuchVersion: { status: 404, message: 'The specified version does not exist.' },
  ConditionalRequestConflict: { status: 409, message: 'A conflicting operation occurred.' },
  InvalidBucketState: { status: 409, message: 'The request is not valid with the current state of the bucket.' },
  ObjectLockConfigurationNotFoundError: { status: 404, message: 'Object Lock configuration does not exist for this bucket' },
  NoSuchObjectLockConfiguration: { status: 404, message: 'The specified object does not have a ObjectLock configuration' },
  NoSuchLifecycleConfiguration: { status: 404, message: 'The lifecycle configuration does not exist.' },
  InvalidRetentionPeriod: { status: 400, message: 'The retention period is not valid.' },
  XAmzContentSHA256Mismatch: { status: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
};

export interface S3ErrorResponse {
  status: number;
  code: string;
  message: string;
  /** The XML body; empty for HEAD requests and 304. */
  body: string;
  headers: Record<string, string>;
}

/** Maps any thrown value to an S3 error. Unknown errors become InternalError (the caller logs them). */
export function toS3Error(err: unknown, ctx: { resource: string; requestId: string; head?: boolean }): S3ErrorResponse {
  const e: DomainError = isDomainError(err) ? err : new DomainError('InternalError', TABLE.InternalError!.message);
  const entry = TABLE[e.code] ?? TABLE.InternalError!;
  const message = e.message || entry.message;
  const headers: Record<string, string> = {};
  const retryAfter = (e as { retryAfter?: number }).retryAfter;
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter);
  Object.assign(headers, (e as { headers?: Record<string, string> }).headers); // HeaderedError (issue 16)
  const noBody = ctx.head === true || entry.status === 304;
  const body = noBody
    ? ''
    : xmlDocument('Error', {
        Code: e.code in TABLE ? e.code : 'InternalError',
        Message: message,
        ...e.fields,
        Resource: ctx.resource,
        RequestId: ctx.requestId,
      });
  return { status: entry.status, code: e.code, message, body, headers };
}

export const isKnownErrorCode = (code: string): boolean => code in TABLE;
