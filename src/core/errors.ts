/**
 * Domain errors and the one error table. Code below s3/ throws only DomainErrors; their codes are
 * S3's own error codes where S3 has one. The table gives every code its HTTP status on the S3 API
 * (s3/errors.ts renders it as S3's XML) and on the admin API (src/server/admin-api.ts renders JSON),
 * and S3's default message. `ErrorCode` is the table's keys: a code that is not in the table does
 * not compile. Nothing else here knows about HTTP.
 */

export interface ErrorKind {
  /** Status on the S3 API; undefined: not an S3 error (account management), answered as InternalError. */
  readonly s3: number | undefined;
  /** Status in the admin API's JSON error. */
  readonly admin: number;
  /** S3's message, used when an error carries none. */
  readonly message?: string;
}

export const ERRORS = {
  AccessDenied: { s3: 403, admin: 403, message: 'Access Denied' },
  // access control and CORS (s3/access)
  AccessControlListNotSupported: { s3: 400, admin: 400, message: 'The bucket does not allow ACLs.' },
  AccessForbidden: { s3: 403, admin: 403, message: 'CORSResponse: This CORS request is not allowed.' },
  InvalidBucketAclWithObjectOwnership: { s3: 400, admin: 400, message: "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting." },
  MalformedACLError: { s3: 400, admin: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MalformedPolicy: { s3: 400, admin: 400, message: 'Policies must be valid JSON.' },
  NoSuchBucketPolicy: { s3: 404, admin: 404, message: 'The bucket policy does not exist' },
  NoSuchCORSConfiguration: { s3: 404, admin: 404, message: 'The CORS configuration does not exist' },
  NoSuchPublicAccessBlockConfiguration: { s3: 404, admin: 404, message: 'The public access block configuration was not found' },
  OwnershipControlsNotFoundError: { s3: 404, admin: 404, message: 'The bucket ownership controls were not found' },
  UnresolvableGrantByEmailAddress: { s3: 400, admin: 400, message: 'The email address you provided does not match any account on record.' },
  AccessKeyInUse: { s3: undefined, admin: 409 },
  AccountAlreadyExists: { s3: undefined, admin: 409 },
  AccountHasBuckets: { s3: undefined, admin: 409 },
  AuthorizationHeaderMalformed: { s3: 400, admin: 400, message: 'The authorization header is malformed.' },
  AuthorizationQueryParametersError: { s3: 400, admin: 400, message: 'Error parsing the X-Amz-Credential parameter.' },
  BadDigest: { s3: 400, admin: 400, message: 'The Content-MD5 or checksum value that you specified did not match what the server received.' },
  BucketAlreadyExists: { s3: 409, admin: 409, message: 'The requested bucket name is not available.' },
  BucketAlreadyOwnedByYou: { s3: 409, admin: 409, message: 'The bucket you tried to create already exists, and you own it.' },
  BucketNotEmpty: { s3: 409, admin: 409, message: 'The bucket you tried to delete is not empty.' },
  EntityTooLarge: { s3: 400, admin: 413, message: 'Your proposed upload exceeds the maximum allowed object size.' },
  EntityTooSmall: { s3: 400, admin: 400, message: 'Your proposed upload is smaller than the minimum allowed object size.' },
  ExpiredToken: { s3: 400, admin: 403, message: 'The provided token has expired.' },
  IncompleteBody: { s3: 400, admin: 400, message: 'You did not provide the number of bytes specified by the Content-Length HTTP header.' },
  InternalError: { s3: 500, admin: 500, message: 'We encountered an internal error. Please try again.' },
  InvalidAccessKeyId: { s3: 403, admin: 403, message: 'The AWS access key ID you provided does not exist in our records.' },
  InvalidArgument: { s3: 400, admin: 400, message: 'Invalid Argument' },
  InvalidBucketName: { s3: 400, admin: 400, message: 'The specified bucket is not valid.' },
  InvalidDigest: { s3: 400, admin: 400, message: 'The Content-MD5 you specified is not valid.' },
  InvalidLocationConstraint: { s3: 400, admin: 400, message: 'The specified location constraint is not valid.' },
  InvalidPart: { s3: 400, admin: 400, message: 'One or more of the specified parts could not be found.' },
  InvalidPartNumber: { s3: 416, admin: 400, message: 'The requested partnumber is not satisfiable.' },
  InvalidPartOrder: { s3: 400, admin: 400, message: 'The list of parts was not in ascending order.' },
  InvalidPolicyDocument: { s3: 400, admin: 400, message: 'The content of the form does not meet the conditions specified in the policy document.' },
  InvalidRange: { s3: 416, admin: 400, message: 'The requested range is not satisfiable.' },
  InvalidRequest: { s3: 400, admin: 400, message: 'Invalid Request' },
  InvalidTag: { s3: 400, admin: 400, message: 'The tag provided was not a valid tag.' },
  InvalidURI: { s3: 400, admin: 400, message: 'Couldn\'t parse the specified URI.' },
  KeyTooLongError: { s3: 400, admin: 400, message: 'Your key is too long.' },
  MalformedJSON: { s3: undefined, admin: 400 },
  MalformedPOSTRequest: { s3: 400, admin: 400, message: 'The body of your POST request is not well-formed multipart/form-data.' },
  MalformedXML: { s3: 400, admin: 400, message: 'The XML you provided was not well-formed or did not validate against our published schema.' },
  MaxPostPreDataLengthExceededError: { s3: 400, admin: 400, message: 'Your POST request fields preceding the upload file were too large.' },
  MetadataTooLarge: { s3: 400, admin: 400, message: 'Your metadata headers exceed the maximum allowed metadata size.' },
  MethodNotAllowed: { s3: 405, admin: 405, message: 'The specified method is not allowed against this resource.' },
  MissingContentLength: { s3: 411, admin: 411, message: 'You must provide the Content-Length HTTP header.' },
  MissingRequestBodyError: { s3: 400, admin: 400, message: 'Request Body is empty.' },
  MissingSecurityHeader: { s3: 400, admin: 403, message: 'Your request was missing a required header.' },
  NoSuchAccessKey: { s3: undefined, admin: 404 },
  NoSuchAccount: { s3: undefined, admin: 404 },
  NoSuchBucket: { s3: 404, admin: 404, message: 'The specified bucket does not exist.' },
  NoSuchKey: { s3: 404, admin: 404, message: 'The specified key does not exist.' },
  NoSuchUpload: { s3: 404, admin: 404, message: 'The specified multipart upload does not exist.' },
  NoSuchVersion: { s3: 404, admin: 404, message: 'The specified version does not exist.' },
  NotFound: { s3: undefined, admin: 404 },
  NotImplemented: { s3: 501, admin: 501, message: 'A header or query you provided implies functionality that is not implemented.' },
  NotModified: { s3: 304, admin: 400, message: 'Not Modified' },
  PreconditionFailed: { s3: 412, admin: 412, message: 'At least one of the preconditions you specified did not hold.' },
  QuotaExceeded: { s3: 403, admin: 403, message: 'A quota of this account was exceeded.' },
  RequestHeaderSectionTooLarge: { s3: 400, admin: 400, message: 'Your request header section exceeds the maximum allowed size.' },
  RequestTimeTooSkewed: { s3: 403, admin: 403, message: 'The difference between the request time and the current time is too large.' },
  RequestTimeout: { s3: 400, admin: 400, message: 'Your socket connection to the server was not read from or written to within the timeout period.' },
  RootAccountProtected: { s3: undefined, admin: 409 },
  ServiceUnavailable: { s3: 503, admin: 503, message: 'Please reduce your request rate.' },
  SignatureDoesNotMatch: { s3: 403, admin: 403, message: 'The request signature we calculated does not match the signature you provided.' },
  SlowDown: { s3: 503, admin: 503, message: 'Please reduce your request rate.' },
  TooManyParts: { s3: 400, admin: 400, message: 'You have attempted to upload more than 10000 parts.' },
  XAmzContentSHA256Mismatch: { s3: 400, admin: 400, message: "The provided 'x-amz-content-sha256' header does not match what was computed." },
  // versions, object lock, lifecycle (issue 16; NoSuchVersion is above): thrown through VersionErrors below
  ConditionalRequestConflict: { s3: 409, admin: 409, message: 'A conflicting operation occurred.' },
  InvalidBucketState: { s3: 409, admin: 409, message: 'The request is not valid with the current state of the bucket.' },
  ObjectLockConfigurationNotFoundError: { s3: 404, admin: 404, message: 'Object Lock configuration does not exist for this bucket' },
  NoSuchObjectLockConfiguration: { s3: 404, admin: 404, message: 'The specified object does not have a ObjectLock configuration' },
  NoSuchLifecycleConfiguration: { s3: 404, admin: 404, message: 'The lifecycle configuration does not exist.' },
  InvalidRetentionPeriod: { s3: 400, admin: 400, message: 'The retention period is not valid.' },
  // end of versions, object lock, lifecycle
} as const satisfies Record<string, ErrorKind>;

export type ErrorCode = keyof typeof ERRORS;

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** Extra elements for the XML error body (e.g. BucketName, UploadId). */
  readonly fields: Record<string, string>;
  /** Seconds the client should wait before retrying (the Retry-After header), for SlowDown. */
  readonly retryAfter: number | undefined;
  constructor(code: ErrorCode, message: string, fields: Record<string, string> = {}, opts: { retryAfter?: number } = {}) {
    super(message);
    this.name = code;
    this.code = code;
    this.fields = fields;
    this.retryAfter = opts.retryAfter;
  }
}

const make =
  (code: ErrorCode) =>
  (message: string, fields: Record<string, string> = {}): DomainError =>
    new DomainError(code, message, fields);

export const Errors = {
  noSuchBucket: (bucket: string) =>
    new DomainError('NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket }),
  noSuchKey: (key: string) => new DomainError('NoSuchKey', 'The specified key does not exist.', { Key: key }),
  noSuchUpload: (uploadId: string) =>
    new DomainError(
      'NoSuchUpload',
      'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    ),
  bucketNotEmpty: (bucket: string) =>
    new DomainError('BucketNotEmpty', 'The bucket you tried to delete is not empty. Delete its objects first.', {
      BucketName: bucket,
    }),
  bucketAlreadyOwnedByYou: (bucket: string) =>
    new DomainError(
      'BucketAlreadyOwnedByYou',
      'The bucket you tried to create already exists, and you own it.',
      { BucketName: bucket },
    ),
  bucketAlreadyExists: (bucket: string) =>
    new DomainError(
      'BucketAlreadyExists',
      'The requested bucket name is not available. Bucket names are shared by all users; select a different name.',
      { BucketName: bucket },
    ),
  preconditionFailed: (condition: string) =>
    new DomainError('PreconditionFailed', `At least one of the pre-conditions you specified did not hold: ${condition}.`, {
      Condition: condition,
    }),
  notModified: () => new DomainError('NotModified', 'Not Modified'),
  invalidPart: (message = 'One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part\'s entity tag.') =>
    new DomainError('InvalidPart', message),
  invalidPartOrder: () =>
    new DomainError('InvalidPartOrder', 'The list of parts was not in ascending order. Parts must be ordered by part number.'),
  entityTooSmall: (partNumber: number, size: number) =>
    new DomainError(
      'EntityTooSmall',
      `Part ${partNumber} is ${size} bytes; every part but the last must be at least 5 MiB (5242880 bytes).`,
      { PartNumber: String(partNumber), ProposedSize: String(size), MinSizeAllowed: '5242880' },
    ),
  entityTooLarge: (size: number, max: number) =>
    new DomainError('EntityTooLarge', `Your proposed upload of ${size} bytes exceeds the maximum allowed object size of ${max} bytes.`, {
      ProposedSize: String(size),
      MaxSizeAllowed: String(max),
    }),
  invalidRange: (size: number) =>
    new DomainError('InvalidRange', 'The requested range is not satisfiable.', { ActualObjectSize: String(size) }),
  invalidArgument: (message: string, name?: string, value?: string) =>
    new DomainError(
      'InvalidArgument',
      message,
      name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' },
    ),
  invalidRequest: make('InvalidRequest'),
  badDigest: make('BadDigest'),
  invalidDigest: make('InvalidDigest'),
  incompleteBody: make('IncompleteBody'),
  quotaExceeded: make('QuotaExceeded'),
  /** `retryAfter`: seconds, sent as Retry-After. */
  slowDown: (message: string, retryAfter?: number) => new DomainError('SlowDown', message, {}, { retryAfter }),
  accessDenied: (message = 'Access Denied') => new DomainError('AccessDenied', message),
  serviceUnavailable: make('ServiceUnavailable'),
  /** An object whose data cannot be reconstructed (more than m shards of a segment lost). */
  objectDamaged: (bucket: string, key: string, segment: number, detail: string) =>
    new DomainError(
      'InternalError',
      `The object ${bucket}/${key} is damaged: segment ${segment} cannot be reconstructed (${detail}). It stays listed; run 'datamesh admin scrub' to repair what can be repaired.`,
    ),
  internal: make('InternalError'),
} as const;

export const isDomainError = (e: unknown): e is DomainError => e instanceof DomainError;

/**
 * A disk (or the catalog's file system) is full. S3's SlowDown (503): every AWS SDK, aws-cli,
 * boto3 and rclone retry a 503 with backoff, so a moment of full disk (until collection frees
 * space) is invisible, and a lasting one reaches the user with this message; a 507 would fail at
 * once in all of them. Nothing is committed when it is thrown.
 */
export class DiskFullError extends DomainError {
  constructor(message: string) {
    super('SlowDown', message);
  }
}

/** The error codes of a full disk: the file system's (ENOSPC, EDQUOT) and SQLite's. */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL']);

/** A DiskFullError for `err` when it says a disk is full (naming `where`), else undefined. */
export function diskFull(err: unknown, where: string): DiskFullError | undefined {
  if (err instanceof DiskFullError) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !DISK_FULL_CODES.has(code)) return undefined;
  return new DiskFullError(`insufficient storage: ${where} is full (${code}); nothing was stored. Free space there (or raise the quota); the service resumes as soon as space returns`);
}

/**
 * libp2p peer ids, whole (12D3KooW…, Qm…, 16Uiu2…) or shortened as the logs write them
 * ("12D3KooW…a1b2c3"), and absolute file-system paths: what a server fault's message may name.
 */
const PEER_ID = /\b(?:12D3Koo|Qm|16Uiu2)(?:[1-9A-HJ-NP-Za-km-z]*…[1-9A-HJ-NP-Za-km-z]+|[1-9A-HJ-NP-Za-km-z]{4,})/g;
const ABSOLUTE_PATH = /(^|[\s('"=:])\/(?:[\w.@+-]+\/)*[\w.@+-]+\/?/g;

/**
 * The message of a server fault (a 5xx) as a client may see it: without the server's paths (data
 * directory, shard files) or the mesh's peer ids, which only the log keeps. A path after a space
 * is dropped ("the disk holding the catalog /srv/dm is full" -> "... catalog is full"); elsewhere
 * it and a peer id become a placeholder. Undefined when there is nothing to hide.
 */
export function redactInternals(message: string): string | undefined {
  const out = message
    .replace(PEER_ID, '[peer]')
    .replace(ABSOLUTE_PATH, (_m, before: string) => (before === ' ' || before === '' ? '' : `${before}[server path]`))
    .replace(/^\s+/, '');
  return out === message ? undefined : out;
}

// ---- versions, object lock, lifecycle (issue 16): errors with response headers and their codes

/** A DomainError that also sets response headers (x-amz-delete-marker, x-amz-version-id...). */
export class HeaderedError extends DomainError {
  readonly headers: Record<string, string>;
  constructor(code: ErrorCode, message: string, headers: Record<string, string>, fields: Record<string, string> = {}) {
    super(code, message, fields);
    this.headers = headers;
  }
}

export const VersionErrors = {
  noSuchVersion: (key: string, versionId: string) =>
    new DomainError('NoSuchVersion', 'The specified version does not exist.', { Key: key, VersionId: versionId }),
  invalidVersionId: (versionId: string) =>
    Errors.invalidArgument('Invalid version id specified', 'versionId', versionId),
  /** GET/HEAD of a key whose latest version is a delete marker. */
  deleteMarkerIsLatest: (key: string, versionId: string) =>
    new HeaderedError('NoSuchKey', 'The specified key does not exist.', { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId }, { Key: key }),
  /** GET/HEAD of a delete marker by its version id. */
  deleteMarkerByVersion: (method: string, versionId: string, lastModified: Date) =>
    new HeaderedError(
      'MethodNotAllowed',
      'The specified method is not allowed against this resource.',
      { 'x-amz-delete-marker': 'true', 'x-amz-version-id': versionId, 'Last-Modified': lastModified.toUTCString(), Allow: 'DELETE' },
      { Method: method, ResourceType: 'DeleteMarker' },
    ),
  conditionalConflict: () =>
    new DomainError(
      'ConditionalRequestConflict',
      'A conflicting operation occurred while this conditional write was in progress: the object changed. Read it again and retry.',
    ),
  locked: (detail: string) => Errors.accessDenied(`Access Denied because object protected by object lock: ${detail}.`),
  lockNotEnabled: (bucket: string) =>
    Errors.invalidRequest(`Bucket is missing Object Lock Configuration: create '${bucket}' with object lock enabled (x-amz-bucket-object-lock-enabled: true).`),
  invalidBucketState: (message: string) => new DomainError('InvalidBucketState', message),
  noLockConfiguration: () =>
    new DomainError('ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket'),
  noSuchLifecycle: (bucket: string) =>
    new DomainError('NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist.', { BucketName: bucket }),
  noRetention: () => new DomainError('NoSuchObjectLockConfiguration', 'The specified object does not have a ObjectLock configuration'),
  invalidRetention: (message: string) => new DomainError('InvalidRetentionPeriod', message),
} as const;
