/**
 * Request headers carried in the query string of a presigned URL. SDKs "hoist" x-amz-* headers
 * there when presigning (the JS SDK v3 moves every one: x-amz-copy-source, x-amz-tagging,
 * x-amz-meta-*, x-amz-metadata-directive...) and S3 applies them as headers. Without this, a
 * presigned CopyObject runs as a PutObject of an empty body over the destination. They are covered
 * by the signature, as the whole query is.
 *
 * Not taken: the SigV4 parameters themselves, the body framing, and checksums: SDKs presign a
 * checksum of the body they were given (x-amz-checksum-crc32=AAAAAA== for none), which the body a
 * URL holder sends later does not match (aws-sdk-js-v3 #6810).
 */
const NOT_HOISTED = new Set([
  'x-amz-algorithm',
  'x-amz-credential',
  'x-amz-date',
  'x-amz-expires',
  'x-amz-signedheaders',
  'x-amz-signature',
  'x-amz-security-token',
  'x-amz-content-sha256',
  'x-amz-decoded-content-length',
  'x-amz-trailer',
  'x-amz-sdk-checksum-algorithm',
]);

/** `headers` (lower-case names) plus the x-amz-* parameters of a presigned query that no header already sets. */
export function withHoistedHeaders(headers: Record<string, string>, query: URLSearchParams): Record<string, string> {
  // botocore's SigV2 query-string URLs carry them the same way (HmacV1QueryAuth)
  if (!query.has('X-Amz-Signature') && !(query.has('Signature') && query.has('AWSAccessKeyId'))) return headers;
  let out = headers;
  for (const [name, value] of query) {
    const h = name.toLowerCase();
    if (!h.startsWith('x-amz-') || NOT_HOISTED.has(h) || h.startsWith('x-amz-checksum-') || h in headers) continue;
    if (out === headers) out = { ...headers };
    out[h] = value;
  }
  return out;
}
