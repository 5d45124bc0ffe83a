/**
 * Byte ranges as S3 serves them (RFC 9110 with S3's rules): `bytes=a-b`, `bytes=a-`, `bytes=-n`.
 * Pure functions; the store resolves the client's RangeSpec against the object's size here.
 */
import type { ByteRange, RangeSpec } from './object-store.ts';
import { Errors } from './errors.ts';

/**
 * Resolves a client range against an object of `size` bytes (end inclusive).
 * - `start >= size` (any range on an empty object included) -> InvalidRange (416)
 * - an end past the object clamps to its last byte
 * - a suffix larger than the object means the whole object; a zero suffix is unsatisfiable
 * - an end before the start is unsatisfiable (the s3/ parser drops such headers before this)
 */
export function resolveRange(spec: RangeSpec, size: number): ByteRange {
  if ('suffix' in spec) {
    if (!(spec.suffix > 0) || size === 0) throw Errors.invalidRange(size);
    return { start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  const { start } = spec;
  if (!Number.isSafeInteger(start) || start < 0 || start >= size) throw Errors.invalidRange(size);
  const end = spec.end === undefined ? size - 1 : Math.min(spec.end, size - 1);
  if (end < start) throw Errors.invalidRange(size);
  return { start, end };
}

/** Number of bytes in a resolved range. */
export const rangeLength = (r: ByteRange): number => r.end - r.start + 1;
