/** Verification of a signed single-chunk payload against its x-amz-content-sha256. */
import { createHash } from 'node:crypto';
import { DomainError } from '../../src/core/errors.ts';

/**
 * Passes the chunks through and, when the source ends, throws XAmzContentSHA256Mismatch if their
 * SHA-256 is not `expectedHex`. The consumer must treat the body as valid only once iteration completes.
 */
export async function* verifyPayloadHash(source: AsyncIterable<Uint8Array>, expectedHex: string): AsyncGenerator<Uint8Array, void, undefined> {
  const hash = createHash('sha256');
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
  const computed = hash.digest('hex');
  if (computed !== expectedHex.toLowerCase()) {
    throw new DomainError(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
      { ClientComputedContentSHA256: expectedHex, S3ComputedContentSHA256: computed },
    );
  }
}
