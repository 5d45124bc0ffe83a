/**
 * The accounts service: who a key belongs to, whether an account may make a request now, its
 * limits, its metering, and the management calls the admin API exposes.
 *
 * The account string used across seams (SecretLookup's `account`, admit, LimitsLookup, usage,
 * bucket owners) is the account's unique name. Account rows have an integer id that is never
 * reused, so metering history of a deleted account never merges into a new one of the same name.
 */
import { canonicalIdOf } from '../src/core/canonical-id.ts';
import { Errors, type DomainError } from '../src/core/errors.ts';
import type { LimitsLookup, Usage } from '../src/core/quota.ts';
import type { DB } from '../src/core/db.ts';
import type { Logger } from '../src/core/log.ts';
import { bootstrapRoot, ROOT_ACCOUNT, type RootCredentials } from './bootstrap.ts';
import { AccountErrors, isValidAccountName } from './errors.ts';
import {
  applyPatch,
  effectiveQuota,
  quotaView,
  storeLimits,
  type EffectiveQuota,
  type QuotaOverrides,
  type QuotaPatch,
  type QuotaSettings,
  type QuotaView,
  type Role,
} from './limits.ts';
import { createMeter, isMonth, monthOf, nextMonthStart, type MeteringRow } from './metering.ts';
import type { RequestClass, SecretLookup } from '../src/core/access.ts';
import { createRateLimiter, createSharedRateLimiter } from './rate-limit.ts';
import { createRepo, type AccountRow, type AccountStatus } from './repo.ts';
import { migrateAccounts } from './schema.ts';
import { generateAccessKey, generateSecret, openSecret, sealSecret, secretsKey } from './secrets.ts';
import { formatBytes } from '../src/core/sizes.ts';



export interface AccountsOptions {
  db: DB;
  masterKey: Buffer;
  dataDir: string;
  /** Limits for user accounts that set none of their own (the "free tier"). */
  defaults?: QuotaSettings;
  /** Root credentials from DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY. */
  root?: { accessKey: string; secretKey: string };
  /** The catalog's usage of an account (src/core/quota.ts). */
  usage: (account: string) => Usage;
  log?: Pick<Logger, 'info' | 'warn'>;
  now?: () => Date;
  /** How often pending metering is written (default 1000 ms). 0 disables the timer (tests call flush()). */
  flushIntervalMs?: number;
  /** How often stored bytes are sampled for byte-hours (default 60000 ms). */
  sampleIntervalMs?: number;
}

export interface AccountInfo {
  name: string;
  role: Role;
  status: AccountStatus;
  created: string;
  accessKeys: number;
  /** May bypass GOVERNANCE object lock retention. */
  bypassGovernance: boolean;
  /** The id S3 shows as Owner and takes in grants (x-amz-grant-read: id="..."). */
  canonicalId: string;
  quota: QuotaView;
  usage: Usage;
}

export interface KeyInfo {
  accessKeyId: string;
  status: 'active' | 'inactive';
  created: string;
}

/** A new key, shown once. The JSON the CLI prints is exactly this shape. */
export interface NewKey {
  name: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface UsageReport {
  account: string;
  month: string;
  storageByteHours: number;
  ingressBytes: number;
  egressBytes: number;
  writeRequests: number;
  readRequests: number;
  /** False for history of an account that was deleted. */
  exists: boolean;
  /** Live usage now (only for the current month of an existing account). */
  current?: Usage;
}

export interface Accounts {
  lookup: SecretLookup;
  limits: LimitsLookup;
  /**
   * Admits one request of `account`, or throws: AccessDenied (suspended or unknown account),
   * SlowDown with `retryAfter` (requests per minute), QuotaExceeded (monthly transfer; checked for
   * read and write requests unless opts.transfersData is false, never for list: listings stay
   * allowed over the quota). Counts the request.
   */
  admit(account: string, kind: RequestClass, opts?: { transfersData?: boolean }): void;
  recordTransfer(account: string, t: { ingress?: number; egress?: number }): void;
  /**
   * Counts bytes of a request as they flow; with `enforce`, first throws QuotaExceeded when the
   * account's monthly transfer is already used up (so a transfer overshoots by one chunk at most).
   */
  chargeTransfer(account: string, t: { ingress?: number; egress?: number }, enforce: boolean): void;
  /** True for an active account with the admin role. */
  isAdmin(account: string): boolean;
  accountOfKey(accessKey: string): string | undefined;
  bootstrap(): RootCredentials;

  createAccount(input: { name: string; role?: Role; quota?: QuotaPatch }): NewKey;
  listAccounts(): AccountInfo[];
  getAccount(name: string): AccountInfo;
  setStatus(name: string, status: AccountStatus): AccountInfo;
  /** Object lock: allow or deny the account to bypass GOVERNANCE retention. */
  setBypassGovernance(name: string, allow: boolean): AccountInfo;
  /** True for an active account an admin allowed to bypass GOVERNANCE retention. */
  mayBypassGovernance(account: string): boolean;
  deleteAccount(name: string): void;
  createKey(name: string): NewKey;
  listKeys(name: string): KeyInfo[];
  deleteKey(name: string, accessKey: string): void;
  getQuota(name: string): QuotaView;
  setQuota(name: string, patch: QuotaPatch): QuotaView;
  /** Metering of one account or all, for a month ('YYYY-MM', default the current month). */
  usageReport(name?: string, month?: string): UsageReport[];

  /** Writes pending metering (sampling storage if a sample is due). */
  flush(): void;
  /** Samples storage, flushes and stops the timer. */
  close(): void;
}

interface CachedAccount {
  row: AccountRow;
  overrides: QuotaOverrides;
  quota: EffectiveQuota;
}

export function createAccounts(opts: AccountsOptions): Accounts {
  const { db, usage } = opts;
  const defaults = opts.defaults ?? {};
  const now = opts.now ?? (() => new Date());
  const nowMs = (): number => now().getTime();
  const log = opts.log;
  migrateAccounts(db);
  const repo = createRepo(db);
  const sealKey = secretsKey(opts.masterKey);
  // A PostgreSQL catalog may be shared by several gateways: rate limits and transfer quotas are then
  // counted in it (one process on SQLite: in memory, exact).
  const shared = db.dialect === 'postgres';
  const meter = createMeter(db, (name, err) => log?.warn({ account: name, err: String(err) }, 'storage sample failed'), shared);
  const limiter = shared ? createSharedRateLimiter(db, nowMs) : createRateLimiter(nowMs);
  const iso = (): string => now().toISOString();

  const rootCreds = bootstrapRoot({ repo, sealKey, dataDir: opts.dataDir, root: opts.root, created: iso() });
  if (rootCreds.generated) log?.info({ accessKey: rootCreds.accessKey }, 'generated root credentials');

  // Caches: accounts by name, decrypted secrets by access key. Cleared on every change.
  const accounts = new Map<string, CachedAccount | null>();
  const secrets = new Map<string, { secret: string; account: string }>();
  const invalidate = (): void => {
    accounts.clear();
    secrets.clear();
  };

  const cached = (name: string): CachedAccount | undefined => {
    let c = accounts.get(name);
    if (c === undefined) {
      const row = repo.accountByName(name);
      if (row) {
        const overrides = repo.overrides(row.id);
        c = { row, overrides, quota: effectiveQuota(overrides, defaults, row.role) };
      } else c = null;
      if (accounts.size > 10_000) accounts.clear();
      accounts.set(name, c);
    }
    return c ?? undefined;
  };
  const mustGet = (name: string): CachedAccount => {
    const c = cached(name);
    if (!c) throw AccountErrors.noSuchAccount(name);
    return c;
  };
  const safeUsage = (name: string): Usage => {
    try {
      return usage(name);
    } catch (err) {
      log?.warn({ account: name, err: String(err) }, 'usage lookup failed');
      return { bytes: 0, objects: 0, buckets: 0, reservedBytes: 0 };
    }
  };
  const info = (c: CachedAccount): AccountInfo => ({
    name: c.row.name,
    role: c.row.role,
    status: c.row.status,
    created: c.row.created,
    accessKeys: repo.keysOf(c.row.id).length,
    bypassGovernance: c.row.bypassGovernance,
    canonicalId: canonicalIdOf(c.row.name),
    quota: quotaView(c.overrides, defaults, c.row.role),
    usage: safeUsage(c.row.name),
  });

  for (const row of repo.listAccounts()) {
    meter.track(row.id, row.name, row.storageSampledAt ?? nowMs(), row.storageSampledBytes);
  }

  const newKey = (account: AccountRow): NewKey => {
    let accessKey = generateAccessKey();
    while (repo.key(accessKey)) accessKey = generateAccessKey();
    const secretAccessKey = generateSecret();
    repo.insertKey(accessKey, account.id, sealSecret(sealKey, accessKey, secretAccessKey), iso());
    return { name: account.name, accessKeyId: accessKey, secretAccessKey };
  };

  let lastSample = nowMs();
  const sampleInterval = opts.sampleIntervalMs ?? 60_000;
  const sample = (): void => {
    lastSample = nowMs();
    meter.sample(lastSample, (name) => usage(name).bytes);
  };
  const flush = (): void => {
    if (nowMs() - lastSample >= sampleInterval) sample();
    meter.flush();
  };
  const interval = opts.flushIntervalMs ?? 1000;
  const timer =
    interval > 0
      ? setInterval(() => {
          try {
            flush();
          } catch (err) {
            log?.warn({ err: String(err) }, 'metering flush failed; will retry');
          }
        }, interval)
      : undefined;
  timer?.unref();
  let closed = false;

  /** QuotaExceeded when the account has used its monthly transfer (ingress + egress). */
  const checkTransfer = (c: CachedAccount, account: string): void => {
    const maxTransfer = c.quota.maxMonthlyTransfer;
    if (maxTransfer === undefined) return;
    const t = nowMs();
    const used = meter.monthTransfer(c.row.id, t);
    if (used >= maxTransfer) {
      const month = monthOf(t);
      throw Errors.quotaExceeded(
        `account '${account}' has used its monthly transfer quota: limit ${formatBytes(maxTransfer)} (${maxTransfer} bytes) of ingress + egress a month, used ${formatBytes(used)} (${used} bytes) in ${month}. It resets on ${new Date(nextMonthStart(month)).toISOString().slice(0, 10)} (UTC); ask the operator to raise --max-monthly-transfer.`,
      );
    }
  };

  const service: Accounts = {
    lookup(accessKey) {
      const hit = secrets.get(accessKey);
      if (hit) return hit;
      const k = repo.key(accessKey);
      if (!k || k.status !== 'active') return undefined;
      const entry = { secret: openSecret(sealKey, k.accessKey, k.sealed), account: k.account };
      if (secrets.size > 10_000) secrets.clear();
      secrets.set(accessKey, entry);
      return entry;
    },

    limits: (account) => storeLimits(cached(account)?.quota ?? effectiveQuota({}, defaults, 'user')),

    admit(account, kind, o) {
      const c = cached(account);
      if (!c) throw Errors.accessDenied(`account '${account}' does not exist; ask the operator for a valid access key.`);
      if (c.row.status === 'suspended') {
        throw Errors.accessDenied(`account '${account}' is suspended; its data is kept. Ask the operator to resume it.`);
      }
      const rpm = c.quota.maxRequestsPerMinute;
      if (rpm !== undefined) {
        const r = limiter.take(c.row.id, rpm);
        if (!r.ok) {
          throw Errors.slowDown(
            `account '${account}' is over its request rate quota of ${rpm} requests a minute; retry in ${r.retryAfterSeconds} s or ask the operator to raise --max-requests-per-minute.`,
            r.retryAfterSeconds,
          );
        }
      }
      if (kind !== 'list' && (o?.transfersData ?? true)) checkTransfer(c, account);
      meter.countRequest(c.row.id, c.row.name, kind, nowMs());
    },

    recordTransfer(account, t) {
      const c = cached(account);
      if (c) meter.addTransfer(c.row.id, c.row.name, t, nowMs());
    },

    chargeTransfer(account, t, enforce) {
      const c = cached(account);
      if (!c) return;
      if (enforce) checkTransfer(c, account);
      meter.addTransfer(c.row.id, c.row.name, t, nowMs());
    },

    isAdmin(account) {
      const c = cached(account);
      return c?.row.role === 'admin' && c.row.status === 'active';
    },
    accountOfKey: (accessKey) => repo.key(accessKey)?.account,
    bootstrap: () => rootCreds,

    createAccount({ name, role = 'user', quota }) {
      if (!isValidAccountName(name)) throw AccountErrors.invalidName(name);
      const created = repo.tx(() => {
        if (repo.accountByName(name)) throw AccountErrors.accountExists(name);
        const row = repo.insertAccount(name, role, iso());
        if (quota && Object.keys(quota).length > 0) repo.saveOverrides(row.id, applyPatch({}, quota));
        return { row, key: newKey(row) };
      });
      invalidate();
      meter.track(created.row.id, name, nowMs(), 0);
      log?.info({ account: name, role, accessKey: created.key.accessKeyId }, 'account created');
      return created.key;
    },

    listAccounts: () => repo.listAccounts().map((r) => info(mustGet(r.name))),
    getAccount: (name) => info(mustGet(name)),

    setStatus(name, status) {
      const c = mustGet(name);
      if (name === ROOT_ACCOUNT && status !== 'active') throw AccountErrors.protectedRoot('suspended');
      repo.setStatus(c.row.id, status);
      invalidate();
      log?.info({ account: name, status }, 'account status changed');
      return info(mustGet(name));
    },

    setBypassGovernance(name, allow) {
      const c = mustGet(name);
      repo.setBypassGovernance(c.row.id, allow);
      invalidate();
      log?.info({ account: name, bypassGovernance: allow }, `account may ${allow ? 'now' : 'no longer'} bypass GOVERNANCE retention`);
      return info(mustGet(name));
    },

    mayBypassGovernance(account) {
      const c = cached(account);
      return c !== undefined && c.row.status === 'active' && c.row.bypassGovernance;
    },

    deleteAccount(name) {
      const c = mustGet(name);
      if (name === ROOT_ACCOUNT) throw AccountErrors.protectedRoot('deleted');
      const u = usage(name);
      if (u.buckets > 0) throw AccountErrors.hasBuckets(name, u.buckets);
      meter.sample(nowMs(), () => u.bytes, c.row.id);
      meter.flush();
      repo.deleteAccount(c.row.id);
      meter.untrack(c.row.id);
      limiter.forget(c.row.id);
      invalidate();
      log?.info({ account: name }, 'account deleted');
    },

    createKey(name) {
      const c = mustGet(name);
      const key = repo.tx(() => newKey(c.row));
      invalidate();
      log?.info({ account: name, accessKey: key.accessKeyId }, 'access key created');
      return key;
    },

    listKeys: (name) =>
      repo.keysOf(mustGet(name).row.id).map((k) => ({ accessKeyId: k.accessKey, status: k.status, created: k.created })),

    deleteKey(name, accessKey) {
      const c = mustGet(name);
      repo.tx(() => {
        const k = repo.key(accessKey);
        if (!k || k.accountId !== c.row.id) throw AccountErrors.noSuchAccessKey(name, accessKey);
        if (name === ROOT_ACCOUNT && repo.keysOf(c.row.id).filter((x) => x.status === 'active').length <= 1) {
          throw AccountErrors.lastRootKey();
        }
        repo.deleteKey(accessKey);
      });
      invalidate();
      log?.info({ account: name, accessKey }, 'access key deleted');
    },

    getQuota: (name) => {
      const c = mustGet(name);
      return quotaView(c.overrides, defaults, c.row.role);
    },

    setQuota(name, patch) {
      const c = mustGet(name);
      repo.saveOverrides(c.row.id, applyPatch(c.overrides, patch));
      invalidate();
      limiter.forget(c.row.id);
      log?.info({ account: name, quota: patch }, 'quota changed');
      return service.getQuota(name);
    },

    usageReport(name, month) {
      const m = month ?? monthOf(nowMs());
      if (!isMonth(m)) throw Errors.invalidArgument(`'${m}' is not a month: write it as YYYY-MM, e.g. ${monthOf(nowMs())}`);
      const isCurrent = m === monthOf(nowMs());
      if (isCurrent) sample();
      meter.flush();
      const only = name === undefined ? undefined : mustGet(name);
      const rows: MeteringRow[] = meter.rows(m, only?.row.id);
      const live = new Map(repo.listAccounts().map((r) => [r.id, r]));
      const reports = rows.map((r) => report(r, live.has(r.accountId)));
      // Existing accounts without a row this month still appear, with zeros.
      const seen = new Set(rows.map((r) => r.accountId));
      for (const r of only ? [only.row] : live.values()) {
        if (!seen.has(r.id)) reports.push(report(emptyRow(r, m), true));
      }
      reports.sort((a, b) => a.account.localeCompare(b.account));
      if (isCurrent) for (const r of reports) if (r.exists) r.current = safeUsage(r.account);
      return reports;
    },

    flush,

    close() {
      if (closed) return;
      closed = true;
      if (timer) clearInterval(timer);
      sample();
      meter.flush();
    },
  };
  return service;
}

const emptyRow = (r: AccountRow, month: string): MeteringRow => ({
  accountId: r.id,
  account: r.name,
  month,
  storageByteHours: 0,
  ingressBytes: 0,
  egressBytes: 0,
  writeRequests: 0,
  readRequests: 0,
});

const report = (r: MeteringRow, exists: boolean): UsageReport => ({
  account: r.account,
  month: r.month,
  storageByteHours: r.storageByteHours,
  ingressBytes: r.ingressBytes,
  egressBytes: r.egressBytes,
  writeRequests: r.writeRequests,
  readRequests: r.readRequests,
  exists,
});
