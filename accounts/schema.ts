/**
 * The tables of accounts/, applied with migrate(db, 'accounts', ACCOUNT_MIGRATIONS).
 *
 * quotas: one row per account, each limit nullable. NULL means "the configured default", -1 means
 * "no limit" (an operator's `none` lifting a default), 0 or more is the limit.
 * metering: one row per account and calendar month (UTC, 'YYYY-MM'). It keeps the account's name
 * and has no foreign key, so billing history outlives a deleted account; account ids are never reused.
 */
import { migrate, type DB } from '../src/core/db.ts';

export const ACCOUNT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('admin', 'user')),
    created TEXT NOT NULL,
    storage_sampled_at INTEGER,
    storage_sampled_bytes INTEGER NOT NULL DEFAULT 0
  );
  CREATE TABLE access_keys (
    access_key TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    secret BLOB NOT NULL,
    created TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive'))
  );
  CREATE INDEX access_keys_by_account ON access_keys(account_id);
  CREATE TABLE quotas (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    max_storage INTEGER,
    max_objects INTEGER,
    max_buckets INTEGER,
    max_object_size INTEGER,
    max_requests_per_minute INTEGER,
    max_monthly_transfer INTEGER
  );
  CREATE TABLE metering (
    account_id INTEGER NOT NULL,
    account TEXT NOT NULL,
    month TEXT NOT NULL,
    storage_byte_hours REAL NOT NULL DEFAULT 0,
    ingress_bytes INTEGER NOT NULL DEFAULT 0,
    egress_bytes INTEGER NOT NULL DEFAULT 0,
    write_requests INTEGER NOT NULL DEFAULT 0,
    read_requests INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, month)
  );
  CREATE INDEX metering_by_month ON metering(month);
  `,
  // Object lock (issue 16): may the account bypass GOVERNANCE retention (x-amz-bypass-governance-retention)?
  `ALTER TABLE accounts ADD COLUMN bypass_governance INTEGER NOT NULL DEFAULT 0;`,
  // Open multipart uploads per account (issue 12).
  `ALTER TABLE quotas ADD COLUMN max_uploads INTEGER;`,
];

export const migrateAccounts = (db: DB): void => migrate(db, 'accounts', ACCOUNT_MIGRATIONS);
