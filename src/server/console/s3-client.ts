/**
 * The console acts as the signed-in key by signing S3 requests to its own server: whatever that
 * key may do through S3 (authentication, suspension, rate limits, bucket authorization, quotas,
 * metering) is exactly what the console lets it do, through the same code, with nothing to keep
 * in step. Browser uploads and downloads go straight to S3 with URLs presigned here.
 */
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { XMLParser } from 'fast-xml-parser';
import { NodeSha256 } from '../../../accounts/client.ts';

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An S3 error answer: its HTTP status, the AWS error code and message. */
export class S3CallError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'S3CallError';
  }
}

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  processEntities: true,
  htmlEntities: true,
  removeNSPrefix: true,
  isArray: (name) => ['Bucket', 'Contents', 'CommonPrefixes', 'Tag', 'Deleted', 'Error', 'Part', 'Upload', 'Version', 'DeleteMarker'].includes(name),
});

const sha256Hex = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));

/** RFC 3986 encoding of a key for a path, slashes kept (what SigV4's canonical URI expects). */
export const encodeKey = (key: string): string =>
  key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()))
    .join('/');

export const objectPath = (bucket: string, key?: string): string =>
  '/' + encodeURIComponent(bucket) + (key === undefined ? '' : '/' + encodeKey(key));

export interface BucketEntry {
  name: string;
  created: string;
}
export interface ObjectEntry {
  key: string;
  size: number;
  lastModified: string;
  etag: string;
}
export interface Listing {
  objects: ObjectEntry[];
  prefixes: string[];
  next?: string;
}
/** One version of a key, or a delete marker, as ListObjectVersions answers it. */
export interface VersionEntry {
  key: string;
  versionId: string;
  latest: boolean;
  deleteMarker: boolean;
  lastModified: string;
  size: number;
  etag: string;
}
export interface VersionListing {
  versions: VersionEntry[];
  /** Where the next page starts (key-marker and version-id-marker), when there is one. */
  next?: { key: string; versionId: string };
}

export interface ObjectHead {
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  headers: Record<string, string>;
  meta: Record<string, string>;
}

export interface S3Call {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}

/** S3 as one key, against the server at `endpoint` (the console's own process). */
export function s3As(endpoint: string, creds: Credentials, region: string) {
  const base = new URL(endpoint);
  const signer = new SignatureV4({ service: 's3', region, credentials: creds, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });

  async function call(c: S3Call): Promise<{ status: number; headers: Headers; text: string }> {
    const body = c.body ?? '';
    const query = c.query ?? {};
    const headers: Record<string, string> = { host: base.host, 'x-amz-content-sha256': sha256Hex(body), ...c.headers };
    if (body) headers['content-md5'] = createHash('md5').update(body).digest('base64');
    const signed = await signer.sign({
      method: c.method,
      protocol: base.protocol,
      hostname: base.hostname,
      ...(base.port && { port: Number(base.port) }),
      path: c.path,
      query,
      headers,
      body,
    });
    const send = { ...(signed.headers as Record<string, string>) };
    delete send.host;
    const qs = Object.entries(query)
      .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`))
      .join('&');
    const res = await fetch(`${base.origin}${c.path}${qs ? '?' + qs : ''}`, { method: c.method, headers: send, body: body || undefined });
    const text = await res.text();
    if (res.status >= 300) {
      const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1] ?? `HTTP${res.status}`;
      const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? res.statusText;
      throw new S3CallError(res.status, code, decodeEntities(message));
    }
    return { status: res.status, headers: res.headers, text };
  }
  const xml = async (c: S3Call): Promise<Record<string, any>> => parser.parse((await call(c)).text) as Record<string, any>;

  return {
    call,

    async listBuckets(): Promise<BucketEntry[]> {
      const doc = await xml({ method: 'GET', path: '/' });
      const list = (doc.ListAllMyBucketsResult?.Buckets?.Bucket ?? []) as Record<string, unknown>[];
      return list.map((b) => ({ name: str(b.Name), created: str(b.CreationDate) }));
    },

    createBucket: async (bucket: string): Promise<void> => void (await call({ method: 'PUT', path: objectPath(bucket) })),
    deleteBucket: async (bucket: string): Promise<void> => void (await call({ method: 'DELETE', path: objectPath(bucket) })),

    async list(bucket: string, o: { prefix?: string; after?: string; maxKeys: number; delimiter?: string }): Promise<Listing> {
      const query: Record<string, string> = { 'list-type': '2', 'max-keys': String(o.maxKeys) };
      if (o.delimiter !== undefined) query.delimiter = o.delimiter;
      if (o.prefix) query.prefix = o.prefix;
      if (o.after) query['start-after'] = o.after;
      const r = (await xml({ method: 'GET', path: objectPath(bucket), query })).ListBucketResult ?? {};
      const objects = ((r.Contents ?? []) as Record<string, unknown>[]).map((e) => ({
        key: str(e.Key),
        size: Number(e.Size ?? 0),
        lastModified: str(e.LastModified),
        etag: str(e.ETag).replace(/"/g, ''),
      }));
      const prefixes = ((r.CommonPrefixes ?? []) as Record<string, unknown>[]).map((p) => str(p.Prefix));
      // The next page starts after the last key or prefix of this one, whichever sorts last.
      const last = [objects.at(-1)?.key ?? '', prefixes.at(-1) ?? ''].sort().at(-1);
      return { objects, prefixes, ...(str(r.IsTruncated) === 'true' && last ? { next: last } : {}) };
    },

    /** The bucket's versioning status: 'Enabled', 'Suspended', or '' for a bucket where it was never enabled. */
    async versioning(bucket: string): Promise<string> {
      const doc = await xml({ method: 'GET', path: objectPath(bucket), query: { versioning: '' } });
      return str(doc.VersioningConfiguration?.Status);
    },

    /** ListObjectVersions: versions and delete markers, newest first within a key. */
    async listVersions(bucket: string, o: { prefix: string; maxKeys: number; keyMarker?: string; versionIdMarker?: string }): Promise<VersionListing> {
      const query: Record<string, string> = { versions: '', prefix: o.prefix, 'max-keys': String(o.maxKeys) };
      if (o.keyMarker) query['key-marker'] = o.keyMarker;
      if (o.versionIdMarker) query['version-id-marker'] = o.versionIdMarker;
      const r = (await xml({ method: 'GET', path: objectPath(bucket), query })).ListVersionsResult ?? {};
      const entry = (deleteMarker: boolean) => (e: Record<string, unknown>): VersionEntry => ({
        key: str(e.Key),
        versionId: str(e.VersionId),
        latest: str(e.IsLatest) === 'true',
        deleteMarker,
        lastModified: str(e.LastModified),
        size: Number(e.Size ?? 0),
        etag: str(e.ETag).replace(/"/g, ''),
      });
      // The XML groups versions apart from delete markers: put them back in S3's order (by key, newest first).
      const versions = [
        ...((r.Version ?? []) as Record<string, unknown>[]).map(entry(false)),
        ...((r.DeleteMarker ?? []) as Record<string, unknown>[]).map(entry(true)),
      ].sort((a, b) => (a.key !== b.key ? (a.key < b.key ? -1 : 1) : Number(b.latest) - Number(a.latest) || b.lastModified.localeCompare(a.lastModified)));
      const truncated = str(r.IsTruncated) === 'true';
      return { versions, ...(truncated ? { next: { key: str(r.NextKeyMarker), versionId: str(r.NextVersionIdMarker) } } : {}) };
    },

    deleteVersion: async (bucket: string, key: string, versionId: string): Promise<void> =>
      void (await call({ method: 'DELETE', path: objectPath(bucket, key), query: { versionId } })),

    async head(bucket: string, key: string, versionId?: string): Promise<ObjectHead> {
      const r = await call({ method: 'HEAD', path: objectPath(bucket, key), ...(versionId ? { query: { versionId } } : {}) });
      const headers: Record<string, string> = {};
      const meta: Record<string, string> = {};
      r.headers.forEach((v, k) => {
        if (k.startsWith('x-amz-meta-')) meta[k.slice('x-amz-meta-'.length)] = v;
        else headers[k] = v;
      });
      return {
        size: Number(headers['content-length'] ?? 0),
        etag: (headers.etag ?? '').replace(/"/g, ''),
        lastModified: headers['last-modified'] ?? '',
        contentType: headers['content-type'] ?? '',
        headers,
        meta,
      };
    },

    async tags(bucket: string, key: string): Promise<Record<string, string>> {
      const doc = await xml({ method: 'GET', path: objectPath(bucket, key), query: { tagging: '' } });
      const out: Record<string, string> = {};
      for (const t of (doc.Tagging?.TagSet?.Tag ?? []) as Record<string, unknown>[]) out[str(t.Key)] = str(t.Value);
      return out;
    },

    /** DeleteObjects; answers the keys that could not be deleted with the reason. */
    async deleteObjects(bucket: string, keys: string[]): Promise<{ key: string; message: string }[]> {
      const body =
        '<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>' +
        keys.map((k) => `<Object><Key>${escapeXml(k)}</Key></Object>`).join('') +
        '</Delete>';
      const doc = await xml({ method: 'POST', path: objectPath(bucket), query: { delete: '' }, body });
      return ((doc.DeleteResult?.Error ?? []) as Record<string, unknown>[]).map((e) => ({ key: str(e.Key), message: str(e.Message) }));
    },

    async createMultipart(bucket: string, key: string, contentType?: string): Promise<string> {
      const doc = await xml({
        method: 'POST',
        path: objectPath(bucket, key),
        query: { uploads: '' },
        ...(contentType ? { headers: { 'content-type': contentType } } : {}),
      });
      return str(doc.InitiateMultipartUploadResult?.UploadId);
    },

    async completeMultipart(bucket: string, key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<string> {
      const body =
        '<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload>' +
        parts.map((p) => `<Part><PartNumber>${p.partNumber}</PartNumber><ETag>"${escapeXml(p.etag.replace(/"/g, ''))}"</ETag></Part>`).join('') +
        '</CompleteMultipartUpload>';
      const doc = await xml({ method: 'POST', path: objectPath(bucket, key), query: { uploadId }, body });
      return str(doc.CompleteMultipartUploadResult?.ETag).replace(/"/g, '');
    },

    abortMultipart: async (bucket: string, key: string, uploadId: string): Promise<void> =>
      void (await call({ method: 'DELETE', path: objectPath(bucket, key), query: { uploadId } })),

    /**
     * A presigned URL for `origin` (the address the browser uses, which the signature covers).
     * Browser uploads and downloads go straight to S3 with it.
     */
    async presign(
      origin: string,
      r: { method: 'GET' | 'PUT'; bucket: string; key: string; query?: Record<string, string>; expiresIn: number },
    ): Promise<string> {
      const at = new URL(origin);
      const path = objectPath(r.bucket, r.key);
      const query = r.query ?? {};
      const signed = await signer.presign(
        {
          method: r.method,
          protocol: at.protocol,
          hostname: at.hostname,
          ...(at.port && { port: Number(at.port) }),
          path,
          query,
          headers: { host: at.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
        },
        { expiresIn: r.expiresIn },
      );
      const q = Object.entries(signed.query ?? {})
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
        .join('&');
      return `${at.origin}${path}?${q}`;
    },
  };
}

export type S3As = ReturnType<typeof s3As>;

export const escapeXml = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

const decodeEntities = (s: string): string =>
  s.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => ({ lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" })[e]!);
