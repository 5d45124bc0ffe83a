import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { testOnPostgres } from '../core/sql/testing/catalog.ts';
import { DomainError } from '../core/errors.ts';
import { migrate } from '../core/db.ts';
import { CATALOG_MIGRATIONS } from './catalog-schema.ts';
import { META, bodyOf, openTestStore, readAll, type TestStore } from './testing/fixtures.ts';
import { newVersionId } from './store-versions.ts';
import { Store } from './store.ts';

let t: TestStore;
beforeEach(() => {
  t = openTestStore();
  t.store.createBucket('b', 'alice', 'us-east-1');
});
afterEach(() => t.cleanup());

const code = (p: Promise<unknown> | (() => unknown)) =>
  (typeof p === 'function' ? new Promise((res) => res(p())) : p).then(
    () => 'ok',
    (e: unknown) => (e instanceof DomainError ? e.code : `not a DomainError: ${String(e)}`),
  );
const put = (key: string, s: string, bucket = 'b') => t.store.putObject(bucket, key, bodyOf(s), { meta: META });
const text = async (key: string, versionId?: string) =>
  (await readAll((await t.store.getObject('b', key, versionId === undefined ? {} : { versionId })).body)).toString();
const versions = () => t.store.listObjectVersions('b', { maxKeys: 1000 }).versions.map((v) => [v.key, v.versionId, v.isLatest, v.deleteMarker]);

describe('version ids', () => {
  it('are 32 characters, never null, and sort newest first', () => {
    const ids = [newVersionId(1000), newVersionId(1000), newVersionId(2000)];
    expect(ids.every((v) => v.length === 32 && v !== 'null')).toBe(true);
    expect([...ids].sort()).toEqual([ids[2], ids[1], ids[0]]);
  });
});

describe('unversioned bucket: the null version', () => {
  it('overwrites in place, answers versionId=null, and DELETE removes for good', async () => {
    const a = await put('k', 'one');
    expect(a.versionId).toBe('null');
    await put('k', 'two');
    expect(versions()).toEqual([['k', 'null', true, false]]);
    expect(await text('k', 'null')).toBe('two');
    expect(await code(t.store.getObject('b', 'k', { versionId: newVersionId() }))).toBe('NoSuchVersion');
    expect(await code(t.store.getObject('b', 'k', { versionId: 'bogus' }))).toBe('InvalidArgument');
    expect(await t.store.removeObject('b', 'k', {})).toEqual({ deleteMarker: false });
    expect(versions()).toEqual([]);
    expect(t.store.getBucketVersioning('b')).toBeUndefined();
  });
});

describe('versioning Enabled', () => {
  beforeEach(() => t.store.putBucketVersioning('b', 'Enabled'));

  it('keeps every version, hides the key behind a delete marker, and undeletes by removing it', async () => {
    const v1 = await put('k', 'one');
    const v2 = await put('k', 'two');
    expect(v1.versionId).not.toBe(v2.versionId);
    expect(await text('k')).toBe('two');
    expect(await text('k', v1.versionId)).toBe('one');
    const del = await t.store.removeObject('b', 'k', {});
    expect(del.deleteMarker).toBe(true);
    const err = await t.store.getObject('b', 'k').catch((e: unknown) => e as DomainError & { headers: Record<string, string> });
    expect(err).toMatchObject({ code: 'NoSuchKey', headers: { 'x-amz-delete-marker': 'true', 'x-amz-version-id': del.versionId } });
    expect(await code(t.store.getObject('b', 'k', { versionId: del.versionId! }))).toBe('MethodNotAllowed');
    expect(t.store.listObjects('b', { maxKeys: 10 }).objects).toEqual([]);
    expect(versions()).toEqual([
      ['k', del.versionId, true, true],
      ['k', v2.versionId, false, false],
      ['k', v1.versionId, false, false],
    ]);
    // removing the marker makes v2 current again
    expect(await t.store.removeObject('b', 'k', { versionId: del.versionId! })).toEqual({ versionId: del.versionId, deleteMarker: true });
    expect(await text('k')).toBe('two');
    // removing the current version promotes the next one
    await t.store.removeObject('b', 'k', { versionId: v2.versionId! });
    expect(await text('k')).toBe('one');
    expect(await code(t.store.deleteBucket('b'))).toBe('BucketNotEmpty');
  });

  it('counts every version toward usage and releases a version\'s data only when it is gone', async () => {
    const v1 = await put('k', 'aaaa');
    await put('k', 'bbbbbb');
    expect(t.store.usage('alice')).toMatchObject({ bytes: 10, objects: 2 });
    await t.store.removeObject('b', 'k', {}); // a marker: nothing released
    expect(t.store.usage('alice')).toMatchObject({ bytes: 10, objects: 2 });
    expect(t.data.counts()).toMatchObject({ live: 2, released: 0 });
    await t.store.removeObject('b', 'k', { versionId: v1.versionId! });
    expect(t.store.usage('alice')).toMatchObject({ bytes: 6, objects: 1 });
    expect(t.data.counts()).toMatchObject({ live: 1, released: 1 });
    // a copy of an old version shares its data; the data stays until both are gone
    const v3 = await put('j', 'cc');
    await t.store.copyObject({ bucket: 'b', key: 'j', versionId: v3.versionId! }, { bucket: 'b', key: 'j2' }, { metadataDirective: 'COPY', taggingDirective: 'COPY' });
    await t.store.removeObject('b', 'j', { versionId: v3.versionId! });
    expect(await text('j2')).toBe('cc');
    t.store.recalculateUsage(); // the running counts agree with the rows: k's v2 (6) and j2 (2)
    expect(t.store.usage('alice')).toMatchObject({ bytes: 8, objects: 2 });
  });

  it('lists versions with prefix, delimiter and key/version-id markers', async () => {
    for (const k of ['a', 'b/1', 'b/2', 'c']) {
      await put(k, 'x');
      await put(k, 'y');
    }
    const all = t.store.listObjectVersions('b', { maxKeys: 1000 }).versions;
    expect(all.map((v) => v.key)).toEqual(['a', 'a', 'b/1', 'b/1', 'b/2', 'b/2', 'c', 'c']);
    const pages: string[][] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const r = t.store.listObjectVersions('b', { maxKeys: 3, ...(keyMarker ? { keyMarker } : {}), ...(versionIdMarker ? { versionIdMarker } : {}) });
      pages.push(r.versions.map((v) => `${v.key}:${v.versionId}`));
      if (!r.isTruncated) break;
      keyMarker = r.nextKeyMarker;
      versionIdMarker = r.nextVersionIdMarker;
    }
    expect(pages.flat()).toEqual(all.map((v) => `${v.key}:${v.versionId}`));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 2]);
    const d = t.store.listObjectVersions('b', { delimiter: '/', maxKeys: 1000 });
    expect(d.commonPrefixes).toEqual(['b/']);
    expect(d.versions.map((v) => v.key)).toEqual(['a', 'a', 'c', 'c']);
    const p = t.store.listObjectVersions('b', { prefix: 'b/', maxKeys: 1000 });
    expect(p.versions.map((v) => v.key)).toEqual(['b/1', 'b/1', 'b/2', 'b/2']);
  });

  it('tags a given version', async () => {
    const v1 = await put('k', 'one');
    await put('k', 'two');
    t.store.putVersionTagging('b', 'k', { a: '1' }, v1.versionId);
    expect(t.store.getVersionTagging('b', 'k', v1.versionId).tags).toEqual({ a: '1' });
    expect(t.store.getObjectTagging('b', 'k')).toEqual({});
  });
});

describe('versioning Suspended', () => {
  it('writes null versions that replace the null version, keeping older real versions', async () => {
    t.store.putBucketVersioning('b', 'Enabled');
    const v1 = await put('k', 'one');
    t.store.putBucketVersioning('b', 'Suspended');
    const n1 = await put('k', 'two');
    expect(n1.versionId).toBe('null');
    await put('k', 'three');
    expect(versions()).toEqual([
      ['k', 'null', true, false],
      ['k', v1.versionId, false, false],
    ]);
    expect(t.store.usage('alice')).toMatchObject({ bytes: 8, objects: 2 });
    // DELETE: the null version goes, a null delete marker takes its place
    expect(await t.store.removeObject('b', 'k', {})).toEqual({ versionId: 'null', deleteMarker: true });
    expect(versions()).toEqual([
      ['k', 'null', true, true],
      ['k', v1.versionId, false, false],
    ]);
    expect(t.store.usage('alice')).toMatchObject({ bytes: 3, objects: 1 });
  });
});

describe('conditional writes with versions', () => {
  it('treats a key whose latest version is a delete marker as absent', async () => {
    t.store.putBucketVersioning('b', 'Enabled');
    await put('k', 'one');
    expect(await code(t.store.putObject('b', 'k', bodyOf('x'), { meta: META, conditions: { ifNoneMatch: '*' } }))).toBe('PreconditionFailed');
    await t.store.removeObject('b', 'k', {});
    await t.store.putObject('b', 'k', bodyOf('x'), { meta: META, conditions: { ifNoneMatch: '*' } });
    expect(await text('k')).toBe('x');
  });
});

describe('object lock', () => {
  const future = () => new Date(Date.now() + 3600_000);

  it('keeps COMPLIANCE versions from everyone and GOVERNANCE from all but allowed bypassers', async () => {
    t.store.createBucket('lk', 'alice', 'us-east-1');
    t.store.enableObjectLock('lk');
    expect(t.store.getBucketVersioning('lk')).toBe('Enabled');
    expect(await code(() => t.store.putBucketVersioning('lk', 'Suspended'))).toBe('InvalidBucketState');
    const c = await t.store.putObject('lk', 'c', bodyOf('c'), { meta: META, lock: { mode: 'COMPLIANCE', retainUntil: future() } });
    expect(await code(t.store.removeObject('lk', 'c', { versionId: c.versionId!, account: 'root', bypassGovernance: true }))).toBe('AccessDenied');
    expect(await code(() => t.store.putObjectRetention('lk', 'c', { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + 60_000) }, { versionId: c.versionId! }))).toBe(
      'AccessDenied',
    );
    t.store.putObjectRetention('lk', 'c', { mode: 'COMPLIANCE', retainUntil: new Date(Date.now() + 7200_000) }, { versionId: c.versionId! }); // extending is fine
    // a DELETE without version id only adds a marker: the locked version stays
    await t.store.removeObject('lk', 'c', {});
    expect(await text2('lk', 'c', c.versionId!)).toBe('c');

    const g = await t.store.putObject('lk', 'g', bodyOf('g'), { meta: META, lock: { mode: 'GOVERNANCE', retainUntil: future() } });
    expect(await code(t.store.removeObject('lk', 'g', { versionId: g.versionId!, account: 'bob' }))).toBe('AccessDenied');
    expect(await code(t.store.removeObject('lk', 'g', { versionId: g.versionId!, account: 'bob', bypassGovernance: true }))).toBe('AccessDenied');
    // the store's bypass lookup (the accounts' flag) decides
    const s2 = new Store({ db: t.db, data: t.data, mayBypassGovernance: (a) => a === 'carol' });
    expect(await code(s2.removeObject('lk', 'g', { versionId: g.versionId!, account: 'bob', bypassGovernance: true }))).toBe('AccessDenied');
    await s2.removeObject('lk', 'g', { versionId: g.versionId!, account: 'carol', bypassGovernance: true });

    // legal hold: nobody deletes until it is off
    const h = await t.store.putObject('lk', 'h', bodyOf('h'), { meta: META, lock: { legalHold: true } });
    expect(t.store.getObjectLegalHold('lk', 'h')).toBe(true);
    expect(await code(s2.removeObject('lk', 'h', { versionId: h.versionId!, account: 'carol', bypassGovernance: true }))).toBe('AccessDenied');
    t.store.putObjectLegalHold('lk', 'h', false);
    await t.store.removeObject('lk', 'h', { versionId: h.versionId! });
  });

  it('applies the bucket default retention and refuses lock headers on a bucket without lock', async () => {
    t.store.createBucket('lk', 'alice', 'us-east-1');
    t.store.enableObjectLock('lk');
    t.store.putObjectLockConfiguration('lk', { enabled: true, rule: { mode: 'GOVERNANCE', days: 1 } });
    expect(t.store.getObjectLockConfiguration('lk')).toEqual({ enabled: true, rule: { mode: 'GOVERNANCE', days: 1 } });
    const o = await t.store.putObject('lk', 'k', bodyOf('k'), { meta: META });
    const r = t.store.getObjectRetention('lk', 'k');
    expect(r.mode).toBe('GOVERNANCE');
    expect(r.retainUntil!.getTime() - o.lastModified.getTime()).toBeGreaterThan(23 * 3600_000);
    expect(await code(t.store.putObject('b', 'k', bodyOf('k'), { meta: META, lock: { legalHold: true } }))).toBe('InvalidRequest');
    expect(await code(() => t.store.getObjectLockConfiguration('b'))).toBe('ObjectLockConfigurationNotFoundError');
  });
});

async function text2(bucket: string, key: string, versionId: string): Promise<string> {
  return (await readAll((await t.store.getObject(bucket, key, { versionId })).body)).toString();
}

// SQLite's migration history (PostgreSQL catalogs start at the latest shape)
describe.skipIf(testOnPostgres())('migration', () => {
  it('turns the objects of an existing catalog into null versions', async () => {
    t.cleanup();
    t = openTestStore();
    // a catalog at schema 1, as an earlier datamesh left it
    t.db.exec("DELETE FROM schema_versions WHERE module = 'catalog'");
    t.db.exec('DROP TABLE object_acls; DROP TABLE bucket_config; DROP TABLE pieces; DROP TABLE objects; DROP TABLE parts; DROP TABLE uploads; DROP TABLE account_usage; DROP TABLE buckets');
    migrate(t.db, 'catalog', CATALOG_MIGRATIONS.slice(0, 1));
    t.db.exec("INSERT INTO buckets VALUES ('old', 'alice', 'us-east-1', 0)");
    t.db.exec(`INSERT INTO objects (bucket, key, size, etag, last_modified, meta, checksums, tags, tag_count, owner)
               VALUES ('old', 'k', 0, 'd41d8cd98f00b204e9800998ecf8427e', 0, '{"user":{}}', '{}', '{}', 0, 'alice')`);
    const s = t.reopen();
    expect(s.listObjectVersions('old', { maxKeys: 10 }).versions).toMatchObject([{ key: 'k', versionId: 'null', isLatest: true, deleteMarker: false }]);
    expect(s.headVersion('old', 'k', { versionId: 'null' }).etag).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(s.usage('alice')).toMatchObject({ objects: 1, buckets: 1 });
  });

  it('keeps the object ACLs of a catalog migrated from the access-control schema, per version row', async () => {
    t.cleanup();
    t = openTestStore();
    t.db.exec("DELETE FROM schema_versions WHERE module = 'catalog'");
    t.db.exec('DROP TABLE object_acls; DROP TABLE bucket_config; DROP TABLE pieces; DROP TABLE objects; DROP TABLE parts; DROP TABLE uploads; DROP TABLE account_usage; DROP TABLE buckets');
    migrate(t.db, 'catalog', CATALOG_MIGRATIONS.slice(0, 2));
    t.db.exec("INSERT INTO buckets VALUES ('old', 'alice', 'us-east-1', 0)");
    t.db.exec(`INSERT INTO objects (id, bucket, key, size, etag, last_modified, meta, checksums, tags, tag_count, owner)
               VALUES (7, 'old', 'k', 0, 'd41d8cd98f00b204e9800998ecf8427e', 0, '{"user":{}}', '{}', '{}', 0, 'alice')`);
    t.db.exec("INSERT INTO object_acls VALUES (7, 'public')");
    const s = t.reopen();
    expect(s.getObjectAcl('old', 'k')).toEqual({ owner: 'alice', versionId: 'null', acl: 'public' });
    // the foreign key still holds: removing the version removes its ACL
    await s.removeObject('old', 'k', { versionId: 'null' });
    expect(t.db.prepare('SELECT COUNT(*) AS n FROM object_acls').get()).toEqual({ n: 0 });
    expect(t.db.pragma('foreign_key_check')).toEqual([]);
  });
});
