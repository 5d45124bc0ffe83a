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
