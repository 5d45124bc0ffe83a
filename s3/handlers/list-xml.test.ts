/** The hand-written <Contents> of a listing page against the generic serializer it replaced, byte for byte. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ListEntry, ListResult } from '../../src/core/object-store.ts';
import { ownerXml, quoteEtag } from '../headers.ts';
import { isoTimestamp, xmlElement } from '../xml.ts';
import { contents, s3UrlEncode } from './list.ts';

/** The rendering before: one object per key through the generic serializer. */
function model(r: ListResult, enc: (s: string) => string, withOwner: string | undefined): string {
  const rows = r.objects.map((o) => ({
    Key: enc(o.key),
    LastModified: o.lastModified.toISOString(),
    ETag: quoteEtag(o.etag),
    ...(o.checksumAlgorithm ? { ChecksumAlgorithm: o.checksumAlgorithm, ChecksumType: o.checksumType } : {}),
    Size: o.size,
    StorageClass: 'STANDARD',
    ...(withOwner ? { Owner: ownerXml(withOwner) } : {}),
  }));
  return xmlElement('Contents', rows);
}

/** encoding-type=url before: a regular expression per byte. */
function slowUrlEncode(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~/*]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const key = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constantFrom('a&b<c>d\'e"f', 'e f/5.txt', 'z+plus', 'ü-unicode', '日本/語', '😀', ''));
const entry: fc.Arbitrary<ListEntry> = fc.record(
  {
    key,
    size: fc.nat(),
    etag: fc.oneof(fc.stringMatching(/^[0-9a-f]{32}(-[0-9]{1,4})?$/), fc.string({ maxLength: 8 })),
    lastModified: fc.date({ min: new Date(0), max: new Date(253402300799999), noInvalidDate: true }),
    checksumAlgorithm: fc.constantFrom('CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'),
    checksumType: fc.constantFrom('FULL_OBJECT', 'COMPOSITE'),
  },
  { requiredKeys: ['key', 'size', 'etag', 'lastModified'] },
) as fc.Arbitrary<ListEntry>;

describe('a listing page’s <Contents>', () => {
  it('are the bytes the generic serializer wrote, with and without encoding-type=url and fetch-owner', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 20 }), fc.boolean(), fc.option(fc.constantFrom('root', 'a&b', 'alice')), (objects, url, owner) => {
        const r: ListResult = { objects, commonPrefixes: [], isTruncated: false };
        const enc = url ? s3UrlEncode : (s: string) => s;
        expect(contents(r, enc, owner ?? undefined).xml).toBe(model(r, enc, owner ?? undefined));
      }),
      { numRuns: 500 },
    );
  });

  it('encoding-type=url encodes every key as before', () => {
    fc.assert(fc.property(key, (k) => {
        expect(s3UrlEncode(k)).toBe(slowUrlEncode(k));
      }), { numRuns: 2000 });
    expect(s3UrlEncode('a b+c/ü~*')).toBe('a+b%2Bc/%C3%BC~*');
  });

  it('timestamps are what Date.toISOString writes, on any date', () => {
    fc.assert(
      fc.property(fc.oneof(fc.date({ noInvalidDate: true }), fc.date({ min: new Date(0), max: new Date(253402300799999), noInvalidDate: true })), (d) => {
        expect(isoTimestamp(d)).toBe(d.toISOString());
      }),
      { numRuns: 5000 },
    );
    for (const ms of [0, 999, 86_399_999, 86_400_000, 1_764_510_000_007, 253_402_300_799_999, 253_402_300_800_000, -1]) expect(isoTimestamp(new Date(ms))).toBe(new Date(ms).toISOString());
  });
});
