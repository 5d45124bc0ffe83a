import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { checksumOf, compositeChecksum } from '../core/digest.ts';
import { DomainError } from '../core/errors.ts';
import type { PutBody } from '../core/object-store.ts';
import { META, MiB, bodyOf, bytes, openTestStore, readAll, uploadRowBytes, type TestStore } from './testing/fixtures.ts';

let t: TestStore;
beforeEach(() => {
  t = openTestStore();
  t.store.createBucket('b', 'alice', 'us-east-1');
});
afterEach(() => t.cleanup());

const md5 = (b: Buffer) => createHash('md5').update(b).digest();
const code = (p: Promise<unknown> | (() => unknown)) =>
  (typeof p === 'function' ? new Promise((res) => res(p())) : p).then(
    () => 'ok',
    (e: unknown) => (e instanceof DomainError ? e.code : `not a DomainError: ${String(e)}`),
  );

const P1 = bytes(5 * MiB, 1);
const P2 = bytes(5 * MiB, 2);
const P3 = Buffer.from('the small last part');

describe('multipart uploads', () => {
  it('completes into one object with the md5-of-md5s ETag, serves parts by number, releases unlisted parts', async () => {
    const u = t.store.createMultipartUpload('b', 'big', { meta: { contentType: 'x/y', user: { a: '1' } }, tags: { t: 'v' } });
    expect(u.uploadId).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    const e1 = await t.store.uploadPart('b', 'big', u.uploadId, 1, bodyOf(P1), { size: P1.length });
    const e2 = await t.store.uploadPart('b', 'big', u.uploadId, 2, bodyOf(P2), {});
    await t.store.uploadPart('b', 'big', u.uploadId, 3, bodyOf('stray'), {}); // not listed at complete
    const e4 = await t.store.uploadPart('b', 'big', u.uploadId, 4, bodyOf(P3), {});
    expect(e1.etag).toBe(md5(P1).toString('hex'));
    // open parts count, and the upload's own key, metadata and tags
    expect(t.store.usage('alice').bytes).toBe(P1.length + P2.length + 5 + P3.length + uploadRowBytes('big', { contentType: 'x/y', user: { a: '1' } }, { t: 'v' }));
    expect(t.store.listMultipartUploads('b', { maxUploads: 10 }).uploads.map((x) => x.uploadId)).toEqual([u.uploadId]);

    const info = await t.store.completeMultipartUpload(
      'b',
      'big',
      u.uploadId,
      [
        { partNumber: 1, etag: `"${e1.etag.toUpperCase()}"` },
        { partNumber: 2, etag: e2.etag },
        { partNumber: 4, etag: e4.etag },
      ],
      {},
    );
    const whole = Buffer.concat([P1, P2, P3]);
    const want = createHash('md5').update(Buffer.concat([md5(P1), md5(P2), md5(P3)])).digest('hex') + '-3';
    expect(info).toMatchObject({ key: 'big', size: whole.length, etag: want, partsCount: 3, tagCount: 1, meta: { contentType: 'x/y', user: { a: '1' } } });
    expect((await readAll((await t.store.getObject('b', 'big')).body)).equals(whole)).toBe(true);
    const part2 = await t.store.getObject('b', 'big', { partNumber: 2 });
    expect(part2.range).toEqual({ start: P1.length, end: P1.length + P2.length - 1 });
    expect(part2.info.size).toBe(whole.length);
    expect((await readAll(part2.body)).equals(P2)).toBe(true);
    const cross = await t.store.getObject('b', 'big', { range: { start: P1.length - 3, end: P1.length + 2 } });
    expect((await readAll(cross.body)).equals(whole.subarray(P1.length - 3, P1.length + 3))).toBe(true);
    expect(t.store.headObject('b', 'big', { partNumber: 3 }).size).toBe(P3.length);
    expect(await code(() => t.store.headObject('b', 'big', { partNumber: 4 }))).toBe('InvalidPartNumber');

    expect(t.data.counts()).toEqual({ pending: 0, live: 3, released: 1 }); // 'stray' went
    expect(t.store.usage('alice')).toMatchObject({ bytes: whole.length, objects: 1, reservedBytes: 0 });
    expect(t.store.listMultipartUploads('b', { maxUploads: 10 }).uploads).toEqual([]);
    expect(await code(() => t.store.listParts('b', 'big', u.uploadId, { maxParts: 10 }))).toBe('NoSuchUpload');

    // a repeated Complete with the same parts answers the same; other parts: NoSuchUpload
    const again = await t.store.completeMultipartUpload('b', 'big', u.uploadId, [
      { partNumber: 1, etag: e1.etag },
      { partNumber: 2, etag: e2.etag },
      { partNumber: 4, etag: e4.etag },
    ], {});
    expect(again.etag).toBe(want);
    expect(await code(t.store.completeMultipartUpload('b', 'big', u.uploadId, [{ partNumber: 1, etag: e1.etag }], {}))).toBe('NoSuchUpload');

    // overwriting the multipart object with a copy shares, then deleting releases everything
    await t.store.copyObject({ bucket: 'b', key: 'big' }, { bucket: 'b', key: 'copy' }, { metadataDirective: 'COPY', taggingDirective: 'COPY' });
    expect(t.store.headObject('b', 'copy')).toMatchObject({ etag: want, partsCount: 3 });
    expect((await readAll((await t.store.getObject('b', 'copy', { partNumber: 3 })).body)).equals(P3)).toBe(true);
    await t.store.deleteObject('b', 'big');
    expect(t.data.counts().live).toBe(3);
    await t.store.deleteObject('b', 'copy');
    expect(t.data.counts()).toEqual({ pending: 0, live: 0, released: 4 });
  });

  it('validates part numbers, upload ids, part order, etags and sizes', async () => {
    const u = t.store.createMultipartUpload('b', 'k', { meta: META });
    expect(await code(t.store.uploadPart('b', 'k', u.uploadId, 0, bodyOf('x'), {}))).toBe('InvalidArgument');
    expect(await code(t.store.uploadPart('b', 'k', u.uploadId, 10001, bodyOf('x'), {}))).toBe('InvalidArgument');
    expect(await code(t.store.uploadPart('b', 'k', 'nope', 1, bodyOf('x'), {}))).toBe('NoSuchUpload');
    expect(await code(t.store.uploadPart('b', 'other', u.uploadId, 1, bodyOf('x'), {}))).toBe('NoSuchUpload');
    expect(await code(t.store.uploadPart('nob', 'k', u.uploadId, 1, bodyOf('x'), {}))).toBe('NoSuchBucket');
    const small = await t.store.uploadPart('b', 'k', u.uploadId, 1, bodyOf('tiny'), {});
    const big = await t.store.uploadPart('b', 'k', u.uploadId, 2, bodyOf(P1), {});
    const complete = (parts: { partNumber: number; etag: string }[]) => t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, {});
    expect(await code(complete([]))).toBe('InvalidRequest');
    expect(await code(complete([{ partNumber: 2, etag: big.etag }, { partNumber: 1, etag: small.etag }]))).toBe('InvalidPartOrder');
    expect(await code(complete([{ partNumber: 1, etag: small.etag }, { partNumber: 1, etag: small.etag }]))).toBe('InvalidPartOrder');
    expect(await code(complete([{ partNumber: 1, etag: big.etag }]))).toBe('InvalidPart');
    expect(await code(complete([{ partNumber: 3, etag: big.etag }]))).toBe('InvalidPart');
    const tooSmall = await complete([{ partNumber: 1, etag: small.etag }, { partNumber: 2, etag: big.etag }]).catch((e) => e);
    expect(tooSmall).toMatchObject({ code: 'EntityTooSmall', fields: { PartNumber: '1', ProposedSize: '4' } });
    // nothing changed by the failures
    expect(t.store.listParts('b', 'k', u.uploadId, { maxParts: 10 }).parts.map((p) => p.partNumber)).toEqual([1, 2]);
    // the last part may be small; re-uploading a part number replaces it
    const big1 = await t.store.uploadPart('b', 'k', u.uploadId, 1, bodyOf(P2), {});
    expect(t.data.counts()).toMatchObject({ live: 2, released: 1 });
    const info = await complete([{ partNumber: 1, etag: big1.etag }, { partNumber: 2, etag: big.etag }]);
    expect(info.size).toBe(P1.length + P2.length);
    expect(await code(t.store.abortMultipartUpload('b', 'k', u.uploadId))).toBe('NoSuchUpload');
  });

  it('a single small part completes', async () => {
    const u = t.store.createMultipartUpload('b', 'k', { meta: META });
    const p = await t.store.uploadPart('b', 'k', u.uploadId, 7, bodyOf('only'), {});
    const info = await t.store.completeMultipartUpload('b', 'k', u.uploadId, [{ partNumber: 7, etag: p.etag }], {});
    expect(info).toMatchObject({ size: 4, partsCount: 1 });
    expect((await readAll((await t.store.getObject('b', 'k', { partNumber: 1 })).body)).toString()).toBe('only');
  });

  it('abort gives everything back', async () => {
    const u = t.store.createMultipartUpload('b', 'k', { meta: META });
    await t.store.uploadPart('b', 'k', u.uploadId, 1, bodyOf('one'), {});
    await t.store.uploadPart('b', 'k', u.uploadId, 2, bodyOf('two'), {});
    expect(t.store.usage('alice').bytes).toBe(6 + uploadRowBytes('k', META));
    expect(await code(t.store.abortMultipartUpload('b', 'other', u.uploadId))).toBe('NoSuchUpload');
    await t.store.abortMultipartUpload('b', 'k', u.uploadId);
    expect(t.store.usage('alice')).toMatchObject({ bytes: 0, reservedBytes: 0 });
    expect(t.data.counts()).toEqual({ pending: 0, live: 0, released: 2 });
    expect(await code(t.store.abortMultipartUpload('b', 'k', u.uploadId))).toBe('NoSuchUpload');
    expect(await code(t.store.completeMultipartUpload('b', 'k', u.uploadId, [{ partNumber: 1, etag: 'x' }], {}))).toBe('NoSuchUpload');
  });

  it('a part whose upload is aborted while it streams is not kept', async () => {
    const u = t.store.createMultipartUpload('b', 'k', { meta: META });
    const gate = Promise.withResolvers<void>();
    async function* slow() {
      yield Buffer.from('abc');
      await gate.promise;
      yield Buffer.from('def');
    }
    const body: PutBody = Object.assign(slow(), { digests: () => ({ md5: md5(Buffer.from('abcdef')), checksums: {} }) });
    const part = t.store.uploadPart('b', 'k', u.uploadId, 1, body, {});
    await t.store.abortMultipartUpload('b', 'k', u.uploadId);
    gate.resolve();
    expect(await code(part)).toBe('NoSuchUpload');
    expect(t.data.counts()).toEqual({ pending: 0, live: 0, released: 1 });
    expect(t.store.usage('alice')).toMatchObject({ bytes: 0, reservedBytes: 0 });
  });

  it('lists parts page by page', async () => {
    const u = t.store.createMultipartUpload('b', 'k', { meta: META });
    for (const n of [1, 2, 3, 5, 8]) await t.store.uploadPart('b', 'k', u.uploadId, n, bodyOf(`part${n}`), {});
    const p1 = t.store.listParts('b', 'k', u.uploadId, { maxParts: 2 });
    expect(p1.parts.map((p) => p.partNumber)).toEqual([1, 2]);
    expect(p1).toMatchObject({ isTruncated: true, nextPartNumberMarker: 2, upload: { uploadId: u.uploadId, key: 'k' } });
    const p2 = t.store.listParts('b', 'k', u.uploadId, { maxParts: 2, partNumberMarker: 2 });
    expect(p2.parts.map((p) => p.partNumber)).toEqual([3, 5]);
    const p3 = t.store.listParts('b', 'k', u.uploadId, { maxParts: 2, partNumberMarker: 5 });
    expect(p3.parts.map((p) => p.partNumber)).toEqual([8]);
    expect(p3.isTruncated).toBe(false);
    expect(p3.parts[0]).toMatchObject({ size: 5, etag: md5(Buffer.from('part8')).toString('hex') });
  });

  it('complete honours If-None-Match', async () => {
    await t.store.putObject('b', 'k', bodyOf('exists'), { meta: META });
    const u = t.store.createMultipartUpload('b', 'k', { meta: META });
    const p = await t.store.uploadPart('b', 'k', u.uploadId, 1, bodyOf('new'), {});
    const parts = [{ partNumber: 1, etag: p.etag }];
    expect(await code(t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, { conditions: { ifNoneMatch: '*' } }))).toBe('PreconditionFailed');
    await t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, {});
    expect((await readAll((await t.store.getObject('b', 'k')).body)).toString()).toBe('new');
    expect(t.data.counts()).toEqual({ pending: 0, live: 1, released: 1 });
  });
});

describe('multipart checksums', () => {
  async function upload(
    algorithm: 'CRC32' | 'SHA256' | undefined,
    checksumType?: 'COMPOSITE' | 'FULL_OBJECT',
    partAlg: 'CRC32' | 'SHA256' | null | undefined = algorithm,
  ) {
    const u = t.store.createMultipartUpload('b', 'k', { meta: META, ...(algorithm ? { checksumAlgorithm: algorithm } : {}), ...(checksumType ? { checksumType } : {}) });
    const parts = [];
    for (const [i, data] of [P1, P3].entries()) {
      const p = await t.store.uploadPart('b', 'k', u.uploadId, i + 1, bodyOf(data, { algorithms: partAlg ? [partAlg] : [] }), {});
      parts.push({ partNumber: i + 1, etag: p.etag, checksums: p.checksums });
    }
    return { u, parts };
  }

  it('COMPOSITE: checksum of the part checksums, with -N', async () => {
    const { u, parts } = await upload('SHA256');
    expect(u.checksumType).toBe('COMPOSITE');
    const info = await t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, {});
    const want = compositeChecksum('SHA256', [checksumOf('SHA256', P1), checksumOf('SHA256', P3)]) + '-2';
    expect(info.checksums).toEqual({ SHA256: want });
    expect(info.checksumType).toBe('COMPOSITE');
    expect(t.store.headObject('b', 'k', { partNumber: 2 }).checksums).toEqual({ SHA256: checksumOf('SHA256', P3) });
    const part1 = await t.store.getObject('b', 'k', { partNumber: 1 });
    expect(part1.info.checksums).toEqual({ SHA256: checksumOf('SHA256', P1) });
    part1.body.destroy();
    expect((await t.store.getObject('b', 'k')).info.checksums).toEqual({ SHA256: want });
  });

  it('FULL_OBJECT: the CRC of the whole object; a wrong whole-object value is BadDigest', async () => {
    const { u, parts } = await upload('CRC32', 'FULL_OBJECT');
    const whole = checksumOf('CRC32', Buffer.concat([P1, P3]));
    expect(await code(t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, { checksums: { CRC32: 'AAAAAA==' } }))).toBe('BadDigest');
    const info = await t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, { checksums: { CRC32: whole } });
    expect(info).toMatchObject({ checksums: { CRC32: whole }, checksumType: 'FULL_OBJECT' });
  });

  it('without an upload algorithm, a CRC every part has becomes a FULL_OBJECT checksum', async () => {
    const { u, parts } = await upload(undefined, undefined, 'CRC32');
    const info = await t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, {});
    expect(info.checksums).toEqual({ CRC32: checksumOf('CRC32', Buffer.concat([P1, P3])) });
  });

  it('a part without the upload checksum, a mismatching part checksum, and invalid choices are refused', async () => {
    const { u, parts } = await upload('CRC32', undefined, null);
    expect(await code(t.store.completeMultipartUpload('b', 'k', u.uploadId, parts, {}))).toBe('InvalidRequest');
    const { u: u2, parts: parts2 } = await upload('CRC32');
    const wrong = parts2.map((p, i) => (i === 0 ? { ...p, checksums: { CRC32: 'AAAAAA==' } } : p));
    expect(await code(t.store.completeMultipartUpload('b', 'k', u2.uploadId, wrong, {}))).toBe('InvalidPart');
    expect(await code(() => t.store.createMultipartUpload('b', 'k', { meta: META, checksumAlgorithm: 'SHA1', checksumType: 'FULL_OBJECT' }))).toBe('InvalidRequest');
    expect(await code(() => t.store.createMultipartUpload('b', 'k', { meta: META, checksumType: 'COMPOSITE' }))).toBe('InvalidRequest');
    expect(t.store.createMultipartUpload('b', 'k', { meta: META, checksumAlgorithm: 'CRC64NVME' }).checksumType).toBe('FULL_OBJECT');
  });
});

describe('uploadPartCopy', () => {
  it('copies a range of an object into a part', async () => {
    const src = bytes(100_000, 9);
    await t.store.putObject('b', 'src', bodyOf(src), { meta: META });
    const u = t.store.createMultipartUpload('b', 'dst', { meta: META, checksumAlgorithm: 'CRC32' });
    const p = await t.store.uploadPartCopy({ bucket: 'b', key: 'src' }, { bucket: 'b', key: 'dst', uploadId: u.uploadId, partNumber: 1 }, { range: { start: 10, end: 1009 } });
    const slice = src.subarray(10, 1010);
    expect(p).toMatchObject({ partNumber: 1, size: 1000, etag: md5(slice).toString('hex'), checksums: { CRC32: checksumOf('CRC32', slice) } });
    const whole = await t.store.uploadPartCopy({ bucket: 'b', key: 'src' }, { bucket: 'b', key: 'dst', uploadId: u.uploadId, partNumber: 2 }, {});
    expect(whole.size).toBe(src.length);
    const info = await t.store.completeMultipartUpload('b', 'dst', u.uploadId, [{ partNumber: 2, etag: whole.etag }], {});
    expect((await readAll((await t.store.getObject('b', 'dst')).body)).equals(src)).toBe(true);
    expect(info.partsCount).toBe(1);
  });

  it('refuses bad ranges, missing sources and failed source checks, leaving nothing behind', async () => {
    await t.store.putObject('b', 'src', bodyOf('0123456789'), { meta: META });
    const u = t.store.createMultipartUpload('b', 'dst', { meta: META });
    const dst = { bucket: 'b', key: 'dst', uploadId: u.uploadId, partNumber: 1 };
    expect(await code(t.store.uploadPartCopy({ bucket: 'b', key: 'src' }, dst, { range: { start: 5, end: 10 } }))).toBe('InvalidRange');
    expect(await code(t.store.uploadPartCopy({ bucket: 'b', key: 'none' }, dst, {}))).toBe('NoSuchKey');
    expect(await code(t.store.uploadPartCopy({ bucket: 'b', key: 'src' }, { ...dst, uploadId: 'nope' }, {}))).toBe('NoSuchUpload');
    const check = () => {
      throw new DomainError('PreconditionFailed', 'x');
    };
    expect(await code(t.store.uploadPartCopy({ bucket: 'b', key: 'src' }, dst, { check }))).toBe('PreconditionFailed');
    expect(t.store.listParts('b', 'dst', u.uploadId, { maxParts: 10 }).parts).toEqual([]);
    expect(t.data.counts()).toEqual({ pending: 0, live: 1, released: 0 });
  });
});
