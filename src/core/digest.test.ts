import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checksumOf,
  combineCrc,
  compositeChecksum,
  createChecksum,
  createPutBody,
  crcCombine,
} from './digest.ts';
import { DomainError } from './errors.ts';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm } from './object-store.ts';
import { thrown } from './testing/thrown.ts';

const hex = (a: ChecksumAlgorithm, d: string | Uint8Array): string => Buffer.from(checksumOf(a, d), 'base64').toString('hex');
const b64 = (h: string): string => Buffer.from(h, 'hex').toString('base64');

async function* pieces(...chunks: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  for (const c of chunks) yield typeof c === 'string' ? Buffer.from(c) : c;
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Uint8Array[] = [];
  for await (const c of body) out.push(c);
  return Buffer.concat(out);
}

async function rejection(p: Promise<unknown>): Promise<DomainError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DomainError);
  return e as DomainError;
}

/** x-amz-checksum-* trailers as checksums (reading them for real is s3/auth/checksum-headers.ts). */
const checksumsFromTrailers = (t: Record<string, string>) =>
  Object.fromEntries(Object.entries(t).map(([name, v]) => [name.replace('x-amz-checksum-', '').toUpperCase(), v]));

describe('checksum vectors', () => {
  it('matches the check values for "123456789"', () => {
    expect(hex('CRC32', '123456789')).toBe('cbf43926');
    expect(hex('CRC32C', '123456789')).toBe('e3069283');
    expect(hex('CRC64NVME', '123456789')).toBe('ae8b14860a799888');
    expect(hex('SHA1', '123456789')).toBe('f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    expect(hex('SHA256', '123456789')).toBe('15e2b0d3c33891ebb0f1ef609ec419420c20e320ce94c65fbc8c3312448eb225');
  });

  it('matches the values for the empty string', () => {
    expect(checksumOf('CRC32', '')).toBe('AAAAAA==');
    expect(checksumOf('CRC32C', '')).toBe('AAAAAA==');
    expect(checksumOf('CRC64NVME', '')).toBe('AAAAAAAAAAA=');
    expect(hex('SHA1', '')).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    expect(hex('SHA256', '')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('matches the CRC32C of the AWS trailing-checksum example (66560 x "a")', () => {
    expect(checksumOf('CRC32C', Buffer.alloc(66560, 'a'))).toBe('sOO8/Q==');
  });

  it('agrees with a bit-at-a-time reference at every alignment and split', () => {
    /** Reflected CRC, one bit at a time: slow, obviously right. */
    const reference = (width: number, poly: bigint, data: Uint8Array): string => {
      const all = (1n << BigInt(width)) - 1n;
      let crc = all;
      for (const b of data) {
        crc ^= BigInt(b);
        for (let k = 0; k < 8; k++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
      }
      return ((crc ^ all) & all).toString(16).padStart(width / 4, '0');
    };
    const buf = randomBytes(4099);
    for (const [offset, len, split] of [
      [0, 4099, 0],
      [1, 4000, 7],
      [2, 17, 3],
      [3, 1000, 999],
      [5, 8, 1],
      [7, 0, 0],
    ] as const) {
      const data = buf.subarray(offset, offset + len);
      for (const [alg, want] of [
        ['CRC32', reference(32, 0xedb88320n, data)],
        ['CRC32C', reference(32, 0x82f63b78n, data)],
        ['CRC64NVME', reference(64, 0x9a6c9329ac4bc9b5n, data)],
      ] as const) {
        const c = createChecksum(alg);
        c.update(data.subarray(0, split));
        c.update(data.subarray(split));
        expect(c.digest().toString('hex'), `${alg} offset ${offset} len ${len}`).toBe(want);
      }
    }
  });

  it('gives the same result however the input is split', () => {
    const data = randomBytes(1000);
    for (const a of CHECKSUM_ALGORITHMS) {
      const c = createChecksum(a);
      for (let i = 0; i < data.length; i += 13) c.update(data.subarray(i, i + 13));
      expect(c.digest().toString('base64'), a).toBe(checksumOf(a, data));
    }
  });
});

describe('multipart helpers', () => {
  it('combines CRCs of parts into the CRC of the whole (FULL_OBJECT)', () => {
    const parts = [randomBytes(1000), randomBytes(1), randomBytes(70_001), Buffer.alloc(0), randomBytes(8)];
    const whole = Buffer.concat(parts);
    for (const a of ['CRC32', 'CRC32C', 'CRC64NVME'] as const) {
      const combined = combineCrc(
        a,
        parts.map((p) => ({ checksum: checksumOf(a, p), size: p.length })),
      );
      expect(combined, a).toBe(checksumOf(a, whole));
    }
    expect(combineCrc('CRC32', [])).toBe('AAAAAA==');
  });

  it('combines with a large second length without walking its bytes', () => {
    // crc(A || 5 GiB of zeros) vs combine(crc(A), crc(zeros)): check against a smaller, computed case.
    const zeros = Buffer.alloc(1 << 20);
    const a = Buffer.from('prefix');
    const direct = BigInt('0x' + hex('CRC64NVME', Buffer.concat([a, zeros])));
    const viaCombine = crcCombine(
      'CRC64NVME',
      BigInt('0x' + hex('CRC64NVME', a)),
      BigInt('0x' + hex('CRC64NVME', zeros)),
      zeros.length,
    );
    expect(viaCombine).toBe(direct);
    expect(() => crcCombine('CRC32', 1n, 2n, 5 * 1024 ** 3)).not.toThrow();
  });

  it('computes the COMPOSITE checksum as the checksum of the raw part checksums', () => {
    const p1 = checksumOf('SHA256', 'part one');
    const p2 = checksumOf('SHA256', 'part two');
    const raw = Buffer.concat([Buffer.from(p1, 'base64'), Buffer.from(p2, 'base64')]);
    expect(compositeChecksum('SHA256', [p1, p2])).toBe(createHash('sha256').update(raw).digest('base64'));
    const c1 = checksumOf('CRC32', 'a');
    const c2 = checksumOf('CRC32', 'b');
    expect(compositeChecksum('CRC32', [c1, c2])).toBe(
      checksumOf('CRC32', Buffer.concat([Buffer.from(c1, 'base64'), Buffer.from(c2, 'base64')])),
    );
    expect(thrown(() => compositeChecksum('CRC32', [c1, 'AAAA'])).code).toBe('InvalidRequest');
  });
});

describe('createPutBody', () => {
  const text = 'The quick brown fox jumps over the lazy dog';
  const md5 = createHash('md5').update(text).digest('base64');

  it('yields the chunks unchanged and reports MD5 and the checksums', async () => {
    const chunks = [Buffer.from(text.slice(0, 10)), Buffer.from(text.slice(10))];
    const body = createPutBody(pieces(...chunks), {
      algorithms: ['CRC32', 'SHA256'],
      expectedMd5: md5,
      expected: { CRC32C: checksumOf('CRC32C', text) },
      expectedSize: text.length,
    });
    const seen: Uint8Array[] = [];
    for await (const c of body) seen.push(c);
    expect(seen).toEqual(chunks);
    const d = body.digests();
    expect(d.md5.toString('base64')).toBe(md5);
    expect(d.checksums).toEqual({
      CRC32: checksumOf('CRC32', text),
      SHA256: checksumOf('SHA256', text),
      CRC32C: checksumOf('CRC32C', text),
    });
  });

  it('throws BadDigest for a wrong Content-MD5', async () => {
    const wrong = createHash('md5').update('other').digest('base64');
    const e = await rejection(drain(createPutBody(pieces(text), { expectedMd5: wrong })));
    expect(e.code).toBe('BadDigest');
    expect(e.message).toBe('The Content-MD5 you specified did not match what we received.');
  });

  it('throws InvalidDigest at once for a malformed Content-MD5', () => {
    expect(thrown(() => createPutBody(pieces(text), { expectedMd5: 'abc' })).code).toBe('InvalidDigest');
  });

  it('throws BadDigest for a wrong checksum, including one that arrives as a trailer', async () => {
    const e = await rejection(drain(createPutBody(pieces(text), { expected: { CRC32: checksumOf('CRC32', 'x') } })));
    expect(e.code).toBe('BadDigest');
    expect(e.message).toBe('The CRC32 you specified did not match the calculated checksum.');

    const trailers: Record<string, string> = {};
    async function* withTrailer(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(text);
      trailers['x-amz-checksum-crc64nvme'] = checksumOf('CRC64NVME', text + '!');
    }
    const body = createPutBody(withTrailer(), { algorithms: ['CRC64NVME'], expected: () => checksumsFromTrailers(trailers) });
    expect((await rejection(drain(body))).message).toBe('The CRC64NVME you specified did not match the calculated checksum.');
    expect(() => body.digests()).toThrow(/before the request body was read/);
  });

  it('accepts a correct trailing checksum', async () => {
    const trailers: Record<string, string> = {};
    async function* withTrailer(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(text);
      trailers['x-amz-checksum-sha1'] = checksumOf('SHA1', text);
    }
    const body = createPutBody(withTrailer(), { algorithms: ['SHA1'], expected: () => checksumsFromTrailers(trailers) });
    expect((await drain(body)).toString()).toBe(text);
    expect(body.digests().checksums.SHA1).toBe(checksumOf('SHA1', text));
  });

  it('rejects a trailing checksum that was not announced', async () => {
    const trailers: Record<string, string> = {};
    async function* late(): AsyncGenerator<Uint8Array> {
      yield Buffer.from(text);
      trailers['x-amz-checksum-sha1'] = checksumOf('SHA1', text);
    }
    const e = await rejection(drain(createPutBody(late(), { expected: () => checksumsFromTrailers(trailers) })));
    expect(e.code).toBe('InvalidRequest');
  });

  it('throws IncompleteBody when fewer bytes than declared arrive', async () => {
    const e = await rejection(drain(createPutBody(pieces(text), { expectedSize: text.length + 1 })));
    expect(e.code).toBe('IncompleteBody');
  });

  it('never yields a byte past the declared size', async () => {
    const body = createPutBody(pieces('12345', '678'), { expectedSize: 6 });
    const seen: string[] = [];
    const e = await rejection(
      (async () => {
        for await (const c of body) seen.push(Buffer.from(c).toString());
      })(),
    );
    expect(e.code).toBe('InvalidRequest');
    expect(seen).toEqual(['12345']);
  });

  it('can be read only once', async () => {
    const body = createPutBody(pieces(text));
    await drain(body);
    expect((await rejection(drain(body))).code).toBe('InternalError');
  });

  it('hashes the empty body', async () => {
    const body = createPutBody(pieces(), { algorithms: ['CRC64NVME'], expectedSize: 0 });
    expect((await drain(body)).length).toBe(0);
    expect(body.digests()).toEqual({ md5: Buffer.from('d41d8cd98f00b204e9800998ecf8427e', 'hex'), checksums: { CRC64NVME: b64('0000000000000000') } });
  });
});
