import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { META, bodyOf, openTestStore, type TestStore } from './testing/fixtures.ts';

let t: TestStore;
beforeEach(() => {
  t = openTestStore();
  t.store.createBucket('b', 'alice', 'us-east-1');
  t.store.lifecycleDayMs = 1000; // a lifecycle "day" of 1 s (--lifecycle-day 1s)
});
afterEach(() => t.cleanup());

const put = (key: string, s: string, bucket = 'b') => t.store.putObject(bucket, key, bodyOf(s), { meta: META });
const keys = (bucket = 'b') => t.store.listObjectVersions(bucket, { maxKeys: 1000 }).versions.map((v) => `${v.key}${v.deleteMarker ? ':marker' : ''}${v.isLatest ? '' : ':old'}`);

describe('lifecycle', () => {
  it('expires current and noncurrent versions, lone delete markers and old uploads; usage follows', async () => {
    t.store.putBucketVersioning('b', 'Enabled');
    await put('logs/a', '1111');
    await put('logs/a', '22');
    await put('keep/a', '333');
    await put('tagged/x', '4');
    t.store.putObjectTagging('b', 'tagged/x', { expire: 'yes' });
    await put('tagged/y', '5');
    t.store.createMultipartUpload('b', 'logs/upload', { meta: META });
    t.store.putBucketLifecycle('b', [
      { id: 'logs', status: 'Enabled', filter: { prefix: 'logs/' }, expiration: { days: 1 }, noncurrentExpiration: { noncurrentDays: 1 }, abortIncompleteDays: 1 },
      { id: 'tags', status: 'Enabled', filter: { tags: { expire: 'yes' } }, expiration: { days: 1 }, noncurrentExpiration: { noncurrentDays: 1 } },
      { id: 'markers', status: 'Enabled', filter: {}, expiration: { expiredObjectDeleteMarker: true } },
      { id: 'off', status: 'Disabled', filter: { prefix: 'keep/' }, expiration: { days: 1 } },
    ]);
    const info = t.store.headObject('b', 'logs/a');
    expect(t.store.expirationOf(info)).toEqual({ date: new Date(info.lastModified.getTime() + 1000), ruleId: 'logs' });
    expect(t.store.expirationOf(t.store.headObject('b', 'keep/a'))).toBeUndefined();

    // nothing is due yet
    expect(await t.store.applyLifecycle(Date.now() - 10_000)).toMatchObject({ expired: 0, noncurrentExpired: 0, uploadsAborted: 0 });
    // one pass, 5 "days" later: current versions of logs/a and tagged/x are hidden under markers,
    // which makes the old versions noncurrent; they and then the lone markers go too
    const r = await t.store.applyLifecycle(Date.now() + 5_000);
    expect(r).toEqual({ expired: 2, noncurrentExpired: 3, deleteMarkersRemoved: 2, uploadsAborted: 1, keptLocked: 0 });
    expect(t.store.listMultipartUploads('b', { maxUploads: 10 }).uploads).toEqual([]);
    expect(keys()).toEqual(['keep/a', 'tagged/y']);
    t.store.recalculateUsage();
    expect(t.store.usage('alice')).toMatchObject({ bytes: 4, objects: 2 });
    expect(t.data.counts()).toMatchObject({ live: 2, pending: 0 });
  });

  it('never removes a version object lock protects', async () => {
    t.store.createBucket('lk', 'alice', 'us-east-1');
    t.store.enableObjectLock('lk');
    const c = await t.store.putObject('lk', 'k', bodyOf('c'), { meta: META, lock: { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + 3600_000) } });
    t.store.putBucketLifecycle('lk', [{ id: 'all', status: 'Enabled', filter: {}, expiration: { days: 1 }, noncurrentExpiration: { noncurrentDays: 1 } }]);
    const now = Date.now() + 10_000;
    await t.store.applyLifecycle(now);
    const r = await t.store.applyLifecycle(now + 10_000);
    expect(r.keptLocked).toBe(1);
    expect(t.store.headVersion('lk', 'k', { versionId: c.versionId! }).size).toBe(1);
  });

  it('unversioned buckets: Expiration deletes for good, size filters apply', async () => {
    await put('small', '1');
    await put('big', '1234567890');
    t.store.putBucketLifecycle('b', [{ id: 'big', status: 'Enabled', filter: { sizeGreaterThan: 5 }, expiration: { days: 1 } }]);
    expect((await t.store.applyLifecycle(Date.now() + 5_000)).expired).toBe(1);
    expect(keys()).toEqual(['small']);
  });
});
