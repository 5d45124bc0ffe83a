import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { keyToShares, keyToWords, parseKit, parseThreshold, sharesToKey, wordsToKey } from './key-kit.ts';

describe('recovery kit', () => {
  it('24 words round-trip the master key', () => {
    for (let i = 0; i < 20; i++) {
      const key = randomBytes(32);
      const phrase = keyToWords(key);
      expect(phrase.split(' ')).toHaveLength(24);
      expect(wordsToKey(phrase)).toEqual(key);
      expect(parseKit(`  ${phrase.toUpperCase().replace(/ /g, '\n')}\n`)).toEqual(key);
    }
  });

  it('a mistyped or swapped word is caught', () => {
    const phrase = keyToWords(randomBytes(32)).split(' ');
    expect(() => wordsToKey([...phrase.slice(0, 23)].join(' '))).toThrow(/23 words; it must have 24/);
    expect(() => wordsToKey(['abandonn', ...phrase.slice(1)].join(' '))).toThrow(/'abandonn' is not in the BIP39/);
    const swapped = [...phrase];
    [swapped[0], swapped[5]] = [swapped[5]!, swapped[0]!];
    if (swapped.join(' ') !== phrase.join(' ')) expect(() => wordsToKey(swapped.join(' '))).toThrow(/checksum/);
  });

  it('any K of N shares restore the key; fewer or mixed splits are refused', () => {
    const key = randomBytes(32);
    const shares = keyToShares(key, 3, 5);
    expect(shares).toHaveLength(5);
    expect(shares[0]).toMatch(/^3-1-[0-9a-f]{4} (\w+ ){23}\w+$/);
    expect(sharesToKey([shares[4]!, shares[0]!, shares[2]!])).toEqual(key);
    expect(parseKit(`${shares[1]}\n${shares[3]}\n${shares[4]}\n`)).toEqual(key);
    expect(parseKit(`${shares[1]};${shares[3]};${shares[0]}`)).toEqual(key);
    expect(() => sharesToKey([shares[0]!, shares[1]!])).toThrow(/2 distinct share\(s\) given; this split needs 3/);
    expect(() => sharesToKey([shares[0]!, shares[0]!, shares[1]!])).toThrow(/needs 3/);
    const other = keyToShares(key, 3, 5);
    expect(() => sharesToKey([shares[0]!, shares[1]!, other[2]!])).toThrow(/two different splits/);
  });

  it('parses K/N', () => {
    expect(parseThreshold('3/5')).toEqual({ k: 3, n: 5 });
    for (const bad of ['5/3', '0/2', 'x', '2/256', '1/3']) expect(() => parseThreshold(bad)).toThrow(/K\/N/);
  });
});
