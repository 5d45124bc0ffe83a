/**
 * Test fixtures for accounts/ (imported only by *.test.ts): a temp data dir with a real SQLite
 * file, a settable clock, and a usage table standing in for the catalog.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Usage } from '../../src/core/quota.ts';
import type { DB } from '../../src/core/db.ts';
import { openTestCatalog as openDatabase } from '../../src/core/sql/testing/catalog.ts';
import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve, type ServerType } from '@hono/node-server';
import { createAccounts, type Accounts, type AccountsOptions } from '../accounts.ts';
import { createAdminApi, type AdminAuthRequest } from '../../src/server/admin-api.ts';
import { authenticate as s3Authenticate } from '../../s3/auth/index.ts';

export interface Fixture {
  dir: string;
  dbFile: string;
  masterKey: Buffer;
  clock: { t: number; advance(ms: number): void; now: () => Date };
  usage: Map<string, Usage>;
  db: DB;
  accounts: Accounts;
  /** Closes the service and the db, then opens both again on the same files. */
  reopen(extra?: Partial<AccountsOptions>): Accounts;
  cleanup(): void;
}

export function fixture(extra: Partial<AccountsOptions> = {}): Fixture {
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-accounts-'));
  const dbFile = join(dir, 'meta.db');
  const masterKey = randomBytes(32);
  const clock = {
    t: Date.UTC(2025, 4, 10, 12, 0, 0),
    advance(ms: number) {
      clock.t += ms;
    },
    now: () => new Date(clock.t),
  };
  const usage = new Map<string, Usage>();
  const usageOf = (a: string): Usage => usage.get(a) ?? { bytes: 0, objects: 0, buckets: 0, reservedBytes: 0 };
  const make = (db: DB, more: Partial<AccountsOptions>): Accounts =>
    createAccounts({ db, masterKey, dataDir: dir, usage: usageOf, now: clock.now, flushIntervalMs: 0, ...extra, ...more });
  const f: Fixture = {
    dir,
    dbFile,
    masterKey,
    clock,
    usage,
    db: openDatabase(dbFile),
    accounts: undefined as unknown as Accounts,
    reopen(more = {}) {
      f.accounts.close();
      f.db.close();
      f.db = openDatabase(dbFile);
      f.accounts = make(f.db, more);
      return f.accounts;
    },
    cleanup() {
      try {
        f.accounts.close();
        f.db.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
  f.accounts = make(f.db, {});
  return f;
}

export const setBytes = (f: Fixture, account: string, bytes: number, buckets = 0): void => {
  f.usage.set(account, { bytes, objects: bytes > 0 ? 1 : 0, buckets, reservedBytes: 0 });
};

/** The admin API on a real @hono/node-server at a loopback port, mounted where the server mounts it. */
export async function startAdminServer(
  accounts: Accounts,
  authenticate = (req: AdminAuthRequest) => s3Authenticate(req, accounts.lookup, { region: 'us-east-1' }),
): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Hono();
  app.route('/_datamesh/admin/v1', createAdminApi(accounts, { authenticate }));
  const server = await new Promise<ServerType>((ok) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => ok(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}
