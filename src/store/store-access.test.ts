import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.ts';
import { META, bodyOf, openTestStore, type TestStore } from './testing/fixtures.ts';

let t: TestStore;
beforeEach(() => {
  t = openTestStore();
  t.store.createBucket('b', 'alice', 'us-east-1');
});
afterEach(() => t.cleanup());

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return e instanceof DomainError ? e.code : String(e);
  }
};

describe('bucket settings and object ACLs', () => {
  it('keeps each bucket setting until it is replaced or deleted, and survives a reopen', () => {
    expect(t.store.getBucketConfig('b', 'policy')).toBeUndefined();
    t.store.putBucketConfig('b', 'policy', '{"a":1}');
    t.store.putBucketConfig('b', 'policy', '{"a":2}');
    t.store.putBucketConfig('b', 'cors', '<x/>');
    const reopened = t.reopen();
    expect(reopened.getBucketConfig('b', 'policy')).toBe('{"a":2}');
    reopened.putBucketConfig('b', 'policy', undefined);
    expect(reopened.getBucketConfig('b', 'policy')).toBeUndefined();
    expect(reopened.getBucketConfig('b', 'cors')).toBe('<x/>');
  });

  it('names the missing bucket or key', () => {
    expect(codeOf(() => t.store.getBucketConfig('nope', 'acl'))).toBe('NoSuchBucket');
    expect(codeOf(() => t.store.putBucketConfig('nope', 'acl', 'x'))).toBe('NoSuchBucket');
    expect(codeOf(() => t.store.getObjectAcl('b', 'nope'))).toBe('NoSuchKey');
    expect(codeOf(() => t.store.putObjectAcl('b', 'nope', 'x'))).toBe('NoSuchKey');
  });

  it('an object ACL belongs to that object: an overwrite or a delete takes it away', async () => {
    await t.store.putObject('b', 'k', bodyOf('one'), { meta: META });
    expect(t.store.getObjectAcl('b', 'k')).toEqual({ owner: 'alice' });
    t.store.putObjectAcl('b', 'k', 'public');
    expect(t.store.getObjectAcl('b', 'k')).toEqual({ owner: 'alice', acl: 'public' });
    await t.store.putObject('b', 'k', bodyOf('two'), { meta: META });
    expect(t.store.getObjectAcl('b', 'k')).toEqual({ owner: 'alice' });
    t.store.putObjectAcl('b', 'k', 'public');
    await t.store.deleteObject('b', 'k');
    await t.store.putObject('b', 'k', bodyOf('three'), { meta: META });
    expect(t.store.getObjectAcl('b', 'k')).toEqual({ owner: 'alice' });
  });

  it('deleting a bucket deletes its settings', async () => {
    t.store.putBucketConfig('b', 'acl', 'x');
    await t.store.deleteBucket('b');
    t.store.createBucket('b', 'bob', 'us-east-1');
    expect(t.store.getBucketConfig('b', 'acl')).toBeUndefined();
  });
});
