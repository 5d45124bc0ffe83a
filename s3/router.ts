/**
 * Parse, then dispatch: one pure function turns method + host + path + query into a typed S3
 * operation (Garage's router.rs does the same). Handlers never look at the URL again.
 */
import { DomainError } from '../src/core/errors.ts';

export type OperationName =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'GetBucketVersioning'
  | 'GetBucketAcl'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'DeleteObjects'
  | 'PostObject'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'GetObjectAcl'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'UploadPartCopy'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts'
  // versions, object lock, lifecycle (issue 16)
  | 'PutBucketVersioning'
  | 'ListObjectVersions'
  | 'GetObjectLockConfiguration'
  | 'PutObjectLockConfiguration'
  | 'GetBucketLifecycleConfiguration'
  | 'PutBucketLifecycleConfiguration'
  | 'DeleteBucketLifecycleConfiguration'
  | 'GetObjectRetention'
  | 'PutObjectRetention'
  | 'GetObjectLegalHold'
  | 'PutObjectLegalHold';

export interface Operation {
  name: OperationName;
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  /** True when the bucket came from the Host header (virtual-hosted style). */
  virtualHost: boolean;
}

export interface RouteInput {
  method: string;
  host?: string;
  /** The path as sent (percent-encoded), without the query. */
  rawPath: string;
  query: URLSearchParams;
  headers: Record<string, string>;
}

/** Sub-resources S3 has and datamesh does not implement: answered with 501 NotImplemented. */
const UNSUPPORTED = [
  'acl', 'policy', 'policyStatus', 'cors', 'lifecycle', 'website', 'logging', 'notification', 'replication',
  'encryption', 'object-lock', 'legal-hold', 'retention', 'requestPayment', 'accelerate', 'analytics',
  'inventory', 'metrics', 'intelligent-tiering', 'ownershipControls', 'publicAccessBlock', 'versions',
  'restore', 'select', 'torrent', 'attributes', 'versioning', 'tagging', 'location', 'uploads', 'delete',
];

const notImplemented = (what: string): DomainError =>
  new DomainError('NotImplemented', `${what} is not implemented by datamesh.`);
const methodNotAllowed = (method: string, what: string): DomainError =>
  new DomainError('MethodNotAllowed', `The method ${method} is not allowed on ${what}.`, { Method: method, ResourceType: what });

/** Splits the request into bucket and key, from the Host header (virtual-hosted) or the path. */
export function addressOf(input: RouteInput, domain?: string): { bucket?: string; key?: string; virtualHost: boolean } {
  const host = (input.host ?? '').toLowerCase().replace(/:\d+$/, '');
  const path = input.rawPath.startsWith('/') ? input.rawPath.slice(1) : input.rawPath;
  const decode = (s: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw new DomainError('InvalidURI', `Couldn't parse the specified URI: the path is not valid percent-encoding.`);
    }
  };
  if (domain && host.endsWith('.' + domain.toLowerCase())) {
    const bucket = host.slice(0, host.length - domain.length - 1);
    return { bucket, key: path === '' ? undefined : decode(path), virtualHost: true };
  }
  if (path === '') return { virtualHost: false };
  const slash = path.indexOf('/');
  if (slash < 0) return { bucket: decode(path), virtualHost: false };
  const key = path.slice(slash + 1);
  return { bucket: decode(path.slice(0, slash)), key: key === '' ? undefined : decode(key), virtualHost: false };
}

export function route(input: RouteInput, domain?: string): Operation {
  const { bucket, key, virtualHost } = addressOf(input, domain);
  const q = input.query;
  const m = input.method.toUpperCase();
  const op = (name: OperationName): Operation => ({ name, bucket, key, query: q, virtualHost });

  if (bucket === undefined) {
    if (m === 'GET') return op('ListBuckets');
    throw methodNotAllowed(m, 'the service');
  }

  const versioned = versionRoute(m, q, key === undefined);
  if (versioned) return op(versioned);

  if (key === undefined) {
    switch (m) {
      case 'GET':
        if (q.has('location')) return op('GetBucketLocation');
        if (q.has('versioning')) return op('GetBucketVersioning');
        if (q.has('acl')) return op('GetBucketAcl');
        if (q.has('uploads')) return op('ListMultipartUploads');
        if (q.get('list-type') === '2') return op('ListObjectsV2');
        break;
      case 'PUT':
        if (noSubresource(q)) return op('CreateBucket');
        break;
      case 'HEAD':
        return op('HeadBucket');
      case 'DELETE':
        if (noSubresource(q)) return op('DeleteBucket');
        break;
      case 'POST':
        if (q.has('delete')) return op('DeleteObjects');
        if (noSubresource(q)) return op('PostObject'); // a browser form upload with a POST policy
        break;
      default:
        throw methodNotAllowed(m, 'a bucket');
    }
    const sub = UNSUPPORTED.find((s) => q.has(s));
    if (sub) throw notImplemented(`The bucket sub-resource ?${sub} (${m})`);
    if (m === 'GET') return op('ListObjects');
    throw methodNotAllowed(m, 'a bucket');
  }

  const uploadId = q.get('uploadId');
  switch (m) {
    case 'GET':
      if (uploadId !== null) return op('ListParts');
      if (q.has('tagging')) return op('GetObjectTagging');
      if (q.has('acl')) return op('GetObjectAcl');
      break;
    case 'HEAD':
      return op('HeadObject');
    case 'PUT':
      if (q.has('partNumber') && uploadId !== null)
        return op(input.headers['x-amz-copy-source'] !== undefined ? 'UploadPartCopy' : 'UploadPart');
      if (q.has('tagging')) return op('PutObjectTagging');
      if (noSubresource(q)) return op(input.headers['x-amz-copy-source'] !== undefined ? 'CopyObject' : 'PutObject');
      break;
    case 'DELETE':
      if (uploadId !== null) return op('AbortMultipartUpload');
      if (q.has('tagging')) return op('DeleteObjectTagging');
      if (noSubresource(q)) return op('DeleteObject');
      break;
    case 'POST':
      if (q.has('uploads')) return op('CreateMultipartUpload');
      if (uploadId !== null) return op('CompleteMultipartUpload');
      break;
    default:
      throw methodNotAllowed(m, 'an object');
  }
  const sub = UNSUPPORTED.find((s) => q.has(s));
  if (sub) throw notImplemented(`The object sub-resource ?${sub} (${m})`);
  if (m === 'GET') return op('GetObject');
  throw methodNotAllowed(m, 'an object');
}

/** The operations of issue 16 (versions, object lock, lifecycle) by method and sub-resource. */
function versionRoute(m: string, q: URLSearchParams, bucketLevel: boolean): OperationName | undefined {
  if (bucketLevel) {
    if (q.has('versions') && m === 'GET') return 'ListObjectVersions';
    if (q.has('versioning') && m === 'PUT') return 'PutBucketVersioning';
    if (q.has('object-lock')) return m === 'GET' ? 'GetObjectLockConfiguration' : m === 'PUT' ? 'PutObjectLockConfiguration' : undefined;
    if (q.has('lifecycle')) {
      if (m === 'GET') return 'GetBucketLifecycleConfiguration';
      if (m === 'PUT') return 'PutBucketLifecycleConfiguration';
      if (m === 'DELETE') return 'DeleteBucketLifecycleConfiguration';
    }
    return undefined;
  }
  if (q.has('retention')) return m === 'GET' ? 'GetObjectRetention' : m === 'PUT' ? 'PutObjectRetention' : undefined;
  if (q.has('legal-hold')) return m === 'GET' ? 'GetObjectLegalHold' : m === 'PUT' ? 'PutObjectLegalHold' : undefined;
  return undefined;
}

/** True when the query names none of S3's sub-resources (x-id and response-* overrides are fine). */
function noSubresource(q: URLSearchParams): boolean {
  return !UNSUPPORTED.some((s) => q.has(s));
}

/** Read-only vs writing operations, for metering and rate classes. */
export function requestClass(name: OperationName): 'read' | 'write' | 'list' {
  if (name.startsWith('List')) return 'list';
  if (name.startsWith('Get') || name.startsWith('Head')) return 'read';
  return 'write';
}
