import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListResult } from '../core/object-store.ts';
import { META, bodyOf, byteOrder, listingModel, openTestStore, randomKeys, type Entry, type TestStore } from './testing/fixtures.ts';

let t: TestStore;
const keys = [
  ...randomKeys(21, 2500),
  ...Array.from({ length: 1500 }, (_, i) => `photos/2024/${String(i).padStart(4, '0')}.jpg`),
  'photos/2024',
  'photos/readme',
];

beforeAll(() => {
  t = openTestStore();
  t.store.createBucket('b', 'alice', 'us-east-1');
  // listing only reads the catalog: insert rows directly, in one transaction
  t.store.catalog.tx(() => {
    for (const [i, key] of keys.entries()) {
      t.store.catalog.putObject(
        { bucket: 'b', key, size: i, etag: `e${i}`, lastModified: 1_700_000_000_000 + i, meta: META, checksums: {}, tags: {}, owner: 'alice' },
        [{ manifestId: `m${i}`, size: i, etag: `e${i}`, checksums: {} }],
      );
    }
  });
});
afterAll(() => t.cleanup());

function toEntries(r: ListResult): Entry[] {
  return [...r.objects.map((o) => ({ key: o.key })), ...r.commonPrefixes.map((prefix) => ({ prefix }))].sort((a, b) =>
    byteOrder('key' in a ? a.key : a.prefix, 'key' in b ? b.key : b.prefix),
  );
}

function pageAll(prefix: string, delimiter: string | undefined, maxKeys: number) {
  const all: Entry[] = [];
  let after: string | undefined;
  let pages = 0;
  for (;;) {
    const r = t.store.listObjects('b', { prefix, ...(delimiter ? { delimiter } : {}), ...(after !== undefined ? { after } : {}), maxKeys });
    pages++;
    all.push(...toEntries(r));
    expect(r.objects.length + r.commonPrefixes.length).toBeLessThanOrEqual(maxKeys);
    if (!r.isTruncated) {
      expect(r.next).toBeUndefined();
      return { all, pages };
    }
    expect(r.objects.length + r.commonPrefixes.length).toBe(maxKeys);
    expect(r.next).toBeDefined();
    after = r.next;
  }
}

describe('listObjects over SQLite', () => {
  const cases: [string, string | undefined, number][] = [
    ['', undefined, 1000],
    ['', undefined, 333],
    ['', '/', 1000],
    ['', '/', 7],
    ['photos/', '/', 1000],
    ['photos/2024/', '/', 250],
    ['photos/2024/', undefined, 999],
    ['a', '/', 50],
    ['é', '😀', 3],
    ['nothing-here', '/', 10],
  ];
  it.each(cases)('prefix %j delimiter %j maxKeys %i pages through exactly the model listing', (prefix, delimiter, maxKeys) => {
    const want = listingModel(keys, prefix, delimiter);
    const { all, pages } = pageAll(prefix, delimiter, maxKeys);
    expect(all).toEqual(want);
    expect(pages).toBe(Math.max(1, Math.ceil(want.length / maxKeys)));
  });

  it('rolls photos/2024/ up into one prefix and returns entry fields', () => {
    const r = t.store.listObjects('b', { prefix: 'photos/', delimiter: '/', maxKeys: 1000 });
    expect(r.commonPrefixes).toEqual(['photos/2024/']);
    expect(r.objects.map((o) => o.key)).toEqual(['photos/2024', 'photos/readme']);
    const i = keys.indexOf('photos/2024');
    expect(r.objects[0]).toEqual({ key: 'photos/2024', size: i, etag: `e${i}`, lastModified: new Date(1_700_000_000_000 + i) });
    expect(r.isTruncated).toBe(false);
  });

  it('a marker that is a common prefix (v1 NextMarker) skips all of it', () => {
    const r = t.store.listObjects('b', { prefix: 'photos/', delimiter: '/', after: 'photos/2024/', maxKeys: 10 });
    expect(r.commonPrefixes).toEqual([]);
    expect(r.objects.map((o) => o.key)).toEqual(['photos/readme']);
  });

  it('maxKeys 0 returns nothing and is not truncated', () => {
    expect(t.store.listObjects('b', { maxKeys: 0 })).toEqual({ objects: [], commonPrefixes: [], isTruncated: false });
  });

  it('pages of 1000 stay fast', () => {
    const t0 = performance.now();
    const { pages } = pageAll('', '/', 1000);
    const { pages: flat } = pageAll('', undefined, 1000);
    expect(pages + flat).toBeGreaterThan(2);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('listMultipartUploads', () => {
  it('sorts by key then initiation, rolls up prefixes and pages with key and upload-id markers', async () => {
    const u = openTestStore();
    try {
      u.store.createBucket('b', 'alice', 'us-east-1');
      const made: { key: string; uploadId: string }[] = [];
      for (const key of ['x/1', 'a', 'x/2', 'a', 'b', 'a', 'x/1']) {
        made.push({ key, uploadId: u.store.createMultipartUpload('b', key, { meta: META }).uploadId });
      }
      const want = [...made].sort((p, q) => byteOrder(p.key, q.key) || byteOrder(p.uploadId, q.uploadId));
      // 'a' uploads must come in creation order (upload ids sort by initiation)
      expect(want.filter((w) => w.key === 'a').map((w) => w.uploadId)).toEqual(made.filter((m) => m.key === 'a').map((m) => m.uploadId));

      const got: { key: string; uploadId: string }[] = [];
      let keyMarker: string | undefined;
      let uploadIdMarker: string | undefined;
      for (;;) {
        const r = u.store.listMultipartUploads('b', { maxUploads: 2, ...(keyMarker ? { keyMarker } : {}), ...(uploadIdMarker ? { uploadIdMarker } : {}) });
        got.push(...r.uploads.map((x) => ({ key: x.key, uploadId: x.uploadId })));
        if (!r.isTruncated) break;
        keyMarker = r.nextKeyMarker;
        uploadIdMarker = r.nextUploadIdMarker;
      }
      expect(got).toEqual(want);

      const rolled = u.store.listMultipartUploads('b', { delimiter: '/', maxUploads: 10 });
      expect(rolled.commonPrefixes).toEqual(['x/']);
      expect(rolled.uploads.map((x) => x.key)).toEqual(['a', 'a', 'a', 'b']);
      const prefixed = u.store.listMultipartUploads('b', { prefix: 'x/', maxUploads: 10 });
      expect(prefixed.uploads.map((x) => x.key)).toEqual(['x/1', 'x/1', 'x/2']);
      // key-marker alone skips every upload of that key
      const after = u.store.listMultipartUploads('b', { keyMarker: 'a', maxUploads: 10 });
      expect(after.uploads[0]!.key).toBe('b');
      await u.store.putObject('b', 'unrelated', bodyOf('x'), { meta: META });
      expect(u.store.listMultipartUploads('b', { maxUploads: 100 }).uploads).toHaveLength(7);
    } finally {
      u.cleanup();
    }
  });
});
