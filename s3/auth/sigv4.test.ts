import { describe, expect, it } from 'vitest';
import { DomainError } from '../../src/core/errors.ts';
import { canonicalQueries, canonicalUris, parseQuery } from './canonical.ts';
import { verifyPayloadHash } from './payload-hash.ts';
import { authenticate } from './sigv4.ts';
import { parseAmzDate } from './signing.ts';
import type { AuthRequest } from './types.ts';
import { thrown } from '../../src/core/testing/thrown.ts';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = new Date('2013-05-24T00:00:00Z');
const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const lookup = (k: string) => (k === AK ? { secret: SECRET, account: 'example-account' } : undefined);
const opts = { region: 'us-east-1', now: NOW };
const HOST = 'examplebucket.s3.amazonaws.com';

const authz = (signed: string, signature: string, scope = '20130524/us-east-1/s3/aws4_request', ak = AK) =>
  `AWS4-HMAC-SHA256 Credential=${ak}/${scope},SignedHeaders=${signed},Signature=${signature}`;

// The examples of "Signature Calculations for the Authorization Header: Transferring Payload in a
// Single Chunk" and "Query String Authentication" in the Amazon S3 API reference.
const getObject: AuthRequest = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery: '',
  headers: {
    host: HOST,
    range: 'bytes=0-9',
    'x-amz-content-sha256': EMPTY,
    'x-amz-date': '20130524T000000Z',
    authorization: authz('host;range;x-amz-content-sha256;x-amz-date', 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41'),
  },
};
const putObject: AuthRequest = {
  method: 'PUT',
  rawPath: '/test$file.text',
  rawQuery: '',
  headers: {
    host: HOST,
    date: 'Fri, 24 May 2013 00:00:00 GMT',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
    authorization: authz(
      'date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class',
      '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd',
    ),
  },
};
const getLifecycle: AuthRequest = {
  method: 'GET',
  rawPath: '/',
  rawQuery: 'lifecycle',
  headers: {
    host: HOST,
    'x-amz-date': '20130524T000000Z',
    'x-amz-content-sha256': EMPTY,
    authorization: authz('host;x-amz-content-sha256;x-amz-date', 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543'),
  },
};
const listObjects: AuthRequest = {
  ...getLifecycle,
  rawQuery: 'max-keys=2&prefix=J',
  headers: {
    ...getLifecycle.headers,
    authorization: authz('host;x-amz-content-sha256;x-amz-date', '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7'),
  },
};
const presigned: AuthRequest = {
  method: 'GET',
  rawPath: '/test.txt',
  rawQuery:
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
  headers: { host: HOST },
};

const withHeader = (r: AuthRequest, name: string, value: string | undefined): AuthRequest => {
  const headers = { ...r.headers };
  if (value === undefined) delete headers[name];
  else headers[name] = value;
  return { ...r, headers };
};

describe('authenticate: AWS documentation examples', () => {
  it('GET object with a range', () => {
    expect(authenticate(getObject, lookup, opts)).toEqual({
      accessKey: AK,
      account: 'example-account',
      mode: 'hash',
      payloadHash: EMPTY,
      presigned: false,
      signatureVersion: 'AWS4-HMAC-SHA256',
    });
  });

  it('PUT object with a $ in the key and a signed payload', async () => {
    const r = authenticate(putObject, lookup, opts);
    expect(r.mode).toBe('hash');
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('Welcome to ');
      yield Buffer.from('Amazon S3.');
    }
    const out: Uint8Array[] = [];
    for await (const c of verifyPayloadHash(body(), r.payloadHash!)) out.push(c);
    expect(Buffer.concat(out).toString()).toBe('Welcome to Amazon S3.');
  });

  it('GET bucket lifecycle and list objects (query parameters)', () => {
    expect(authenticate(getLifecycle, lookup, opts).accessKey).toBe(AK);
    expect(authenticate(listObjects, lookup, opts).accessKey).toBe(AK);
  });

  it('presigned GET object', () => {
    const now = new Date('2013-05-24T12:00:00Z');
    expect(authenticate(presigned, lookup, { region: 'us-east-1', now })).toEqual({
      accessKey: AK,
      account: 'example-account',
      mode: 'UNSIGNED-PAYLOAD',
      presigned: true,
      signatureVersion: 'AWS4-HMAC-SHA256',
    });
  });

  it('fails each example once one signed thing changes', () => {
    expect(thrown(() => authenticate(withHeader(getObject, 'range', 'bytes=0-10'), lookup, opts)).code).toBe('SignatureDoesNotMatch');
    expect(thrown(() => authenticate({ ...putObject, rawPath: '/test$file.txt' }, lookup, opts)).code).toBe('SignatureDoesNotMatch');
    expect(thrown(() => authenticate({ ...listObjects, rawQuery: 'max-keys=3&prefix=J' }, lookup, opts)).code).toBe('SignatureDoesNotMatch');
    const now = new Date('2013-05-24T12:00:00Z');
    const e = thrown(() => authenticate({ ...presigned, rawPath: '/test2.txt' }, lookup, { region: 'us-east-1', now }));
    expect(e.code).toBe('SignatureDoesNotMatch');
    expect(e.fields['CanonicalRequest']).toContain('/test2.txt');
    expect(e.fields['AWSAccessKeyId']).toBe(AK);
  });
});

describe('authenticate: errors', () => {
  it('refuses anonymous requests', () => {
    const e = thrown(() => authenticate({ method: 'GET', rawPath: '/', rawQuery: '', headers: { host: HOST } }, lookup, opts));
    expect(e.code).toBe('AccessDenied');
    expect(e.message).toBe('Anonymous access is not allowed; sign requests with an access key.');
  });

  it('refuses an unknown access key', () => {
    const e = thrown(() => authenticate(withHeader(getObject, 'authorization', authz('host', 'ab'.repeat(32), undefined, 'AKIDUNKNOWN')), lookup, opts));
    expect(e.code).toBe('InvalidAccessKeyId');
    expect(e.fields).toEqual({ AWSAccessKeyId: 'AKIDUNKNOWN' });
  });

  it('refuses a bad signature with S3 message and debugging fields', () => {
    const bad = withHeader(getObject, 'authorization', authz('host;range;x-amz-content-sha256;x-amz-date', '0'.repeat(64)));
    const e = thrown(() => authenticate(bad, lookup, opts));
    expect(e.code).toBe('SignatureDoesNotMatch');
    expect(e.message).toBe(
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
    expect(e.fields['StringToSign']).toMatch(/^AWS4-HMAC-SHA256\n20130524T000000Z\n20130524\/us-east-1\/s3\/aws4_request\n[0-9a-f]{64}$/);
    expect(e.fields['SignatureProvided']).toBe('0'.repeat(64));
  });

  it('refuses a clock more than 15 minutes off, either way', () => {
    for (const skew of [16, -16]) {
      const e = thrown(() => authenticate(getObject, lookup, { region: 'us-east-1', now: new Date(NOW.getTime() + skew * 60_000) }));
      expect(e.code).toBe('RequestTimeTooSkewed');
    }
    expect(authenticate(getObject, lookup, { region: 'us-east-1', now: new Date(NOW.getTime() + 14 * 60_000) }).accessKey).toBe(AK);
  });

  it('names the right region when the scope has the wrong one', () => {
    const e = thrown(() => authenticate(getObject, lookup, { region: 'eu-west-1', now: NOW }));
    expect(e.code).toBe('AuthorizationHeaderMalformed');
    expect(e.message).toBe("The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-1'");
    expect(e.fields).toEqual({ Region: 'eu-west-1' });
  });

  it('refuses malformed authorization headers', () => {
    for (const value of [
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host',
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00',
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130523/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00',
    ]) {
      expect(thrown(() => authenticate(withHeader(getObject, 'authorization', value), lookup, opts)).code, value).toBe(
        'AuthorizationHeaderMalformed',
      );
    }
    // SigV2 (s3/auth/sigv2.test.ts) unless switched off
    expect(thrown(() => authenticate(withHeader(getObject, 'authorization', 'AWS AKIA:abc'), lookup, { ...opts, sigv2: false })).code).toBe('InvalidRequest');
    expect(thrown(() => authenticate(withHeader(getObject, 'authorization', 'Bearer x'), lookup, opts)).code).toBe('InvalidArgument');
  });

  it('requires x-amz-content-sha256 and a valid value for it', () => {
    const missing = thrown(() => authenticate(withHeader(getObject, 'x-amz-content-sha256', undefined), lookup, opts));
    expect(missing.code).toBe('InvalidRequest');
    expect(missing.message).toBe('Missing required header for this request: x-amz-content-sha256');
    const invalid = thrown(() => authenticate(withHeader(getObject, 'x-amz-content-sha256', 'abc'), lookup, opts));
    expect(invalid.code).toBe('InvalidArgument');
    expect(invalid.fields['ArgumentName']).toBe('x-amz-content-sha256');
  });

  it('requires a date', () => {
    const e = thrown(() => authenticate(withHeader(getObject, 'x-amz-date', undefined), lookup, opts));
    expect(e.code).toBe('AccessDenied');
    expect(thrown(() => authenticate(withHeader(getObject, 'x-amz-date', '2013-05-24'), lookup, opts)).code).toBe('AccessDenied');
  });

  it('refuses unsigned x-amz-* headers', () => {
    const e = thrown(() => authenticate(withHeader(getObject, 'x-amz-meta-sneaky', '1'), lookup, opts));
    expect(e.code).toBe('AccessDenied');
    expect(e.fields).toEqual({ HeadersNotSigned: 'x-amz-meta-sneaky' });
  });

  it('refuses two auth mechanisms at once, and SigV2 presigned URLs when SigV2 is off', () => {
    const both = { ...getObject, rawQuery: presigned.rawQuery };
    expect(thrown(() => authenticate(both, lookup, opts)).code).toBe('InvalidArgument');
    const v2 = { method: 'GET', rawPath: '/x', rawQuery: 'AWSAccessKeyId=AK&Expires=1&Signature=abc', headers: {} };
    expect(thrown(() => authenticate(v2, lookup, { ...opts, sigv2: false })).code).toBe('InvalidRequest');
  });
});

describe('authenticate: presigned URL errors', () => {
  const at = (iso: string) => ({ region: 'us-east-1', now: new Date(iso) });
  const query = (replace: [RegExp, string]) => ({ ...presigned, rawQuery: presigned.rawQuery.replace(...replace) });

  it('expires after X-Amz-Expires', () => {
    expect(authenticate(presigned, lookup, at('2013-05-25T00:00:00Z')).presigned).toBe(true);
    const e = thrown(() => authenticate(presigned, lookup, at('2013-05-25T00:00:01Z')));
    expect(e.code).toBe('AccessDenied');
    expect(e.message).toBe('Request has expired');
    expect(e.fields['X-Amz-Expires']).toBe('86400');
    expect(thrown(() => authenticate(presigned, lookup, at('2013-05-23T23:00:00Z'))).message).toBe('Request is not valid yet');
  });

  it('checks X-Amz-Expires bounds, the algorithm, the credential and missing parameters', () => {
    // out of range: 403 AccessDenied as S3 answers (0 has expired already)
    for (const [expires, message] of [
      ['0', 'Request has expired'],
      ['-5', 'X-Amz-Expires must be non-negative'],
      ['604801', 'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds'],
    ] as const) {
      const e = thrown(() => authenticate(query([/X-Amz-Expires=86400/, `X-Amz-Expires=${expires}`]), lookup, at('2013-05-24T00:00:01Z')));
      expect([e.code, e.message], expires).toEqual(['AccessDenied', message]);
    }
    for (const bad of [
      query([/X-Amz-Expires=86400/, 'X-Amz-Expires=soon']),
      query([/X-Amz-Algorithm=AWS4-HMAC-SHA256/, 'X-Amz-Algorithm=AWS4-HMAC-SHA1']),
      query([/us-east-1/, 'eu-west-1']),
      query([/X-Amz-Credential=[^&]+/, 'X-Amz-Credential=nonsense']),
      query([/&X-Amz-SignedHeaders=host/, '']),
      query([/X-Amz-Date=20130524T000000Z/, 'X-Amz-Date=2013-05-24']),
    ]) {
      expect(thrown(() => authenticate(bad, lookup, at('2013-05-24T00:00:00Z'))).code, bad.rawQuery).toBe(
        'AuthorizationQueryParametersError',
      );
    }
    const region = thrown(() => authenticate(presigned, lookup, { region: 'eu-west-1', now: NOW }));
    expect(region.message).toBe("Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-1'");
    expect(region.fields).toEqual({ Region: 'eu-west-1' });
  });

  it('accepts the maximum of one week', () => {
    // The signature no longer matches once Expires changes: what matters is which check fails.
    const week = query([/X-Amz-Expires=86400/, 'X-Amz-Expires=604800']);
    expect(thrown(() => authenticate(week, lookup, at('2013-05-24T00:00:00Z'))).code).toBe('SignatureDoesNotMatch');
  });
});

describe('canonical forms', () => {
  it('keeps the path as sent, encoding only what must be encoded', () => {
    expect(canonicalUris('/test$file.text')).toEqual(['/test%24file.text']);
    expect(canonicalUris('/a%2fb/c%20d')).toEqual(['/a%2fb/c%20d', '/a%2Fb/c%20d']);
    expect(canonicalUris('/b/ü k')).toEqual(['/b/%C3%BC%20k']);
    expect(canonicalUris('')).toEqual(['/']);
    expect(canonicalUris('/a//b/./c/../d')).toEqual(['/a//b/./c/../d']);
  });

  it('decodes then strictly encodes the query, sorted by name then value', () => {
    expect(canonicalQueries('prefix=a+b%2Fc&delimiter=%2F&list-type=2&a=2&a=1&empty')).toEqual([
      'a=1&a=2&delimiter=%2F&empty=&list-type=2&prefix=a%20b%2Fc',
      'a=1&a=2&delimiter=%2F&empty=&list-type=2&prefix=a%2Bb%2Fc',
    ]);
    expect(canonicalQueries("k=%7e!'()*&x=%zz")).toEqual(["k=~%21%27%28%29%2A&x=%25zz"]);
    expect(parseQuery('n=%E6%97%A5')[0]?.value).toBe('日');
  });

  it('parses only valid amz dates', () => {
    expect(parseAmzDate('20130524T000000Z')?.toISOString()).toBe('2013-05-24T00:00:00.000Z');
    expect(parseAmzDate('20130230T000000Z')).toBeUndefined();
    expect(parseAmzDate('20130524T000000')).toBeUndefined();
  });
});

describe('verifyPayloadHash', () => {
  it('throws XAmzContentSHA256Mismatch at the end when the body differs', async () => {
    async function* body(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('Welcome to Amazon S3!');
    }
    const seen: Uint8Array[] = [];
    const e = await (async () => {
      for await (const c of verifyPayloadHash(body(), '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072')) seen.push(c);
    })().then(
      () => undefined,
      (err: unknown) => err as DomainError,
    );
    expect(e?.code).toBe('XAmzContentSHA256Mismatch');
    expect(e?.message).toBe("The provided 'x-amz-content-sha256' header does not match what was computed.");
    expect(seen.length).toBe(1);
  });
});
