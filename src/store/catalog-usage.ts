/**
 * Per-account usage (table account_usage) and quota checks. Every change runs inside the caller's
 * SQLite transaction (better-sqlite3 nests transactions as savepoints), so a check and the change
 * it guards are one atomic step: two racing uploads cannot both pass a quota that fits one.
 */
import type { DB as Database, SqlStatement as Statement } from '../core/db.ts';
import type { Limits, Usage } from '../core/quota.ts';
import { Errors, type DomainError } from '../core/errors.ts';

export interface UsageDelta {
  bytes?: number;
  objects?: number;
  buckets?: number;
  reserved?: number;
}

interface UsageRow {
  bytes: number;
  objects: number;
  buckets: number;
  reserved: number;
}

const EMPTY: UsageRow = { bytes: 0, objects: 0, buckets: 0, reserved: 0 };

/** What an open upload's own row costs: the bytes of its key, metadata and tags (SQL, over uploads). */
export const UPLOAD_META_BYTES = 'octet_length(key) + octet_length(meta) + octet_length(tags)';

export class UsageLedger {
  private readonly getStmt: Statement<[string], UsageRow>;
  private readonly applyStmt: Statement<[{ account: string; bytes: number; objects: number; buckets: number; reserved: number }]>;

  constructor(private readonly db: Database) {
    this.getStmt = db.prepare('SELECT bytes, objects, buckets, reserved FROM account_usage WHERE account = ?');
    this.applyStmt = db.prepare(
      `INSERT INTO account_usage (account, bytes, objects, buckets, reserved) VALUES (@account, @bytes, @objects, @buckets, @reserved)
       ON CONFLICT (account) DO UPDATE SET bytes = account_usage.bytes + @bytes, objects = account_usage.objects + @objects,
         buckets = account_usage.buckets + @buckets, reserved = account_usage.reserved + @reserved`,
    );
  }

  get(account: string): Usage {
    const r = this.getStmt.get(account) ?? EMPTY;
    return { bytes: r.bytes, objects: r.objects, buckets: r.buckets, reservedBytes: r.reserved };
  }

  apply(account: string, d: UsageDelta): void {
    if (!d.bytes && !d.objects && !d.buckets && !d.reserved) return;
    this.applyStmt.run({ account, bytes: d.bytes ?? 0, objects: d.objects ?? 0, buckets: d.buckets ?? 0, reserved: d.reserved ?? 0 });
  }

  /**
   * Reserves room for `need` more bytes, checked against maxStorage in the same transaction that
   * records it. Grants `need` rounded up to `roundTo` when there is room for that, else exactly
   * `need`. Returns the bytes granted; throws QuotaExceeded when `need` does not fit.
   */
  reserve(account: string, need: number, limits: Limits, roundTo = 1): number {
    return this.db.transaction((): number => {
      const room = this.room(account, need, limits);
      const grant = Math.min(Math.ceil(need / roundTo) * roundTo, room);
      this.apply(account, { reserved: grant });
      return grant;
    }).immediate();
  }

  /**
   * The storage left to the account (Infinity without a quota); throws QuotaExceeded when `need`
   * bytes do not fit. Inside the transaction that then adds them, this is the check alone, exact
   * without a reservation.
   */
  room(account: string, need: number, limits: Limits): number {
    if (limits.maxStorage === undefined) return Infinity;
    const u = this.getStmt.get(account) ?? EMPTY;
    const room = limits.maxStorage - u.bytes - u.reserved;
    if (need > room) throw storageExceeded(account, limits.maxStorage, u, need);
    return room;
  }

  /** Throws QuotaExceeded when the account may not have `adding` more objects. */
  checkObjects(account: string, limits: Limits, adding = 1): void {
    if (limits.maxObjects === undefined) return;
    const u = this.getStmt.get(account) ?? EMPTY;
    if (u.objects + adding > limits.maxObjects) {
      throw Errors.quotaExceeded(
        `object quota exceeded for account '${account}': limit ${limits.maxObjects} objects, it has ${u.objects}. ` +
          'Delete objects or ask the operator to raise the quota.',
      );
    }
  }

  /**
   * Adds `bytes` that are stored at once (an open upload's key, metadata and tags), checked against
   * maxStorage in the caller's transaction; throws QuotaExceeded when they do not fit.
   */
  charge(account: string, bytes: number, limits: Limits): void {
    const u = this.getStmt.get(account) ?? EMPTY;
    if (limits.maxStorage !== undefined && u.bytes + u.reserved + bytes > limits.maxStorage) throw storageExceeded(account, limits.maxStorage, u, bytes);
    this.apply(account, { bytes });
  }

  /** Throws QuotaExceeded when the account, which has `open` multipart uploads, may not start another. */
  checkUploads(account: string, limits: Limits, open: number): void {
    if (limits.maxUploads === undefined || open < limits.maxUploads) return;
    throw Errors.quotaExceeded(
      `open multipart upload quota exceeded for account '${account}': limit ${limits.maxUploads} open uploads, it has ${open}. ` +
        'Complete or abort uploads (ListMultipartUploads lists them) or ask the operator to raise the quota.',
    );
  }

  /** Throws QuotaExceeded when the account may not create another bucket. */
  checkBuckets(account: string, limits: Limits): void {
    if (limits.maxBuckets === undefined) return;
    const u = this.getStmt.get(account) ?? EMPTY;
    if (u.buckets + 1 > limits.maxBuckets) {
      throw Errors.quotaExceeded(
        `bucket quota exceeded for account '${account}': limit ${limits.maxBuckets} buckets, it has ${u.buckets}. ` +
          'Delete a bucket or ask the operator to raise the quota.',
      );
    }
  }

  /**
   * Recomputes bytes, objects and buckets of every account from the live rows (objects, parts of
   * open uploads, buckets). Reservations are kept unless `resetReserved` (at start, when no upload
   * of this process can be in flight).
   */
  recalculate(resetReserved: boolean): void {
    this.db.transaction(() => {
      const reserved = resetReserved
        ? []
        : (this.db.prepare('SELECT account, reserved FROM account_usage WHERE reserved <> 0').all() as {
            account: string;
            reserved: number;
          }[]);
      this.db.exec('DELETE FROM account_usage');
      this.db.exec(`
        INSERT INTO account_usage (account, bytes, objects, buckets, reserved)
        SELECT account, SUM(bytes), SUM(objects), SUM(buckets), 0 FROM (
          SELECT owner AS account, 0 AS bytes, 0 AS objects, 1 AS buckets FROM buckets
          UNION ALL SELECT owner, size, 1 - delete_marker, 0 FROM objects
          UNION ALL SELECT u.owner, p.size, 0, 0 FROM parts p JOIN uploads u ON u.upload_id = p.upload_id
          UNION ALL SELECT owner, ${UPLOAD_META_BYTES}, 0, 0 FROM uploads
        ) AS usage GROUP BY account`);
      for (const r of reserved) this.apply(r.account, { reserved: r.reserved });
    }).immediate();
  }

  /** All accounts' usage (for tests and the admin API). */
  all(): Map<string, Usage> {
    const rows = this.db.prepare('SELECT account, bytes, objects, buckets, reserved FROM account_usage ORDER BY account').all() as (UsageRow & {
      account: string;
    })[];
    return new Map(rows.map((r) => [r.account, { bytes: r.bytes, objects: r.objects, buckets: r.buckets, reservedBytes: r.reserved }]));
  }
}

function storageExceeded(account: string, limit: number, u: UsageRow, need: number): DomainError {
  const inFlight = u.reserved > 0 ? ` (plus ${u.reserved} bytes reserved by uploads in progress)` : '';
  return Errors.quotaExceeded(
    `storage quota exceeded for account '${account}': limit ${limit} bytes, used ${u.bytes} bytes${inFlight}, ` +
      `this request needs ${need} more. Delete objects or ask the operator to raise the quota.`,
  );
}
