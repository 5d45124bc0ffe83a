/**
 * Object lock (issue 16): the bucket's lock configuration and default retention, and per-version
 * retention and legal hold. COMPLIANCE retention can only be extended; GOVERNANCE can be shortened
 * or removed only with x-amz-bypass-governance-retention by an account allowed to bypass it.
 */
import { Errors, VersionErrors } from '../core/errors.ts';
import type { LockConfiguration, LockMode, RemoveOptions } from '../core/object-store.ts';
import type { ObjectRecord } from './catalog-schema.ts';
import type { StoreContext } from './store-write.ts';
import { checkRetention, versionToRead } from './store-versions.ts';

function bucketOrThrow(ctx: StoreContext, bucket: string) {
  const b = ctx.catalog.getBucket(bucket);
  if (!b) throw Errors.noSuchBucket(bucket);
  return b;
}

/** CreateBucket with x-amz-bucket-object-lock-enabled: object lock on, versioning Enabled. */
export function enableObjectLock(ctx: StoreContext, bucket: string): void {
  ctx.catalog.tx(() => {
    bucketOrThrow(ctx, bucket);
    ctx.catalog.setObjectLock(bucket, ctx.catalog.settings(bucket).lockDefault ?? null);
  });
}

export function getObjectLockConfiguration(ctx: StoreContext, bucket: string): LockConfiguration {
  bucketOrThrow(ctx, bucket);
  const s = ctx.catalog.settings(bucket);
  if (!s.objectLock) throw VersionErrors.noLockConfiguration();
  return { enabled: true, ...(s.lockDefault ? { rule: s.lockDefault } : {}) };
}

export function putObjectLockConfiguration(ctx: StoreContext, bucket: string, conf: LockConfiguration): void {
  ctx.catalog.tx(() => {
    bucketOrThrow(ctx, bucket);
    const s = ctx.catalog.settings(bucket);
    if (!conf.enabled) throw Errors.invalidRequest('ObjectLockEnabled must be Enabled: object lock cannot be turned off.');
    if (!s.objectLock && s.versioning !== 'Enabled') {
      throw VersionErrors.invalidBucketState('Versioning must be Enabled on the bucket to turn object lock on.');
    }
    const r = conf.rule;
    if (r) {
      const n = r.days ?? r.years;
      if ((r.days === undefined) === (r.years === undefined) || n === undefined || !Number.isInteger(n) || n <= 0) {
        throw Errors.invalidArgument('Default retention needs exactly one of Days or Years, a positive integer.', 'DefaultRetention', String(n ?? ''));
      }
    }
    ctx.catalog.setObjectLock(bucket, r ?? null);
  });
}

function lockedVersion(ctx: StoreContext, bucket: string, key: string, versionId: string | undefined): ObjectRecord {
  const o = versionToRead(ctx, bucket, key, versionId, 'GET');
  if (!ctx.catalog.settings(bucket).objectLock) throw VersionErrors.lockNotEnabled(bucket);
  return o;
}

export function getObjectRetention(ctx: StoreContext, bucket: string, key: string, versionId?: string): { mode?: LockMode; retainUntil?: Date } {
  const o = lockedVersion(ctx, bucket, key, versionId);
  if (!o.lockMode || o.lockUntil === undefined) throw VersionErrors.noRetention();
  return { mode: o.lockMode, retainUntil: new Date(o.lockUntil) };
}

export function putObjectRetention(
  ctx: StoreContext,
  bucket: string,
  key: string,
  r: { mode?: LockMode; retainUntil?: Date },
  opts: RemoveOptions,
): void {
  ctx.catalog.tx(() => {
    const o = lockedVersion(ctx, bucket, key, opts.versionId);
    const now = Date.now();
    if (r.mode !== undefined || r.retainUntil !== undefined) checkRetention(r.mode, r.retainUntil, now);
    const active = o.lockMode !== undefined && o.lockUntil !== undefined && o.lockUntil > now;
    if (active) {
      const extends_ = r.mode === o.lockMode && r.retainUntil !== undefined && r.retainUntil.getTime() >= o.lockUntil!;
      const toCompliance = o.lockMode === 'GOVERNANCE' && r.mode === 'COMPLIANCE' && r.retainUntil!.getTime() >= o.lockUntil!;
      if (!extends_ && !toCompliance) {
        if (o.lockMode === 'COMPLIANCE') {
          throw VersionErrors.locked(`COMPLIANCE retention until ${new Date(o.lockUntil!).toISOString()} can only be extended`);
        }
        if (!opts.bypassGovernance || opts.account === undefined || !ctx.mayBypassGovernance(opts.account)) {
          throw VersionErrors.locked(
            `GOVERNANCE retention until ${new Date(o.lockUntil!).toISOString()} can be shortened or removed only with x-amz-bypass-governance-retention: true by an account allowed to bypass it`,
          );
        }
      }
    }
    ctx.catalog.setRetention(o.id, r.mode ?? null, r.retainUntil?.getTime() ?? null);
  });
}

export function getObjectLegalHold(ctx: StoreContext, bucket: string, key: string, versionId?: string): boolean {
  return lockedVersion(ctx, bucket, key, versionId).legalHold === true;
}

export function putObjectLegalHold(ctx: StoreContext, bucket: string, key: string, on: boolean, versionId?: string): void {
  ctx.catalog.tx(() => ctx.catalog.setLegalHold(lockedVersion(ctx, bucket, key, versionId).id, on));
}
