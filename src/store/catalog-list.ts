/**
 * Listing with prefix, delimiter and paging over a sorted key column, as S3 does it: keys in UTF-8
 * binary order, keys that contain the delimiter after the prefix rolled up into CommonPrefixes,
 * max-keys counting objects and prefixes together. Each page is a handful of indexed range scans:
 * when a common prefix is found the scan seeks past all of its members instead of reading them.
 */

/** A lower bound of a scan: key >= K, key > K, or (key, uploadId) > (K, U). */
export interface Cursor {
  key: string;
  op: '>=' | '>';
  uploadId?: string;
  /** With op '>': the rest of `key` after this row id (versions: newest first), then later keys. */
  id?: number;
}

export interface RollupSource<T> {
  /** Up to `limit` rows from `lower` (upper bound exclusive when given), in key order. */
  fetch(lower: Cursor, upper: string | undefined, limit: number): T[];
  keyOf(row: T): string;
  /** The cursor just after a row. */
  after(row: T): Cursor;
}

export interface RollupOptions {
  prefix: string;
  delimiter?: string;
  /** Where the page starts: a marker (key, uploadId); undefined means the start of the prefix. */
  start?: Cursor;
  max: number;
}

export interface RollupResult<T> {
  items: T[];
  prefixes: string[];
  isTruncated: boolean;
  /** The last entry returned, when the page is truncated: a row or a common prefix. */
  last?: { row: T } | { prefix: string };
}

const MIN_BATCH = 2;
const MAX_BATCH = 1000;

/** Compares two strings in UTF-8 byte order (= code point order), which is S3's order. */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x < y ? -1 : 1;
    if (x > 0xffff) i++;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The least string greater than every string that starts with `p` (undefined when none exists,
 * e.g. for ''), so [p, prefixEnd(p)) is exactly the set of strings with prefix p.
 */
export function prefixEnd(p: string): string | undefined {
  const cps = Array.from(p);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      cps.push(String.fromCodePoint(next));
      return cps.join('');
    }
  }
  return undefined;
}

/** The common prefix `key` rolls up into, or undefined when it has no delimiter after the prefix. */
export function rollupOf(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter || !key.startsWith(prefix)) return undefined;
  const i = key.indexOf(delimiter, prefix.length);
  return i < 0 ? undefined : key.slice(0, i + delimiter.length);
}

/**
 * The first cursor of a page: after the marker, but never before the prefix; when the marker
 * itself rolls up into a common prefix, that whole prefix was already returned: skip it.
 * Undefined when nothing can follow.
 */
export function startCursor(prefix: string, delimiter: string | undefined, marker: Cursor | undefined): Cursor | undefined {
  if (!marker || compareUtf8(marker.key, prefix) < 0) return { key: prefix, op: '>=' };
  const cp = rollupOf(marker.key, prefix, delimiter);
  if (cp !== undefined) {
    const end = prefixEnd(cp);
    return end === undefined ? undefined : { key: end, op: '>=' };
  }
  return marker;
}

export function rollupList<T>(src: RollupSource<T>, opts: RollupOptions): RollupResult<T> {
  const { prefix, delimiter, max } = opts;
  const items: T[] = [];
  const prefixes: string[] = [];
  if (max <= 0) return { items, prefixes, isTruncated: false };
  const upper = prefix === '' ? undefined : prefixEnd(prefix);
  let lower = startCursor(prefix, delimiter, opts.start);
  let last: RollupResult<T>['last'];
  let count = 0;
  let batch = delimiter ? MIN_BATCH : MAX_BATCH;
  while (lower !== undefined) {
    const limit = Math.min(batch, max - count + 1);
    const rows = src.fetch(lower, upper, limit);
    let next: Cursor | undefined;
    let rolled = false;
    for (const row of rows) {
      if (count === max) return { items, prefixes, isTruncated: true, last };
      const cp = rollupOf(src.keyOf(row), prefix, delimiter);
      count++;
      if (cp !== undefined) {
        prefixes.push(cp);
        last = { prefix: cp };
        const end = prefixEnd(cp);
        next = end === undefined ? undefined : { key: end, op: '>=' };
        rolled = true;
        break;
      }
      items.push(row);
      last = { row };
      next = src.after(row);
    }
    if (!rolled && rows.length < limit) break;
    batch = rolled ? MIN_BATCH : Math.min(batch * 2, MAX_BATCH);
    lower = next;
  }
  return { items, prefixes, isTruncated: false };
}
