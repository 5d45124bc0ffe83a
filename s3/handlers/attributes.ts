/**
 * GetObjectAttributes (GET /bucket/key?attributes): the attributes x-amz-object-attributes names
 * (ETag, Checksum, ObjectParts, StorageClass, ObjectSize), in AWS's GetObjectAttributesResponse.
 * Parts are paged by x-amz-max-parts and x-amz-part-number-marker; as on AWS's general purpose
 * buckets, they are listed only when the object has a checksum, otherwise only their count.
 */
import { Errors } from '../../src/core/errors.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { checksumFields } from '../headers.ts';
import { xmlDocument, type XmlObject } from '../xml.ts';
import { versionHeaders, versionIdOf } from './versioning.ts';
import { customerKeyOf, encryptionHeaders } from '../sse.ts';

const ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/** x-amz-object-attributes: a comma-separated list of attribute names, at least one. */
export function parseAttributes(v: string | undefined): Set<Attribute> {
  const names = (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) {
    throw Errors.invalidArgument(
      'The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty: name one or more of ETag, Checksum, ObjectParts, StorageClass, ObjectSize.',
      'x-amz-object-attributes',
      v ?? '',
    );
  }
  for (const n of names) {
    if (!(ATTRIBUTES as readonly string[]).includes(n)) {
      throw Errors.invalidArgument(`Invalid attribute name specified: '${n}'. Use ETag, Checksum, ObjectParts, StorageClass or ObjectSize.`, 'x-amz-object-attributes', n);
    }
  }
  return new Set(names as Attribute[]);
}

function intHeader(headers: Record<string, string>, name: string, fallback: number): number {
  const v = headers[name];
  if (v === undefined || v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw Errors.invalidArgument(`${name} must be a non-negative integer.`, name, v);
  return n;
}

export const getObjectAttributes: Handler<'GetObjectAttributes'> = (ctx) => {
  const { store, op, headers } = ctx;
  const wanted = parseAttributes(headers['x-amz-object-attributes']);
  const maxParts = Math.min(intHeader(headers, 'x-amz-max-parts', 1000), 1000);
  const marker = intHeader(headers, 'x-amz-part-number-marker', 0);
  const customerKey = customerKeyOf(headers, ctx);
  const { info, parts } = store.getObjectAttributes(op.bucket, op.key, {
    ...(versionIdOf(op.query) !== undefined ? { versionId: versionIdOf(op.query)! } : {}),
    ...(customerKey ? { customerKey } : {}),
  });
  const hasChecksum = Object.keys(info.checksums).length > 0;
  const body: XmlObject = {};
  if (wanted.has('ETag')) body.ETag = info.etag;
  if (wanted.has('Checksum') && hasChecksum) {
    body.Checksum = { ...checksumFields(info.checksums), ...(info.checksumType ? { ChecksumType: info.checksumType } : {}) };
  }
  if (wanted.has('ObjectParts') && parts !== undefined) {
    const after = parts.filter((p) => p.partNumber > marker);
    const page = after.slice(0, maxParts);
    const truncated = after.length > page.length;
    const listed = parts.some((p) => Object.keys(p.checksums).length > 0);
    body.ObjectParts = {
      PartsCount: parts.length,
      ...(listed
        ? {
            PartNumberMarker: marker,
            ...(truncated && page.length > 0 ? { NextPartNumberMarker: page[page.length - 1]!.partNumber } : {}),
            MaxParts: maxParts,
            IsTruncated: truncated,
            Part: page.map((p) => ({ ...checksumFields(p.checksums), PartNumber: p.partNumber, Size: p.size })),
          }
        : {}),
    };
  }
  if (wanted.has('StorageClass')) body.StorageClass = 'STANDARD';
  if (wanted.has('ObjectSize')) body.ObjectSize = info.size;
  return xmlResult(xmlDocument('GetObjectAttributesResponse', body), {
    'Last-Modified': info.lastModified.toUTCString(),
    ...versionHeaders(store, info, { lock: false, expiration: false }),
    ...(info.customerKeyed ? encryptionHeaders(info, customerKey) : {}),
  });
};
