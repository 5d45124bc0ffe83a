import { describe, expect, it } from 'vitest';
import { checksumOf } from '../../src/core/digest.ts';
import { checksumsFromTrailers, parseChecksumHeaders } from './checksum-headers.ts';
import { thrown } from '../../src/core/testing/thrown.ts';

describe('parseChecksumHeaders', () => {
  it('reads values, the trailer, the SDK algorithm and the type', () => {
    expect(parseChecksumHeaders({ 'x-amz-checksum-crc32': 'y/Q5Jg==', 'x-amz-sdk-checksum-algorithm': 'crc32' })).toEqual({
      algorithms: ['CRC32'],
      values: { CRC32: 'y/Q5Jg==' },
      algorithm: 'CRC32',
    });
    expect(
      parseChecksumHeaders({ 'x-amz-trailer': 'x-amz-checksum-crc64nvme', 'x-amz-sdk-checksum-algorithm': 'CRC64NVME' }),
    ).toEqual({ algorithms: ['CRC64NVME'], values: {}, trailer: 'CRC64NVME', algorithm: 'CRC64NVME' });
    expect(parseChecksumHeaders({ 'x-amz-checksum-algorithm': 'SHA1', 'x-amz-checksum-type': 'composite' })).toEqual({
      algorithms: ['SHA1'],
      values: {},
      algorithm: 'SHA1',
      type: 'COMPOSITE',
    });
    expect(parseChecksumHeaders({})).toEqual({ algorithms: [], values: {} });
  });

  it('rejects values that are not base64 of the right length, like S3', () => {
    for (const [name, value] of [
      ['x-amz-checksum-crc32', 'AAAAAAA='],
      ['x-amz-checksum-crc32c', 'not base64!'],
      ['x-amz-checksum-crc64nvme', 'AAAAAA=='],
      ['x-amz-checksum-sha1', checksumOf('SHA256', 'x')],
      ['x-amz-checksum-sha256', checksumOf('SHA1', 'x')],
    ] as const) {
      const e = thrown(() => parseChecksumHeaders({ [name]: value }));
      expect(e.code).toBe('InvalidRequest');
      expect(e.message).toBe(`Value for ${name} header is invalid.`);
    }
  });

  it('rejects two checksums, unknown algorithms and a mismatched SDK algorithm', () => {
    expect(thrown(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-crc32c': 'AAAAAA==' })).message).toMatch(
      /single x-amz-checksum-/,
    );
    expect(thrown(() => parseChecksumHeaders({ 'x-amz-sdk-checksum-algorithm': 'MD5' })).code).toBe('InvalidRequest');
    expect(thrown(() => parseChecksumHeaders({ 'x-amz-trailer': 'x-amz-checksum-md5' })).code).toBe('InvalidRequest');
    expect(
      thrown(() => parseChecksumHeaders({ 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-sdk-checksum-algorithm': 'SHA256' })).code,
    ).toBe('InvalidRequest');
    expect(thrown(() => parseChecksumHeaders({ 'x-amz-checksum-type': 'PARTIAL' })).code).toBe('InvalidRequest');
  });

  it('reads checksums from trailers', () => {
    expect(checksumsFromTrailers({ 'x-amz-checksum-crc32c': 'sOO8/Q==', 'x-amz-meta-a': 'b' })).toEqual({ CRC32C: 'sOO8/Q==' });
    expect(thrown(() => checksumsFromTrailers({ 'x-amz-checksum-crc32': 'sOO8' })).message).toBe(
      'Value for x-amz-checksum-crc32 trailing header is invalid.',
    );
  });
});
