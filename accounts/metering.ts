/**
 * Usage metering per account and calendar month (UTC): storage in byte-hours, ingress and egress
 * bytes, requests by class (write/list vs read). Counters gather in memory and are written to
 * SQLite in one transaction per flush (the service flushes every second and at close), so a restart
 * loses at most the last second. Storage is sampled (usage(account).bytes) and integrated over time
 * with the trapezoid rule; the last sample is stored with the account, so the time a node was down
 * is still charged for the bytes it held.
 */
import type { DB } from '../src/core/db.ts';
import type { RequestClass } from '../src/core/access.ts';

export interface MonthCounters {
  storageByteHours: number;
  ingressBytes: number;
  egressBytes: number;
  /** Write and list requests (PUT, POST, DELETE, COPY, LIST...). */
  writeRequests: number;
  /** Read requests (GET, HEAD). */
  readRequests: number;
}

export interface MeteringRow extends MonthCounters {
  accountId: number;
  account: string;
  month: string;
}

const zero = (): MonthCounters => ({ storageByteHours: 0, ingressBytes: 0, egressBytes: 0, writeRequests: 0, readRequests: 0 });

/** 'YYYY-MM' of a time, in UTC. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

/** Start of the month after `month` ('YYYY-MM'), in ms since the epoch (UTC). */
export function nextMonthStart(month: string): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Date.UTC(y, m, 1);
}

export const isMonth = (s: string): boolean => /^\d{4}-(0[1-9]|1[0-2])$/.test(s);

/**
 * Byte-hours between two samples, split at month boundaries. Bytes are taken to move linearly from
 * `fromBytes` to `toBytes` (trapezoid rule). Pure.
 */
export function accrueByteHours(
  fromMs: number,
  toMs: number,
  fromBytes: number,
  toBytes: number,
): Array<{ month: string; byteHours: number }> {
  if (!(toMs > fromMs)) return [];
  const out: Array<{ month: string; byteHours: number }> = [];
  const span = toMs - fromMs;
  const bytesAt = (t: number): number => fromBytes + ((toBytes - fromBytes) * (t - fromMs)) / span;
  let t = fromMs;
  while (t < toMs) {
    const month = monthOf(t);
    const end = Math.min(toMs, nextMonthStart(month));
    const byteHours = ((bytesAt(t) + bytesAt(end)) / 2) * ((end - t) / 3_600_000);
    out.push({ month, byteHours });
    t = end;
  }
  return out;
}

interface Sample {
  name: string;
  at: number;
  bytes: number;
  dirty: boolean;
}

export interface Meter {
  countRequest(accountId: number, name: string, kind: RequestClass, now: number): void;
  addTransfer(accountId: number, name: string, t: { ingress?: number; egress?: number }, now: number): void;
  /** Ingress + egress bytes of the account in the month of `now`, including what is not flushed yet. */
  monthTransfer(accountId: number, now: number): number;
  /** Starts sampling an account's storage (at account creation, or at start from the stored sample). */
  track(accountId: number, name: string, at: number, bytes: number): void;
  untrack(accountId: number): void;
  /** Samples every tracked account's (or one account's) stored bytes and accrues byte-hours up to `now`. */
  sample(now: number, bytesOf: (name: string) => number, only?: number): void;
  /** Writes the pending counters and samples in one transaction. */
  flush(): void;
  /** Metering rows of a month (all accounts, or one). Flush first to include pending counters. */
  rows(month: string, accountId?: number): MeteringRow[];
  hasPending(): boolean;
}

/**
 * `shared`: the catalog is shared by several gateways (PostgreSQL). monthTransfer is then the
 * catalog's committed figure (every gateway's flushed traffic), read again after each flush, plus this
 * gateway's unflushed bytes, instead of a running total of this gateway's own traffic. Transfer is
 * checked as each chunk flows, so the figure is cached between flushes rather than read per chunk:
 * another gateway's bytes count here at most two flush intervals after they moved.
 */
export function createMeter(db: DB, onSampleError: (name: string, err: unknown) => void = () => {}, shared = false): Meter {
  const pending = new Map<string, { accountId: number; name: string; month: string; c: MonthCounters }>();
  /** Shared: the committed figure as last read. Otherwise: the running total, pending bytes included. */
  const transfer = new Map<number, { month: string; bytes: number }>();
  const samples = new Map<number, Sample>();

  const upsert = db.prepare(`
    INSERT INTO metering (account_id, account, month, storage_byte_hours, ingress_bytes, egress_bytes, write_requests, read_requests)
    VALUES (@accountId, @name, @month, @storageByteHours, @ingressBytes, @egressBytes, @writeRequests, @readRequests)
    ON CONFLICT(account_id, month) DO UPDATE SET
      account = excluded.account,
      storage_byte_hours = metering.storage_byte_hours + excluded.storage_byte_hours,
      ingress_bytes = metering.ingress_bytes + excluded.ingress_bytes,
      egress_bytes = metering.egress_bytes + excluded.egress_bytes,
      write_requests = metering.write_requests + excluded.write_requests,
      read_requests = metering.read_requests + excluded.read_requests`);
  const saveSample = db.prepare('UPDATE accounts SET storage_sampled_at = ?, storage_sampled_bytes = ? WHERE id = ?');
  const transferOf = db.prepare('SELECT ingress_bytes + egress_bytes AS t FROM metering WHERE account_id = ? AND month = ?');
  const selectMonth = db.prepare('SELECT * FROM metering WHERE month = ? ORDER BY account');
  const selectOne = db.prepare('SELECT * FROM metering WHERE month = ? AND account_id = ?');

  const counters = (accountId: number, name: string, month: string): MonthCounters => {
    const k = `${accountId}/${month}`;
    let p = pending.get(k);
    if (!p) {
      p = { accountId, name, month, c: zero() };
      pending.set(k, p);
    }
    return p.c;
  };

  const writeAll = db.transaction(() => {
    for (const p of pending.values()) upsert.run({ accountId: p.accountId, name: p.name, month: p.month, ...p.c });
    for (const [id, s] of samples) {
      if (s.dirty) saveSample.run(s.at, s.bytes, id);
    }
  });

  const toRow = (r: Record<string, unknown>): MeteringRow => ({
    accountId: Number(r.account_id),
    account: String(r.account),
    month: String(r.month),
    storageByteHours: Number(r.storage_byte_hours),
    ingressBytes: Number(r.ingress_bytes),
    egressBytes: Number(r.egress_bytes),
    writeRequests: Number(r.write_requests),
    readRequests: Number(r.read_requests),
  });

  return {
    countRequest(accountId, name, kind, now) {
      const c = counters(accountId, name, monthOf(now));
      if (kind === 'read') c.readRequests++;
      else c.writeRequests++;
    },
    addTransfer(accountId, name, t, now) {
      const ingress = Math.max(0, t.ingress ?? 0);
      const egress = Math.max(0, t.egress ?? 0);
      if (ingress === 0 && egress === 0) return;
      const month = monthOf(now);
      const c = counters(accountId, name, month);
      c.ingressBytes += ingress;
      c.egressBytes += egress;
      const cached = transfer.get(accountId);
      if (!shared && cached && cached.month === month) cached.bytes += ingress + egress;
    },
    monthTransfer(accountId, now) {
      const month = monthOf(now);
      const p = pending.get(`${accountId}/${month}`);
      const unflushed = p ? p.c.ingressBytes + p.c.egressBytes : 0;
      const cached = transfer.get(accountId);
      if (cached && cached.month === month) return cached.bytes + (shared ? unflushed : 0);
      const committed = Number((transferOf.get(accountId, month) as { t: number } | undefined)?.t ?? 0);
      transfer.set(accountId, { month, bytes: shared ? committed : committed + unflushed });
      return committed + unflushed;
    },
    track(accountId, name, at, bytes) {
      samples.set(accountId, { name, at, bytes, dirty: false });
    },
    untrack(accountId) {
      samples.delete(accountId);
      transfer.delete(accountId);
    },
    sample(now, bytesOf, only) {
      for (const [id, s] of samples) {
        if (only !== undefined && id !== only) continue;
        let bytes: number;
        try {
          bytes = bytesOf(s.name);
        } catch (err) {
          onSampleError(s.name, err);
          continue;
        }
        for (const { month, byteHours } of accrueByteHours(s.at, now, s.bytes, bytes)) {
          counters(id, s.name, month).storageByteHours += byteHours;
        }
        if (now > s.at) s.at = now;
        s.bytes = bytes;
        s.dirty = true;
      }
    },
    flush() {
      if (shared) transfer.clear(); // read the other gateways' traffic again
      if (pending.size === 0 && ![...samples.values()].some((s) => s.dirty)) return;
      writeAll();
      pending.clear();
      for (const s of samples.values()) s.dirty = false;
    },
    rows(month, accountId) {
      const rows = (accountId === undefined ? selectMonth.all(month) : selectOne.all(month, accountId)) as Record<string, unknown>[];
      return rows.map(toRow);
    },
    hasPending: () => pending.size > 0,
  };
}
