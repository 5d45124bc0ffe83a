/**
 * Domain errors. Code below s3/ throws only these; s3/errors.ts maps each `code` to an HTTP status
 * and the S3 XML error body. The code names are S3's own error codes where S3 has one, so the
 * mapping stays a table lookup. Nothing here knows about HTTP.
 */
export class DomainError extends Error {
  readonly code: string;
  /** Extra elements for the XML error body (e.g. BucketName, UploadId). */
  readonly fields: Record<string, string>;
  constructor(code: string, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = code;
    this.code = code;
    this.fields = fields;
  }
}

const make =
  (code: string) =>
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
  slowDown: make('SlowDown'),
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

// ---- versions, object lock, lifecycle (issue 16): errors with response headers and their codes

/** A DomainError that also sets response headers (x-amz-delete-marker, x-amz-version-id...). */
export class HeaderedError extends DomainError {
  readonly headers: Record<string, string>;
  constructor(code: string, message: string, headers: Record<string, string>, fields: Record<string, string> = {}) {
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
