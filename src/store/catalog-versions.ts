/**
 * ListObjectVersions over the catalog: every version and delete marker, by key (S3's order) and,
 * within a key, newest first (row ids grow with time). Paging by key-marker / version-id-marker.
 */
import type { DB as Database, SqlStatement as Statement } from '../core/db.ts';
import { Errors } from '../core/errors.ts';
import type { ChecksumAlgorithm, ChecksumType, ListVersionsOptions, ListVersionsResult, VersionEntry } from '../core/object-store.ts';
import { rollupList, type Cursor } from './catalog-list.ts';

interface VersionRow {
  id: number;
  key: string;
  version_id: string;
  is_latest: number;
  delete_marker: number;
  size: number;
  etag: string;
  last_modified: number;
  checksum_algorithm: string | null;
  checksum_type: string | null;
}

const COLUMNS = 'id, key, version_id, is_latest, delete_marker, size, etag, last_modified, checksum_algorithm, checksum_type';

export class VersionLister {
  private readonly stmts = new Map<string, Statement>();
  private readonly markerId: Statement;

  constructor(private readonly db: Database) {
    this.markerId = db.prepare('SELECT id FROM objects WHERE bucket = ? AND key = ? AND version_id = ?');
  }

  list(bucket: string, opts: ListVersionsOptions): ListVersionsResult {
    const prefix = opts.prefix ?? '';
    let start: Cursor | undefined;
    if (opts.keyMarker) {
      start = { key: opts.keyMarker, op: '>' };
      if (opts.versionIdMarker) {
        const r = this.markerId.get(bucket, opts.keyMarker, opts.versionIdMarker) as { id: number } | undefined;
        if (!r) {
          throw Errors.invalidArgument(
            'The version-id-marker names no version of key-marker; pass back the NextVersionIdMarker of the previous page.',
            'version-id-marker',
            opts.versionIdMarker,
          );
        }
        start.id = r.id;
      }
    } else if (opts.versionIdMarker) {
      throw Errors.invalidArgument('A version-id-marker cannot be specified without a key-marker.', 'version-id-marker', opts.versionIdMarker);
    }
    const r = rollupList<VersionRow>(
      {
        fetch: (lower, upper, limit) => this.fetch(bucket, lower, upper, limit),
        keyOf: (row) => row.key,
        after: (row) => ({ key: row.key, op: '>', id: row.id }),
      },
      { prefix, ...(opts.delimiter ? { delimiter: opts.delimiter } : {}), ...(start ? { start } : {}), max: opts.maxKeys },
    );
    const last = r.last;
    return {
      versions: r.items.map(toEntry),
      commonPrefixes: r.prefixes,
      isTruncated: r.isTruncated,
      ...(r.isTruncated && last
        ? 'prefix' in last
          ? { nextKeyMarker: last.prefix }
          : { nextKeyMarker: last.row.key, nextVersionIdMarker: last.row.version_id }
        : {}),
    };
  }

  private fetch(bucket: string, lower: Cursor, upper: string | undefined, limit: number): VersionRow[] {
    const rows: VersionRow[] = [];
    if (lower.id !== undefined) rows.push(...(this.stmt('same').all(bucket, lower.key, lower.id, limit) as VersionRow[]));
    if (rows.length >= limit) return rows;
    const op = lower.op;
    const more = this.stmt(`${op}${upper === undefined ? '' : '<'}`).all(
      bucket,
      lower.key,
      ...(upper === undefined ? [] : [upper]),
      limit - rows.length,
    ) as VersionRow[];
    return rows.concat(more);
  }

  private stmt(id: string): Statement {
    let st = this.stmts.get(id);
    if (!st) {
      st =
        id === 'same'
          ? this.db.prepare(`SELECT ${COLUMNS} FROM objects WHERE bucket = ? AND key = ? AND id < ? ORDER BY id DESC LIMIT ?`)
          : this.db.prepare(
              `SELECT ${COLUMNS} FROM objects WHERE bucket = ? AND key ${id.startsWith('>=') ? '>=' : '>'} ?
               ${id.endsWith('<') ? 'AND key < ?' : ''} ORDER BY key, id DESC LIMIT ?`,
            );
      this.stmts.set(id, st);
    }
    return st;
  }
}

function toEntry(r: VersionRow): VersionEntry {
  return {
    key: r.key,
    versionId: r.version_id,
    isLatest: r.is_latest === 1,
    deleteMarker: r.delete_marker === 1,
    lastModified: new Date(r.last_modified),
    size: r.size,
    etag: r.etag,
    ...(r.checksum_algorithm === null ? {} : { checksumAlgorithm: r.checksum_algorithm as ChecksumAlgorithm }),
    ...(r.checksum_type === null ? {} : { checksumType: r.checksum_type as ChecksumType }),
  };
}
