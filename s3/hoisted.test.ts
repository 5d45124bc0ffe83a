import { describe, expect, it } from 'vitest';
import { withHoistedHeaders } from './hoisted.ts';

const presigned = (extra: string) =>
  new URLSearchParams(
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD&X-Amz-Credential=A%2F20250101%2Fus-east-1%2Fs3%2Faws4_request' +
      '&X-Amz-Date=20250101T000000Z&X-Amz-Expires=900&X-Amz-Signature=abc&X-Amz-SignedHeaders=host' +
      extra,
  );

describe('withHoistedHeaders', () => {
  it('takes the x-amz-* headers an SDK moved into a presigned query', () => {
    const h = withHoistedHeaders({ host: 'x' }, presigned('&x-amz-copy-source=src%2Fkey&x-amz-meta-Color=blue&X-Amz-Tagging=a%3D1&x-id=CopyObject'));
    expect(h).toEqual({ host: 'x', 'x-amz-copy-source': 'src/key', 'x-amz-meta-color': 'blue', 'x-amz-tagging': 'a=1' });
  });

  it('leaves out the SigV4 parameters, body framing and presigned checksums (they describe a body not sent yet)', () => {
    const h = withHoistedHeaders(
      { host: 'x' },
      presigned('&x-amz-checksum-crc32=AAAAAA%3D%3D&x-amz-sdk-checksum-algorithm=CRC32&x-amz-trailer=x-amz-checksum-crc32&x-amz-decoded-content-length=5'),
    );
    expect(h).toEqual({ host: 'x' });
  });

  it('never overrides a header the request sends, and ignores the query of requests that are not presigned', () => {
    expect(withHoistedHeaders({ 'x-amz-copy-source': 'a/b' }, presigned('&x-amz-copy-source=c%2Fd'))).toEqual({ 'x-amz-copy-source': 'a/b' });
    expect(withHoistedHeaders({}, new URLSearchParams('x-amz-copy-source=c%2Fd'))).toEqual({});
  });
});
