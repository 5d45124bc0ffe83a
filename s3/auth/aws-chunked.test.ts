import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checksumOf, createPutBody } from '../../src/core/digest.ts';
import { checksumsFromTrailers } from './checksum-headers.ts';
import { DomainError } from '../../src/core/errors.ts';
import { decodeAwsChunked } from './aws-chunked.ts';
import { authenticate } from './sigv4.ts';
import { EMPTY_SHA256, chunkStringToSign, hmacHex, sha256Hex, signingKey, trailerStringToSign } from './signing.ts';
import type { ChunkSigning, PayloadMode } from './types.ts';

const AK = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = new Date('2013-05-24T00:00:00Z');
const lookup = (k: string) => (k === AK ? { secret: SECRET, account: 'acct' } : undefined);
const SCOPE = '20130524/us-east-1/s3/aws4_request';
const context = (seed: string): ChunkSigning => ({
  signingKey: signingKey(SECRET, '20130524', 'us-east-1', 's3'),
  scope: SCOPE,
  datetime: '20130524T000000Z',
  seedSignature: seed,
});

// --- test-side encoder ---------------------------------------------------------------------------

/** Encodes `data` as aws-chunked, signing chunks (and trailers) when `signing` is given. */
function encode(data: Buffer, sizes: number[], opts: { signing?: ChunkSigning; trailers?: [string, string][] } = {}): Buffer {
  const out: Buffer[] = [];
  let prev = opts.signing?.seedSignature ?? '';
  const sign = (d: Buffer): string => {
    const s = opts.signing!;
    prev = hmacHex(s.signingKey, chunkStringToSign(s.datetime, s.scope, prev, sha256Hex(d)));
    return `;chunk-signature=${prev}`;
  };
  let off = 0;
  const chunks: Buffer[] = [];
  for (const size of sizes) {
    chunks.push(data.subarray(off, off + size));
    off += size;
  }
  if (off < data.length) chunks.push(data.subarray(off));
  for (const c of [...chunks.filter((c) => c.length > 0), Buffer.alloc(0)]) {
    out.push(Buffer.from(`${c.length.toString(16)}${opts.signing ? sign(c) : ''}\r\n`), c);
    if (c.length > 0) out.push(Buffer.from('\r\n'));
  }
  for (const [n, v] of opts.trailers ?? []) out.push(Buffer.from(`${n}:${v}\r\n`));
  if (opts.signing && opts.trailers) {
    const canonical = opts.trailers.map(([n, v]) => `${n}:${v}\n`).join('');
    const s = opts.signing;
    out.push(Buffer.from(`x-amz-trailer-signature:${hmacHex(s.signingKey, trailerStringToSign(s.datetime, s.scope, prev, sha256Hex(canonical)))}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** Re-cuts `buf` into pieces of the given sizes (cycled), or random sizes up to `max`. */
async function* cut(buf: Buffer, sizes: number[] | { max: number }): AsyncGenerator<Uint8Array> {
  let i = 0;
  let k = 0;
  while (i < buf.length) {
    const n = Array.isArray(sizes) ? sizes[k++ % sizes.length]! : 1 + Math.floor(Math.random() * sizes.max);
    yield new Uint8Array(buf.subarray(i, i + n)); // fresh copies, unaligned like network reads
    i += n;
  }
}

async function collect(body: AsyncIterable<Uint8Array>, into: Uint8Array[] = []): Promise<Buffer> {
  for await (const c of body) into.push(c);
  return Buffer.concat(into);
}

async function failure(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
}

// --- the AWS documentation examples -------------------------------------------------------------

const A = Buffer.alloc(66560, 'a');
const docBody = (sigs: [string, string, string], tail: string): Buffer =>
  Buffer.concat([
    Buffer.from(`10000;chunk-signature=${sigs[0]}\r\n`),
    A.subarray(0, 65536),
    Buffer.from(`\r\n400;chunk-signature=${sigs[1]}\r\n`),
    A.subarray(65536),
    Buffer.from(`\r\n0;chunk-signature=${sigs[2]}\r\n${tail}`),
  ]);
const SIGNED_EXAMPLE = docBody(
  [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
  '\r\n',
);
const TRAILER_EXAMPLE = docBody(
  [
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  ],
  'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n\r\n',
);

describe('aws-chunked: AWS examples', () => {
  it('authenticates the chunked upload example and verifies its chunks', async () => {
    expect(SIGNED_EXAMPLE.length).toBe(66824);
    const auth = authenticate(
      {
        method: 'PUT',
        rawPath: '/examplebucket/chunkObject.txt',
        rawQuery: '',
        headers: {
          host: 's3.amazonaws.com',
          'x-amz-date': '20130524T000000Z',
          'x-amz-storage-class': 'REDUCED_REDUNDANCY',
          authorization:
            'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'content-encoding': 'aws-chunked',
          'x-amz-decoded-content-length': '66560',
          'content-length': '66824',
        },
      },
      lookup,
      { region: 'us-east-1', now: NOW },
    );
    expect(auth.mode).toBe('STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    expect(auth.chunkSigning).toEqual(context('4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9'));
    for (const pieces of [[SIGNED_EXAMPLE.length], [1], [7, 3, 1000, 65536]]) {
      const { body } = decodeAwsChunked(cut(SIGNED_EXAMPLE, pieces), { mode: auth.mode, signing: auth.chunkSigning!, decodedLength: 66560 });
      expect((await collect(body)).equals(A)).toBe(true);
    }
  });

  it('verifies the trailing-header example and returns its trailer', async () => {
    const seed = context('106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e');
    for (const pieces of [[TRAILER_EXAMPLE.length], [1], { max: 5000 }]) {
      const d = decodeAwsChunked(cut(TRAILER_EXAMPLE, pieces), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', signing: seed, decodedLength: 66560 });
      expect((await collect(d.body)).equals(A)).toBe(true);
      expect(d.trailers()).toEqual({ 'x-amz-checksum-crc32c': 'sOO8/Q==' });
    }
  });

  it('accepts the trailer example without its final empty line, or with an empty line before the trailers', async () => {
    const seed = context('106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e');
    const noEnd = TRAILER_EXAMPLE.subarray(0, TRAILER_EXAMPLE.length - 4); // drops "\r\n\r\n"
    const i = TRAILER_EXAMPLE.indexOf('x-amz-checksum-crc32c');
    const blank = Buffer.concat([TRAILER_EXAMPLE.subarray(0, i), Buffer.from('\r\n'), TRAILER_EXAMPLE.subarray(i)]);
    for (const wire of [noEnd, blank]) {
      const d = decodeAwsChunked(cut(wire, [4096]), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', signing: seed });
      expect((await collect(d.body)).length).toBe(66560);
      expect(d.trailers()['x-amz-checksum-crc32c']).toBe('sOO8/Q==');
    }
  });
});

describe('aws-chunked: signatures', () => {
  const seed = context('4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9');

  it('rejects an altered chunk before yielding any of its bytes', async () => {
    const tampered = Buffer.from(SIGNED_EXAMPLE);
    tampered[tampered.length - 200] = 'b'.charCodeAt(0); // inside chunk 2
    const seen: Uint8Array[] = [];
    const e = await failure(collect(decodeAwsChunked(cut(tampered, [999]), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', signing: seed }).body, seen));
    expect(e.code).toBe('SignatureDoesNotMatch');
    expect(e.message).toMatch(/chunk 2/);
    expect(Buffer.concat(seen).length).toBe(65536);
  });

  it('rejects a wrong final-chunk signature, a missing chunk signature and a wrong seed', async () => {
    const wrongFinal = Buffer.from(SIGNED_EXAMPLE.toString('latin1').replace('b6c6ea8a', 'b6c6ea8b'), 'latin1');
    const missing = Buffer.from(SIGNED_EXAMPLE.toString('latin1').replace(/^10000;chunk-signature=[0-9a-f]+/, '10000'), 'latin1');
    for (const [wire, signing] of [
      [wrongFinal, seed],
      [missing, seed],
      [SIGNED_EXAMPLE, context('0'.repeat(64))],
    ] as const) {
      const e = await failure(collect(decodeAwsChunked(cut(wire, [65536]), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', signing }).body));
      expect(e.code).toBe('SignatureDoesNotMatch');
    }
  });

  it('rejects a wrong or missing trailer signature and an altered trailer', async () => {
    const s = context('106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e');
    const text = TRAILER_EXAMPLE.toString('latin1');
    for (const wire of [
      text.replace('d81f82fc', 'd81f82fd'),
      text.replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''),
      text.replace('sOO8/Q==', 'sOO8/Q=='.replace('s', 't')),
    ]) {
      const d = decodeAwsChunked(cut(Buffer.from(wire, 'latin1'), [8192]), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', signing: s });
      expect((await failure(collect(d.body))).code).toBe('SignatureDoesNotMatch');
      expect(d.trailers()).toEqual({});
    }
  });

  it('decodes randomly chunked, randomly split signed bodies (with trailers)', async () => {
    const s = context('1'.repeat(64));
    for (let round = 0; round < 25; round++) {
      const data = randomBytes(Math.floor(Math.random() * 50_000));
      const sizes = Array.from({ length: 6 }, () => 1 + Math.floor(Math.random() * 9000));
      const trailers: [string, string][] = [['x-amz-checksum-crc64nvme', checksumOf('CRC64NVME', data)]];
      const wire = encode(data, sizes, { signing: s, trailers });
      const d = decodeAwsChunked(cut(wire, { max: round % 2 ? 7 : 3000 }), {
        mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
        signing: s,
        decodedLength: data.length,
      });
      expect((await collect(d.body)).equals(data)).toBe(true);
      expect(d.trailers()).toEqual({ 'x-amz-checksum-crc64nvme': checksumOf('CRC64NVME', data) });
    }
  });

  it('requires the signing context in the signed modes', () => {
    expect(() => decodeAwsChunked(cut(SIGNED_EXAMPLE, [1]), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' })).toThrow(/chunkSigning/);
  });
});

describe('aws-chunked: unsigned and framing', () => {
  const unsigned: PayloadMode = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

  it('decodes the SDK shape with a trailing CRC and feeds createPutBody', async () => {
    const data = Buffer.from('hello, aws-chunked world');
    const wire = encode(data, [5, 5], { trailers: [['x-amz-checksum-crc32', checksumOf('CRC32', data)]] });
    expect(wire.toString()).toBe(
      `5\r\nhello\r\n5\r\n, aws\r\ne\r\n-chunked world\r\n0\r\nx-amz-checksum-crc32:${checksumOf('CRC32', data)}\r\n\r\n`,
    );
    const d = decodeAwsChunked(cut(wire, [1]), { mode: unsigned, decodedLength: data.length });
    const put = createPutBody(d.body, { algorithms: ['CRC32'], expected: () => checksumsFromTrailers(d.trailers(), 'CRC32'), expectedSize: data.length });
    expect((await collect(put)).equals(data)).toBe(true);
    expect(put.digests().checksums.CRC32).toBe(checksumOf('CRC32', data));
  });

  it('surfaces a wrong trailing CRC as BadDigest through createPutBody', async () => {
    const data = Buffer.from('payload');
    const wire = encode(data, [3], { trailers: [['x-amz-checksum-crc32', checksumOf('CRC32', 'other')]] });
    const d = decodeAwsChunked(cut(wire, [2]), { mode: unsigned });
    const put = createPutBody(d.body, { algorithms: ['CRC32'], expected: () => checksumsFromTrailers(d.trailers(), 'CRC32') });
    expect((await failure(collect(put))).code).toBe('BadDigest');
  });

  it('yields unsigned data as it arrives, without copying', async () => {
    const wire = Buffer.from('a\r\n0123456789\r\n0\r\n\r\n');
    const seen: Uint8Array[] = [];
    await collect(decodeAwsChunked(cut(wire, [wire.length]), { mode: 'UNSIGNED-PAYLOAD' }).body, seen);
    expect(seen.length).toBe(1);
    expect(Buffer.from(seen[0]!).toString()).toBe('0123456789');
  });

  it('ignores chunk extensions and any signing context in the unsigned modes', async () => {
    const wire = Buffer.from('3;chunk-signature=deadbeef\r\nabc\r\n0;foo=bar\r\n\r\n');
    expect((await collect(decodeAwsChunked(cut(wire, [1]), { mode: 'UNSIGNED-PAYLOAD' }).body)).toString()).toBe('abc');
    const plain = Buffer.from('3\r\nabc\r\n0\r\n\r\n');
    const d = decodeAwsChunked(cut(plain, [4]), { mode: unsigned, signing: context('9'.repeat(64)) });
    expect((await collect(d.body)).toString()).toBe('abc');
  });

  const SIGNED_EMPTY = hmacHex(context('x').signingKey, chunkStringToSign('20130524T000000Z', SCOPE, 'x', EMPTY_SHA256));
  const cases: [string, string, string, Partial<{ decodedLength: number; maxChunkSize: number; mode: PayloadMode }>][] = [
    ['a body cut inside a chunk', '5\r\nhel', 'IncompleteBody', {}],
    ['a body cut inside a chunk header', '5\r\nhello\r\n0', 'IncompleteBody', {}],
    ['a body with no final chunk', '5\r\nhello\r\n', 'IncompleteBody', {}],
    ['an empty body', '', 'IncompleteBody', {}],
    ['a size that is not hex', 'zz\r\nhello\r\n0\r\n\r\n', 'InvalidRequest', {}],
    ['a header ending in a bare LF', '5\nhello\r\n0\r\n\r\n', 'InvalidRequest', {}],
    ['data not followed by CRLF', '5\r\nhelloX\r\n0\r\n\r\n', 'InvalidRequest', {}],
    ['a chunk over the limit', '11\r\n', 'InvalidRequest', { maxChunkSize: 16 }],
    ['more bytes than declared', '5\r\nhello\r\n0\r\n\r\n', 'InvalidRequest', { decodedLength: 4 }],
    ['fewer bytes than declared', '5\r\nhello\r\n0\r\n\r\n', 'IncompleteBody', { decodedLength: 6 }],
    ['bytes after the end', '5\r\nhello\r\n0\r\n\r\n\r\nextra', 'InvalidRequest', {}],
    ['bytes after the end (signed)', '0;chunk-signature=' + SIGNED_EMPTY + '\r\n\r\nextra', 'InvalidRequest', { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' }],
    ['a trailer line without a colon', '5\r\nhello\r\n0\r\nnocolon\r\n\r\n', 'InvalidRequest', {}],
    ['an endless header line', 'f'.repeat(5000), 'InvalidRequest', {}],
  ];
  for (const [what, wire, code, extra] of cases) {
    it(`rejects ${what} with ${code}`, async () => {
      const mode = extra.mode ?? unsigned;
      const signing = mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' ? context('x') : undefined;
      for (const pieces of [[1], [wire.length || 1]]) {
        const d = decodeAwsChunked(cut(Buffer.from(wire), pieces), { ...extra, mode, ...(signing ? { signing } : {}) });
        const e = await failure(collect(d.body));
        expect(e.code, `${what} (${e.message})`).toBe(code);
      }
    });
  }

  it('rejects trailers in the signed mode that announces none', async () => {
    const s = context('2'.repeat(64));
    const wire = encode(Buffer.from('abc'), [3], { signing: s }).toString('latin1').replace(/\r\n$/, 'x-amz-checksum-crc32:AAAAAA==\r\n\r\n');
    const d = decodeAwsChunked(cut(Buffer.from(wire, 'latin1'), [5]), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', signing: s });
    expect((await failure(collect(d.body))).message).toMatch(/announces no trailer/);
  });

  it('stops reading the source when the consumer stops', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield Buffer.from('3\r\nabc\r\n');
      }
    }
    const d = decodeAwsChunked(source(), { mode: unsigned });
    for await (const c of d.body) {
      expect(Buffer.from(c).toString()).toBe('abc');
      break;
    }
    expect(pulled).toBe(1);
  });
});

describe('aws-chunked: throughput (sanity, not timed)', () => {
  it('decodes 32 MiB of signed 1 MiB chunks in 64 KiB network pieces', async () => {
    const s = context('3'.repeat(64));
    const data = randomBytes(32 * 1024 * 1024);
    const wire = encode(data, Array.from({ length: 32 }, () => 1024 * 1024), { signing: s });
    let total = 0;
    for await (const c of decodeAwsChunked(cut(wire, [65536]), { mode: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', signing: s }).body) total += c.length;
    expect(total).toBe(data.length);
    expect(EMPTY_SHA256).toBe(sha256Hex(''));
  });
});
