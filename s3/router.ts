/**
 * Parse, then dispatch: one pure function turns method + host + path + query into a typed S3
 * operation (Garage's router.rs does the same). Handlers never look at the URL again: an operation
 * on a bucket carries its bucket, one on an object its key, one on a multipart upload its upload id,
 * a copy its x-amz-copy-source, each typed as present.
 */
import { DomainError } from '../src/core/errors.ts';

/** ListBuckets: the only operation on the service itself. */
export type ServiceOperationName = 'ListBuckets';
export type BucketOperationName =
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
  | AccessOperationName
  | VersionBucketOperationName;
/** Access control and CORS: the bucket's sub-resources ?acl, ?policy, ?cors, ... (s3/handlers/access.ts). */
export type AccessOperationName =
  | 'PutBucketAcl'
  | 'GetBucketPolicy'
  | 'PutBucketPolicy'
  | 'DeleteBucketPolicy'
  | 'GetBucketPolicyStatus'
  | 'GetBucketCors'
  | 'PutBucketCors'
  | 'DeleteBucketCors'
  | 'GetBucketOwnershipControls'
  | 'PutBucketOwnershipControls'
  | 'DeleteBucketOwnershipControls'
  | 'GetPublicAccessBlock'
  | 'PutPublicAccessBlock'
  | 'DeletePublicAccessBlock'
  /** A CORS preflight (OPTIONS) on the bucket or any key in it: the rules are the bucket's. */
  | 'OptionsObject';
export type ObjectOperationName =
  | 'PutObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'GetObjectAcl'
  | 'GetObjectTagging'
  | 'PutObjectTagging'
  | 'DeleteObjectTagging'
  | 'CreateMultipartUpload'
  | 'PutObjectAcl'
  | 'GetObjectAttributes'
  | VersionObjectOperationName;
/** Versions, object lock, lifecycle (issue 16; s3/handlers/versioning.ts, object-lock.ts, lifecycle.ts): on a bucket. */
export type VersionBucketOperationName =
  | 'PutBucketVersioning'
  | 'ListObjectVersions'
  | 'GetObjectLockConfiguration'
  | 'PutObjectLockConfiguration'
  | 'GetBucketLifecycleConfiguration'
  | 'PutBucketLifecycleConfiguration'
  | 'DeleteBucketLifecycleConfiguration';
/** Versions, object lock (issue 16): on an object (a version of it with ?versionId=). */
export type VersionObjectOperationName = 'GetObjectRetention' | 'PutObjectRetention' | 'GetObjectLegalHold' | 'PutObjectLegalHold';
export type CopyOperationName = 'CopyObject';
export type UploadOperationName = 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload' | 'ListParts';
export type UploadCopyOperationName = 'UploadPartCopy';

export type OperationName =
  | ServiceOperationName
  | BucketOperationName
  | ObjectOperationName
  | CopyOperationName
  | UploadOperationName
  | UploadCopyOperationName;

interface OperationBase {
  query: URLSearchParams;
  /** True when the bucket came from the Host header (virtual-hosted style). */
  virtualHost: boolean;
}
interface OnService extends OperationBase {
  bucket?: undefined;
  key?: undefined;
}
interface OnBucket extends OperationBase {
  bucket: string;
  key?: undefined;
}
interface OnObject extends OperationBase {
  bucket: string;
  key: string;
}
interface Copying {
  /** The x-amz-copy-source header as sent (parsed by the handler, after authorization). */
  copySource: string;
}
interface OnUpload extends OnObject {
  /** ?uploadId= */
  uploadId: string;
}

/** One member per operation name, so `op.name` narrows `op` to its parameters. */
type Each<N extends string, P> = { [K in N]: P & { name: K } }[N];
export type Operation =
  | Each<ServiceOperationName, OnService>
  | Each<BucketOperationName, OnBucket>
  | Each<ObjectOperationName, OnObject>
  | Each<CopyOperationName, OnObject & Copying>
  | Each<UploadOperationName, OnUpload>
  | Each<UploadCopyOperationName, OnUpload & Copying>;

/** The operation `name` is routed to, with its typed parameters. */
export type OperationOf<N extends OperationName> = Extract<Operation, { name: N }>;

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

  if (bucket === undefined) {
    if (m === 'GET') return { name: 'ListBuckets', query: q, virtualHost };
    throw methodNotAllowed(m, 'the service');
  }

  if (m === 'OPTIONS') return { name: 'OptionsObject', bucket, query: q, virtualHost };

  if (key === undefined) {
    const versioned = versionBucketRoute(m, q);
    if (versioned) return { name: versioned, bucket, query: q, virtualHost };
  } else {
    const versioned = versionObjectRoute(m, q);
    if (versioned) return { name: versioned, bucket, key, query: q, virtualHost };
  }

  if (key === undefined) {
    const op = (name: BucketOperationName): Operation => ({ name, bucket, query: q, virtualHost }) as Operation;
    for (const [sub, byMethod] of BUCKET_CONFIG) {
      const name = q.has(sub) ? byMethod[m] : undefined;
      if (name) return op(name);
    }
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

  const op = (name: ObjectOperationName): Operation => ({ name, bucket, key, query: q, virtualHost });
  const copySource = input.headers['x-amz-copy-source'];
  const uploadId = q.get('uploadId');
  const upload = (name: UploadOperationName, uploadId: string): Operation => ({ name, bucket, key, uploadId, query: q, virtualHost });
  switch (m) {
    case 'GET':
      if (uploadId !== null) return upload('ListParts', uploadId);
      if (q.has('tagging')) return op('GetObjectTagging');
      if (q.has('acl')) return op('GetObjectAcl');
      if (q.has('attributes')) return op('GetObjectAttributes');
      break;
    case 'HEAD':
      return op('HeadObject');
    case 'PUT':
      if (q.has('partNumber') && uploadId !== null) {
        if (copySource !== undefined) return { name: 'UploadPartCopy', bucket, key, uploadId, copySource, query: q, virtualHost };
        return upload('UploadPart', uploadId);
      }
      if (q.has('tagging')) return op('PutObjectTagging');
      if (q.has('acl')) return op('PutObjectAcl');
      if (noSubresource(q)) {
        if (copySource !== undefined) return { name: 'CopyObject', bucket, key, copySource, query: q, virtualHost };
        return op('PutObject');
      }
      break;
    case 'DELETE':
      if (uploadId !== null) return upload('AbortMultipartUpload', uploadId);
      if (q.has('tagging')) return op('DeleteObjectTagging');
      if (noSubresource(q)) return op('DeleteObject');
      break;
    case 'POST':
      if (q.has('uploads')) return op('CreateMultipartUpload');
      if (uploadId !== null) return upload('CompleteMultipartUpload', uploadId);
      break;
    default:
      throw methodNotAllowed(m, 'an object');
  }
  const sub = UNSUPPORTED.find((s) => q.has(s));
  if (sub) throw notImplemented(`The object sub-resource ?${sub} (${m})`);
  if (m === 'GET') return op('GetObject');
  throw methodNotAllowed(m, 'an object');
}

/** The bucket operations of issue 16 (versions, object lock, lifecycle) by method and sub-resource. */
function versionBucketRoute(m: string, q: URLSearchParams): VersionBucketOperationName | undefined {
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

/** The object operations of issue 16 (object lock of a version) by method and sub-resource. */
function versionObjectRoute(m: string, q: URLSearchParams): VersionObjectOperationName | undefined {
  if (q.has('retention')) return m === 'GET' ? 'GetObjectRetention' : m === 'PUT' ? 'PutObjectRetention' : undefined;
  if (q.has('legal-hold')) return m === 'GET' ? 'GetObjectLegalHold' : m === 'PUT' ? 'PutObjectLegalHold' : undefined;
  return undefined;
}

/** The bucket configuration sub-resources: ?sub and method -> operation. */
const BUCKET_CONFIG: readonly [string, Partial<Record<string, BucketOperationName>>][] = [
  ['acl', { PUT: 'PutBucketAcl' }],
  ['policyStatus', { GET: 'GetBucketPolicyStatus' }],
  ['policy', { GET: 'GetBucketPolicy', PUT: 'PutBucketPolicy', DELETE: 'DeleteBucketPolicy' }],
  ['cors', { GET: 'GetBucketCors', PUT: 'PutBucketCors', DELETE: 'DeleteBucketCors' }],
  ['ownershipControls', { GET: 'GetBucketOwnershipControls', PUT: 'PutBucketOwnershipControls', DELETE: 'DeleteBucketOwnershipControls' }],
  ['publicAccessBlock', { GET: 'GetPublicAccessBlock', PUT: 'PutPublicAccessBlock', DELETE: 'DeletePublicAccessBlock' }],
];

/** True when the query names none of S3's sub-resources (x-id and response-* overrides are fine). */
function noSubresource(q: URLSearchParams): boolean {
  return !UNSUPPORTED.some((s) => q.has(s));
}
