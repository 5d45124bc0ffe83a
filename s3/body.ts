/**
 * Turns the raw request stream into the bytes the client meant, according to how it was signed:
 * a hex payload hash (verified as it streams), UNSIGNED-PAYLOAD, or an aws-chunked body (chunk
 * signatures and trailers verified as they arrive; rclone also sends aws-chunked bodies under
 * UNSIGNED-PAYLOAD).
 */
import type { AuthResult } from './auth/index.ts';
import { decodeAwsChunked, verifyPayloadHash } from './auth/index.ts';
import { createPutBody } from '../src/core/digest.ts';
import { checksumsFromTrailers, parseChecksumHeaders } from './auth/checksum-headers.ts';
import { Errors } from '../src/core/errors.ts';
import type { RequestBody } from './context.ts';

const isAwsChunked = (auth: AuthResult, headers: Record<string, string>): boolean =>
  auth.mode.startsWith('STREAMING-') ||
  (headers['content-encoding'] ?? '').split(',').some((e) => e.trim().toLowerCase() === 'aws-chunked');

export function requestBody(raw: AsyncIterable<Uint8Array>, auth: AuthResult, headers: Record<string, string>): RequestBody {
  let source: AsyncIterable<Uint8Array> = raw;
  let trailers: (() => Record<string, string>) | undefined;
  let size: number | undefined;
  // A signed hex payload hash covers the bytes as sent, whatever an (unsigned) Content-Encoding says.
  if (auth.mode === 'hash' && auth.payloadHash !== undefined) raw = verifyPayloadHash(raw, auth.payloadHash);

  if (isAwsChunked(auth, headers)) {
    const decoded = headers['x-amz-decoded-content-length'];
    size = decoded === undefined ? undefined : Number(decoded);
    if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
      throw Errors.invalidArgument('x-amz-decoded-content-length must be a non-negative integer.', 'x-amz-decoded-content-length', decoded);
    }
    const d = decodeAwsChunked(raw, { mode: auth.mode, signing: auth.chunkSigning, decodedLength: size });
    source = d.body;
    trailers = d.trailers;
  } else {
    const length = headers['content-length'];
    size = length === undefined ? undefined : Number(length);
    source = raw;
  }

  return {
    source,
    size,
    putBody(opts = {}) {
      const parsed = parseChecksumHeaders(headers);
      const algorithms = [...new Set([...(opts.algorithms ?? []), ...parsed.algorithms])];
      const trailer = parsed.trailer;
      return createPutBody(source, {
        algorithms,
        expectedMd5: headers['content-md5'],
        expected: trailer && trailers ? () => checksumsFromTrailers(trailers!(), trailer) : parsed.values,
        expectedSize: size,
      });
    },
  };
}
