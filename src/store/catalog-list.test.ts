import { describe, expect, it } from 'vitest';
import { compareUtf8, prefixEnd, rollupList, type Cursor, type RollupSource } from './catalog-list.ts';
import { byteOrder, listingModel as model, randomKeys, rng, type Entry } from './testing/fixtures.ts';

const entryName = (e: Entry) => ('key' in e ? e.key : e.prefix);

function arraySource(keys: string[]): RollupSource<string> & { fetches: number } {
  const sorted = [...keys].sort(byteOrder).map((k) => ({ k, b: Buffer.from(k) }));
  /** Index of the first key that is not below the bound. */
  const lowerIndex = (bound: Buffer, inclusive: boolean) => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = Buffer.compare(sorted[mid]!.b, bound);
      if (c < 0 || (c === 0 && !inclusive)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const src = {
    fetches: 0,
    fetch(lower: Cursor, upper: string | undefined, limit: number): string[] {
      src.fetches++;
      const out: string[] = [];
      const ub = upper === undefined ? undefined : Buffer.from(upper);
      for (let i = lowerIndex(Buffer.from(lower.key), lower.op === '>='); i < sorted.length && out.length < limit; i++) {
        if (ub && Buffer.compare(sorted[i]!.b, ub) >= 0) break;
        out.push(sorted[i]!.k);
      }
      return out;
    },
    keyOf: (k: string) => k,
    after: (k: string): Cursor => ({ key: k, op: '>' }),
  };
  return src;
}

/** Pages through everything, chaining each page's last entry as the next marker. */
function pageAll(src: RollupSource<string>, prefix: string, delimiter: string | undefined, max: number, after?: string) {
  const entries: Entry[] = [];
  const pages: number[] = [];
  let start: Cursor | undefined = after === undefined ? undefined : { key: after, op: '>' };
  for (let guard = 0; guard < 10_000; guard++) {
    const r = rollupList(src, { prefix, ...(delimiter ? { delimiter } : {}), ...(start ? { start } : {}), max });
    // the model interleaves keys and prefixes in order; rebuild the page's order by name
    const page: Entry[] = [...r.items.map((key) => ({ key })), ...r.prefixes.map((prefix) => ({ prefix }))].sort((a, b) =>
      byteOrder(entryName(a), entryName(b)),
    );
    entries.push(...page);
    pages.push(page.length);
    expect(page.length).toBeLessThanOrEqual(max);
    if (!r.isTruncated) return { entries, pages };
    expect(page.length).toBe(max);
    const last = r.last!;
    start = { key: 'prefix' in last ? last.prefix : last.row, op: '>' };
  }
  throw new Error('paging did not end');
}

describe('compareUtf8 and prefixEnd', () => {
  it('compareUtf8 is UTF-8 byte order', () => {
    const keys = randomKeys(7, 400);
    for (let i = 0; i < keys.length - 1; i++) {
      const a = keys[i]!;
      const b = keys[i + 1]!;
      expect(Math.sign(compareUtf8(a, b))).toBe(Math.sign(byteOrder(a, b)));
    }
    expect(compareUtf8('\uffff', '😀')).toBeLessThan(0); // UTF-16 order says the opposite
  });

  it('[p, prefixEnd(p)) holds exactly the strings starting with p', () => {
    const keys = randomKeys(3, 500);
    for (const p of ['a', 'a/', 'é', '😀', 'b\uffff', 'c\ud7ff'.slice(0, 1)]) {
      const end = prefixEnd(p)!;
      for (const k of keys) {
        const inRange = byteOrder(k, p) >= 0 && byteOrder(k, end) < 0;
        expect(inRange).toBe(k.startsWith(p));
      }
    }
    expect(prefixEnd('')).toBeUndefined();
    expect(prefixEnd('\u{10ffff}')).toBeUndefined();
    expect(prefixEnd('a\u{10ffff}')).toBe('b');
    expect(prefixEnd('a\ud7ff')).toBe('a\ue000'); // skips the surrogate range
  });
});

describe('rollupList', () => {
  const keys = randomKeys(11, 600);
  const cases: [string, string | undefined, number][] = [
    ['', undefined, 1],
    ['', undefined, 37],
    ['', '/', 1],
    ['', '/', 5],
    ['', '/', 1000],
    ['a', '/', 3],
    ['a/', '/', 4],
    ['b', 'c', 2],
    ['', '😀', 6],
    ['é', 'é', 2],
    ['zzzz', '/', 5],
  ];
  it.each(cases)('prefix %j delimiter %j max %i pages through the whole listing', (prefix, delimiter, max) => {
    const want = model(keys, prefix, delimiter);
    const { entries } = pageAll(arraySource(keys), prefix, delimiter, max);
    expect(entries).toEqual(want);
  });

  it('starts after any marker, skipping the common prefix the marker falls in', () => {
    const r = rng(5);
    for (let i = 0; i < 30; i++) {
      const after = randomKeys(100 + i, 1)[0]!;
      const delimiter = r(2) ? '/' : undefined;
      const prefix = r(3) === 0 ? 'a' : '';
      const want = model(keys, prefix, delimiter, after);
      const { entries } = pageAll(arraySource(keys), prefix, delimiter, 1 + r(50), after);
      expect(entries).toEqual(want);
    }
  });

  it('is exact about truncation and max 0', () => {
    const src = arraySource(['a', 'b', 'c']);
    expect(rollupList(src, { prefix: '', max: 3 })).toMatchObject({ items: ['a', 'b', 'c'], isTruncated: false });
    expect(rollupList(src, { prefix: '', max: 2 })).toMatchObject({ items: ['a', 'b'], isTruncated: true, last: { row: 'b' } });
    expect(rollupList(src, { prefix: '', max: 0 })).toEqual({ items: [], prefixes: [], isTruncated: false });
  });

  it('seeks past a common prefix instead of reading its members', () => {
    const many = Array.from({ length: 5000 }, (_, i) => `dir/${String(i).padStart(5, '0')}`).concat(['a', 'z']);
    const src = arraySource(many);
    const r = rollupList(src, { prefix: '', delimiter: '/', max: 10 });
    expect(r.items).toEqual(['a', 'z']);
    expect(r.prefixes).toEqual(['dir/']);
    expect(src.fetches).toBeLessThanOrEqual(3);
  });
});
