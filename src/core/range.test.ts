import { describe, expect, it } from 'vitest';
import { resolveRange, rangeLength } from './range.ts';
import type { RangeSpec } from './object-store.ts';

describe('resolveRange', () => {
  const ok: [RangeSpec, number, { start: number; end: number }][] = [
    [{ start: 0, end: 0 }, 10, { start: 0, end: 0 }],
    [{ start: 2, end: 5 }, 10, { start: 2, end: 5 }],
    [{ start: 2 }, 10, { start: 2, end: 9 }],
    [{ start: 9 }, 10, { start: 9, end: 9 }],
    [{ start: 5, end: 100 }, 10, { start: 5, end: 9 }], // end past size clamps
    [{ suffix: 3 }, 10, { start: 7, end: 9 }],
    [{ suffix: 10 }, 10, { start: 0, end: 9 }],
    [{ suffix: 50 }, 10, { start: 0, end: 9 }], // suffix larger than the object: all of it
  ];
  it.each(ok)('%j of %i bytes -> %j', (spec, size, want) => {
    expect(resolveRange(spec, size)).toEqual(want);
  });

  const bad: [RangeSpec, number][] = [
    [{ start: 10 }, 10],
    [{ start: 11, end: 20 }, 10],
    [{ start: 0 }, 0], // any range on an empty object
    [{ suffix: 5 }, 0],
    [{ suffix: 0 }, 10],
    [{ start: 5, end: 4 }, 10],
    [{ start: -1 }, 10],
  ];
  it.each(bad)('%j of %i bytes -> InvalidRange', (spec, size) => {
    expect(() => resolveRange(spec, size)).toThrowError(expect.objectContaining({ code: 'InvalidRange', fields: { ActualObjectSize: String(size) } }));
  });

  it('measures a range', () => {
    expect(rangeLength({ start: 3, end: 3 })).toBe(1);
    expect(rangeLength({ start: 0, end: 9 })).toBe(10);
  });
});
