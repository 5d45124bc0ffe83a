// The bulk codec work, in plain JavaScript so that worker threads can load it without a
// TypeScript loader (codec-worker.mjs) and the main thread can run the same code inline
// (codec-pool.ts). Types: core.d.mts. Pure functions over bytes: no I/O.
//
// A stripe is one segment: its plaintext is padded so that ciphertext || tag fills exactly k
// shards of S bytes (S a multiple of 8), sealed with AES-256-GCM (nonce = 0^32 || uint64be(index),
// AAD binds the manifest id and index), Reed-Solomon coded into m parity shards, and every shard
// is named by its CIDv1 (raw, base32): new shards by their BLAKE3 digest (multihash 0x1e,
// "bafkr4i..."), shards written before by their sha2-256 digest (0x12, "bafkrei..."); an id says
// which hash checks it.
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { base32 } from 'multiformats/bases/base32';

const require = createRequire(import.meta.url);
const RS = require('@ronomon/reed-solomon');
/** @type {(input: Uint8Array) => Buffer} native BLAKE3 (prebuilt), ~1.1-2.9x node's SHA-256 here */
const blake3 = require('@napi-rs/blake-hash').blake3;

export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;
export const SHARD_ALIGN = 8;
/** Crypto runs over pieces of this size: small outputs come from the malloc heap, not fresh pages. */
const PIECE = 64 * 1024;
/** Multihash codes of the shard id hashes. */
export const SHA2_256 = 0x12;
export const BLAKE3 = 0x1e;
/** The base32 start of an id of each kind (CIDv1, raw, the code, 32 bytes). */
const ID_START = { [SHA2_256]: 'bafkrei', [BLAKE3]: 'bafkr4i' };
const DIGEST = { [SHA2_256]: (b) => createHash('sha256').update(b).digest(), [BLAKE3]: (b) => blake3(b) };

/** @param {number} index */
export function segmentNonce(index) {
  if (!Number.isInteger(index) || index < 0 || index > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`segment index ${index} is not a whole number in [0, 2^53)`);
  }
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeBigUInt64BE(BigInt(index), 4);
  return nonce;
}

/** @param {string} manifestId @param {number} index */
export function segmentAad(manifestId, index) {
  return Buffer.from(`datamesh segment v1\0${manifestId}\0${index}`, 'utf8');
}

/** The CID string of a 32-byte digest of multihash `code` (default sha2-256). @param {Uint8Array} digest @param {number} [code] */
export function idFromDigest(digest, code = SHA2_256) {
  const bytes = new Uint8Array(4 + digest.length);
  bytes.set([0x01, 0x55, code, 0x20], 0);
  bytes.set(digest, 4);
  return base32.encode(bytes);
}

/** The multihash code of a shard id (by its start), or undefined when it is neither kind. @param {string} id */
export function idHash(id) {
  return id.startsWith(ID_START[BLAKE3]) ? BLAKE3 : id.startsWith(ID_START[SHA2_256]) ? SHA2_256 : undefined;
}

/**
 * The shard id of `bytes`: BLAKE3 for a new shard, or, given `like` (an existing id), the same
 * kind of id as `like` (to check bytes against it). @param {Uint8Array} bytes @param {string} [like]
 */
export function hashShard(bytes, like) {
  const code = like === undefined ? BLAKE3 : (idHash(like) ?? BLAKE3);
  return idFromDigest(DIGEST[code](bytes), code);
}

/** @param {number} dataLength @param {number} k */
export function shardSizeFor(dataLength, k) {
  const per = Math.max(1, Math.ceil(dataLength / k));
  return Math.ceil(per / SHARD_ALIGN) * SHARD_ALIGN;
}

/** Plaintext bytes sealed for a segment of `length` bytes (ciphertext || tag then fills k shards). */
export function paddedLength(length, k) {
  return shardSizeFor(length + TAG_BYTES, k) * k - TAG_BYTES;
}

const contexts = new Map();
function rsContext(k, m) {
  const name = `${k}+${m}`;
  let ctx = contexts.get(name);
  if (!ctx) contexts.set(name, (ctx = RS.create(k, m)));
  return ctx;
}

const view = (ab, length = ab.byteLength) => Buffer.from(ab, 0, length);

/**
 * Copies `source` into `target` at `at` with a plain memcpy. Buffer#copy is TypedArray#set in
 * Node 20, and into a SharedArrayBuffer (the recycled stripes) that takes V8's relaxed-atomic
 * byte copy: 1.15 s/GiB against 0.11 into an ArrayBuffer, measured here. Buffer#fill with a
 * buffer value of the range's length is one memcpy in node's C++ (0.24-0.37 s/GiB into a SAB).
 * @param {Uint8Array} target @param {number} at @param {Uint8Array} source
 */
export function copyInto(target, at, source) {
  const n = source.byteLength;
  if (n === 0) return;
  if (at < 0 || at + n > target.byteLength) throw new RangeError(`copying ${n} bytes at ${at} overruns a buffer of ${target.byteLength}`);
  const t = Buffer.isBuffer(target) ? target : Buffer.from(target.buffer, target.byteOffset, target.byteLength);
  const s = Buffer.isBuffer(source) ? source : Buffer.from(source.buffer, source.byteOffset, n);
  t.fill(s, at, at + n);
}

/**
 * Seals, codes and names one stripe, in place.
 * job: { key, manifestId, index, length, k, m, plain, sealed, parity } where plain, sealed and
 * parity are ArrayBuffers of at least paddedLength(length), k*S and m*S bytes.
 * Returns { shardSize, ids }: shard i is sealed[i*S, (i+1)*S) for i < k, parity[(i-k)*S, ...) after.
 */
export async function sealStripe(job) {
  const { key, manifestId, index, length, k, m } = job;
  const padded = paddedLength(length, k);
  const shardSize = (padded + TAG_BYTES) / k;
  const plain = view(job.plain);
  const sealed = view(job.sealed);
  const parity = view(job.parity);
  if (plain.length < padded || sealed.length < shardSize * k || parity.length < shardSize * m) {
    throw new RangeError(`stripe buffers too small for ${length} bytes coded ${k}+${m}`);
  }
  plain.fill(0, length, padded);
  const cipher = createCipheriv('aes-256-gcm', key, segmentNonce(index), { authTagLength: TAG_BYTES });
  cipher.setAAD(segmentAad(manifestId, index));
  let at = 0;
  for (let off = 0; off < padded; off += PIECE) {
    const out = cipher.update(plain.subarray(off, Math.min(padded, off + PIECE)));
    copyInto(sealed, at, out);
    at += out.length;
  }
  const tail = cipher.final();
  copyInto(sealed, at, tail);
  copyInto(sealed, at + tail.length, cipher.getAuthTag());
  if (m > 0) {
    let sources = 0;
    let targets = 0;
    for (let i = 0; i < k; i++) sources |= 1 << i;
    for (let i = k; i < k + m; i++) targets |= 1 << i;
    await new Promise((resolve, reject) =>
      RS.encode(rsContext(k, m), sources, targets, sealed, 0, shardSize * k, parity, 0, shardSize * m, (err) =>
        err ? reject(err) : resolve(undefined),
      ),
    );
  }
  const ids = [];
  for (let i = 0; i < k; i++) ids.push(hashShard(sealed.subarray(i * shardSize, (i + 1) * shardSize)));
  for (let i = 0; i < m; i++) ids.push(hashShard(parity.subarray(i * shardSize, (i + 1) * shardSize)));
  return { shardSize, ids };
}

/**
 * Decrypts one stripe from its sealed bytes given as consecutive pieces (the k data shards, or
 * one decoded buffer): sealed = pieces joined, of which the first `sealedLength` bytes count.
 * Returns the plaintext (`size` bytes) in a new ArrayBuffer, or writes it into `job.out` (at
 * least sealedLength - 16 bytes, e.g. a view of a SharedArrayBuffer the caller recycles) and
 * returns plain: null. Throws when authentication fails (`out` then holds unauthenticated bytes).
 * job: { key, manifestId, index, size, sealedLength, pieces: Uint8Array[], out?: Uint8Array }
 */
export function openStripe(job) {
  const { key, manifestId, index, size, sealedLength, pieces } = job;
  const ctLength = sealedLength - TAG_BYTES;
  if (ctLength < size) throw new RangeError(`sealed stripe of ${sealedLength} bytes cannot hold ${size} bytes`);
  if (job.out && job.out.byteLength < ctLength) throw new RangeError(`output buffer of ${job.out.byteLength} bytes cannot hold ${ctLength} bytes`);
  const tag = Buffer.alloc(TAG_BYTES);
  const out = job.out ? Buffer.from(job.out.buffer, job.out.byteOffset, ctLength) : Buffer.from(new ArrayBuffer(ctLength));
  const decipher = createDecipheriv('aes-256-gcm', key, segmentNonce(index), { authTagLength: TAG_BYTES });
  decipher.setAAD(segmentAad(manifestId, index));
  let pos = 0; // position in the sealed stream
  let at = 0; // bytes written to out
  for (const piece of pieces) {
    const p = Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
    for (let off = 0; off < p.length && pos < sealedLength; ) {
      const end = Math.min(p.length, off + PIECE, off + (sealedLength - pos));
      const chunk = p.subarray(off, end);
      if (pos >= ctLength) {
        tag.set(chunk, pos - ctLength);
      } else if (pos + chunk.length > ctLength) {
        const split = ctLength - pos;
        const dec = decipher.update(chunk.subarray(0, split));
        copyInto(out, at, dec);
        at += dec.length;
        tag.set(chunk.subarray(split), 0);
      } else {
        const dec = decipher.update(chunk);
        copyInto(out, at, dec);
        at += dec.length;
      }
      pos += chunk.length;
      off = end;
    }
  }
  if (pos < sealedLength) throw new RangeError(`sealed stripe is ${pos} bytes, ${sealedLength} expected`);
  decipher.setAuthTag(tag);
  try {
    copyInto(out, at, decipher.final());
  } catch {
    const err = new Error(`segment ${index} of ${manifestId} failed authentication: the bytes were altered or the key is not the one they were sealed with`);
    err.name = 'AuthenticationError';
    throw err;
  }
  return { plain: job.out ? null : out.buffer, size };
}
