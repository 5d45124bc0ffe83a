import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { checksumOf, createPutBody } from '../core/digest.ts';
import { DomainError } from '../core/errors.ts';
import type { ObjectMeta, PutBody } from '../core/object-store.ts';
import { META, bodyOf, bytes, openTestStore, readAll, type TestStore } from './testing/fixtures.ts';

let t: TestStore;
beforeEach(() => {
  t = openTestStore();
  t.store.createBucket('b', 'alice', 'us-east-1');
});
afterEach(() => t.cleanup());

const md5hex = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
const code = (p: Promise<unknown> | (() => unknown)) =>
  (typeof p === 'function' ? new Promise((res) => res(p())) : p).then(
    () => 'ok',
    (e: unknown) => (e instanceof DomainError ? e.code : `not a DomainError: ${String(e)}`),
  );

describe('buckets', () => {
  it('creates, lists by owner and name, and refuses duplicates by owner', async () => {
    t.store.createBucket('a', 'bob', 'eu-west-1');
    t.store.createBucket('c', 'alice', 'us-east-1');
    expect(t.store.listBuckets().map((b) => b.name)).toEqual(['a', 'b', 'c']);
    expect(t.store.listBuckets('alice').map((b) => b.name)).toEqual(['b', 'c']);
    expect(t.store.getBucket('a')).toMatchObject({ name: 'a', owner: 'bob', region: 'eu-west-1' });
    expect(t.store.getBucket('a').created).toBeInstanceOf(Date);
    expect(await code(() => t.store.createBucket('b', 'alice', 'us-east-1'))).toBe('BucketAlreadyOwnedByYou');
    expect(await code(() => t.store.createBucket('b', 'bob', 'us-east-1'))).toBe('BucketAlreadyExists');
    expect(await code(() => t.store.getBucket('nope'))).toBe('NoSuchBucket');
    expect(t.store.usage('alice').buckets).toBe(2);
  });

  it('deletes only empty buckets (no objects, no open uploads)', async () => {
    await t.store.putObject('b', 'k', bodyOf('x'), { meta: META });
    expect(await code(t.store.deleteBucket('b'))).toBe('BucketNotEmpty');
    await t.store.deleteObject('b', 'k');
    const u = t.store.createMultipartUpload('b', 'm', { meta: META });
    expect(await code(t.store.deleteBucket('b'))).toBe('BucketNotEmpty');
    await t.store.abortMultipartUpload('b', 'm', u.uploadId);
    await t.store.deleteBucket('b');
    expect(t.store.listBuckets()).toEqual([]);
    expect(await code(t.store.deleteBucket('b'))).toBe('NoSuchBucket');
    expect(t.store.usage('alice').buckets).toBe(0);
  });
});

describe('bucket identity', () => {
  it('a PUT whose bucket is deleted and re-created by another account while it uploads does not commit into the new bucket', async () => {
    let release!: () => void;
    const gate = new Promise<void>((ok) => (release = ok));
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('first half ');
      await gate;
      yield Buffer.from('second half');
    }
    const put = t.store.putObject('b', 'k', createPutBody(slow()), { meta: META });
    await new Promise((ok) => setImmediate(ok));
    await t.store.deleteBucket('b');
    t.store.createBucket('b', 'bob', 'us-east-1');
    release();
    expect(await code(put)).toBe('NoSuchBucket');
    expect(await code(() => t.store.headObject('b', 'k'))).toBe('NoSuchKey');
    expect(t.store.usage('alice')).toMatchObject({ bytes: 0, objects: 0, reservedBytes: 0 });
    expect(t.store.usage('bob')).toMatchObject({ bytes: 0, objects: 0 });
  });
});

describe('put, get, head, delete', () => {
  it('stores and serves bytes with etag, meta, checksums and tags', async () => {
    const data = bytes(300_000);
    const meta: ObjectMeta = { contentType: 'text/plain', user: { a: '1' } };
    const crc = checksumOf('CRC32', data);
    const info = await t.store.putObject('b', 'dir/k', bodyOf(data, { algorithms: ['CRC32'], expected: () => ({ CRC32: crc }) }), {
      meta,
      tags: { x: 'y' },
      size: data.length,
    });
    expect(info).toMatchObject({ bucket: 'b', key: 'dir/k', size: data.length, etag: md5hex(data), meta, tagCount: 1 });
    expect(info.checksums).toEqual({ CRC32: crc });
    expect(info.checksumType).toBe('FULL_OBJECT');
    expect(info.partsCount).toBeUndefined();
    const head = t.store.headObject('b', 'dir/k');
    expect(head).toEqual(info);
    const r = await t.store.getObject('b', 'dir/k');
    expect(r.range).toBeUndefined();
    expect((await readAll(r.body)).equals(data)).toBe(true);
    expect(t.store.getObjectTagging('b', 'dir/k')).toEqual({ x: 'y' });
    const pieces = t.store.objectPieces('b', 'dir/k');
    expect(pieces).toEqual([{ manifestId: t.data.liveIds()[0], size: data.length, etag: md5hex(data), checksums: { CRC32: crc } }]);
    expect(t.data.counts()).toEqual({ pending: 0, live: 1, released: 0 });
  });

  it('serves ranges and calls check before reading', async () => {
    const data = bytes(1000);
    await t.store.putObject('b', 'k', bodyOf(data), { meta: META });
    const r = await t.store.getObject('b', 'k', { range: { start: 10, end: 19 } });
    expect(r.range).toEqual({ start: 10, end: 19 });
    expect(await readAll(r.body)).toEqual(data.subarray(10, 20));
    const s = await t.store.getObject('b', 'k', { range: { suffix: 5000 } });
    expect((await readAll(s.body)).equals(data)).toBe(true);
    expect(await code(t.store.getObject('b', 'k', { range: { start: 1000 } }))).toBe('InvalidRange');
    let reads = 0;
    t.data.onRead = () => void reads++;
    const seen: string[] = [];
    expect(
      await code(
        t.store.getObject('b', 'k', {
          check: (i) => {
            seen.push(i.etag);
            throw new DomainError('NotModified', 'Not Modified');
          },
        }),
      ),
    ).toBe('NotModified');
    expect(seen).toEqual([md5hex(data)]);
    expect(reads).toBe(0);
  });

  it('serves an empty object, and refuses ranges on it', async () => {
    await t.store.putObject('b', 'empty', bodyOf(''), { meta: META, size: 0 });
    const r = await t.store.getObject('b', 'empty');
    expect((await readAll(r.body)).length).toBe(0);
    expect(r.info.etag).toBe(md5hex(''));
    expect(await code(t.store.getObject('b', 'empty', { range: { start: 0 } }))).toBe('InvalidRange');
    expect(await code(t.store.getObject('b', 'empty', { range: { suffix: 1 } }))).toBe('InvalidRange');
  });

  it('partNumber on a single-PUT object: 1 is the whole object, beyond is InvalidPartNumber', async () => {
    await t.store.putObject('b', 'k', bodyOf('hello'), { meta: META });
    const r = await t.store.getObject('b', 'k', { partNumber: 1 });
    expect(r.range).toEqual({ start: 0, end: 4 });
    expect((await readAll(r.body)).toString()).toBe('hello');
    expect(await code(t.store.getObject('b', 'k', { partNumber: 2 }))).toBe('InvalidPartNumber');
    expect(await code(t.store.getObject('b', 'k', { partNumber: 0 }))).toBe('InvalidArgument');
    expect(await code(t.store.getObject('b', 'k', { partNumber: 1, range: { start: 0 } }))).toBe('InvalidRequest');
    expect(t.store.headObject('b', 'k', { partNumber: 1 }).size).toBe(5);
  });

  it('names the missing thing: NoSuchBucket or NoSuchKey', async () => {
    expect(await code(t.store.getObject('b', 'nope'))).toBe('NoSuchKey');
    expect(await code(t.store.getObject('nob', 'nope'))).toBe('NoSuchBucket');
    expect(await code(() => t.store.headObject('b', 'nope'))).toBe('NoSuchKey');
    expect(await code(t.store.putObject('nob', 'k', bodyOf('x'), { meta: META }))).toBe('NoSuchBucket');
    expect(await code(t.store.deleteObject('nob', 'k'))).toBe('NoSuchBucket');
    expect(await code(() => t.store.getObjectTagging('b', 'nope'))).toBe('NoSuchKey');
    expect(await code(() => t.store.putObjectTagging('nob', 'nope', {}))).toBe('NoSuchBucket');
    expect(await code(() => t.store.listObjects('nob', { maxKeys: 10 }))).toBe('NoSuchBucket');
  });

  it('overwrites release the old manifest; delete is idempotent', async () => {
    await t.store.putObject('b', 'k', bodyOf('one'), { meta: META });
    await t.store.putObject('b', 'k', bodyOf('two!'), { meta: META });
    expect(t.data.counts()).toEqual({ pending: 0, live: 1, released: 1 });
    expect((await readAll((await t.store.getObject('b', 'k')).body)).toString()).toBe('two!');
    await t.store.deleteObject('b', 'k');
    await t.store.deleteObject('b', 'k');
    expect(t.data.counts()).toEqual({ pending: 0, live: 0, released: 2 });
    expect(t.store.usage('alice')).toMatchObject({ bytes: 0, objects: 0, reservedBytes: 0 });
  });

  it('commits nothing when the body fails its digest or is short', async () => {
    const bad = bodyOf('abc', { expectedMd5: Buffer.alloc(16).toString('base64') });
    expect(await code(t.store.putObject('b', 'k', bad, { meta: META }))).toBe('BadDigest');
    expect(await code(t.store.putObject('b', 'k', bodyOf('abc'), { meta: META, size: 10 }))).toBe('IncompleteBody');
    // a PutBody that does not check the length itself: the store does
    expect(await code(t.store.putObject('b', 'k', bodyOf('abc'), { meta: META, size: 2 }))).toBe('IncompleteBody');
    async function* failing() {
      yield Buffer.from('abc');
      throw new Error('connection reset');
    }
    const broken: PutBody = Object.assign(failing(), { digests: () => ({ md5: Buffer.alloc(16), checksums: {} }) });
    await expect(t.store.putObject('b', 'k', broken, { meta: META })).rejects.toThrow('connection reset');
    expect(await code(() => t.store.headObject('b', 'k'))).toBe('NoSuchKey');
    const c = t.data.counts();
    expect(c.live + c.pending).toBe(0);
    expect(t.store.usage('alice')).toMatchObject({ bytes: 0, objects: 0, reservedBytes: 0 });
  });

  it('stops at the signal', async () => {
    const ac = new AbortController();
    async function* slow() {
      yield Buffer.from('abc');
      ac.abort();
      yield Buffer.from('def');
    }
    const body: PutBody = Object.assign(slow(), { digests: () => ({ md5: Buffer.alloc(16), checksums: {} }) });
    await expect(t.store.putObject('b', 'k', body, { meta: META, signal: ac.signal })).rejects.toThrow();
    expect(t.store.usage('alice').reservedBytes).toBe(0);
    expect(t.data.counts().live).toBe(0);
  });

  it('If-None-Match * and If-Match, before the body and at commit', async () => {
    let pulled = false;
    async function* src() {
      pulled = true;
      yield Buffer.from('x');
    }
    const lazy: PutBody = Object.assign(src(), { digests: () => ({ md5: Buffer.alloc(16), checksums: {} }) });
    expect(await code(t.store.putObject('b', 'k', lazy, { meta: META, conditions: { ifMatch: 'abc' } }))).toBe('NoSuchKey');
    expect(pulled).toBe(false);
    const first = await t.store.putObject('b', 'k', bodyOf('v1'), { meta: META, conditions: { ifNoneMatch: '*' } });
    expect(await code(t.store.putObject('b', 'k', bodyOf('v2'), { meta: META, conditions: { ifNoneMatch: '*' } }))).toBe('PreconditionFailed');
    expect(await code(t.store.putObject('b', 'k', bodyOf('v2'), { meta: META, conditions: { ifMatch: '"0000"' } }))).toBe('PreconditionFailed');
    await t.store.putObject('b', 'k', bodyOf('v2'), { meta: META, conditions: { ifMatch: `"${first.etag.toUpperCase()}"` } });

    // two racing If-None-Match writers: exactly one wins; the loser passed the first check, so
    // the change it meets at commit is a conflict (S3's 409 ConditionalRequestConflict)
    const gate = Promise.withResolvers<void>();
    async function* gated(s: string) {
      await gate.promise;
      yield Buffer.from(s);
    }
    const racer = (s: string) =>
      t.store.putObject('b', 'race', Object.assign(gated(s), { digests: () => ({ md5: createHash('md5').update(s).digest(), checksums: {} }) }), {
        meta: META,
        conditions: { ifNoneMatch: '*' },
      });
    const results = Promise.allSettled([racer('a'), racer('b')]);
    gate.resolve();
    const [ra, rb] = await results;
    expect([ra.status, rb.status].sort()).toEqual(['fulfilled', 'rejected']);
    const loser = [ra, rb].find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(loser.reason).toMatchObject({ code: 'ConditionalRequestConflict' });
    expect(t.data.counts()).toMatchObject({ pending: 0, live: 2 });
  });

  it('two concurrent PUTs of a key: the last commit wins whole', async () => {
    const a = bytes(200_000, 1);
    const b = bytes(200_000, 2);
    await Promise.all([
      t.store.putObject('b', 'k', bodyOf(a, { chunkSize: 1000 }), { meta: META }),
      t.store.putObject('b', 'k', bodyOf(b, { chunkSize: 3000 }), { meta: META }),
    ]);
    const got = await readAll((await t.store.getObject('b', 'k')).body);
    expect(got.equals(a) || got.equals(b)).toBe(true);
    expect(t.store.headObject('b', 'k').etag).toBe(md5hex(got));
    expect(t.data.counts()).toEqual({ pending: 0, live: 1, released: 1 });
  });

  it('a failing read destroys the body stream instead of ending it short', async () => {
    const data = bytes(200_000);
    await t.store.putObject('b', 'k', bodyOf(data), { meta: META });
    t.data.onRead = (_id, offset) => {
      if (offset >= 100_000) throw new Error('shard unavailable');
    };
    const r = await t.store.getObject('b', 'k');
    await expect(readAll(r.body)).rejects.toThrow('shard unavailable');
    expect(r.body.destroyed).toBe(true);
  });

  it('the read signal aborts the body stream', async () => {
    await t.store.putObject('b', 'k', bodyOf(bytes(500_000)), { meta: META });
    const ac = new AbortController();
    const r = await t.store.getObject('b', 'k', { signal: ac.signal });
    const it = r.body[Symbol.asyncIterator]();
    await it.next();
    ac.abort();
    await expect(readAll(r.body)).rejects.toThrow(/abort/i);
  });
});

describe('copy', () => {
  it('shares manifests, keeps the etag, COPY/REPLACE meta and tags', async () => {
    const src = await t.store.putObject('b', 'src', bodyOf('payload'), { meta: { contentType: 'a/b', user: { m: '1' } }, tags: { t: '1' } });
    t.store.createBucket('other', 'bob', 'us-east-1');
    const c1 = await t.store.copyObject({ bucket: 'b', key: 'src' }, { bucket: 'other', key: 'c1' }, { metadataDirective: 'COPY', taggingDirective: 'COPY' });
    expect(c1).toMatchObject({ bucket: 'other', key: 'c1', etag: src.etag, size: 7, meta: src.meta, tagCount: 1 });
    expect(c1.lastModified.getTime()).toBeGreaterThanOrEqual(src.lastModified.getTime());
    const c2 = await t.store.copyObject(
      { bucket: 'b', key: 'src' },
      { bucket: 'b', key: 'c2' },
      { metadataDirective: 'REPLACE', meta: { user: { n: '2' } }, taggingDirective: 'REPLACE', tags: {} },
    );
    expect(c2).toMatchObject({ meta: { user: { n: '2' } }, tagCount: 0, etag: src.etag });
    expect(t.data.counts()).toEqual({ pending: 0, live: 1, released: 0 }); // one manifest, three objects
    expect(t.data.writes).toBe(1);
    expect(t.store.usage('bob')).toMatchObject({ bytes: 7, objects: 1 });
    expect(t.store.usage('alice')).toMatchObject({ bytes: 14, objects: 2 });

    await t.store.deleteObject('b', 'src');
    await t.store.deleteObject('other', 'c1');
    expect(t.data.counts().live).toBe(1); // c2 still holds it
    expect((await readAll((await t.store.getObject('b', 'c2')).body)).toString()).toBe('payload');
    await t.store.deleteObject('b', 'c2');
    expect(t.data.counts()).toEqual({ pending: 0, live: 0, released: 1 });
  });

  it('refuses a copy onto itself without REPLACE; REPLACE onto itself keeps the data', async () => {
    await t.store.putObject('b', 'k', bodyOf('self'), { meta: META });
    const err = await t.store.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'k' }, { metadataDirective: 'COPY', taggingDirective: 'COPY' }).catch((e) => e);
    expect(err).toMatchObject({ code: 'InvalidRequest', message: expect.stringContaining('copy an object to itself') });
    await t.store.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'k' }, { metadataDirective: 'REPLACE', meta: { user: { v: '2' } }, taggingDirective: 'COPY' });
    expect(t.store.headObject('b', 'k').meta).toEqual({ user: { v: '2' } });
    expect((await readAll((await t.store.getObject('b', 'k')).body)).toString()).toBe('self');
    expect(t.data.counts()).toEqual({ pending: 0, live: 1, released: 0 });
  });

  it('source errors, the source check and destination conditions', async () => {
    const opts = { metadataDirective: 'COPY', taggingDirective: 'COPY' } as const;
    expect(await code(t.store.copyObject({ bucket: 'b', key: 'none' }, { bucket: 'b', key: 'x' }, opts))).toBe('NoSuchKey');
    expect(await code(t.store.copyObject({ bucket: 'nob', key: 'none' }, { bucket: 'b', key: 'x' }, opts))).toBe('NoSuchBucket');
    await t.store.putObject('b', 'k', bodyOf('v'), { meta: META });
    expect(await code(t.store.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'nob', key: 'x' }, opts))).toBe('NoSuchBucket');
    const check = () => {
      throw new DomainError('PreconditionFailed', 'x-amz-copy-source-if-match');
    };
    expect(await code(t.store.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'x' }, { ...opts, check }))).toBe('PreconditionFailed');
    await t.store.putObject('b', 'x', bodyOf('old'), { meta: META });
    expect(await code(t.store.copyObject({ bucket: 'b', key: 'k' }, { bucket: 'b', key: 'x' }, { ...opts, conditions: { ifNoneMatch: '*' } }))).toBe(
      'PreconditionFailed',
    );
    expect((await readAll((await t.store.getObject('b', 'x')).body)).toString()).toBe('old');
  });
});

describe('tagging', () => {
  it('replaces tags and counts them', async () => {
    await t.store.putObject('b', 'k', bodyOf('v'), { meta: META, tags: { a: '1', b: '2' } });
    expect(t.store.headObject('b', 'k').tagCount).toBe(2);
    t.store.putObjectTagging('b', 'k', { c: '3' });
    expect(t.store.getObjectTagging('b', 'k')).toEqual({ c: '3' });
    expect(t.store.headObject('b', 'k').tagCount).toBe(1);
    t.store.deleteObjectTagging('b', 'k');
    expect(t.store.getObjectTagging('b', 'k')).toEqual({});
    expect(t.store.headObject('b', 'k').tagCount).toBe(0);
  });
});
