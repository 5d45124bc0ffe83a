/**
 * What a handler gets and gives back. Handlers are thin: decode HTTP, call one ObjectStore
 * method, encode XML and headers.
 */
import type { Readable } from 'node:stream';
import type { ObjectStore, PutBody, ChecksumAlgorithm } from '../src/core/object-store.ts';
import type { Operation } from './router.ts';
import type { SecretLookup } from './auth/index.ts';

export interface RequestBody {
  /** The bytes as the client meant them: aws-chunked framing removed, signatures verified. */
  source: AsyncIterable<Uint8Array>;
  /** Declared length of those bytes (Content-Length or x-amz-decoded-content-length), if any. */
  size?: number;
  /** A PutBody over `source` that verifies Content-MD5 and x-amz-checksum-* (headers or trailers). */
  putBody(opts?: { algorithms?: ChecksumAlgorithm[] }): PutBody;
}

export interface S3Context {
  op: Operation;
  store: ObjectStore;
  /** The authenticated account. */
  account: string;
  region: string;
  requestId: string;
  /** Request headers, names lower-case. */
  headers: Record<string, string>;
  body: RequestBody;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** Checks that `account` may use this bucket (throws AccessDenied / NoSuchBucket). */
  authorizeBucket(bucket: string): void;
  /**
   * PostObject only: the request is signed by its form fields, so the service has not authenticated
   * it; the handler verifies the policy signature with `lookup`, then calls admit(account), which
   * sets `account` (authorizeBucket uses it) and runs the per-account admission checks.
   */
  postAuth?: { lookup: SecretLookup | undefined; admit(account: string): void };
}

export interface S3Result {
  status?: number;
  headers?: Record<string, string>;
  /** A string (XML) or a stream of object bytes. */
  body?: string | Readable;
}

export type Handler = (ctx: S3Context) => Promise<S3Result> | S3Result;

export const xmlResult = (body: string, headers: Record<string, string> = {}): S3Result => ({
  status: 200,
  headers: { 'Content-Type': 'application/xml', ...headers },
  body,
});
