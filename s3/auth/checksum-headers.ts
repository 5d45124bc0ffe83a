/**
 * The S3 checksum headers and trailers of a request (x-amz-checksum-*, x-amz-trailer,
 * x-amz-sdk-checksum-algorithm, x-amz-checksum-algorithm, x-amz-checksum-type), read and validated
 * as S3 does; the checksum math is src/core/digest.ts.
 */
import { checksumHeaderName, decodeChecksumValue } from '../../src/core/digest.ts';
import { Errors } from '../../src/core/errors.ts';
import { CHECKSUM_ALGORITHMS, type ChecksumAlgorithm, type Checksums, type ChecksumType } from '../../src/core/object-store.ts';

function parseAlgorithm(value: string, header: string): ChecksumAlgorithm {
  const a = value.trim().toUpperCase() as ChecksumAlgorithm;
  if (!CHECKSUM_ALGORITHMS.includes(a)) {
    throw Errors.invalidRequest(
      `Checksum algorithm provided in ${header} is unsupported. Please try again with any of the valid types: [${CHECKSUM_ALGORITHMS.join(', ')}]`,
    );
  }
  return a;
}

export interface ChecksumRequest {
  /** Every algorithm the body must be hashed with (headers, announced trailer, SDK algorithm). */
  algorithms: ChecksumAlgorithm[];
  /** Values sent as headers, validated. */
  values: Checksums;
  /** The checksum announced in x-amz-trailer, whose value arrives after the body. */
  trailer?: ChecksumAlgorithm;
  /** x-amz-sdk-checksum-algorithm or x-amz-checksum-algorithm. */
  algorithm?: ChecksumAlgorithm;
  /** x-amz-checksum-type (CreateMultipartUpload). */
  type?: ChecksumType;
}

const MULTIPLE = 'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.';

/**
 * Reads x-amz-checksum-{crc32,crc32c,crc64nvme,sha1,sha256}, x-amz-trailer,
 * x-amz-sdk-checksum-algorithm, x-amz-checksum-algorithm and x-amz-checksum-type (names lower-case).
 */
export function parseChecksumHeaders(headers: Readonly<Record<string, string | undefined>>): ChecksumRequest {
  const values: Checksums = {};
  for (const a of CHECKSUM_ALGORITHMS) {
    const name = checksumHeaderName(a);
    const v = headers[name];
    if (v !== undefined) values[a] = decodeChecksumValue(a, v, `${name} header`).toString('base64');
  }
  const given = Object.keys(values) as ChecksumAlgorithm[];
  if (given.length > 1) throw Errors.invalidRequest(MULTIPLE);

  let trailer: ChecksumAlgorithm | undefined;
  for (const name of (headers['x-amz-trailer'] ?? '').split(',').map((s) => s.trim().toLowerCase())) {
    if (!name.startsWith('x-amz-checksum-')) continue;
    const a = CHECKSUM_ALGORITHMS.find((x) => checksumHeaderName(x) === name);
    if (a === undefined) throw Errors.invalidRequest(`The value specified in the x-amz-trailer header is not supported: ${name}.`);
    if (trailer !== undefined || given.length > 0) throw Errors.invalidRequest(MULTIPLE);
    trailer = a;
  }

  const sdk = headers['x-amz-sdk-checksum-algorithm'] ?? headers['x-amz-checksum-algorithm'];
  const algorithm =
    sdk === undefined
      ? undefined
      : parseAlgorithm(sdk, headers['x-amz-sdk-checksum-algorithm'] !== undefined ? 'x-amz-sdk-checksum-algorithm' : 'x-amz-checksum-algorithm');
  const sent = given[0] ?? trailer;
  if (algorithm !== undefined && sent !== undefined && sent !== algorithm) {
    throw Errors.invalidRequest(
      `Value for x-amz-sdk-checksum-algorithm header is invalid: it names ${algorithm} but the checksum sent is ${sent}.`,
    );
  }

  let type: ChecksumType | undefined;
  const rawType = headers['x-amz-checksum-type'];
  if (rawType !== undefined) {
    const t = rawType.trim().toUpperCase();
    if (t !== 'FULL_OBJECT' && t !== 'COMPOSITE') {
      throw Errors.invalidRequest('Value for x-amz-checksum-type header is invalid; use FULL_OBJECT or COMPOSITE.');
    }
    type = t;
  }

  const algorithms = [...new Set([...given, ...(trailer ? [trailer] : []), ...(algorithm ? [algorithm] : [])])];
  const out: ChecksumRequest = { algorithms, values };
  if (trailer) out.trailer = trailer;
  if (algorithm) out.algorithm = algorithm;
  if (type) out.type = type;
  return out;
}

/**
 * The x-amz-checksum-* values among decoded aws-chunked trailers (names lower-case), validated.
 * With `announced` (ChecksumRequest.trailer), a missing announced trailer is an InvalidRequest.
 */
export function checksumsFromTrailers(trailers: Readonly<Record<string, string>>, announced?: ChecksumAlgorithm): Checksums {
  const out: Checksums = {};
  for (const a of CHECKSUM_ALGORITHMS) {
    const name = checksumHeaderName(a);
    const v = trailers[name];
    if (v !== undefined) out[a] = decodeChecksumValue(a, v, `${name} trailing header`).toString('base64');
  }
  if (announced !== undefined && out[announced] === undefined) {
    const name = checksumHeaderName(announced);
    throw Errors.invalidRequest(`x-amz-trailer announced ${name}, but the body carried no such trailer; send it after the final chunk.`);
  }
  return out;
}
