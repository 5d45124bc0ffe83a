/** The authentication errors, with S3's codes, messages and extra fields. */
import { DomainError, Errors } from '../../src/core/errors.ts';

export const MAX_SKEW_MS = 15 * 60 * 1000;

export const AuthErrors = {
  anonymous: () => Errors.accessDenied('Anonymous access is not allowed; sign requests with an access key.'),
  unsupportedMechanism: () =>
    Errors.invalidRequest('The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.'),
  unsupportedType: (value: string) => Errors.invalidArgument('Unsupported Authorization Type', 'Authorization', value),
  twoMechanisms: (value: string) =>
    Errors.invalidArgument(
      'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified',
      'Authorization',
      value,
    ),
  headerMalformed: (detail: string, fields: Record<string, string> = {}) =>
    new DomainError('AuthorizationHeaderMalformed', `The authorization header is malformed; ${detail}`, fields),
  queryMalformed: (message: string, fields: Record<string, string> = {}) =>
    new DomainError('AuthorizationQueryParametersError', message, fields),
  invalidAccessKeyId: (accessKey: string) =>
    new DomainError(
      'InvalidAccessKeyId',
      'The AWS Access Key Id you provided does not exist in our records. Check the access key, or ask the administrator for one.',
      { AWSAccessKeyId: accessKey },
    ),
  signatureDoesNotMatch: (fields: Record<string, string>) =>
    new DomainError(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
      fields,
    ),
  noDate: () => Errors.accessDenied('AWS authentication requires a valid Date or x-amz-date header'),
  skewed: (requestTime: Date, now: Date) =>
    new DomainError(
      'RequestTimeTooSkewed',
      "The difference between the request time and the server's time is too large. Correct the client's clock.",
      { RequestTime: requestTime.toISOString(), ServerTime: now.toISOString(), MaxAllowedSkewMilliseconds: String(MAX_SKEW_MS) },
    ),
  expired: (expires: Date, expiresIn: number, now: Date) =>
    new DomainError('AccessDenied', 'Request has expired', {
      'X-Amz-Expires': String(expiresIn),
      Expires: expires.toISOString(),
      ServerTime: now.toISOString(),
    }),
  notYetValid: (requestTime: Date, now: Date) =>
    new DomainError('AccessDenied', 'Request is not valid yet', { RequestTime: requestTime.toISOString(), ServerTime: now.toISOString() }),
  missingContentSha256: () => Errors.invalidRequest('Missing required header for this request: x-amz-content-sha256'),
  invalidContentSha256: (value: string) =>
    Errors.invalidArgument(
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or the hex SHA-256 of the payload.',
      'x-amz-content-sha256',
      value,
    ),
  headersNotSigned: (names: string[]) =>
    new DomainError('AccessDenied', 'There were headers present in the request which were not signed', {
      HeadersNotSigned: names.join(', '),
    }),
  chunkSignature: (detail: string) =>
    new DomainError(
      'SignatureDoesNotMatch',
      `The request signature we calculated does not match the signature you provided: ${detail}. Check your key and signing method.`,
    ),
} as const;
