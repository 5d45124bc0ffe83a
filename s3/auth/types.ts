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
  /** Present for the STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] modes. */
  chunkSigning?: ChunkSigning;
}

/** The seam to accounts, declared once in src/core. */
export type { SecretLookup } from '../../src/core/access.ts';

export interface AuthOptions {
  region: string;
  now?: Date;
  service?: 's3';
}
