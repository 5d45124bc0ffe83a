/** The store over the real encrypted erasure-coded DataStore (one node, local shards). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { DomainError } from '../core/errors.ts';
import { ecFixture, type EcFixture } from '../data/testing/ec.ts';
import { Store } from './store.ts';
import { META, MiB, bodyOf, bytes, readAll } from './testing/fixtures.ts';

let f: EcFixture;
let store: Store;
beforeEach(() => {
  f = ecFixture();
  store = new Store({ db: f.db, data: f.store, limits: (a) => (a === 'small' ? { maxStorage: MiB } : {}) });
  store.createBucket('b', 'alice', 'us-east-1');
  store.createBucket('s', 'small', 'us-east-1');
});
afterEach(async () => {
  await store.close();
  await f.cleanup();
});

describe('Store over the erasure-coded data store', () => {
  it('puts, reads ranges, copies, completes multipart and deletes', async () => {
    expect(await store.ready()).toBe(true);
    const data = bytes(3 * MiB + 123, 5);
    const info = await store.putObject('b', 'k', bodyOf(data), { meta: META, size: data.length });
    expect(info.etag).toBe(createHash('md5').update(data).digest('hex'));
    expect((await readAll((await store.getObject('b', 'k')).body)).equals(data)).toBe(true);
    const r = await store.getObject('b', 'k', { range: { start: MiB - 5, end: 2 * MiB + 5 } });
    expect((await readAll(r.body)).equals(data.subarray(MiB - 5, 2 * MiB + 6))).toBe(true);

    await store.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'c' }, { metadataDirective: 'COPY', taggingDirective: 'COPY' });
    await store.deleteObject('b', 'k');
    expect((await readAll((await store.getObject('b', 'c')).body)).equals(data)).toBe(true);

    const u = store.createMultipartUpload('b', 'mp', { meta: META });
    const p1 = await store.uploadPart('b', 'mp', u.uploadId, 1, bodyOf(bytes(5 * MiB, 1)), {});
    const p2 = await store.uploadPartCopy({ bucket: 'b', key: 'c' }, { bucket: 'b', key: 'mp', uploadId: u.uploadId, partNumber: 2 }, { range: { start: 0, end: 99 } });
    const mp = await store.completeMultipartUpload('b', 'mp', u.uploadId, [
      { partNumber: 1, etag: p1.etag },
      { partNumber: 2, etag: p2.etag },
    ], {});
    expect(mp.size).toBe(5 * MiB + 100);
    expect((await readAll((await store.getObject('b', 'mp', { partNumber: 2 })).body)).equals(data.subarray(0, 100))).toBe(true);

    await store.deleteObject('b', 'c');
    await store.deleteObject('b', 'mp');
    const collected = await f.store.collect();
    expect(collected.manifests).toBe(3); // k (shared by its copy c) and the two parts
    expect(store.usage('alice')).toMatchObject({ bytes: 0, objects: 0, reservedBytes: 0 });
  });

  it('a quota stop inside the data store surfaces as QuotaExceeded and leaves nothing', async () => {
    const err = await store.putObject('s', 'k', bodyOf(bytes(3 * MiB)), { meta: META }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'QuotaExceeded' });
    expect(store.usage('small')).toMatchObject({ bytes: 0, reservedBytes: 0 });
    expect(store.listObjects('s', { maxKeys: 10 }).objects).toEqual([]);
  });
});
