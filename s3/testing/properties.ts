/**
 * Properties of every s3/ parser that reads network bytes, for fast-check: the *.property.test.ts
 * files beside the parsers run them with a small budget in `npm test`, and `npm run fuzz` runs the
 * same ones with a large budget. Each property: no crash and no hang on any input; malformed input
 * fails with a clean 4xx DomainError (never an InternalError or a TypeError); round-trips hold
 * where the format has them.
 */
import fc from 'fast-check';
import { SignatureV4 } from '@smithy/signature-v4';
import { isDomainError } from '../../src/core/errors.ts';
import { NodeSha256 } from '../../accounts/client.ts';
import { resolveRange } from '../../src/core/range.ts';
import { toS3Error } from '../errors.ts';
import { canonicalQueries, canonicalUriAsSent, canonicalUris, encodeBytes, parseQuery, percentDecode, uriEncode, canonicalHeaderValue } from '../auth/canonical.ts';
import { parseAuthorizationHeader, parseCredential, parsePresigned, parsePayloadMode } from '../auth/credentials.ts';
import { authenticate } from '../auth/sigv4.ts';
import { decodeAwsChunked } from '../auth/aws-chunked.ts';
import { chunkStringToSign, hmacHex, sha256Hex, signingKey, trailerStringToSign } from '../auth/signing.ts';
import type { AuthRequest, ChunkSigning, PayloadMode } from '../auth/types.ts';
import { list, parseXml, text, xmlDocument } from '../xml.ts';
import { route, type RouteInput } from '../router.ts';
import { checkReadConditions, metaFromHeaders, parseChecksumAlgorithm, parseRange, parseTaggingHeader, writeConditions } from '../headers.ts';
import type { ObjectInfo } from '../../src/core/object-store.ts';
import { assert, type FuzzTarget } from '../../src/core/testing/fuzz.ts';

export type { FuzzTarget };


/** Runs `f`; anything it throws must be a DomainError that renders as a 4xx S3 error. */
export function cleanly<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch (e) {
    expectClean(e);
    return undefined;
  }
}

export function expectClean(e: unknown): void {
  if (!isDomainError(e)) throw new Error(`not a clean error: ${(e as Error)?.stack ?? String(e)}`);
  if (e.code === 'NotImplemented') return; // 501 where S3 answers it (a sub-resource or header value it has and datamesh does not)
  const status = toS3Error(e, { resource: '', requestId: '' }).status;
  if (status >= 500) throw new Error(`a ${status} ${e.code} for malformed input: ${e.message}`);
}

export async function cleanlyAsync<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    expectClean(e);
    return undefined;
  }
}


// ---------- generators ----------
/** Text a client could put anywhere: ASCII, the characters SigV4 treats specially, any Unicode (lone surrogates too). */
export const wireText = (maxLength = 60): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }),
    fc.stringMatching(/^[%+=&?#/ ~!'()*;:,a-zA-Z0-9]{0,40}$/),
  );
const headers = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), wireText(80), { maxKeys: 8 });

// ---------- SigV4: canonicalisation, authorization header, presigned URLs ----------
const AK = 'AKIDFUZZ';
const SECRET = 'fuzz/secret+key=';
const NOW = new Date('2025-03-01T12:34:56Z');
const lookup = (k: string) => (k === AK ? { secret: SECRET, account: 'fuzz' } : undefined);
const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: { accessKeyId: AK, secretAccessKey: SECRET }, sha256: NodeSha256, uriEscapePath: false });
const escape = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
/** Well-formed UTF-16 (what an SDK can send: a lone surrogate cannot be encoded). */
const wellFormed = (s: string) => !/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''));
const keyArb = wireText(40).filter(wellFormed);
const queryArb = fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,12}$/).filter((k) => !/^x-amz-/i.test(k)), keyArb, { maxKeys: 4 });

async function smithySigned(key: string, query: Record<string, string>, presign: boolean): Promise<AuthRequest> {
  const base = {
    method: 'GET',
    protocol: 'http:',
    hostname: 'localhost',
    port: 9000,
    path: `/bucket/${key.split('/').map(escape).join('/')}`,
    query,
    headers: { host: 'localhost:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  };
  const req = presign ? await signer.presign(base, { signingDate: NOW, expiresIn: 900 }) : await signer.sign(base, { signingDate: NOW });
  const rawQuery = Object.entries(req.query as Record<string, string>)
    .map(([k, v]) => `${escape(k)}=${escape(v)}`)
    .join('&');
  return { method: 'GET', rawPath: req.path, rawQuery, headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v])) };
}

const sigv4: FuzzTarget[] = [
  {
    parser: 'sigv4',
    name: 'canonical URI and query: any input gives SigV4-encoded output, and decoding round-trips',
    property: () =>
      fc.property(wireText(120), wireText(120), (path, query) => {
        for (const u of canonicalUris(path)) assert(/^(?:[A-Za-z0-9\-._~/]|%[0-9A-Fa-f]{2})*$/.test(u), `canonical URI ${JSON.stringify(u)}`);
        for (const q of canonicalQueries(query)) assert(/^(?:[A-Za-z0-9\-._~=&]|%[0-9A-F]{2})*$/.test(q), `canonical query ${JSON.stringify(q)}`);
        const bytes = Buffer.from(path, 'utf8');
        assert(percentDecode(encodeBytes(bytes), false).equals(bytes), 'percentDecode(encode(x)) == x');
        assert(canonicalUriAsSent(uriEncode(path, true)) === (uriEncode(path, true) || '/'), 'an encoded path is canonical as sent');
        for (const p of parseQuery(query)) assert(percentDecode(p.encodedValue, false).toString('utf8') === p.value, 'query value round-trip');
        canonicalHeaderValue(path);
      }),
  },
  {
    parser: 'sigv4',
    name: 'Authorization header, credential and payload mode parsers: a value or a clean 4xx',
    property: () =>
      fc.property(
        fc.oneof(wireText(200), fc.stringMatching(/^AWS4-HMAC-SHA256 Credential=[A-Za-z0-9/_-]{0,60}, ?SignedHeaders=[a-z;-]{0,40}, ?Signature=[0-9a-f]{0,64}$/)),
        wireText(60),
        (auth, mode) => {
          cleanly(() => parseAuthorizationHeader(auth));
          cleanly(() => parseCredential(auth));
          cleanly(() => parsePayloadMode(mode));
        },
      ),
  },
  {
    parser: 'sigv4',
    name: 'authenticate(): any request is authenticated or refused with a clean 4xx',
    property: () =>
      fc.property(fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'PATCH', ''), wireText(80), wireText(120), headers, (method, rawPath, rawQuery, hs) => {
        cleanly(() => authenticate({ method, rawPath, rawQuery, headers: hs }, lookup, { region: 'us-east-1', now: NOW }));
        const withAuth = { ...hs, authorization: `AWS4-HMAC-SHA256 Credential=${AK}/20250301/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`, 'x-amz-date': '20250301T123456Z' };
        cleanly(() => authenticate({ method, rawPath, rawQuery, headers: withAuth }, lookup, { region: 'us-east-1', now: NOW }));
      }),
  },
  {
    parser: 'presigned',
    name: 'presigned query parameters: any values are parsed or refused with a clean 4xx',
    property: () =>
      fc.property(fc.dictionary(fc.constantFrom('X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature', 'X-Amz-Security-Token'), wireText(80)), (q) => {
        cleanly(() => parsePresigned((n) => q[n]));
        const rawQuery = Object.entries(q).map(([k, v]) => `${k}=${escape(v.replace(/[\ud800-\udfff]/g, ''))}`).join('&');
        cleanly(() => authenticate({ method: 'GET', rawPath: '/b/k', rawQuery, headers: { host: 'localhost' } }, lookup, { region: 'us-east-1', now: NOW }));
      }),
  },
  {
    parser: 'sigv4',
    name: 'round trip: what the AWS SDK signer signs (headers or presigned), any key and query, verifies; a changed byte does not',
    property: () =>
      fc.asyncProperty(keyArb, queryArb, fc.boolean(), async (key, query, presign) => {
        const req = await smithySigned(key, query, presign);
        const ok = authenticate(req, lookup, { region: 'us-east-1', now: NOW });
        assert(ok.accessKey === AK && ok.presigned === presign, 'signed request verifies');
        const tampered = { ...req, rawPath: req.rawPath + 'x' };
        let refused = false;
        try {
          authenticate(tampered, lookup, { region: 'us-east-1', now: NOW });
        } catch (e) {
          expectClean(e);
          refused = true;
        }
        assert(refused, 'a tampered path is refused');
      }),
  },
];

// ---------- aws-chunked with trailers ----------
const SIGNING: ChunkSigning = { signingKey: signingKey(SECRET, '20250301', 'us-east-1', 's3'), scope: '20250301/us-east-1/s3/aws4_request', datetime: '20250301T123456Z', seedSignature: 'a'.repeat(64) };

function encodeChunked(data: Uint8Array, sizes: number[], signed: boolean, trailers: [string, string][], trailer = true): Buffer {
  const out: Buffer[] = [];
  let prev = SIGNING.seedSignature;
  const sign = (d: Uint8Array) => {
    prev = hmacHex(SIGNING.signingKey, chunkStringToSign(SIGNING.datetime, SIGNING.scope, prev, sha256Hex(d)));
    return `;chunk-signature=${prev}`;
  };
  let off = 0;
  const chunks: Uint8Array[] = [];
  for (const s of sizes) {
    if (off >= data.length) break;
    chunks.push(data.subarray(off, off + s));
    off += s;
  }
  if (off < data.length) chunks.push(data.subarray(off));
  for (const c of [...chunks.filter((c) => c.length > 0), new Uint8Array(0)]) {
    out.push(Buffer.from(`${c.length.toString(16)}${signed ? sign(c) : ''}\r\n`), Buffer.from(c));
    if (c.length > 0) out.push(Buffer.from('\r\n'));
  }
  for (const [n, v] of trailers) out.push(Buffer.from(`${n}:${v}\r\n`));
  if (signed && trailer) {
    const canonical = trailers.map(([n, v]) => `${n}:${v}\n`).join('');
    out.push(Buffer.from(`x-amz-trailer-signature:${hmacHex(SIGNING.signingKey, trailerStringToSign(SIGNING.datetime, SIGNING.scope, prev, sha256Hex(canonical)))}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

async function* pieces(buf: Uint8Array, cuts: number[]): AsyncGenerator<Uint8Array> {
  let i = 0;
  let k = 0;
  while (i < buf.length) {
    const n = Math.max(1, cuts.length ? cuts[k++ % cuts.length]! : buf.length);
    yield buf.slice(i, i + n);
    i += n;
  }
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const trailerArb = fc.array(fc.tuple(fc.constantFrom('x-amz-checksum-crc32', 'x-amz-checksum-sha256', 'x-amz-meta-x'), fc.stringMatching(/^[A-Za-z0-9+/=]{1,20}$/)), { maxLength: 1 });
const chunkModes: PayloadMode[] = ['STREAMING-UNSIGNED-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'];

const chunked: FuzzTarget[] = [
  {
    parser: 'aws-chunked',
    name: 'round trip: any payload, chunking, trailers and network cuts decode to the payload and the trailers',
    property: () =>
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 900 }), { maxLength: 6 }),
        fc.constantFrom(...chunkModes),
        trailerArb,
        async (data, sizes, cuts, mode, trailers) => {
          const signed = mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
          const trailer = mode !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
          const t = trailer ? trailers : [];
          const wire = encodeChunked(data, sizes, signed, t, trailer);
          const dec = decodeAwsChunked(pieces(wire, cuts), { mode, ...(signed ? { signing: SIGNING } : {}), decodedLength: data.length });
          const got = await drain(dec.body);
          assert(got.equals(Buffer.from(data)), 'payload round-trips');
          for (const [n, v] of t) assert(dec.trailers()[n] === v, `trailer ${n} round-trips`);
        },
      ),
  },
  {
    parser: 'aws-chunked',
    name: 'a mutated or cut encoding ends in the payload or a clean 4xx, never a hang or a crash',
    property: () =>
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 600 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { maxLength: 4 }),
        fc.constantFrom(...chunkModes),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.option(fc.integer({ min: -2, max: 5000 }), { nil: undefined }),
        async (data, sizes, mode, flips, cutAt, decodedLength) => {
          const signed = mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
          const trailer = mode !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
          const wire = Buffer.from(encodeChunked(data, sizes, signed, trailer ? [['x-amz-checksum-crc32', 'AAAAAA==']] : [], trailer));
          for (const [at, b] of flips) wire[at % wire.length] = b;
          const sent = cutAt === undefined ? wire : wire.subarray(0, cutAt % (wire.length + 1));
          await cleanlyAsync(async () => {
            const dec = decodeAwsChunked(pieces(sent, [7, 1, 64]), { mode, ...(signed ? { signing: SIGNING } : {}), ...(decodedLength !== undefined ? { decodedLength } : {}) });
            await drain(dec.body);
            dec.trailers();
          });
        },
      ),
  },
  {
    parser: 'aws-chunked',
    name: 'random bytes as an aws-chunked body: a clean 4xx or an (empty) payload',
    property: () =>
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 400 }), fc.string({ maxLength: 300 }).map((s) => Buffer.from(s.replace(/\n/g, '\r\n')))), fc.constantFrom(...chunkModes), async (bytes, mode) => {
        const signed = mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';
        await cleanlyAsync(async () => drain(decodeAwsChunked(pieces(bytes, [3, 50]), { mode, ...(signed ? { signing: SIGNING } : {}) }).body));
      }),
  },
];

// ---------- XML bodies ----------
const xmlName = fc.constantFrom('Part', 'PartNumber', 'ETag', 'Object', 'Key', 'Quiet', 'Tag', 'Value', 'TagSet', 'LocationConstraint');
const xmlTree: fc.Arbitrary<string> = fc.letrec<{ node: string }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    wireText(20).map((t) => t.replace(/[<&]/g, '')),
    fc.tuple(xmlName, fc.array(tie('node'), { maxLength: 4 })).map(([n, kids]) => `<${n}>${kids.join('')}</${n}>`),
    fc.constantFrom('<!DOCTYPE x [<!ENTITY a "aaaa">]>', '&a;', '<![CDATA[x]]>', '<?xml version="1.0"?>', '<a', '</b>', '&#0;', '&#x110000;', '&amp;'),
  ),
})).node;

const xml: FuzzTarget[] = [
  {
    parser: 'xml',
    name: 'any body parses into an object or fails with MalformedXML (4xx); the readers take any node',
    property: () =>
      fc.property(fc.oneof(wireText(300), xmlTree.map((t) => `<CompleteMultipartUpload>${t}</CompleteMultipartUpload>`), xmlTree), fc.constantFrom('CompleteMultipartUpload', 'Delete', 'Tagging', 'CreateBucketConfiguration'), (body, root) => {
        const node = cleanly(() => parseXml(body, root));
        if (node === undefined) return;
        for (const n of ['Part', 'Object', 'TagSet', 'Key', 'ETag', 'Quiet']) {
          for (const item of list(node, n)) {
            text(item, 'PartNumber');
            text(item, 'Key');
          }
          text(node, n);
        }
      }),
  },
  {
    parser: 'xml',
    name: 'round trip: any text written by xmlDocument reads back the same',
    property: () =>
      fc.property(wireText(80).filter(wellFormed), wireText(40).filter(wellFormed), (key, value) => {
        // XML 1.0 cannot carry most control characters: what xmlDocument writes must still parse
        const doc = xmlDocument('Tagging', { TagSet: { Tag: [{ Key: key, Value: value }] } });
        const node = cleanly(() => parseXml(doc, 'Tagging'));
        if (node === undefined) return;
        const tag = list(text(node, 'TagSet') === undefined ? (node as Record<string, unknown>).TagSet : undefined, 'Tag')[0];
        const k = text(tag, 'Key');
        if (k !== undefined && !/[\x00-\x08\x0b\x0c\x0e-\x1f\r]/.test(key) && key.trim() === key) assert(k === key, `Key ${JSON.stringify(key)} read back as ${JSON.stringify(k)}`);
      }),
  },
];

// ---------- router ----------
const methods = fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'get', '');
const queryNames = fc.constantFrom('uploads', 'uploadId', 'partNumber', 'list-type', 'tagging', 'delete', 'acl', 'location', 'versioning', 'x-id', 'continuation-token', 'prefix', 'versionId', 'select', 'restore', 'max-keys', 'marker');
const routeInput: fc.Arbitrary<RouteInput> = fc.record({
  method: methods,
  host: fc.option(fc.oneof(fc.constantFrom('localhost:9000', 'bucket.s3.example.com', 'a.b.s3.example.com:443', '[::1]:9000', 's3.example.com', '.s3.example.com', 'B..s3.example.com'), wireText(40)), { nil: undefined }),
  rawPath: fc.oneof(wireText(80).map((p) => '/' + p), wireText(40), fc.constantFrom('/', '//', '/b', '/b/', '/b//k', '/%', '/b/%zz', '/b/%2F%2e%2e', '/..', '/b/../k')),
  query: fc.array(fc.tuple(fc.oneof(queryNames, wireText(10)), wireText(20)), { maxLength: 4 }).map((pairs) => new URLSearchParams(pairs)),
  headers: fc.dictionary(fc.constantFrom('x-amz-copy-source', 'content-type', 'x-amz-content-sha256', 'x-amz-mp-object-size', 'content-length'), wireText(40), { maxKeys: 3 }),
});

const router: FuzzTarget[] = [
  {
    parser: 'router',
    name: 'any method, host, path and query routes to an operation or a clean 4xx/501',
    property: () =>
      fc.property(routeInput, fc.constantFrom(undefined, 's3.example.com'), (input, domain) => {
        try {
          const op = route(input, domain);
          assert(typeof op.name === 'string', 'an operation name');
        } catch (e) {
          expectClean(e);
        }
      }),
  },
];

// ---------- Range and conditional headers, metadata, tagging ----------
const info = (etag: string, lastModified: Date): ObjectInfo => ({ bucket: 'b', key: 'k', size: 10, etag, lastModified, meta: {} }) as unknown as ObjectInfo;
const dateText = fc.oneof(wireText(40), fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));
const headerParsers: FuzzTarget[] = [
  {
    parser: 'headers',
    name: 'Range: any header is a valid spec or ignored; a valid range resolves within the object or is 416',
    property: () =>
      fc.property(fc.oneof(wireText(40), fc.tuple(fc.option(fc.nat()), fc.option(fc.nat())).map(([a, b]) => `bytes=${a ?? ''}-${b ?? ''}`)), fc.nat({ max: 1 << 30 }), (h, size) => {
        const spec = parseRange(h);
        if (spec === undefined) return;
        const r = cleanly(() => resolveRange(spec, size));
        if (r === undefined) return;
        assert(r.start >= 0 && r.start <= r.end && r.end < size, `range ${JSON.stringify(r)} within ${size}`);
      }),
  },
  {
    parser: 'headers',
    name: 'Range round trip: bytes=a-b of an object of size n serves exactly [a, min(b, n-1)]',
    property: () =>
      fc.property(fc.nat({ max: 1e9 }), fc.nat({ max: 1e9 }), fc.integer({ min: 1, max: 1e9 }), (a, len, size) => {
        const spec = parseRange(`bytes=${a}-${a + len}`);
        assert(spec !== undefined, 'parsed');
        const r = cleanly(() => resolveRange(spec!, size));
        if (a >= size) return assert(r === undefined, '416 past the end');
        assert(r !== undefined && r.start === a && r.end === Math.min(a + len, size - 1), 'exact range');
      }),
  },
  {
    parser: 'headers',
    name: 'conditional headers, metadata, tagging and checksum headers: a value, 304/412, or a clean 4xx',
    property: () =>
      fc.property(
        fc.dictionary(fc.constantFrom('if-match', 'if-none-match', 'if-modified-since', 'if-unmodified-since', 'x-amz-meta-a', 'x-amz-meta-', 'content-type', 'cache-control', 'expires', 'x-amz-tagging', 'x-amz-storage-class', 'content-encoding', 'x-amz-checksum-algorithm'), fc.oneof(wireText(60), dateText, fc.constantFrom('*', '"abc"', 'W/"abc"', '"abc", "def"'))),
        fc.date({ noInvalidDate: true, min: new Date(0), max: new Date('2100-01-01') }),
        (h, lm) => {
          cleanly(() => checkReadConditions(h, info('abc', lm)));
          cleanly(() => writeConditions(h));
          cleanly(() => metaFromHeaders(h));
          cleanly(() => parseTaggingHeader(h['x-amz-tagging']));
          cleanly(() => parseChecksumAlgorithm(h['x-amz-checksum-algorithm']));
        },
      ),
  },
];

export const s3Targets: FuzzTarget[] = [...sigv4, ...chunked, ...xml, ...router, ...headerParsers];
