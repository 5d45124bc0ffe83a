/**
 * Requests signed by the AWS SDK's own signer (@smithy/signature-v4, as @aws-sdk/client-s3 uses it
 * for S3: uriEscapePath false, path and query escaped like the SDK serialises them), verified by
 * authenticate(). Awkward keys and query values on purpose.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/core/errors.ts';
import { authenticate } from './sigv4.ts';
import type { AuthRequest } from './types.ts';

type Source = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: Source): Buffer =>
  typeof d === 'string' ? Buffer.from(d) : ArrayBuffer.isView(d) ? Buffer.from(d.buffer, d.byteOffset, d.byteLength) : Buffer.from(d);

/** The hash constructor the signer wants (SHA-256, or HMAC-SHA256 with a secret), on node:crypto. */
class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: Source) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: Source): void {
    this.h.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.fresh();
  }
}

const AK = 'AKIDSMITHYTEST';
const SECRET = 'secret/with+odd=chars';
const lookup = (k: string) => (k === AK ? { secret: SECRET, account: 'acct-1' } : undefined);
const NOW = new Date('2025-03-01T12:34:56Z');
const signer = new SignatureV4({
  service: 's3',
  region: 'us-east-1',
  credentials: { accessKeyId: AK, secretAccessKey: SECRET },
  sha256: NodeSha256,
  uriEscapePath: false,
});

/** The SDK's escaping (encodeURIComponent plus !'()*). */
const escape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const objectPath = (bucket: string, key: string): string => `/${bucket}/${key.split('/').map(escape).join('/')}`;
const queryString = (q: Record<string, string | string[] | null>): string =>
  Object.entries(q)
    .flatMap(([k, v]) => (v === null ? [escape(k)] : (Array.isArray(v) ? v : [v]).map((x) => `${escape(k)}=${escape(x)}`)))
    .join('&');

interface Spec {
  method: string;
  path: string;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
}

const base = (s: Spec) => ({
  method: s.method,
  protocol: 'http:',
  hostname: 'localhost',
  port: 9000,
  path: s.path,
  query: s.query ?? {},
  headers: { host: 'localhost:9000', ...(s.headers ?? {}) },
});

const lower = (h: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));

async function signed(s: Spec): Promise<AuthRequest> {
  const req = await signer.sign(base({ ...s, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...s.headers } }), { signingDate: NOW });
  return {
    method: req.method,
    rawPath: req.path,
    rawQuery: queryString(req.query as Record<string, string>),
    headers: lower(req.headers),
  };
}

async function presignedReq(s: Spec, expiresIn = 900): Promise<AuthRequest> {
  // @aws-sdk/s3-request-presigner sets x-amz-content-sha256 so the URL carries UNSIGNED-PAYLOAD.
  const req = await signer.presign(base({ ...s, headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...s.headers } }), {
    signingDate: NOW,
    expiresIn,
  });
  return {
    method: req.method,
    rawPath: req.path,
    rawQuery: queryString(req.query as Record<string, string>),
    headers: lower(req.headers),
  };
}

const KEYS = [
  'plain.txt',
  'with space/and  two spaces.txt',
  'ünïcödé/日本語/😀.bin',
  'a+b=c&d%e?f#g.txt',
  "it's (1) *star*!.txt",
  '~tilde-_.dots/..//double//slash',
  '%2F%25literal',
  'trailing/',
];

const opts = { region: 'us-east-1', now: NOW };

describe('requests signed by @smithy/signature-v4', () => {
  for (const key of KEYS) {
    it(`verifies header-signed PUT and GET for ${JSON.stringify(key)}`, async () => {
      const put = await signed({
        method: 'PUT',
        path: objectPath('bucket', key),
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          'x-amz-meta-note': '  spaced   value  ',
          'x-amz-sdk-checksum-algorithm': 'CRC32',
          'x-amz-checksum-crc32': 'AAAAAA==',
        },
      });
      expect(authenticate(put, lookup, opts)).toMatchObject({ accessKey: AK, account: 'acct-1', mode: 'UNSIGNED-PAYLOAD', presigned: false });
      const get = await signed({ method: 'GET', path: objectPath('bucket', key), query: { partNumber: '1' } });
      expect(authenticate(get, lookup, opts).accessKey).toBe(AK);
    });

    it(`verifies a presigned GET for ${JSON.stringify(key)}`, async () => {
      const req = await presignedReq({ method: 'GET', path: objectPath('bucket', key), query: { 'response-content-disposition': `attachment; filename="${key}"` } });
      expect(req.rawQuery).toContain('X-Amz-Signature=');
      expect(authenticate(req, lookup, opts)).toMatchObject({ accessKey: AK, mode: 'UNSIGNED-PAYLOAD', presigned: true });
      const tampered = { ...req, rawPath: req.rawPath + 'x' };
      expect(() => authenticate(tampered, lookup, opts)).toThrow(DomainError);
    });
  }

  it('verifies list requests with awkward query values', async () => {
    const req = await signed({
      method: 'GET',
      path: '/bucket',
      query: {
        'list-type': '2',
        prefix: 'a b+c/日本/%/=&',
        delimiter: '/',
        'continuation-token': 'AbC+/dEf==',
        'start-after': "it's (1) *",
      },
    });
    expect(authenticate(req, lookup, opts).accessKey).toBe(AK);
    const changed = { ...req, rawQuery: req.rawQuery.replace('list-type=2', 'list-type=1') };
    expect(() => authenticate(changed, lookup, opts)).toThrow(/does not match/);
  });

  it('verifies empty-valued subresources (?uploads, ?delete) and repeated parameters', async () => {
    const queries: Record<string, string>[] = [{ uploads: '' }, { delete: '' }, { tagging: '', versionId: 'null' }];
    for (const query of queries) {
      const req = await signed({ method: 'POST', path: '/bucket/key', query });
      expect(authenticate(req, lookup, opts).accessKey).toBe(AK);
      // Clients often send a valueless "?uploads" rather than "?uploads=".
      const bare = { ...req, rawQuery: req.rawQuery.replace(/=(&|$)/g, '$1') };
      expect(authenticate(bare, lookup, opts).accessKey).toBe(AK);
    }
  });

  it('tolerates a client that sends spaces as "+" or lower-case hex after signing the strict form', async () => {
    const req = await signed({ method: 'GET', path: objectPath('bucket', 'a b/c:d'), query: { prefix: 'x y' } });
    const plus = { ...req, rawQuery: req.rawQuery.replace('%20', '+') };
    expect(authenticate(plus, lookup, opts).accessKey).toBe(AK);
    const lowerHex = { ...req, rawPath: req.rawPath.replace('%3A', '%3a') };
    expect(lowerHex.rawPath).not.toBe(req.rawPath);
    expect(authenticate(lowerHex, lookup, opts).accessKey).toBe(AK);
  });

  it('returns the chunk signing context for a streaming upload', async () => {
    const req = await signed({
      method: 'PUT',
      path: '/bucket/streamed',
      headers: {
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '10',
        'x-amz-trailer': 'x-amz-checksum-crc64nvme',
      },
    });
    const r = authenticate(req, lookup, opts);
    expect(r.mode).toBe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER');
    expect(r.chunkSigning?.scope).toBe('20250301/us-east-1/s3/aws4_request');
    expect(r.chunkSigning?.datetime).toBe('20250301T123456Z');
    expect(r.chunkSigning?.seedSignature).toBe(/Signature=([0-9a-f]{64})/.exec(req.headers['authorization']!)?.[1]);
  });

  it('verifies a signed payload hash', async () => {
    const hash = createHash('sha256').update('body').digest('hex');
    const req = await signed({ method: 'PUT', path: '/bucket/k', headers: { 'x-amz-content-sha256': hash } });
    expect(authenticate(req, lookup, opts)).toMatchObject({ mode: 'hash', payloadHash: hash });
  });

  it('refuses a wrong secret and a presigned URL past its expiry', async () => {
    const other = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials: { accessKeyId: AK, secretAccessKey: SECRET + 'x' },
      sha256: NodeSha256,
      uriEscapePath: false,
    });
    const r = await other.sign(base({ method: 'GET', path: '/bucket/k', headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } }), { signingDate: NOW });
    const req: AuthRequest = { method: 'GET', rawPath: r.path, rawQuery: '', headers: lower(r.headers) };
    expect(() => authenticate(req, lookup, opts)).toThrow(/does not match/);

    const pre = await presignedReq({ method: 'GET', path: '/bucket/k' }, 60);
    expect(authenticate(pre, lookup, { region: 'us-east-1', now: new Date(NOW.getTime() + 60_000) }).presigned).toBe(true);
    expect(() => authenticate(pre, lookup, { region: 'us-east-1', now: new Date(NOW.getTime() + 61_000) })).toThrow('Request has expired');
  });
});
