/**
 * Checksums of multipart objects, as S3 computes them: COMPOSITE (checksum of the parts' raw
 * checksums, shown with "-N") or FULL_OBJECT (the parts' CRCs combined into the CRC of the whole).
 */
import type { ChecksumAlgorithm, Checksums, ChecksumType } from '../core/object-store.ts';
import { Errors } from '../core/errors.ts';
import { combineCrc, compositeChecksum, isCrcAlgorithm } from '../core/digest.ts';
import type { PartRecord, UploadRecord } from './catalog-multipart.ts';

/** CRCs in the order a default FULL_OBJECT checksum is picked for uploads created without one. */
const DEFAULT_CRCS: readonly ChecksumAlgorithm[] = ['CRC64NVME', 'CRC32', 'CRC32C'];

/**
 * Validates CreateMultipartUpload's checksum algorithm and type; returns the type the upload uses
 * (CRC64NVME is FULL_OBJECT only; the others default to COMPOSITE; SHA-* cannot be FULL_OBJECT).
 */
export function checksumTypeFor(algorithm: ChecksumAlgorithm | undefined, type: ChecksumType | undefined): ChecksumType | undefined {
  if (algorithm === undefined) {
    if (type !== undefined) {
      throw Errors.invalidRequest('The x-amz-checksum-type header can only be used together with the x-amz-checksum-algorithm header.');
    }
    return undefined;
  }
  const t = type ?? (algorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE');
  if (t === 'FULL_OBJECT' && !isCrcAlgorithm(algorithm)) {
    throw Errors.invalidRequest(`The FULL_OBJECT checksum type cannot be used with the ${algorithm} checksum algorithm; use COMPOSITE or a CRC algorithm.`);
  }
  if (t === 'COMPOSITE' && algorithm === 'CRC64NVME') {
    throw Errors.invalidRequest('The COMPOSITE checksum type cannot be used with the CRC64NVME checksum algorithm; use FULL_OBJECT.');
  }
  return t;
}

/**
 * The whole object's checksum from its parts. With an upload algorithm every part must carry that
 * checksum; without one, a CRC every part carries becomes a FULL_OBJECT checksum (else none).
 * A whole-object value the client sent in the Complete request must match (BadDigest).
 */
export function multipartChecksums(
  u: UploadRecord,
  parts: readonly PartRecord[],
  given: Checksums | undefined,
): { checksums: Checksums; checksumType?: ChecksumType } {
  let algorithm = u.checksumAlgorithm;
  let type = u.checksumType ?? checksumTypeFor(algorithm, undefined);
  if (algorithm === undefined) {
    algorithm = DEFAULT_CRCS.find((a) => parts.every((p) => p.checksums[a] !== undefined));
    if (algorithm === undefined) return { checksums: {} };
    type = 'FULL_OBJECT';
  } else {
    for (const p of parts) {
      if (p.checksums[algorithm] === undefined) {
        throw Errors.invalidRequest(
          `The upload was created using a ${algorithm} checksum. The complete request must include the checksum for each part. It was missing for part ${p.partNumber} in the request.`,
        );
      }
    }
  }
  const alg = algorithm;
  const value =
    type === 'FULL_OBJECT' && isCrcAlgorithm(alg)
      ? combineCrc(alg, parts.map((p) => ({ checksum: p.checksums[alg]!, size: p.size })))
      : `${compositeChecksum(alg, parts.map((p) => p.checksums[alg]!))}-${parts.length}`;
  const sent = given?.[alg];
  if (sent !== undefined && sent.replace(/-\d+$/, '') !== value.replace(/-\d+$/, '')) {
    throw Errors.badDigest(`The ${alg} checksum you sent for the whole object does not match the one calculated from its parts (${value}).`);
  }
  return { checksums: { [alg]: value }, checksumType: type ?? 'COMPOSITE' };
}
