/** The types shared by SigV4 verification and the aws-chunked decoder. */

export interface AuthRequest {
  method: string;
  /** The raw path exactly as it was on the request line, percent-encoding untouched, without the query. */
  rawPath: string;
  /** The raw query string without '?', as sent. */
  rawQuery: string;
  /** Header names lower-cased; repeated headers joined with ','. */
  headers: Record<string, string>;
}

/** What x-amz-content-sha256 (or a presigned URL) says about the body. */
export type PayloadMode =
  | 'hash'
  | 'UNSIGNED-PAYLOAD'
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD'
  | 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER'
  | 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/** What verifying chunk and trailer signatures of an aws-chunked body needs. */
export interface ChunkSigning {
  signingKey: Buffer;
  /** The credential scope: DATE/REGION/SERVICE/aws4_request. */
  scope: string;
  /** The request's ISO 8601 basic timestamp (20130524T000000Z). */
  datetime: string;
  /** The request's own signature: the "previous signature" of the first chunk. */
  seedSignature: string;
}

export interface AuthResult {
  accessKey: string;
  account: string;
  mode: PayloadMode;
  /** Lower-case hex SHA-256 of the body, when mode is 'hash'. */
  payloadHash?: string;
  presigned: boolean;
  /** As the s3:signatureversion condition key reports it: 'AWS' (SigV2) or 'AWS4-HMAC-SHA256'. */
  signatureVersion?: 'AWS' | 'AWS4-HMAC-SHA256';
  /**
   * True when the signature matched the query with '+' read as a literal '+' (signed as %2B) rather
   * than as a space: the request must then be routed with that reading (s3/query-plus.ts).
   */
  literalPlus?: boolean;
  /** Present for the STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] modes. */
  chunkSigning?: ChunkSigning;
}

/** The seam to accounts, declared once in src/core. */
export type { SecretLookup } from '../../src/core/access.ts';

export interface AuthOptions {
  region: string;
  now?: Date;
  service?: 's3';
  /** Accept SigV2 (header, query string, POST forms); default true (`--sigv2`). */
  sigv2?: boolean;
  /** The base domain of virtual-hosted-style requests: SigV2 signs their bucket in the resource. */
  domain?: string;
}
