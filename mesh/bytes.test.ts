import { describe, expect, it } from 'vitest';
import { formatBytes } from './bytes.ts';

describe('byte sizes', () => {
  it('formats', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(100 * 2 ** 30)).toBe('100 GiB');
    expect(formatBytes(99.9 * 2 ** 30)).toBe('99.9 GiB');
    expect(formatBytes(Infinity)).toBe('unlimited');
  });
});
