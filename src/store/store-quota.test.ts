import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.ts';
import type { PutBody } from '../core/object-store.ts';
import type { Limits } from '../core/quota.ts';
import { createPutBody } from '../core/digest.ts';
import { META, MiB, bodyOf, openTestStore, rng, uploadRowBytes, usageFromRows, type TestStore } from './testing/fixtures.ts';

let t: TestStore | undefined;
afterEach(() => t?.cleanup());

function open(limits: Record<string, Limits>, opts: { maxObjectSize?: number } = {}): TestStore {
  t = openTestStore({ limits: (a) => limits[a] ?? {}, ...opts });
  t.store.createBucket('b', 'alice', 'us-east-1');
  return t;
}

const code = (p: Promise<unknown> | (() => unknown)) =>
  (typeof p === 'function' ? new Promise((res) => res(p())) : p).then(
    () => 'ok',
    (e: unknown) => (e instanceof DomainError ? e.code : `not a DomainError: ${String(e)}`),
  );

/** A body of `size` bytes made lazily in `chunk`-byte pieces, counting what was pulled. */
function lazyBody(size: number, chunk = MiB, onPull?: () => void): { body: PutBody; pulled: () => number } {
  let pulled = 0;
  async function* gen() {
    for (let sent = 0; sent < size; sent += chunk) {
      onPull?.();
      pulled += Math.min(chunk, size - sent);
      yield Buffer.alloc(Math.min(chunk, size - sent), 7);
      await Promise.resolve();
    }
  }
  return { body: createPutBody(gen()), pulled: () => pulled };
}

describe('storage quota', () => {
  it('refuses a declared size that does not fit, naming the quota, usage and request', async () => {
    const { store } = open({ alice: { maxStorage: 3 * MiB } });
    await store.putObject('b', 'one', lazyBody(2 * MiB).body, { meta: META, size: 2 * MiB });
    const { body, pulled } = lazyBody(2 * MiB);
    const err = (await store.putObject('b', 'two', body, { meta: META, size: 2 * MiB }).catch((e: DomainError) => e)) as DomainError;
    expect(err).toMatchObject({ code: 'QuotaExceeded' });
    expect(err.message).toBe(
      `storage quota exceeded for account 'alice': limit ${3 * MiB} bytes, used ${2 * MiB} bytes, this request needs ${2 * MiB} more. Delete objects or ask the operator to raise the quota.`,
    );
    expect(pulled()).toBe(0); // refused before reading the body
    expect(store.usage('alice')).toEqual({ bytes: 2 * MiB, objects: 1, buckets: 1, reservedBytes: 0 });
    await store.deleteObject('b', 'one'); // space comes back at once
    await store.putObject('b', 'two', lazyBody(2 * MiB).body, { meta: META, size: 2 * MiB });
  });

  it('stops an unknown-length body the moment it passes the limit', async () => {
    const { store, data } = open({ alice: { maxStorage: 10 * MiB } });
    const { body, pulled } = lazyBody(100 * MiB);
    expect(await code(store.putObject('b', 'k', body, { meta: META }))).toBe('QuotaExceeded');
    expect(pulled()).toBeLessThanOrEqual(11 * MiB);
    expect(store.usage('alice')).toMatchObject({ bytes: 0, reservedBytes: 0 });
    expect(data.counts()).toEqual({ pending: 0, live: 0, released: 0 });
  });

  it.each([
    ['declared sizes', true],
    ['unknown lengths', false],
  ])('8 concurrent 2 MiB puts against 10 MiB (%s): at most 5 succeed, usage never passes the limit', async (_n, declared) => {
    const limit = 10 * MiB;
    const { store, data } = open({ alice: { maxStorage: limit } });
    let worst = 0;
    const sample = () => {
      const u = store.usage('alice');
      worst = Math.max(worst, u.bytes + u.reservedBytes);
    };
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        store.putObject('b', `k${i}`, lazyBody(2 * MiB, 256 * 1024, sample).body, { meta: META, ...(declared ? { size: 2 * MiB } : {}) }),
      ),
    );
    sample();
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBeGreaterThanOrEqual(1);
    expect(ok).toBeLessThanOrEqual(5);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'QuotaExceeded' });
    expect(worst).toBeLessThanOrEqual(limit);
    expect(store.usage('alice')).toMatchObject({ bytes: ok * 2 * MiB, objects: ok, reservedBytes: 0 });
    expect(data.counts()).toMatchObject({ pending: 0, live: ok });
  });

  it('checks a small declared body at its commit, exactly: 8 concurrent 40 KiB puts against 100 KiB, 2 fit', async () => {
    const KiB = 1024;
    const { store, data } = open({ alice: { maxStorage: 100 * KiB } });
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => store.putObject('b', `s${i}`, lazyBody(40 * KiB, 8 * KiB).body, { meta: META, size: 40 * KiB })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    expect(ok).toBe(2);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'QuotaExceeded' });
    expect(store.usage('alice')).toMatchObject({ bytes: 80 * KiB, objects: 2, reservedBytes: 0 });
    expect(data.counts()).toMatchObject({ pending: 0, live: 2 }); // the refused bodies' data was released
    const err = (await store.putObject('b', 'one-more', lazyBody(21 * KiB).body, { meta: META, size: 21 * KiB }).catch((e: DomainError) => e)) as DomainError;
    expect(err.message).toBe(
      `storage quota exceeded for account 'alice': limit ${100 * KiB} bytes, used ${80 * KiB} bytes, this request needs ${21 * KiB} more. Delete objects or ask the operator to raise the quota.`,
    );
    await store.putObject('b', 'fits', lazyBody(20 * KiB).body, { meta: META, size: 20 * KiB }); // to the byte
    expect(store.usage('alice')).toMatchObject({ bytes: 100 * KiB, reservedBytes: 0 });
  });

  it('applies to the destination owner of a copy, and to open parts', async () => {
    const { store } = open({ bob: { maxStorage: MiB } });
    store.createBucket('bobs', 'bob', 'us-east-1');
    await store.putObject('b', 'big', lazyBody(2 * MiB).body, { meta: META });
    const opts = { metadataDirective: 'COPY', taggingDirective: 'COPY' } as const;
    expect(await code(store.copyObject({ bucket: 'b', key: 'big' }, { bucket: 'bobs', key: 'k' }, opts))).toBe('QuotaExceeded');
    expect(store.usage('bob')).toMatchObject({ bytes: 0, objects: 0, reservedBytes: 0 });
    await store.copyObject({ bucket: 'b', key: 'big' }, { bucket: 'b', key: 'copy' }, opts); // alice has no limit
    const u = store.createMultipartUpload('bobs', 'mp', { meta: META });
    await store.uploadPart('bobs', 'mp', u.uploadId, 1, lazyBody(MiB / 2).body, {});
    expect(store.usage('bob').bytes).toBe(MiB / 2 + uploadRowBytes('mp', META));
    expect(await code(store.uploadPart('bobs', 'mp', u.uploadId, 2, lazyBody(MiB / 2 + 1).body, {}))).toBe('QuotaExceeded');
    await store.abortMultipartUpload('bobs', 'mp', u.uploadId);
    expect(store.usage('bob')).toMatchObject({ bytes: 0, reservedBytes: 0 });
  });
});

describe('object, bucket and size limits', () => {
  it('maxObjects counts new keys at put, copy and complete; overwrites pass', async () => {
    const { store } = open({ alice: { maxObjects: 2 } });
    await store.putObject('b', 'a', bodyOf('1'), { meta: META });
    await store.putObject('b', 'b', bodyOf('2'), { meta: META });
    await store.putObject('b', 'a', bodyOf('3'), { meta: META });
    const err = await store.putObject('b', 'c', bodyOf('4'), { meta: META }).catch((e: DomainError) => e);
    expect(err).toMatchObject({ code: 'QuotaExceeded', message: expect.stringContaining("object quota exceeded for account 'alice': limit 2 objects") });
    const opts = { metadataDirective: 'COPY', taggingDirective: 'COPY' } as const;
    expect(await code(store.copyObject({ bucket: 'b', key: 'a' }, { bucket: 'b', key: 'c' }, opts))).toBe('QuotaExceeded');
    await store.copyObject({ bucket: 'b', key: 'a' }, { bucket: 'b', key: 'b' }, opts);
    const u = store.createMultipartUpload('b', 'c', { meta: META });
    const p = await store.uploadPart('b', 'c', u.uploadId, 1, bodyOf('x'), {});
    expect(await code(store.completeMultipartUpload('b', 'c', u.uploadId, [{ partNumber: 1, etag: p.etag }], {}))).toBe('QuotaExceeded');
    await store.deleteObject('b', 'b');
    await store.completeMultipartUpload('b', 'c', u.uploadId, [{ partNumber: 1, etag: p.etag }], {});
    expect(store.usage('alice').objects).toBe(2);
  });

  it('maxBuckets at createBucket', async () => {
    const { store } = open({ alice: { maxBuckets: 2 } });
    store.createBucket('b2', 'alice', 'us-east-1');
    expect(await code(() => store.createBucket('b3', 'alice', 'us-east-1'))).toBe('QuotaExceeded');
    await store.deleteBucket('b2');
    store.createBucket('b3', 'alice', 'us-east-1');
  });

  it('maxObjectSize: the account limit and the store limit, declared or found while streaming, and at complete', async () => {
    const { store, data } = open({ alice: { maxObjectSize: 3 * MiB } }, { maxObjectSize: 4 * MiB });
    store.createBucket('free', 'bob', 'us-east-1');
    const declared = lazyBody(4 * MiB);
    const e1 = await store.putObject('b', 'k', declared.body, { meta: META, size: 4 * MiB }).catch((e: DomainError) => e);
    // The account's limit is a quota (QuotaExceeded naming it); the store's own limit is S3's EntityTooLarge.
    expect(e1).toMatchObject({ code: 'QuotaExceeded', message: expect.stringMatching(/object size quota.*limit 3145728 bytes.*4194304 bytes/) });
    expect(declared.pulled()).toBe(0);
    const streamed = lazyBody(50 * MiB);
    expect(await code(store.putObject('b', 'k', streamed.body, { meta: META }))).toBe('QuotaExceeded');
    expect(streamed.pulled()).toBeLessThanOrEqual(4 * MiB);
    expect(await code(store.putObject('free', 'k', lazyBody(5 * MiB).body, { meta: META }))).toBe('EntityTooLarge'); // store limit
    await store.putObject('free', 'k', lazyBody(4 * MiB).body, { meta: META });
    const u = store.createMultipartUpload('b', 'mp', { meta: META });
    const p1 = await store.uploadPart('b', 'mp', u.uploadId, 1, lazyBody(3 * MiB).body, {});
    const p2 = await store.uploadPart('b', 'mp', u.uploadId, 2, lazyBody(MiB).body, {});
    const parts = [
      { partNumber: 1, etag: p1.etag },
      { partNumber: 2, etag: p2.etag },
    ];
    // part 1 is under 5 MiB: EntityTooSmall comes first; list part 2 alone after it is fine size-wise
    expect(await code(store.completeMultipartUpload('b', 'mp', u.uploadId, parts, {}))).toBe('EntityTooSmall');
    expect(data.counts().pending).toBe(0);
    expect(store.usage('alice').reservedBytes).toBe(0);
  });
});

describe('usage stays exact', () => {
  it('after a random sequence of puts, overwrites, copies, multipart and deletes, and after reopening', async () => {
    const s = open({});
    s.store.createBucket('c', 'bob', 'us-east-1');
    const r = rng(42);
    const buckets = ['b', 'c'];
    const keys = ['k1', 'k2', 'k3', 'k4', 'dir/k5'];
    const pick = <T,>(xs: readonly T[]) => xs[r(xs.length)]!;
    const uploads: { bucket: string; key: string; uploadId: string; parts: { partNumber: number; etag: string }[] }[] = [];
    const check = () => {
      const rows = usageFromRows(s.db);
      for (const acct of ['alice', 'bob']) {
        const u = s.store.usage(acct);
        expect({ bytes: u.bytes, objects: u.objects }).toEqual(rows.get(acct) ?? { bytes: 0, objects: 0 });
        expect(u.reservedBytes).toBe(0);
      }
      const counts = s.data.counts();
      expect(counts.pending).toBe(0);
      expect(new Set(s.data.liveIds())).toEqual(s.store.catalog.referencedManifests());
    };
    for (let step = 0; step < 300; step++) {
      const bucket = pick(buckets);
      const key = pick(keys);
      const op = r(9);
      const run = async () => {
        if (op <= 1) await s.store.putObject(bucket, key, bodyOf(Buffer.alloc(r(5000), step)), { meta: META });
        else if (op === 2) {
          await s.store.copyObject({ bucket, key }, { bucket: pick(buckets), key: pick(keys) }, { metadataDirective: 'REPLACE', meta: META, taggingDirective: 'COPY' });
        } else if (op === 3) await s.store.deleteObject(bucket, key);
        else if (op === 4) uploads.push({ bucket, key, uploadId: s.store.createMultipartUpload(bucket, key, { meta: META }).uploadId, parts: [] });
        else if (op === 5 && uploads.length) {
          const u = pick(uploads);
          const n = 1 + r(3);
          const p = await s.store.uploadPart(u.bucket, u.key, u.uploadId, n, bodyOf(Buffer.alloc(r(3000), step)), {});
          u.parts = [...u.parts.filter((x) => x.partNumber !== n), { partNumber: n, etag: p.etag }];
        } else if (op === 6 && uploads.length) {
          const u = uploads.splice(r(uploads.length), 1)[0]!;
          const part = u.parts[r(Math.max(1, u.parts.length))];
          if (part) await s.store.completeMultipartUpload(u.bucket, u.key, u.uploadId, [part], {});
          else await s.store.abortMultipartUpload(u.bucket, u.key, u.uploadId);
        } else if (op === 7 && uploads.length) {
          const u = uploads.splice(r(uploads.length), 1)[0]!;
          await s.store.abortMultipartUpload(u.bucket, u.key, u.uploadId);
        } else {
          const bad = bodyOf('corrupt', { expectedMd5: Buffer.alloc(16).toString('base64') });
          await s.store.putObject(bucket, key, bad, { meta: META });
        }
      };
      await run().catch((e: unknown) => {
        if (!(e instanceof DomainError) || !['NoSuchKey', 'BadDigest', 'InvalidRequest'].includes(e.code)) throw e;
      });
      if (step % 50 === 0) check();
    }
    check();
    const before = [s.store.usage('alice'), s.store.usage('bob')];
    expect(before[0]!.objects + before[1]!.objects).toBeGreaterThan(0);
    const reopened = s.reopen();
    expect([reopened.usage('alice'), reopened.usage('bob')]).toEqual(before);
    reopened.recalculateUsage();
    expect([reopened.usage('alice'), reopened.usage('bob')]).toEqual(before);
    check();
    // and everything can be given back
    for (const u of uploads) await reopened.abortMultipartUpload(u.bucket, u.key, u.uploadId);
    for (const b of buckets) for (const o of reopened.listObjects(b, { maxKeys: 1000 }).objects) await reopened.deleteObject(b, o.key);
    expect(s.data.counts()).toMatchObject({ pending: 0, live: 0 });
    expect(reopened.usage('alice')).toEqual({ bytes: 0, objects: 0, buckets: 1, reservedBytes: 0 });
  });
});
