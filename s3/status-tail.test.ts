/**
 * The tail of S3 status codes, as AWS answers them (issue 15), through the real server with the
 * SDK, raw HTTP and curl: bucket name conflicts, presigned expiry, malformed Authorization headers,
 * Expect: 100-continue with a bad signature, NoSuchBucket for anonymous callers, EncodingType=url in
 * every list, 411 MissingContentLength, non-ASCII metadata (RFC 2047), partNumber on GET/HEAD and
 * CompleteMultipartUpload's part checks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ROOT, runAdminCli, signRequest, startTestServer, type TestServer } from '../src/server/testing/server.ts';

const run = promisify(execFile);
let server: TestServer;
let s3: S3Client;
let other: S3Client;
const B = 'tail';

const codeOf = (xml: string): string | undefined => /<Code>([^<]+)<\/Code>/.exec(xml)?.[1];
async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; Code?: string; $metadata?: { httpStatusCode?: number } };
    return `${err.$metadata?.httpStatusCode} ${err.Code ?? err.name}`;
  }
  return 'succeeded';
}

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  const made = await runAdminCli(server, 'user', 'create', 'bob', '--json');
  expect(made.code, made.err).toBe(0);
  const bob = JSON.parse(made.out) as { accessKeyId: string; secretAccessKey: string };
  other = server.client({ credentials: { accessKeyId: bob.accessKeyId, secretAccessKey: bob.secretAccessKey } });
});
afterAll(() => server.stop());

describe('CreateBucket of an existing name', () => {
  it("another owner's name: 409 BucketAlreadyExists; the owner again: 200 in us-east-1 (AWS's legacy region)", async () => {
    expect(await failure(other.send(new CreateBucketCommand({ Bucket: B })))).toBe('409 BucketAlreadyExists');
    const again = await s3.send(new CreateBucketCommand({ Bucket: B }));
    expect(again.$metadata.httpStatusCode).toBe(200);
  });
});

describe('presigned SigV4 expiry', () => {
  it('X-Amz-Expires above 604800 or below 1, and an expired URL: 403 AccessDenied', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'p', Body: 'presigned' }));
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'p' }), { expiresIn: 3600 });
    expect((await fetch(url)).status).toBe(200);
    for (const [value, message] of [
      ['604801', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
      ['0', 'Request has expired'],
      ['-1', 'X-Amz-Expires must be non-negative'],
    ] as const) {
      const r = await fetch(url.replace('X-Amz-Expires=3600', `X-Amz-Expires=${value}`));
      const body = await r.text();
      expect([r.status, codeOf(body)], value).toEqual([403, 'AccessDenied']);
      expect(body).toContain(`<Message>${message}</Message>`);
    }
    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: B, Key: 'p' }), { expiresIn: 60, signingDate: new Date(Date.now() - 120_000) });
    const r = await fetch(old);
    const body = await r.text();
    expect([r.status, codeOf(body)]).toEqual([403, 'AccessDenied']);
    expect(body).toContain('<Message>Request has expired</Message>');
  });
});

describe('Authorization header that is empty or malformed', () => {
  it('is an error, never anonymous', async () => {
    for (const [value, want] of [
      ['', '400 InvalidArgument'],
      ['AWS4-HMAC-SHA256', '400 AuthorizationHeaderMalformed'],
      ['AWS4-HMAC-SHA256 Credential=x', '400 AuthorizationHeaderMalformed'],
      ['AWS', '400 InvalidArgument'],
      ['AWS nocolon', '400 InvalidArgument'],
      ['Bearer abc', '400 InvalidArgument'],
    ] as const) {
      // curl drops a header given as 'Name:' and sends it empty as 'Name;'
      const header = value === '' ? 'Authorization;' : `Authorization: ${value}`;
      const { stdout } = await run('curl', ['-s', '-w', '\n%{http_code}', '-H', header, `${server.url}/${B}/p`]);
      const cut = stdout.lastIndexOf('\n');
      expect(`${stdout.slice(cut + 1)} ${codeOf(stdout.slice(0, cut))}`, JSON.stringify(value)).toBe(want);
    }
  });
});

describe('Expect: 100-continue', () => {
  it('a bad signature is refused before the body: no 100 Continue, the error, the connection closed', async () => {
    const s = await signRequest(server, {
      method: 'PUT',
      path: `/${B}/expect-bad`,
      payload: 'UNSIGNED-PAYLOAD',
      headers: { 'content-length': '1000', expect: '100-continue' },
      credentials: { accessKeyId: ROOT.accessKeyId, secretAccessKey: 'not-the-secret' },
    });
    const url = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(url.port), url.hostname);
      let out = '';
      sock.on('data', (d) => (out += d.toString()));
      sock.on('end', () => resolve(out));
      sock.on('error', reject);
      sock.write([`PUT /${B}/expect-bad HTTP/1.1`, ...Object.entries(s.headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n'));
      setTimeout(() => reject(new Error(`no answer: ${out}`)), 5_000).unref();
    });
    expect(answer).not.toContain('100 Continue');
    expect(answer.startsWith('HTTP/1.1 403')).toBe(true);
    expect(answer).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'expect-bad' })))).toBe('404 NotFound');
  });
});

describe('a bucket that does not exist', () => {
  it('GET and HEAD of an object answer 404 NoSuchBucket to anonymous callers too', async () => {
    const r = await fetch(`${server.url}/no-such-bucket-here/k`);
    expect([r.status, codeOf(await r.text())]).toEqual([404, 'NoSuchBucket']);
    const list = await fetch(`${server.url}/no-such-bucket-here`);
    expect([list.status, codeOf(await list.text())]).toEqual([404, 'NoSuchBucket']);
    expect((await fetch(`${server.url}/no-such-bucket-here/k`, { method: 'HEAD' })).status).toBe(404);
  });
});

describe('PutObject without Content-Length', () => {
  it('411 MissingContentLength for a chunked body that is not aws-chunked', async () => {
    const s = await signRequest(server, { method: 'PUT', path: `/${B}/chunked`, payload: 'UNSIGNED-PAYLOAD', headers: {} });
    const url = new URL(server.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(url.port), url.hostname);
      let out = '';
      sock.on('data', (d) => {
        out += d.toString();
        if (out.includes('</Error>')) (sock.end(), resolve(out));
      });
      sock.on('error', reject);
      sock.write([`PUT /${B}/chunked HTTP/1.1`, ...Object.entries(s.headers).map(([k, v]) => `${k}: ${v}`), 'transfer-encoding: chunked', '', '5', 'hello', '0', '', ''].join('\r\n'));
      setTimeout(() => reject(new Error(`no answer: ${out}`)), 5_000).unref();
    });
    expect(answer.startsWith('HTTP/1.1 411')).toBe(true);
    expect(answer).toContain('<Code>MissingContentLength</Code>');
  });
});

describe('non-ASCII user metadata', () => {
  it('round-trips: stored as sent, answered RFC 2047-encoded as AWS does', async () => {
    // The JS SDK cannot send non-Latin-1 header values; curl sends the UTF-8 bytes, signed with SigV2.
    const date = new Date().toUTCString();
    const toSign = `PUT\n\ntext/plain\n${date}\nx-amz-meta-name:héllo wörld ✓\n/${B}/meta`;
    const sig = createHmac('sha1', ROOT.secretAccessKey).update(toSign, 'utf8').digest('base64');
    const { stdout } = await run('curl', ['-s', '-w', '%{http_code}', '-X', 'PUT', '--data-binary', 'm', '-H', 'content-type: text/plain', '-H', `date: ${date}`, '-H', 'x-amz-meta-name: héllo wörld ✓', '-H', `authorization: AWS ${ROOT.accessKeyId}:${sig}`, `${server.url}/${B}/meta`]);
    expect(stdout).toBe('200');
    const head = await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'meta' }));
    const encoded = `=?UTF-8?B?${Buffer.from('héllo wörld ✓').toString('base64')}?=`;
    expect(head.Metadata?.name).toBe(encoded);
    const ascii = await s3.send(new PutObjectCommand({ Bucket: B, Key: 'meta-ascii', Body: 'a', Metadata: { plain: 'just ascii' } }));
    expect(ascii.$metadata.httpStatusCode).toBe(200);
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'meta-ascii' }))).Metadata?.plain).toBe('just ascii');
  });
});

describe('partNumber on GET and HEAD', () => {
  it('partNumber=1 of a simple object is the whole object; beyond: 416 InvalidPartNumber', async () => {
    await s3.send(new PutObjectCommand({ Bucket: B, Key: 'simple', Body: 'whole object' }));
    const one = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'simple', PartNumber: 1 }));
    expect(await one.Body!.transformToString()).toBe('whole object');
    expect((await s3.send(new HeadObjectCommand({ Bucket: B, Key: 'simple', PartNumber: 1 }))).ContentLength).toBe(12);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'simple', PartNumber: 2 })))).toBe('416 InvalidPartNumber');
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: B, Key: 'simple', PartNumber: 2 })))).toMatch(/^416 /); // HEAD: no body, no code
  });

  it('a multipart object: each part, then 416 InvalidPartNumber past the last', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'mp' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 1) }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'mp', UploadId, PartNumber: 2, Body: 'end' }));
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'mp', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
    const two = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp', PartNumber: 2 }));
    expect(await two.Body!.transformToString()).toBe('end');
    expect(two.PartsCount).toBe(2);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket: B, Key: 'mp', PartNumber: 3 })))).toBe('416 InvalidPartNumber');
  });
});

describe('CompleteMultipartUpload', () => {
  it('unordered parts: 400 InvalidPartOrder; a stale ETag of a re-uploaded part: 400 InvalidPart; the new one completes', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'redo' }));
    const big = Buffer.alloc(5 * 1024 * 1024, 2);
    const p1 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'redo', UploadId, PartNumber: 1, Body: big }));
    const p2 = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'redo', UploadId, PartNumber: 2, Body: 'first' }));
    const unordered = { Parts: [{ PartNumber: 2, ETag: p2.ETag }, { PartNumber: 1, ETag: p1.ETag }] };
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'redo', UploadId, MultipartUpload: unordered })))).toBe('400 InvalidPartOrder');
    const again = await s3.send(new UploadPartCommand({ Bucket: B, Key: 'redo', UploadId, PartNumber: 2, Body: 'second' }));
    const stale = { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] };
    expect(await failure(s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'redo', UploadId, MultipartUpload: stale })))).toBe('400 InvalidPart');
    const fresh = { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: again.ETag }] };
    await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: 'redo', UploadId, MultipartUpload: fresh }));
    const got = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'redo', PartNumber: 2 }));
    expect(await got.Body!.transformToString()).toBe('second');
  });
});

describe('EncodingType=url', () => {
  const KEYS = ['enc/a b/1', 'enc/100%/2', 'enc/ünï/3', 'enc/ctl\u0001x', 'enc/plus+amp&/4'];
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+').replace(/%2F/g, '/').replace(/[!'()]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  let xmlOf: (path: string, query: Record<string, string>) => Promise<string>;
  beforeAll(async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
    for (const k of KEYS) await s3.send(new PutObjectCommand({ Bucket: B, Key: k, Body: 'x' }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'enc/a b/upload ü' }));
    xmlOf = async (path, query) => {
      const s = await signRequest(server, { method: 'GET', path, query });
      const headers = { ...s.headers };
      delete headers.host;
      const r = await fetch(s.url, { headers });
      expect(r.status).toBe(200);
      return r.text();
    };
  });

  it('ListObjects v1: Key, Prefix, Delimiter, Marker, NextMarker, CommonPrefixes', async () => {
    const xml = await xmlOf(`/${B}`, { 'encoding-type': 'url', prefix: 'enc/', delimiter: '/', marker: 'enc/1 0', 'max-keys': '1' });
    expect(xml).toContain('<EncodingType>url</EncodingType>');
    expect(xml).toContain('<Marker>enc/1+0</Marker>');
    expect(xml).toContain(`<Prefix>${enc('enc/100%/')}</Prefix>`);
    expect(xml).toContain(`<NextMarker>${enc('enc/100%/')}</NextMarker>`);
    const all = await xmlOf(`/${B}`, { 'encoding-type': 'url', prefix: 'enc/' });
    for (const k of KEYS) expect(all).toContain(`<Key>${enc(k)}</Key>`);
    expect(all).toContain('<Key>enc/ctl%01x</Key>');
  });

  it('ListObjectsV2: Key, Prefix, Delimiter, StartAfter, CommonPrefixes', async () => {
    const xml = await xmlOf(`/${B}`, { 'list-type': '2', 'encoding-type': 'url', prefix: 'enc/', delimiter: '/', 'start-after': 'enc/ ' });
    expect(xml).toContain('<StartAfter>enc/+</StartAfter>');
    expect(xml).toContain(`<Prefix>${enc('enc/a b/')}</Prefix>`);
    expect(xml).toContain(`<Prefix>${enc('enc/ünï/')}</Prefix>`);
    expect(xml).toContain(`<Key>${enc('enc/ctl\u0001x')}</Key>`);
  });

  it('ListObjectVersions: Key, Prefix, KeyMarker, NextKeyMarker', async () => {
    const xml = await xmlOf(`/${B}`, { versions: '', 'encoding-type': 'url', prefix: 'enc/', 'key-marker': 'enc/a b/1', 'max-keys': '1' });
    expect(xml).toContain(`<KeyMarker>${enc('enc/a b/1')}</KeyMarker>`);
    expect(xml).toContain(`<NextKeyMarker>${enc('enc/ctl\u0001x')}</NextKeyMarker>`);
  });

  it('ListMultipartUploads: Key, Prefix, Delimiter, KeyMarker, CommonPrefixes', async () => {
    const xml = await xmlOf(`/${B}`, { uploads: '', 'encoding-type': 'url', prefix: 'enc/a b/' });
    expect(xml).toContain('<EncodingType>url</EncodingType>');
    expect(xml).toContain(`<Prefix>${enc('enc/a b/')}</Prefix>`);
    expect(xml).toContain(`<Key>${enc('enc/a b/upload ü')}</Key>`);
    const grouped = await xmlOf(`/${B}`, { uploads: '', 'encoding-type': 'url', delimiter: ' ', 'key-marker': 'enc/a' });
    expect(grouped).toContain('<Delimiter>+</Delimiter>');
    expect(grouped).toContain('<KeyMarker>enc/a</KeyMarker>');
    expect(grouped).toContain('<Prefix>enc/a+</Prefix>');
  });
});
