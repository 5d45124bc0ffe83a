/** ETags as clients send them back: in If-Match / If-None-Match lists and CompleteMultipartUpload. */

/** Strips quotes and W/ and lower-cases an ETag from a request. */
export const normalizeEtag = (etag: string): string => etag.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();

/** True when a comma-separated If-Match / If-None-Match list names `etag`, or is '*'. */
export function etagListMatches(list: string, etag: string): boolean {
  return list.split(',').some((e) => {
    const n = normalizeEtag(e);
    return n === '*' || n === etag.toLowerCase();
  });
}
