/**
 * SigV2 against AWS's published examples (S3 API reference, "Signing and authenticating REST
 * requests", Authentication examples: the johnsmith bucket, AKIAIOSFODNN7EXAMPLE) and the query
 * string example, plus the refusals.
 */
import { describe, expect, it } from 'vitest';
import { isDomainError } from '../../src/core/errors.ts';
import { authenticate } from './sigv4.ts';
import { canonicalResource, stringToSignV2, v2Params } from './sigv2.ts';
import type { AuthRequest } from './types.ts';

const AKID = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const lookup = (k: string) => (k === AKID ? { secret: SECRET, account: 'john' } : undefined);
const opts = (date: string, more: object = {}) => ({ region: 'us-east-1', domain: 's3.amazonaws.com', now: new Date(date), ...more });

function req(method: string, url: string, headers: Record<string, string>): AuthRequest {
  const q = url.indexOf('?');
  return { method, rawPath: q < 0 ? url : url.slice(0, q), rawQuery: q < 0 ? '' : url.slice(q + 1), headers };
}

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return isDomainError(e) ? e.code : String(e);
  }
};

/** The examples: request as sent, the StringToSign AWS shows, the signature AWS shows. */
const EXAMPLES: { name: string; method: string; url: string; headers: Record<string, string>; toSign: string; signature: string }[] = [
  {
    name: 'Object GET (virtual-hosted)',
    method: 'GET',
    url: '/photos/puppy.jpg',
    headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:36:42 +0000' },
    toSign: 'GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg',
    signature: 'bWq2s1WEIj+Ydj0vQ697zp+IXMU=',
  },
  {
    name: 'Object PUT',
    method: 'PUT',
    url: '/photos/puppy.jpg',
    headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 21:15:45 +0000', 'content-type': 'image/jpeg', 'content-length': '94328' },
    toSign: 'PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n/johnsmith/photos/puppy.jpg',
    signature: 'MyyxeRY7whkBe+bq8fHCL/2kKUg=',
  },
  {
    name: 'List (query parameters that are not sub-resources are not signed)',
    method: 'GET',
    url: '/?prefix=photos&max-keys=50&marker=puppy',
    headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:42:41 +0000', 'user-agent': 'Mozilla/5.0' },
    toSign: 'GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/',
    signature: 'htDYFYduRNen8P9ZfE/s9SuKy0U=',
  },
  {
    name: 'Fetch ACL (a bare sub-resource)',
    method: 'GET',
    url: '/?acl',
    headers: { host: 'johnsmith.s3.amazonaws.com', date: 'Tue, 27 Mar 2007 19:44:46 +0000' },
    toSign: 'GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl',
    signature: 'c2WLPFtWHVgbEmeEG93a4cG37dM=',
  },
  {
    name: 'Delete with x-amz-date (path-style; the Date slot is empty)',
    method: 'DELETE',
    url: '/johnsmith/photos/puppy.jpg',
    headers: { host: 's3.amazonaws.com', date: 'Tue, 27 Mar 2007 21:20:27 +0000', 'x-amz-date': 'Tue, 27 Mar 2007 21:20:26 +0000' },
    toSign: 'DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n/johnsmith/photos/puppy.jpg',
    signature: 'R4dJ53KECjStyBO5iTBJZ4XVOaI=',
  },
  {
    name: 'Upload with Content-MD5 and amz headers (repeated header joined by ",")',
    method: 'PUT',
    url: '/static.johnsmith.net/db-backup.dat.gz',
    headers: {
      host: 's3.amazonaws.com',
      date: 'Tue, 27 Mar 2007 21:06:08 +0000',
      'x-amz-acl': 'public-read',
      'content-type': 'application/x-download',
      'content-md5': '4gJE4saaMU4BqNR0kLY+lw==',
      'x-amz-meta-reviewedby': 'joe@johnsmith.net,jane@johnsmith.net',
      'x-amz-meta-filechecksum': '0x02661779',
      'x-amz-meta-checksumalgorithm': 'crc32',
      'content-disposition': 'attachment; filename=database.dat',
      'content-encoding': 'gzip',
      'content-length': '5913339',
    },
    toSign:
      'PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\nTue, 27 Mar 2007 21:06:08 +0000\n' +
      'x-amz-acl:public-read\nx-amz-meta-checksumalgorithm:crc32\nx-amz-meta-filechecksum:0x02661779\n' +
      'x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n/static.johnsmith.net/db-backup.dat.gz',
    signature: 'ilyl83RwaSoYIEdixDQcA4OnAnc=',
  },
  {
    name: 'List all my buckets',
    method: 'GET',
    url: '/',
    headers: { host: 's3.amazonaws.com', date: 'Wed, 28 Mar 2007 01:29:59 +0000' },
    toSign: 'GET\n\n\nWed, 28 Mar 2007 01:29:59 +0000\n/',
    signature: 'qGdzdERIC03wnaRNKh6OqZehG9s=',
  },
  {
    name: 'Unicode keys (the path as sent, hex case untouched)',
    method: 'GET',
    url: '/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
    headers: { host: 's3.amazonaws.com', date: 'Wed, 28 Mar 2007 01:49:49 +0000' },
    toSign: 'GET\n\n\nWed, 28 Mar 2007 01:49:49 +0000\n/dictionary/fran%C3%A7ais/pr%c3%a9f%c3%a8re',
    signature: 'DNEZGsoieTZ92F3bUfSPQcbGmlM=',
  },
];

describe('SigV2 header: AWS examples', () => {
  for (const ex of EXAMPLES) {
    it(ex.name, () => {
      const r = req(ex.method, ex.url, { ...ex.headers, authorization: `AWS ${AKID}:${ex.signature}` });
      const dateSlot = ex.headers['x-amz-date'] !== undefined ? '' : ex.headers.date!;
      const bucket = ex.headers.host === 'johnsmith.s3.amazonaws.com' ? 'johnsmith' : undefined;
      expect(stringToSignV2({ method: ex.method, headers: ex.headers, date: dateSlot, resource: canonicalResource(r.rawPath, v2Params(r.rawQuery), bucket) })).toBe(ex.toSign);
      const result = authenticate(r, lookup, opts(ex.headers['x-amz-date'] ?? ex.headers.date!));
      expect(result).toMatchObject({ accessKey: AKID, account: 'john', signatureVersion: 'AWS', presigned: false, mode: 'UNSIGNED-PAYLOAD' });
    });
  }

  it('refuses a changed signature, method, key or header with SignatureDoesNotMatch', () => {
    const ex = EXAMPLES[1]!;
    const good = { ...ex.headers, authorization: `AWS ${AKID}:${ex.signature}` };
    const at = opts(ex.headers.date!);
    expect(codeOf(() => authenticate(req('PUT', ex.url, good), lookup, at))).toBe('ok');
    expect(codeOf(() => authenticate(req('PUT', ex.url, { ...good, authorization: `AWS ${AKID}:MyyxeRY7whkBe+bq8fHCL/2kKUh=` }), lookup, at))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(req('POST', ex.url, good), lookup, at))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(req('PUT', '/photos/kitten.jpg', good), lookup, at))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(req('PUT', ex.url, { ...good, 'content-type': 'text/html' }), lookup, at))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(req('PUT', ex.url, { ...good, 'x-amz-meta-added': '1' }), lookup, at))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(req('PUT', `${ex.url}?acl`, good), lookup, at))).toBe('SignatureDoesNotMatch');
  });

  it('refuses an unknown key, a malformed header, a missing or skewed date', () => {
    const ex = EXAMPLES[0]!;
    const at = opts(ex.headers.date!);
    const h = (authorization: string, more: Record<string, string> = {}) => req('GET', ex.url, { ...ex.headers, authorization, ...more });
    expect(codeOf(() => authenticate(h(`AWS AKIANOSUCHKEY:${ex.signature}`), lookup, at))).toBe('InvalidAccessKeyId');
    expect(codeOf(() => authenticate(h(`AWS ${AKID}`), lookup, at))).toBe('InvalidArgument');
    expect(codeOf(() => authenticate(h(`AWS ${AKID}:`), lookup, at))).toBe('InvalidArgument');
    expect(codeOf(() => authenticate(h('AWS '), lookup, at))).toBe('InvalidArgument');
    const noDate = req('GET', ex.url, { host: ex.headers.host!, authorization: `AWS ${AKID}:${ex.signature}` });
    expect(codeOf(() => authenticate(noDate, lookup, at))).toBe('AccessDenied');
    expect(codeOf(() => authenticate(h(`AWS ${AKID}:${ex.signature}`), lookup, opts('2007-03-27T20:00:00Z')))).toBe('RequestTimeTooSkewed');
  });

  it('--sigv2=false: InvalidRequest, as a SigV4-only region answers', () => {
    const ex = EXAMPLES[0]!;
    const r = req('GET', ex.url, { ...ex.headers, authorization: `AWS ${AKID}:${ex.signature}` });
    expect(codeOf(() => authenticate(r, lookup, opts(ex.headers.date!, { sigv2: false })))).toBe('InvalidRequest');
  });
});

describe('SigV2 query string', () => {
  // AWS's example: Expires=1175139620, GET /photos/puppy.jpg on johnsmith.s3.amazonaws.com
  const url = '/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620';
  const headers = { host: 'johnsmith.s3.amazonaws.com' };

  it('AWS example: accepted before it expires', () => {
    const r = authenticate(req('GET', url, headers), lookup, opts('2007-03-29T03:00:00Z'));
    expect(r).toMatchObject({ accessKey: AKID, account: 'john', signatureVersion: 'AWS', presigned: true });
  });

  it('after Expires: 403 AccessDenied "Request has expired" with Expires and ServerTime', () => {
    try {
      authenticate(req('GET', url, headers), lookup, opts('2007-03-29T03:40:21Z'));
      expect.unreachable();
    } catch (e) {
      expect(isDomainError(e) && e.code).toBe('AccessDenied');
      expect((e as Error).message).toBe('Request has expired');
      expect((e as { fields?: Record<string, string> }).fields).toMatchObject({ Expires: '2007-03-29T03:40:20.000Z' });
    }
  });

  it('an Expires more than a week ahead: 403 AccessDenied (S3 sets none; here every URL lives a week at most)', () => {
    expect(codeOf(() => authenticate(req('GET', url, headers), lookup, opts('2007-03-22T03:00:00Z')))).toBe('AccessDenied');
    expect(codeOf(() => authenticate(req('GET', url, headers), lookup, opts('2007-03-22T03:40:20Z')))).toBe('ok');
  });

  it('a tampered URL, a missing parameter, a signature with a raw "+" read as a space', () => {
    const at = opts('2007-03-29T03:00:00Z');
    expect(codeOf(() => authenticate(req('GET', url.replace('puppy', 'kitty'), headers), lookup, at))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(req('GET', url.replace('1175139620', '1175139621'), headers), lookup, at))).toBe('SignatureDoesNotMatch');
    expect(codeOf(() => authenticate(req('GET', url.replace('&Expires=1175139620', ''), headers), lookup, at))).toBe('AccessDenied');
    expect(codeOf(() => authenticate(req('GET', url.replace('%2B', '+'), headers), lookup, at))).toBe('ok');
    expect(codeOf(() => authenticate(req('GET', url, { ...headers, authorization: `AWS ${AKID}:x` }), lookup, at))).toBe('InvalidArgument');
    expect(codeOf(() => authenticate(req('GET', url, headers), lookup, { ...at, sigv2: false }))).toBe('InvalidRequest');
  });
});

describe('CanonicalizedResource', () => {
  it('a sub-resource added to a signed request is refused: ?retention or ?legal-hold cannot re-target a GetObject', () => {
    const ex = EXAMPLES[0]!;
    const good = { ...ex.headers, authorization: `AWS ${AKID}:${ex.signature}` };
    for (const sub of ['retention', 'legal-hold', 'acl', 'tagging', 'publicAccessBlock', 'attributes']) {
      expect(codeOf(() => authenticate(req('GET', `${ex.url}?${sub}`, good), lookup, opts(ex.headers.date!))), sub).toBe('SignatureDoesNotMatch');
    }
  });

  it('keeps sub-resources and response overrides, sorted, values decoded; drops other parameters', () => {
    const p = v2Params('versionId=a%2Fb&response-content-type=text%2Fplain&prefix=x&uploadId=U&partNumber=2&list-type=2');
    expect(canonicalResource('/b/k', p, undefined)).toBe('/b/k?partNumber=2&response-content-type=text/plain&uploadId=U&versionId=a/b');
  });
});
