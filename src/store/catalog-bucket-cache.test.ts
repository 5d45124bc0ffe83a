import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTestCatalog, testOnPostgres } from '../core/sql/testing/catalog.ts';
import type { DB } from '../core/db.ts';
import { Catalog } from './catalog.ts';
import { BucketCache } from './catalog-bucket-cache.ts';

const bucket = (name: string, owner = 'alice') => ({ name, owner, region: 'us-east-1', created: new Date(1_700_000_000_000) });

describe('BucketCache', () => {
  it('loads a value once, and again after forget', () => {
    const c = new BucketCache<object>(true);
    let loads = 0;
    const load = () => (loads++, bucket('b1'));
    expect(c.bucket('b1', load)?.owner).toBe('alice');
    c.bucket('b1', load);
    expect(loads).toBe(1);
    c.forget('b1');
    c.bucket('b1', load);
    expect(loads).toBe(2);
    let cfg = 0;
    expect(c.config('b1', 'cors', () => (cfg++, undefined))).toBeUndefined();
    expect(c.config('b1', 'cors', () => (cfg++, undefined))).toBeUndefined();
    expect(cfg).toBe(1); // "none" is cached too
  });

  it('reads through when disabled (a PostgreSQL catalog other gateways write)', () => {
    const c = new BucketCache<object>(false);
    let loads = 0;
    c.bucket('b1', () => (loads++, bucket('b1')));
    c.bucket('b1', () => (loads++, bucket('b1')));
    expect(loads).toBe(2);
  });
});

describe('Catalog bucket cache: every change is seen at once', () => {
  let dir: string;
  let db: DB;
  let cat: Catalog;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'datamesh-bcache-'));
    db = openTestCatalog(join(dir, 'meta.db'));
    cat = new Catalog(db);
    cat.tx(() => cat.insertBucket(bucket('b1')));
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a deleted bucket is gone, and a re-created one has its new owner and no old configuration', () => {
    cat.setBucketConfig('b1', 'policy', '{"p":1}');
    expect(cat.getBucket('b1')?.owner).toBe('alice');
    expect(cat.getBucketConfig('b1', 'policy')).toBe('{"p":1}');
    cat.tx(() => cat.deleteBucket(cat.getBucket('b1')!));
    expect(cat.getBucket('b1')).toBeUndefined();
    cat.tx(() => cat.insertBucket(bucket('b1', 'bob')));
    expect(cat.getBucket('b1')?.owner).toBe('bob');
    expect(cat.getBucketConfig('b1', 'policy')).toBeUndefined(); // cascaded with the bucket
  });

  it('configuration set and removed is read back', () => {
    expect(cat.getBucketConfig('b1', 'cors')).toBeUndefined();
    cat.setBucketConfig('b1', 'cors', 'a');
    expect(cat.getBucketConfig('b1', 'cors')).toBe('a');
    cat.setBucketConfig('b1', 'cors', 'b');
    expect(cat.getBucketConfig('b1', 'cors')).toBe('b');
    cat.setBucketConfig('b1', 'cors', undefined);
    expect(cat.getBucketConfig('b1', 'cors')).toBeUndefined();
  });

  it('versioning, object lock and lifecycle changes are read back', () => {
    expect(cat.settings('b1')).toEqual({ objectLock: false });
    cat.setVersioning('b1', 'Enabled');
    expect(cat.settings('b1').versioning).toBe('Enabled');
    cat.setObjectLock('b1', { mode: 'GOVERNANCE', days: 1 });
    expect(cat.settings('b1')).toMatchObject({ objectLock: true, lockDefault: { mode: 'GOVERNANCE', days: 1 } });
    cat.setLifecycle('b1', [{ id: 'r' }]);
    expect(cat.settings('b1').lifecycle).toEqual([{ id: 'r' }]);
    cat.setLifecycle('b1', undefined);
    expect(cat.settings('b1').lifecycle).toBeUndefined();
  });

  it('a value read inside a transaction that rolls back is not kept', () => {
    cat.setBucketConfig('b1', 'policy', 'old');
    expect(() =>
      cat.tx(() => {
        cat.setBucketConfig('b1', 'policy', 'rolled back');
        cat.setVersioning('b1', 'Enabled');
        expect(cat.getBucketConfig('b1', 'policy')).toBe('rolled back');
        expect(cat.settings('b1').versioning).toBe('Enabled');
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(cat.getBucketConfig('b1', 'policy')).toBe('old');
    expect(cat.settings('b1').versioning).toBeUndefined();
  });

  // a PostgreSQL catalog reads through: nothing is cached, so nothing is shared
  it.skipIf(testOnPostgres())('cached values are shared read-only', () => {
    const s = cat.settings('b1');
    expect(() => ((s as { objectLock: boolean }).objectLock = true)).toThrow(TypeError);
    expect(cat.settings('b1').objectLock).toBe(false);
  });
});
