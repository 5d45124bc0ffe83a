/**
 * Digests of request bodies: MD5 (the ETag) and the S3 "flexible checksums" (CRC32, CRC32C,
 * CRC64NVME, SHA1, SHA256), the PutBody that computes them as bytes flow, and the multipart helpers
 * (COMPOSITE checksum-of-checksums, FULL_OBJECT CRC combination). The math only: reading the
 * checksum headers and trailers of a request is the wire protocol's (s3/auth/checksum-headers.ts).
 *
 * Wire format: a checksum value is the base64 of the raw digest; CRCs are big-endian (4 or 8 bytes).
 * CRC32 uses node:zlib's native crc32; CRC32C and CRC64NVME are table-driven slice-by-8 in JS.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { DomainError, Errors } from './errors.ts';
import { type ChecksumAlgorithm, type Checksums, type PutBody } from './object-store.ts';

// ---------------------------------------------------------------------------------------------
// CRC tables (reflected, slice-by-8). Table k holds the CRC of byte i followed by k zero bytes.

const CRC32C_POLY = 0x82f63b78;
const CRC64NVME_POLY = 0x9a6c9329ac4bc9b5n;

function crc32Tables(poly: number): Int32Array {
  const t = new Int32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c;
  }
  for (let i = 256; i < 8 * 256; i++) t[i] = (t[i - 256]! >>> 8) ^ t[t[i - 256]! & 0xff]!;
  return t;
}

/** CRC64 tables split into low and high 32-bit halves so the hot loop stays in int32 arithmetic. */
function crc64Tables(poly: bigint): { lo: Int32Array; hi: Int32Array } {
  const t: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t.push(c);
  }
  for (let i = 256; i < 8 * 256; i++) t.push((t[i - 256]! >> 8n) ^ t[Number(t[i - 256]! & 0xffn)]!);
  return {
    lo: Int32Array.from(t, (v) => Number(v & 0xffffffffn) | 0),
    hi: Int32Array.from(t, (v) => Number(v >> 32n) | 0),
  };
}

const T32C = crc32Tables(CRC32C_POLY);
const { lo: T64L, hi: T64H } = crc64Tables(CRC64NVME_POLY);
/** The word loops read little-endian 32-bit words through an Int32Array view. */
const LITTLE_ENDIAN = endianness() === 'LE';

const EMPTY_WORDS = new Int32Array(0);

/** The aligned middle of `d` as 32-bit words (an even count), and where it starts and ends. */
function words(d: Uint8Array): { w: Int32Array; start: number; end: number } {
  const start = LITTLE_ENDIAN ? Math.min(d.length, (4 - (d.byteOffset & 3)) & 3) : d.length;
  const count = ((d.length - start) >>> 3) * 2;
  const w = count === 0 ? EMPTY_WORDS : new Int32Array(d.buffer, d.byteOffset + start, count);
  return { w, start, end: start + count * 4 };
}

/** Updates a pre-inverted CRC32C state with `d` (slice-by-8 over aligned words). */
function crc32cUpdate(state: number, d: Uint8Array): number {
  const T = T32C;
  let c = state | 0;
  const { w, start, end } = words(d);
  for (let i = 0; i < start; i++) c = T[(c ^ d[i]!) & 0xff]! ^ (c >>> 8);
  for (let j = 0; j < w.length; j += 2) {
    const a = c ^ w[j]!;
    const b = w[j + 1]!;
    c =
      T[1792 + (a & 0xff)]! ^
      T[1536 + ((a >>> 8) & 0xff)]! ^
      T[1280 + ((a >>> 16) & 0xff)]! ^
      T[1024 + (a >>> 24)]! ^
      T[768 + (b & 0xff)]! ^
      T[512 + ((b >>> 8) & 0xff)]! ^
      T[256 + ((b >>> 16) & 0xff)]! ^
      T[b >>> 24]!;
  }
  for (let i = end; i < d.length; i++) c = T[(c ^ d[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}

/** Updates a pre-inverted CRC64NVME state, held as two int32 halves, with `d`. */
function crc64Update(state: [number, number], d: Uint8Array): void {
  const L = T64L;
  const H = T64H;
  let lo = state[0] | 0;
  let hi = state[1] | 0;
  const { w, start, end } = words(d);
  const byte = (i: number): void => {
    const x = (lo ^ d[i]!) & 0xff;
    lo = L[x]! ^ ((lo >>> 8) | (hi << 24));
    hi = H[x]! ^ (hi >>> 8);
  };
  for (let i = 0; i < start; i++) byte(i);
  for (let j = 0; j < w.length; j += 2) {
    const a = lo ^ w[j]!;
    const b = hi ^ w[j + 1]!;
    const a0 = 1792 + (a & 0xff), a1 = 1536 + ((a >>> 8) & 0xff), a2 = 1280 + ((a >>> 16) & 0xff), a3 = 1024 + (a >>> 24);
    const b0 = 768 + (b & 0xff), b1 = 512 + ((b >>> 8) & 0xff), b2 = 256 + ((b >>> 16) & 0xff), b3 = b >>> 24;
    lo = L[a0]! ^ L[a1]! ^ L[a2]! ^ L[a3]! ^ L[b0]! ^ L[b1]! ^ L[b2]! ^ L[b3]!;
    hi = H[a0]! ^ H[a1]! ^ H[a2]! ^ H[a3]! ^ H[b0]! ^ H[b1]! ^ H[b2]! ^ H[b3]!;
  }
  for (let i = end; i < d.length; i++) byte(i);
  state[0] = lo;
  state[1] = hi;
}

// ---------------------------------------------------------------------------------------------
// Incremental checksums

export interface Checksum {
  update(data: Uint8Array): void;
  /** The raw digest (big-endian for CRCs). Call once, after the last update. */
  digest(): Buffer;
}

/** Raw digest length in bytes, by algorithm. */
export const CHECKSUM_LENGTH: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

export function createChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'CRC32': {
      let crc = 0;
      return {
        update: (d) => void (crc = zlibCrc32(d, crc)),
        digest: () => u32be(crc),
      };
    }
    case 'CRC32C': {
      let state = -1;
      return {
        update: (d) => void (state = crc32cUpdate(state, d)),
        digest: () => u32be(~state >>> 0),
      };
    }
    case 'CRC64NVME': {
      const state: [number, number] = [-1, -1];
      return {
        update: (d) => crc64Update(state, d),
        digest: () => Buffer.concat([u32be(~state[1] >>> 0), u32be(~state[0] >>> 0)]),
      };
    }
    case 'SHA1':
    case 'SHA256': {
      const h = createHash(algorithm === 'SHA1' ? 'sha1' : 'sha256');
      return { update: (d) => void h.update(d), digest: () => h.digest() };
    }
  }
}

function u32be(v: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}

/** The base64 checksum of `data`. */
export function checksumOf(algorithm: ChecksumAlgorithm, data: Uint8Array | string): string {
  const c = createChecksum(algorithm);
  c.update(typeof data === 'string' ? Buffer.from(data) : data);
  return c.digest().toString('base64');
}

// ---------------------------------------------------------------------------------------------
// Multipart: COMPOSITE and FULL_OBJECT checksums

/**
 * The COMPOSITE checksum of a multipart object: the checksum of the concatenated raw part
 * checksums, base64. S3 shows it with `-N` (the part count) appended; the caller adds that.
 */
export function compositeChecksum(algorithm: ChecksumAlgorithm, partChecksums: string[]): string {
  const c = createChecksum(algorithm);
  partChecksums.forEach((v, i) => c.update(decodeChecksumValue(algorithm, v, `part ${i + 1}'s ${algorithm} checksum`)));
  return c.digest().toString('base64');
}

export type CrcAlgorithm = 'CRC32' | 'CRC32C' | 'CRC64NVME';
const CRC_PARAMS: Record<CrcAlgorithm, { width: number; poly: bigint }> = {
  CRC32: { width: 32, poly: 0xedb88320n },
  CRC32C: { width: 32, poly: BigInt(CRC32C_POLY) },
  CRC64NVME: { width: 64, poly: CRC64NVME_POLY },
};

export const isCrcAlgorithm = (a: ChecksumAlgorithm): a is CrcAlgorithm => a in CRC_PARAMS;

/** a(x) * b(x) modulo p(x), reflected representation (zlib's multmodp). */
function multModP(a: bigint, b: bigint, width: number, poly: bigint): bigint {
  let m = 1n << BigInt(width - 1);
  let p = 0n;
  while (m !== 0n) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ poly : b >> 1n;
  }
  return p;
}

/** x^(8 * bytes) modulo p(x): the operator that appends `bytes` zero bytes to a CRC. */
function xPow8n(bytes: number, width: number, poly: bigint): bigint {
  let p = 1n << BigInt(width - 1); // x^0
  let sq = 1n << BigInt(width - 9); // x^8: one zero byte
  let n = BigInt(bytes);
  while (n > 0n) {
    if (n & 1n) p = multModP(sq, p, width, poly);
    sq = multModP(sq, sq, width, poly);
    n >>= 1n;
  }
  return p;
}

/** crc(A ‖ B) from crc(A), crc(B) and |B| (zlib's crc32_combine; works for any width). */
export function crcCombine(algorithm: CrcAlgorithm, crcA: bigint, crcB: bigint, lengthB: number): bigint {
  const { width, poly } = CRC_PARAMS[algorithm];
  return multModP(xPow8n(lengthB, width, poly), crcA, width, poly) ^ crcB;
}

/**
 * The FULL_OBJECT CRC of a multipart object from its parts' CRCs (base64) and sizes, in part
 * order: what the SDKs send in CompleteMultipartUpload with x-amz-checksum-type FULL_OBJECT.
 */
export function combineCrc(algorithm: CrcAlgorithm, parts: ReadonlyArray<{ checksum: string; size: number }>): string {
  const len = CHECKSUM_LENGTH[algorithm];
  let acc: bigint | undefined;
  parts.forEach((part, i) => {
    const raw = decodeChecksumValue(algorithm, part.checksum, `part ${i + 1}'s ${algorithm} checksum`);
    const v = BigInt('0x' + raw.toString('hex'));
    acc = acc === undefined ? v : crcCombine(algorithm, acc, v, part.size);
  });
  if (acc === undefined) return checksumOf(algorithm, new Uint8Array(0));
  return Buffer.from(acc.toString(16).padStart(len * 2, '0'), 'hex').toString('base64');
}

// ---------------------------------------------------------------------------------------------
// Client-supplied values

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a strict base64 value, or returns undefined. */
function strictBase64(value: string): Buffer | undefined {
  return BASE64.test(value) ? Buffer.from(value, 'base64') : undefined;
}

/** A checksum value's raw bytes; throws InvalidRequest when it is not base64 of the right length. */
export function decodeChecksumValue(algorithm: ChecksumAlgorithm, value: string, what: string): Buffer {
  const raw = strictBase64(value.trim());
  if (raw === undefined || raw.length !== CHECKSUM_LENGTH[algorithm]) {
    throw Errors.invalidRequest(`Value for ${what} is invalid.`);
  }
  return raw;
}

export const checksumHeaderName = (a: ChecksumAlgorithm): string => `x-amz-checksum-${a.toLowerCase()}`;

// ---------------------------------------------------------------------------------------------
// PutBody

/**
 * The MD5 of a request body, whose work may run off the event loop (src/codec/codec-pool.ts runs
 * it in a codec worker, overlapped with the sealing and coding of earlier segments). update()
 * copies or hashes the bytes before it returns (the caller may reuse the chunk at once); when it
 * returns a promise, the caller waits for it before feeding more (a bounded backlog).
 */
export interface BodyMd5 {
  update(chunk: Uint8Array): void | Promise<void>;
  digest(): Promise<Buffer>;
  /** Drops the state of a body that was abandoned (no digest() will come). */
  dispose(): void;
}

const inlineMd5 = (): BodyMd5 => {
  const h = createHash('md5');
  return { update: (c) => void h.update(c), digest: async () => h.digest(), dispose: () => undefined };
};
let bodyMd5: () => BodyMd5 = inlineMd5;

/** Where request bodies' MD5s are computed from now on (the server's wiring; default: inline). */
export function useBodyMd5(factory: (() => BodyMd5) | undefined): void {
  bodyMd5 = factory ?? inlineMd5;
}

export interface PutBodyOptions {
  /** Algorithms to compute besides MD5 (e.g. s3/auth/checksum-headers.ts parseChecksumHeaders(...).algorithms). */
  algorithms?: ChecksumAlgorithm[];
  /** The Content-MD5 header (base64). */
  expectedMd5?: string;
  /**
   * The client's checksums: an object when known up front (headers; its algorithms are computed),
   * or a function called once when the source ends (trailers arrive last; list the trailer's
   * algorithm in `algorithms`).
   */
  expected?: Checksums | (() => Checksums);
  /** Content-Length or x-amz-decoded-content-length. */
  expectedSize?: number;
}

/**
 * Wraps a request body: yields the source's chunks unchanged while computing MD5 and the
 * checksums, and verifies size, Content-MD5 and x-amz-checksum-* when the source ends (the
 * iterator throws instead of completing, so the store commits nothing). Invalid Content-MD5
 * syntax throws InvalidDigest right away.
 */
export function createPutBody(source: AsyncIterable<Uint8Array>, opts: PutBodyOptions = {}): PutBody {
  const expectedMd5 = opts.expectedMd5 === undefined ? undefined : parseContentMd5(opts.expectedMd5);
  const { expectedSize } = opts;
  let result: { md5: Buffer; checksums: Checksums } | undefined;
  let started = false;

  async function* iterate(): AsyncGenerator<Uint8Array, void, undefined> {
    if (started) throw Errors.internal('A request body can be read only once; the store read it twice.');
    started = true;
    const algorithms = new Set<ChecksumAlgorithm>(opts.algorithms ?? []);
    if (typeof opts.expected === 'object') for (const a of Object.keys(opts.expected) as ChecksumAlgorithm[]) algorithms.add(a);
    const md5 = bodyMd5();
    let digest: Buffer;
    const checksums: Checksums = {};
    try {
      const sums = [...algorithms].map((a) => [a, createChecksum(a)] as const);
      let size = 0;
      for await (const chunk of source) {
        size += chunk.length;
        if (expectedSize !== undefined && size > expectedSize) throw bodyTooLong(expectedSize);
        const backlog = md5.update(chunk);
        for (const [, c] of sums) c.update(chunk);
        if (backlog) await backlog;
        yield chunk;
      }
      if (expectedSize !== undefined && size < expectedSize) {
        throw Errors.incompleteBody(
          `You did not provide the number of bytes specified by the Content-Length HTTP header: received ${size} of ${expectedSize} bytes. Resend the whole body.`,
        );
      }
      digest = await md5.digest();
      for (const [a, c] of sums) checksums[a] = c.digest().toString('base64');
    } finally {
      md5.dispose(); // a no-op after digest()
    }
    if (expectedMd5 !== undefined && !digest.equals(expectedMd5)) {
      throw Errors.badDigest('The Content-MD5 you specified did not match what we received.', {
        ExpectedDigest: expectedMd5.toString('base64'),
        CalculatedDigest: digest.toString('base64'),
      });
    }
    verifyChecksums((typeof opts.expected === 'function' ? opts.expected() : opts.expected) ?? {}, checksums);
    result = { md5: digest, checksums };
  }

  return {
    [Symbol.asyncIterator]: iterate,
    digests() {
      if (result === undefined) {
        throw Errors.internal('digests() was called before the request body was read to its end and verified.');
      }
      return result;
    },
  };
}

function bodyTooLong(expected: number): DomainError {
  return Errors.invalidRequest(
    `The request body is longer than the ${expected} bytes its Content-Length (or x-amz-decoded-content-length) declared; send exactly the declared number of bytes.`,
  );
}

function parseContentMd5(value: string): Buffer {
  const raw = strictBase64(value.trim());
  if (raw === undefined || raw.length !== 16) {
    throw Errors.invalidDigest('The Content-MD5 you specified is not valid: it must be the base64 of the 16-byte MD5 of the body.');
  }
  return raw;
}

function verifyChecksums(expected: Checksums, computed: Checksums): void {
  for (const [a, value] of Object.entries(expected) as [ChecksumAlgorithm, string][]) {
    const got = computed[a];
    if (got === undefined) {
      throw Errors.invalidRequest(
        `The ${a} checksum arrived without being announced, so it was not computed; announce trailing checksums in the x-amz-trailer header.`,
      );
    }
    const raw = decodeChecksumValue(a, value, checksumHeaderName(a));
    if (!raw.equals(Buffer.from(got, 'base64'))) {
      throw Errors.badDigest(`The ${a} you specified did not match the calculated checksum.`);
    }
  }
}
