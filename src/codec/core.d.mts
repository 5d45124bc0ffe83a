/** Types of core.mjs (the bulk codec work shared by the main thread and the codec workers). */
export declare const TAG_BYTES: number;
export declare const NONCE_BYTES: number;
export declare const SHARD_ALIGN: number;
export declare function segmentNonce(index: number): Buffer;
export declare function segmentAad(manifestId: string, index: number): Buffer;
export declare const SHA2_256: number;
export declare const BLAKE3: number;
export declare function idFromDigest(digest: Uint8Array, code?: number): string;
export declare function idHash(id: string): number | undefined;
/** BLAKE3 id for new shards; with `like`, an id of the same kind as `like`. */
export declare function hashShard(bytes: Uint8Array, like?: string): string;
export declare function shardSizeFor(dataLength: number, k: number): number;
export declare function paddedLength(length: number, k: number): number;
export declare function copyInto(target: Uint8Array, at: number, source: Uint8Array): void;

export interface SealJob {
  key: Uint8Array;
  manifestId: string;
  index: number;
  /** Plaintext bytes at the start of `plain`. */
  length: number;
  k: number;
  m: number;
  plain: ArrayBufferLike;
  sealed: ArrayBufferLike;
  parity: ArrayBufferLike;
}
export declare function sealStripe(job: SealJob): Promise<{ shardSize: number; ids: string[] }>;

export interface OpenJob {
  key: Uint8Array;
  manifestId: string;
  index: number;
  /** Plaintext bytes of the segment. */
  size: number;
  /** Bytes of ciphertext || tag (k * shard size). */
  sealedLength: number;
  /** The sealed bytes as consecutive pieces (the k data shards, or one decoded buffer). */
  pieces: Uint8Array[];
  /** Where to write the plaintext (at least sealedLength - TAG_BYTES bytes); a new buffer when absent. */
  out?: Uint8Array;
}
export declare function openStripe(job: OpenJob): { plain: ArrayBuffer | null; size: number };
