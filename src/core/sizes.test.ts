import { describe, expect, it } from 'vitest';
import { formatBytes, parseCount, parseSize } from './sizes.ts';

describe('sizes', () => {
  it.each([
    ['5GiB', 5 * 2 ** 30],
    ['500MB', 500_000_000],
    ['1.5TB', 1_500_000_000_000],
    ['1048576', 1_048_576],
    ['10 KiB', 10_240],
    ['2gib', 2 * 2 ** 30],
    ['0', 0],
    ['1_000B', 1000],
  ])('parses %s', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each([
    ['5G', /unknown unit 'G'/],
    ['five', /not a size/],
    ['-1GiB', /not a size/],
    ['', /not a size/],
    ['99999PiB', /too large/],
  ])('rejects %s', (text, msg) => expect(() => parseSize(text)).toThrow(msg));

  it('parses counts', () => {
    expect(parseCount('10,000')).toBe(10_000);
    expect(parseCount('600')).toBe(600);
    expect(() => parseCount('1e3')).toThrow(/whole number/);
  });

  it('formats bytes', () => {
    expect(formatBytes(912)).toBe('912 B');
    expect(formatBytes(5 * 2 ** 30)).toBe('5 GiB');
    expect(formatBytes(1.5 * 2 ** 20)).toBe('1.5 MiB');
    expect(formatBytes(123.4 * 2 ** 30)).toBe('123.4 GiB');
  });
});
