import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/core/db.ts';
import { accrueByteHours, createMeter, isMonth, monthOf, nextMonthStart } from './metering.ts';
import { migrateAccounts } from './schema.ts';

const H = 3_600_000;

describe('metering math', () => {
  it('names months in UTC', () => {
    expect(monthOf(Date.UTC(2025, 0, 31, 23, 59, 59))).toBe('2025-01');
    expect(monthOf(Date.UTC(2025, 1, 1))).toBe('2025-02');
    expect(nextMonthStart('2025-12')).toBe(Date.UTC(2026, 0, 1));
    expect(isMonth('2025-12')).toBe(true);
    expect(isMonth('2025-13')).toBe(false);
  });

  it('integrates bytes over time with the trapezoid rule', () => {
    const t0 = Date.UTC(2025, 4, 10);
    expect(accrueByteHours(t0, t0 + 2 * H, 100, 100)).toEqual([{ month: '2025-05', byteHours: 200 }]);
    expect(accrueByteHours(t0, t0 + 2 * H, 0, 100)).toEqual([{ month: '2025-05', byteHours: 100 }]);
    expect(accrueByteHours(t0, t0, 100, 100)).toEqual([]);
    expect(accrueByteHours(t0, t0 - H, 100, 100)).toEqual([]);
  });

  it('splits byte-hours at month boundaries', () => {
    const end = Date.UTC(2025, 5, 1);
    const parts = accrueByteHours(end - 3 * H, end + H, 1000, 1000);
    expect(parts).toEqual([
      { month: '2025-05', byteHours: 3000 },
      { month: '2025-06', byteHours: 1000 },
    ]);
  });
});

describe('monthly transfer over a shared catalog', () => {
  it('a shared meter sees the other gateway\'s flushed traffic plus its own unflushed bytes', () => {
    const db = openDatabase(':memory:');
    migrateAccounts(db);
    const t = Date.UTC(2026, 10, 30);
    const a = createMeter(db, undefined, true);
    const b = createMeter(db, undefined, true);
    const solo = createMeter(db); // one gateway: its running total is the whole truth
    expect(b.monthTransfer(1, t)).toBe(0);
    expect(solo.monthTransfer(1, t)).toBe(0);
    a.addTransfer(1, 'alice', { ingress: 600 }, t);
    expect(b.monthTransfer(1, t)).toBe(0); // not flushed yet: the bounded overshoot
    expect(a.monthTransfer(1, t)).toBe(600);
    a.flush();
    expect(a.monthTransfer(1, t)).toBe(600);
    b.addTransfer(1, 'alice', { egress: 50 }, t);
    expect(b.monthTransfer(1, t)).toBe(50); // b read the catalog before a's flush
    b.flush(); // each flush reads the catalog again
    expect(b.monthTransfer(1, t)).toBe(650);
    expect(a.monthTransfer(1, t)).toBe(600); // until a's next flush
    a.flush(); // nothing of a's own to write, still a fresh read
    expect(a.monthTransfer(1, t)).toBe(650);
    expect(solo.monthTransfer(1, t)).toBe(0); // the per-gateway cache never sees the others
    db.close();
  });
});
