import { describe, expect, it } from 'vitest';
import { formatBytes, parseBytes } from './bytes.ts';

describe('byte sizes', () => {
  it('formats', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100 * 2 ** 30)).toBe('100 GiB');
    expect(formatBytes(99.9 * 2 ** 30)).toBe('99.9 GiB');
    expect(formatBytes(Infinity)).toBe('unlimited');
  });
  it('parses', () => {
    expect(parseBytes('100GiB')).toBe(100 * 2 ** 30);
    expect(parseBytes('1.5 TB')).toBe(1.5e12);
    expect(parseBytes('512m')).toBe(512e6);
    expect(parseBytes('4096')).toBe(4096);
    expect(() => parseBytes('lots')).toThrow(/not a size/);
    expect(() => parseBytes('10 GiBs')).toThrow(RangeError);
  });
});
