/**
 * Versions and object lock over the catalog (issue 16): version ids, which version a request
 * means, the null-version rules of unversioned and suspended buckets, and the lock checks that
 * every removal of a version goes through (requests, lifecycle, admin: nobody passes a lock).
 */
import { randomBytes } from 'node:crypto';
import { Errors, VersionErrors } from '../core/errors.ts';
import type { LockSettings, RemoveOptions } from '../core/object-store.ts';
import type { BucketSettings } from './catalog.ts';
import type { ObjectRecord } from './catalog-schema.ts';
import type { StoreContext } from './store-write.ts';

/** Crockford base32: digits then letters, in ASCII order, so ids compare as their values. */
const B32 = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 10; // 50 bits of ms
const SEQ_CHARS = 2;
const RANDOM_CHARS = 20;
export const VERSION_ID_LENGTH = TIME_CHARS + SEQ_CHARS + RANDOM_CHARS;
const MAX_TIME = 2 ** 50 - 1;

let lastMs = 0;
let seq = 0;

function b32(n: number, chars: number): string {
  let out = '';
  for (let i = 0; i < chars; i++) {
    out = B32[n % 32]! + out;
    n = Math.floor(n / 32);
  }
  return out;
}

/**
 * An opaque version id that sorts newest first, like AWS's: base32 of the inverted time in ms,
 * an inverted sequence within the ms, then 100 random bits. Never 'null'.
 */
export function newVersionId(now = Date.now()): string {
  const ms = Math.max(now, lastMs);
  seq = ms === lastMs ? seq + 1 : 0;
  lastMs = ms;
  if (seq >= 32 * 32) {
    lastMs = ms + 1;
    seq = 0;
  }
  const rnd = randomBytes(RANDOM_CHARS);
  let tail = '';
  for (const b of rnd) tail += B32[b & 31];
  return b32(MAX_TIME - lastMs, TIME_CHARS) + b32(32 * 32 - 1 - seq, SEQ_CHARS) + tail;
}

/** 'null' or an id this store made; anything else is S3's 400 InvalidArgument. */
export function checkVersionId(v: string): void {
  if (v === 'null') return;
  if (v.length !== VERSION_ID_LENGTH || ![...v].every((c) => B32.includes(c))) throw VersionErrors.invalidVersionId(v);
}

/** The id a new version gets: a fresh one when versioning is Enabled, else 'null'. */
export const versionIdFor = (s: BucketSettings): string => (s.versioning === 'Enabled' ? newVersionId() : 'null');

/** A record that is an object (not a delete marker), else undefined: what write conditions compare with. */
export const live = (o: ObjectRecord | undefined): ObjectRecord | undefined => (o && !o.deleteMarker ? o : undefined);

/**
 * The version a read names: the latest (404 NoSuchKey with x-amz-delete-marker when it is a marker)
 * or the one asked for (NoSuchVersion; 405 for a delete marker, as S3).
 */
export function versionToRead(ctx: StoreContext, bucket: string, key: string, versionId: string | undefined, method: string): ObjectRecord {
  if (versionId !== undefined) checkVersionId(versionId);
  const o = ctx.catalog.getObject(bucket, key, versionId);
  if (!o) {
    if (!ctx.catalog.getBucket(bucket)) throw Errors.noSuchBucket(bucket);
    throw versionId === undefined ? Errors.noSuchKey(key) : VersionErrors.noSuchVersion(key, versionId);
  }
  if (o.deleteMarker) {
    throw versionId === undefined
      ? VersionErrors.deleteMarkerIsLatest(key, o.versionId)
      : VersionErrors.deleteMarkerByVersion(method, o.versionId, new Date(o.lastModified));
  }
  return o;
}

/** Why this version cannot be removed or overwritten now, or undefined when it can. */
export function lockedBecause(ctx: StoreContext, o: ObjectRecord, opts: RemoveOptions, now = Date.now()): string | undefined {
  if (o.legalHold) return 'a legal hold is on';
  if (o.lockMode && o.lockUntil !== undefined && o.lockUntil > now) {
    const until = new Date(o.lockUntil).toISOString();
    if (o.lockMode === 'COMPLIANCE') return `COMPLIANCE retention until ${until}`;
    if (!opts.bypassGovernance) return `GOVERNANCE retention until ${until} (send x-amz-bypass-governance-retention: true if your account may bypass it)`;
    if (opts.account === undefined || !ctx.mayBypassGovernance(opts.account)) {
      return `GOVERNANCE retention until ${until}, and account '${opts.account ?? '?'}' may not bypass governance retention (an admin grants it: datamesh admin user set NAME --allow-bypass-governance)`;
    }
  }
  return undefined;
}

export function checkRemovable(ctx: StoreContext, o: ObjectRecord | undefined, opts: RemoveOptions = {}): void {
  if (!o) return;
  const why = lockedBecause(ctx, o, opts);
  if (why) throw VersionErrors.locked(why);
}

const DAY_MS = 24 * 3600 * 1000;

/** The lock a new version gets: the request's x-amz-object-lock-* headers, else the bucket's default retention. */
export function lockOfNewVersion(s: BucketSettings, bucket: string, lock: LockSettings | undefined, now = Date.now()) {
  const asked = lock && (lock.mode !== undefined || lock.retainUntil !== undefined || lock.legalHold !== undefined);
  if (asked && !s.objectLock) throw VersionErrors.lockNotEnabled(bucket);
  if (!s.objectLock) return {};
  const out: { lockMode?: 'GOVERNANCE' | 'COMPLIANCE'; lockUntil?: number; legalHold?: boolean } = {};
  if (lock?.legalHold) out.legalHold = true;
  if (lock?.mode !== undefined || lock?.retainUntil !== undefined) {
    checkRetention(lock.mode, lock.retainUntil, now);
    out.lockMode = lock.mode!;
    out.lockUntil = lock.retainUntil!.getTime();
  } else if (s.lockDefault) {
    const d = s.lockDefault;
    out.lockMode = d.mode;
    out.lockUntil = now + (d.days ?? 0) * DAY_MS + (d.years ?? 0) * 365 * DAY_MS;
  }
  return out;
}

/** Mode and retain-until go together, and the date is in the future. */
export function checkRetention(mode: string | undefined, until: Date | undefined, now = Date.now()): void {
  if ((mode === undefined) !== (until === undefined)) {
    throw Errors.invalidArgument(
      'x-amz-object-lock-mode and x-amz-object-lock-retain-until-date must both be supplied.',
      mode === undefined ? 'x-amz-object-lock-mode' : 'x-amz-object-lock-retain-until-date',
      '',
    );
  }
  if (until !== undefined && until.getTime() <= now) {
    throw Errors.invalidArgument('The retain until date must be in the future!', 'x-amz-object-lock-retain-until-date', until.toISOString());
  }
}
