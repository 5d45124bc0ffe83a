/**
 * SQL for accounts, access keys and quotas (better-sqlite3, prepared once). No policy here: the
 * service (accounts.ts) decides; this file only reads and writes rows.
 */
import type { DB } from '../src/core/db.ts';
import { overridesFromRow, overridesToRow, QUOTA_COLUMNS, type QuotaOverrides, type Role } from './limits.ts';

/** The limit columns of the quotas table, one per quota field. */
const COLUMNS = Object.values(QUOTA_COLUMNS);

export type AccountStatus = 'active' | 'suspended';

export interface AccountRow {
  id: number;
  name: string;
  status: AccountStatus;
  role: Role;
  created: string;
  storageSampledAt: number | null;
  storageSampledBytes: number;
  /** May bypass GOVERNANCE object lock retention (an admin grants it). */
  bypassGovernance: boolean;
}

export interface KeyRow {
  accessKey: string;
  accountId: number;
  account: string;
  sealed: Buffer;
  created: string;
  status: 'active' | 'inactive';
}

export interface Repo {
  accountByName(name: string): AccountRow | undefined;
  listAccounts(): AccountRow[];
  insertAccount(name: string, role: Role, created: string): AccountRow;
  setStatus(id: number, status: AccountStatus): void;
  setRole(id: number, role: Role): void;
  setBypassGovernance(id: number, allow: boolean): void;
  deleteAccount(id: number): void;
  key(accessKey: string): KeyRow | undefined;
  keysOf(accountId: number): KeyRow[];
  insertKey(accessKey: string, accountId: number, sealed: Buffer, created: string): void;
  updateKey(accessKey: string, sealed: Buffer, status: 'active' | 'inactive'): void;
  deleteKey(accessKey: string): void;
  overrides(accountId: number): QuotaOverrides;
  saveOverrides(accountId: number, o: QuotaOverrides): void;
  tx<T>(fn: () => T): T;
}

const toAccount = (r: Record<string, unknown>): AccountRow => ({
  id: Number(r.id),
  name: String(r.name),
  status: r.status as AccountStatus,
  role: r.role as Role,
  created: String(r.created),
  storageSampledAt: r.storage_sampled_at === null ? null : Number(r.storage_sampled_at),
  storageSampledBytes: Number(r.storage_sampled_bytes),
  bypassGovernance: Number(r.bypass_governance) === 1,
});

const toKey = (r: Record<string, unknown>): KeyRow => ({
  accessKey: String(r.access_key),
  accountId: Number(r.account_id),
  account: String(r.account),
  sealed: r.secret as Buffer,
  created: String(r.created),
  status: r.status as 'active' | 'inactive',
});

export function createRepo(db: DB): Repo {
  const q = {
    byName: db.prepare('SELECT * FROM accounts WHERE name = ?'),
    list: db.prepare('SELECT * FROM accounts ORDER BY name'),
    insert: db.prepare('INSERT INTO accounts (name, role, created) VALUES (?, ?, ?) RETURNING *'),
    status: db.prepare('UPDATE accounts SET status = ? WHERE id = ?'),
    bypass: db.prepare('UPDATE accounts SET bypass_governance = ? WHERE id = ?'),
    role: db.prepare('UPDATE accounts SET role = ? WHERE id = ?'),
    del: db.prepare('DELETE FROM accounts WHERE id = ?'),
    key: db.prepare(
      'SELECT k.*, a.name AS account FROM access_keys k JOIN accounts a ON a.id = k.account_id WHERE k.access_key = ?',
    ),
    keysOf: db.prepare(
      'SELECT k.*, a.name AS account FROM access_keys k JOIN accounts a ON a.id = k.account_id WHERE k.account_id = ? ORDER BY k.created, k.access_key',
    ),
    insertKey: db.prepare('INSERT INTO access_keys (access_key, account_id, secret, created) VALUES (?, ?, ?, ?)'),
    updateKey: db.prepare('UPDATE access_keys SET secret = ?, status = ? WHERE access_key = ?'),
    delKey: db.prepare('DELETE FROM access_keys WHERE access_key = ?'),
    quota: db.prepare('SELECT * FROM quotas WHERE account_id = ?'),
    saveQuota: db.prepare(`
      INSERT INTO quotas (account_id, ${COLUMNS.join(', ')}) VALUES (@account_id, ${COLUMNS.map((c) => '@' + c).join(', ')})
      ON CONFLICT(account_id) DO UPDATE SET ${COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`),
  };
  return {
    accountByName: (name) => {
      const r = q.byName.get(name) as Record<string, unknown> | undefined;
      return r ? toAccount(r) : undefined;
    },
    listAccounts: () => (q.list.all() as Record<string, unknown>[]).map(toAccount),
    insertAccount: (name, role, created) => toAccount(q.insert.get(name, role, created) as Record<string, unknown>),
    setStatus: (id, status) => void q.status.run(status, id),
    setBypassGovernance: (id, allow) => void q.bypass.run(allow ? 1 : 0, id),
    setRole: (id, role) => void q.role.run(role, id),
    deleteAccount: (id) => void q.del.run(id),
    key: (accessKey) => {
      const r = q.key.get(accessKey) as Record<string, unknown> | undefined;
      return r ? toKey(r) : undefined;
    },
    keysOf: (accountId) => (q.keysOf.all(accountId) as Record<string, unknown>[]).map(toKey),
    insertKey: (accessKey, accountId, sealed, created) => void q.insertKey.run(accessKey, accountId, sealed, created),
    updateKey: (accessKey, sealed, status) => void q.updateKey.run(sealed, status, accessKey),
    deleteKey: (accessKey) => void q.delKey.run(accessKey),
    overrides: (accountId) => overridesFromRow(q.quota.get(accountId) as Record<string, unknown> | undefined),
    saveOverrides: (accountId, o) => void q.saveQuota.run({ account_id: accountId, ...overridesToRow(o) }),
    tx: (fn) => db.transaction(fn)(),
  };
}
