import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { DomainError } from '../src/core/errors.ts';
import { openDatabase } from '../src/core/db.ts';
import { testOnPostgres } from '../src/core/sql/testing/catalog.ts';
import { createAccounts } from './accounts.ts';
import { ROOT_CREDENTIALS_FILE } from './bootstrap.ts';
import { fixture, setBytes, type Fixture } from './testing/helpers.ts';

const GiB = 2 ** 30;
const HOUR = 3_600_000;

let f: Fixture;
afterEach(() => f?.cleanup());

const thrown = (fn: () => unknown): DomainError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected an error');
};

describe('root bootstrap', () => {
  it('generates root credentials once, into a 0600 file, and keeps them across restarts', () => {
    f = fixture();
    const first = f.accounts.bootstrap();
    expect(first.generated).toBe(true);
    expect(first.accessKey).toMatch(/^DM[A-Z0-9]{18}$/);
    expect(first.secretKey).toHaveLength(40);
    const file = join(f.dir, ROOT_CREDENTIALS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      name: 'root',
      accessKeyId: first.accessKey,
      secretAccessKey: first.secretKey,
    });
    expect(f.accounts.lookup(first.accessKey)).toEqual({ secret: first.secretKey, account: 'root' });
    expect(f.accounts.isAdmin('root')).toBe(true);

    const again = f.reopen().bootstrap();
    expect(again).toEqual({ ...first, generated: false });
  });

  it('uses env credentials, and adds them to root when they differ from the stored key', () => {
    f = fixture();
    const generated = f.accounts.bootstrap();
    const env = { accessKey: 'ENVROOTKEY123', secretKey: 'env-secret-0123456789' };
    const a = f.reopen({ root: env });
    expect(a.bootstrap()).toEqual({ ...env, generated: false });
    expect(a.lookup(env.accessKey)).toEqual({ secret: env.secretKey, account: 'root' });
    expect(a.lookup(generated.accessKey)?.account).toBe('root');
    // A changed env secret for the same key wins.
    const b = f.reopen({ root: { ...env, secretKey: 'another-secret-xyz' } });
    expect(b.lookup(env.accessKey)?.secret).toBe('another-secret-xyz');
  });

  it('does not write a credentials file when env credentials are given', () => {
    f = fixture({ root: { accessKey: 'ENVROOTKEY123', secretKey: 'env-secret-0123456789' } });
    expect(f.accounts.bootstrap().generated).toBe(false);
    expect(existsSync(join(f.dir, ROOT_CREDENTIALS_FILE))).toBe(false);
  });

  it('protects root from suspension, deletion and losing its last key', () => {
    f = fixture();
    const root = f.accounts.bootstrap();
    expect(thrown(() => f.accounts.setStatus('root', 'suspended')).code).toBe('RootAccountProtected');
    expect(thrown(() => f.accounts.deleteAccount('root')).code).toBe('RootAccountProtected');
    expect(thrown(() => f.accounts.deleteKey('root', root.accessKey)).code).toBe('RootAccountProtected');
  });
});

describe('accounts and keys', () => {
  // reads the SQLite file itself (DATAMESH_TEST_CATALOG=postgres: skipped)
  it.skipIf(testOnPostgres())('stores secrets encrypted: the secret never appears in the database files', () => {
    f = fixture();
    const k = f.accounts.createAccount({ name: 'alice' });
    const root = f.accounts.bootstrap();
    f.accounts.close();
    const raw = new Database(f.dbFile);
    raw.pragma('wal_checkpoint(TRUNCATE)');
    const stored = raw.prepare('SELECT secret FROM access_keys WHERE access_key = ?').get(k.accessKeyId) as { secret: Buffer };
    raw.close();
    expect(stored.secret).toBeInstanceOf(Buffer);
    expect(stored.secret.includes(Buffer.from(k.secretAccessKey))).toBe(false);
    for (const suffix of ['', '-wal']) {
      const file = f.dbFile + suffix;
      if (!existsSync(file)) continue;
      const bytes = readFileSync(file);
      expect(bytes.includes(Buffer.from(k.secretAccessKey))).toBe(false);
      expect(bytes.includes(Buffer.from(root.secretKey))).toBe(false);
      // The id is stored in the clear, so this search does find what is there.
      if (suffix === '') expect(bytes.includes(Buffer.from(k.accessKeyId))).toBe(true);
    }
    // The same master key opens it again after a restart; another master key names the problem.
    expect(f.reopen().lookup(k.accessKeyId)).toEqual({ secret: k.secretAccessKey, account: 'alice' });
    const db2 = openDatabase(f.dbFile);
    const other = createAccounts({
      db: db2,
      masterKey: Buffer.alloc(32, 7),
      dataDir: f.dir,
      root: { accessKey: 'OTHERROOT', secretKey: 'other-secret-123' },
      usage: () => ({ bytes: 0, objects: 0, buckets: 0, reservedBytes: 0 }),
      flushIntervalMs: 0,
    });
    expect(() => other.lookup(k.accessKeyId)).toThrow(/master key/);
    other.close();
    db2.close();
  });

  it('rotates keys: two keys work, a deleted one stops', () => {
    f = fixture();
    const k1 = f.accounts.createAccount({ name: 'alice' });
    const k2 = f.accounts.createKey('alice');
    expect(k2.accessKeyId).not.toBe(k1.accessKeyId);
    expect(f.accounts.lookup(k1.accessKeyId)?.account).toBe('alice');
    expect(f.accounts.lookup(k2.accessKeyId)).toEqual({ secret: k2.secretAccessKey, account: 'alice' });
    expect(f.accounts.listKeys('alice').map((k) => k.accessKeyId).sort()).toEqual([k1.accessKeyId, k2.accessKeyId].sort());
    f.accounts.deleteKey('alice', k1.accessKeyId);
    expect(f.accounts.lookup(k1.accessKeyId)).toBeUndefined();
    expect(f.accounts.accountOfKey(k1.accessKeyId)).toBeUndefined();
    expect(f.accounts.lookup(k2.accessKeyId)?.account).toBe('alice');
    expect(thrown(() => f.accounts.deleteKey('alice', k1.accessKeyId)).code).toBe('NoSuchAccessKey');
    // A key of another account cannot be deleted through this one.
    const b = f.accounts.createAccount({ name: 'bob' });
    expect(thrown(() => f.accounts.deleteKey('alice', b.accessKeyId)).code).toBe('NoSuchAccessKey');
    expect(f.accounts.lookup(b.accessKeyId)?.account).toBe('bob');
  });

  it('rejects bad and duplicate names', () => {
    f = fixture();
    f.accounts.createAccount({ name: 'alice' });
    expect(thrown(() => f.accounts.createAccount({ name: 'alice' })).code).toBe('AccountAlreadyExists');
    expect(thrown(() => f.accounts.createAccount({ name: 'Bad Name' })).code).toBe('InvalidArgument');
    expect(thrown(() => f.accounts.getAccount('nobody')).code).toBe('NoSuchAccount');
  });

  it('suspends: the key still resolves but admit refuses; resume lets it in again', () => {
    f = fixture();
    const k = f.accounts.createAccount({ name: 'alice' });
    f.accounts.admit('alice', 'read');
    expect(f.accounts.setStatus('alice', 'suspended').status).toBe('suspended');
    expect(f.accounts.lookup(k.accessKeyId)?.account).toBe('alice');
    const e = thrown(() => f.accounts.admit('alice', 'write'));
    expect(e.code).toBe('AccessDenied');
    expect(e.message).toBe("account 'alice' is suspended; its data is kept. Ask the operator to resume it.");
    f.accounts.setStatus('alice', 'active');
    f.accounts.admit('alice', 'write');
    expect(thrown(() => f.accounts.admit('ghost', 'read')).code).toBe('AccessDenied');
  });

  it('deletes only accounts that own no buckets; metering history stays', () => {
    f = fixture();
    const k = f.accounts.createAccount({ name: 'alice' });
    f.accounts.admit('alice', 'write');
    setBytes(f, 'alice', 100, 2);
    const e = thrown(() => f.accounts.deleteAccount('alice'));
    expect(e.code).toBe('AccountHasBuckets');
    expect(e.message).toMatch(/owns 2 buckets/);
    setBytes(f, 'alice', 0, 0);
    f.accounts.deleteAccount('alice');
    expect(f.accounts.lookup(k.accessKeyId)).toBeUndefined();
    expect(thrown(() => f.accounts.getAccount('alice')).code).toBe('NoSuchAccount');
    const history = f.accounts.usageReport().find((r) => r.account === 'alice');
    expect(history).toMatchObject({ exists: false, writeRequests: 1 });
    // A new account of the same name starts from zero.
    f.accounts.createAccount({ name: 'alice' });
    const rows = f.accounts.usageReport().filter((r) => r.account === 'alice');
    expect(rows.map((r) => [r.exists, r.writeRequests]).sort()).toEqual([
      [false, 1],
      [true, 0],
    ]);
  });
});

describe('limits', () => {
  it('applies defaults to users, not admins; an account setting wins; none lifts; default restores', () => {
    f = fixture({ defaults: { maxStorage: 5 * GiB, maxObjects: 10_000, maxBuckets: 100 } });
    f.accounts.createAccount({ name: 'alice', quota: { maxObjects: 50, maxBuckets: null } });
    expect(f.accounts.limits('alice')).toEqual({ maxStorage: 5 * GiB, maxObjects: 50, maxUploads: 1000 }); // 1000: the built-in default
    expect(f.accounts.limits('root')).toEqual({});
    expect(f.accounts.getQuota('alice').maxBuckets).toEqual({ limit: null, source: 'lifted' });
    expect(f.accounts.getQuota('alice').maxStorage).toEqual({ limit: 5 * GiB, source: 'default' });
    const v = f.accounts.setQuota('alice', { maxStorage: 1000, maxObjects: 'default', maxObjectSize: 10 });
    expect(v.maxObjects).toEqual({ limit: 10_000, source: 'default' });
    expect(f.accounts.limits('alice')).toEqual({ maxStorage: 1000, maxObjects: 10_000, maxObjectSize: 10, maxUploads: 1000 });
    // Settings survive a restart.
    expect(f.reopen().limits('alice')).toEqual({ maxStorage: 1000, maxObjects: 10_000, maxObjectSize: 10, maxUploads: 1000 });
  });

  it('limits the request rate with SlowDown and a Retry-After', () => {
    f = fixture();
    f.accounts.createAccount({ name: 'alice', quota: { maxRequestsPerMinute: 3 } });
    for (let i = 0; i < 3; i++) f.accounts.admit('alice', 'read');
    const e = thrown(() => f.accounts.admit('alice', 'read')) as DomainError & { retryAfter?: number };
    expect(e.code).toBe('SlowDown');
    expect(e.retryAfter).toBe(20);
    expect(e.message).toMatch(/3 requests a minute/);
    f.accounts.admit('root', 'read'); // other accounts are not affected
    f.clock.advance(20_000);
    f.accounts.admit('alice', 'read');
    expect(() => f.accounts.admit('alice', 'read')).toThrow(/request rate/);
    f.accounts.setQuota('alice', { maxRequestsPerMinute: null });
    for (let i = 0; i < 10; i++) f.accounts.admit('alice', 'read');
  });

  it('refuses data transfer over the monthly transfer quota until the month ends', () => {
    f = fixture();
    f.accounts.createAccount({ name: 'alice', quota: { maxMonthlyTransfer: 1000 } });
    f.accounts.admit('alice', 'write');
    f.accounts.recordTransfer('alice', { ingress: 600 });
    f.accounts.admit('alice', 'read');
    f.accounts.recordTransfer('alice', { egress: 400 });
    const e = thrown(() => f.accounts.admit('alice', 'read'));
    expect(e.code).toBe('QuotaExceeded');
    expect(e.message).toMatch(/monthly transfer quota: limit 1000 B \(1000 bytes\).*used 1000 B \(1000 bytes\) in 2025-05/);
    f.accounts.admit('alice', 'list'); // lists and deletes do not move data
    f.accounts.admit('alice', 'write', { transfersData: false });
    // The count survives a restart.
    const a = f.reopen();
    expect(() => a.admit('alice', 'write')).toThrow(/monthly transfer/);
    f.clock.t = Date.UTC(2025, 5, 1, 0, 0, 1);
    a.admit('alice', 'write');
  });
});

describe('metering', () => {
  // reads the SQLite file itself (DATAMESH_TEST_CATALOG=postgres: skipped)
  it.skipIf(testOnPostgres())('counts requests and transfer, and survives a restart', () => {
    f = fixture();
    f.accounts.createAccount({ name: 'alice' });
    f.accounts.admit('alice', 'write');
    f.accounts.admit('alice', 'list');
    f.accounts.admit('alice', 'read');
    f.accounts.recordTransfer('alice', { ingress: 1234, egress: 55 });
    f.accounts.recordTransfer('alice', { egress: 45 });
    f.accounts.flush();
    // Written to SQLite: another connection sees it before close.
    const raw = new Database(f.dbFile, { readonly: true });
    const row = raw.prepare("SELECT * FROM metering WHERE account = 'alice'").get() as Record<string, number>;
    raw.close();
    expect(row).toMatchObject({ ingress_bytes: 1234, egress_bytes: 100, write_requests: 2, read_requests: 1 });
    f.accounts.admit('alice', 'read'); // pending at close
    const a = f.reopen();
    expect(a.usageReport('alice')[0]).toMatchObject({
      account: 'alice',
      month: '2025-05',
      ingressBytes: 1234,
      egressBytes: 100,
      writeRequests: 2,
      readRequests: 2,
      exists: true,
    });
    expect(a.usageReport('alice', '2025-04')[0]).toMatchObject({ writeRequests: 0, readRequests: 0 });
    expect(() => a.usageReport('alice', '2025-13')).toThrow(/YYYY-MM/);
  });

  // reads the SQLite file itself (DATAMESH_TEST_CATALOG=postgres: skipped)
  it.skipIf(testOnPostgres())('flushes by itself within the flush interval', async () => {
    f = fixture({ flushIntervalMs: 20 });
    f.accounts.createAccount({ name: 'alice' });
    f.accounts.recordTransfer('alice', { ingress: 7 });
    const raw = new Database(f.dbFile, { readonly: true });
    try {
      await vi.waitFor(
        () => {
          const r = raw.prepare("SELECT ingress_bytes FROM metering WHERE account = 'alice'").get() as { ingress_bytes: number } | undefined;
          expect(r?.ingress_bytes).toBe(7);
        },
        { timeout: 2000, interval: 10 },
      );
    } finally {
      raw.close();
    }
  });

  it('accumulates storage byte-hours with the clock, across restarts and downtime', () => {
    f = fixture();
    f.accounts.createAccount({ name: 'alice' });
    setBytes(f, 'alice', GiB);
    f.accounts.usageReport('alice'); // samples now: 1 GiB from here on
    f.clock.advance(2 * HOUR);
    expect(f.accounts.usageReport('alice')[0]!.storageByteHours).toBeCloseTo(2 * GiB, 0);
    f.clock.advance(HOUR);
    f.accounts.flush(); // a sample is due (over a minute since the last)
    const a = f.reopen();
    f.clock.advance(HOUR); // the node was down for an hour; the bytes were still stored
    const r = a.usageReport('alice')[0]!;
    expect(r.storageByteHours).toBeCloseTo(4 * GiB, 0);
    expect(r.current).toEqual({ bytes: GiB, objects: 1, buckets: 0, reservedBytes: 0 });
  });

  it('does not sample more often than the sample interval on flush', () => {
    f = fixture();
    f.accounts.createAccount({ name: 'alice' });
    setBytes(f, 'alice', GiB);
    f.accounts.usageReport('alice');
    setBytes(f, 'alice', 0);
    f.clock.advance(30_000);
    f.accounts.flush(); // not due: no sample, bytes not yet seen as 0
    setBytes(f, 'alice', GiB);
    f.clock.advance(30_000);
    f.accounts.flush(); // due now
    expect(f.accounts.usageReport('alice')[0]!.storageByteHours).toBeCloseTo(GiB / 60, 0);
  });
});
