import { describe, expect, it } from 'vitest';
import { accrueByteHours, isMonth, monthOf, nextMonthStart } from './metering.ts';

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
