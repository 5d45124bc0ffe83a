import { describe, expect, it } from 'vitest';
import { formatBytes, parseCount, parseDuration, parseSize } from './sizes.ts';

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

  it('formats bytes as the mesh says them (the former mesh/bytes.ts)', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100 * 2 ** 30)).toBe('100 GiB');
    expect(formatBytes(99.9 * 2 ** 30)).toBe('99.9 GiB');
    expect(formatBytes(Infinity)).toBe('unlimited');
  });

  it('one syntax for every setting: a lone M or Ki is ambiguous and refused everywhere', () => {
    expect(() => parseSize('4M')).toThrow(/unknown unit 'M'/);
    expect(() => parseSize('4Ki')).toThrow(/unknown unit 'Ki'/);
    expect(parseSize('4mib')).toBe(4 * 2 ** 20);
  });

  it('parses durations', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(() => parseDuration('soon')).toThrow(/'soon' is not a duration/);
  });
});
