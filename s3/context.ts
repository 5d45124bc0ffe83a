/**
 * What a handler gets and gives back. Handlers are thin: decode HTTP, call one ObjectStore
 * method, encode XML and headers.
 */
import type { Readable } from 'node:stream';
import type { AccessClass } from '../src/core/access.ts';
import type { BucketInfo, ObjectStore, PutBody, ChecksumAlgorithm } from '../src/core/object-store.ts';
import type { Operation, OperationName, OperationOf } from './router.ts';
import type { SecretLookup } from './auth/index.ts';

export interface RequestBody {
  /** The bytes as the client meant them: aws-chunked framing removed, signatures verified. */
  source: AsyncIterable<Uint8Array>;
  /** Declared length of those bytes (Content-Length or x-amz-decoded-content-length), if any. */
  size?: number;
  /** A PutBody over `source` that verifies Content-MD5 and x-amz-checksum-* (headers or trailers). */
  putBody(opts?: { algorithms?: ChecksumAlgorithm[] }): PutBody;
}

/**
 * The service has authorized the operation's bucket for its access class before the handler runs
 * (PostObject: when the handler calls postAuth.admit).
 */
export interface S3Context<O extends Operation = Operation> {
  op: O;
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
  /**
   * May this request carry an SSE-C key: TLS, a loopback client, or --allow-insecure-sse-c
   * (s3/sse.ts; absent: no).
   */
  keysAllowed?: boolean;
  /**
   * Checks that `account` may access another bucket than the operation's (a copy source) this way;
   * throws AccessDenied / NoSuchBucket.
   */
  authorizeBucket(bucket: string, access: AccessClass, key?: string): BucketInfo;
  /**
   * PostObject only: the request is signed by its form fields, so the service has not authenticated
   * it; the handler verifies the policy signature with `lookup`, then calls admit(account), which
   * sets `account`, runs the per-account admission checks and authorizes the bucket.
   */
  postAuth?: {
    lookup: SecretLookup | undefined;
    /** False when SigV2 is switched off (`--sigv2=false`): a SigV2 form is refused. */
    sigv2?: boolean;
    admit(account: string, signatureVersion: 'AWS' | 'AWS4-HMAC-SHA256'): void;
  };
}

export interface S3Result {
  status?: number;
  headers?: Record<string, string>;
  /** A string (XML) or a stream of object bytes. */
  body?: string | Readable;
}

/** The handler of operation N sees N's parameters. */
export type Handler<N extends OperationName = OperationName> = (ctx: S3Context<OperationOf<N>>) => Promise<S3Result> | S3Result;

export const xmlResult = (body: string, headers: Record<string, string> = {}): S3Result => ({
  status: 200,
  headers: { 'Content-Type': 'application/xml', ...headers },
  body,
});
