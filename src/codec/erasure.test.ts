import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { decode, encode, encodeShards, parseEc, reconstruct, shardSizeFor } from './erasure.ts';
import { shardId } from './cid.ts';

/** Every way to pick `r` of the indices 0..n-1. */
function combinations(n: number, r: number): number[][] {
  if (r === 0) return [[]];
  const out: number[][] = [];
  for (let i = 0; i < n; i++) for (const rest of combinations(n, r - 1)) if (rest.every((j) => j > i)) out.push([i, ...rest]);
  return out;
}

/** Shards as a reader sees them: a corrupt one fails its id check and counts as missing. */
function readable(shards: Uint8Array[], ids: string[]): (Uint8Array | undefined)[] {
  return shards.map((s, i) => (s.length > 0 && shardId(s) === ids[i] ? s : undefined));
}

const SEGMENT = 64 * 1024;
const SIZES = [0, 1, 7, 8, 9, 31, 32, 33, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 5];

describe('erasure coding 4+2', () => {
  const k = 4;
  const m = 2;

  it('cuts data into n equal shards, multiples of 8 bytes', async () => {
    for (const size of SIZES) {
      const shards = await encode(randomBytes(size), k, m);
      expect(shards).toHaveLength(k + m);
      for (const s of shards) {
        expect(s.length).toBe(shardSizeFor(size, k));
        expect(s.length % 8).toBe(0);
      }
    }
  });

  it('decode(encode(x)) == x with any m shards removed or corrupted (every combination)', async () => {
    let cases = 0;
    for (const size of SIZES) {
      const data = randomBytes(size);
      const shards = await encode(data, k, m);
      const ids = shards.map((s) => shardId(s));
      for (let lost = 0; lost <= m; lost++) {
        for (const picked of combinations(k + m, lost)) {
          // each picked shard is either removed or has a bit flipped: try every mix
          for (let mask = 0; mask < 1 << lost; mask++) {
            const damaged = shards.map((s) => Buffer.from(s));
            picked.forEach((idx, j) => {
              if (mask & (1 << j)) damaged[idx]![Math.floor(damaged[idx]!.length / 2)]! ^= 0x40;
              else damaged[idx] = Buffer.alloc(0);
            });
            const back = await decode(readable(damaged, ids), k, m, size);
            expect(Buffer.from(back).equals(data), `size ${size}, lost ${picked} mask ${mask}`).toBe(true);
            cases++;
          }
        }
      }
    }
    expect(cases).toBe(SIZES.length * (1 + 6 * 2 + 15 * 4));
  });

  it('fails clearly when more than m shards are lost', async () => {
    const data = randomBytes(1000);
    const shards = await encode(data, k, m);
    for (const picked of combinations(k + m, m + 1)) {
      const lossy = shards.map((s, i) => (picked.includes(i) ? undefined : s));
      await expect(decode(lossy, k, m, data.length)).rejects.toThrow(/only 3 of 6 shards present, 4 needed/);
    }
  });

  it('reconstruct rebuilds exactly the missing shards, byte for byte', async () => {
    const data = randomBytes(3 * SEGMENT + 5);
    const shards = await encode(data, k, m);
    for (const picked of [...combinations(6, 1), ...combinations(6, 2)]) {
      const lossy = shards.map((s, i) => (picked.includes(i) ? undefined : s));
      const rebuilt = await reconstruct(lossy, k, m);
      expect(rebuilt.map((r) => r.index)).toEqual(picked);
      for (const r of rebuilt) expect(Buffer.from(r.bytes).equals(Buffer.from(shards[r.index]!))).toBe(true);
    }
    expect(await reconstruct(shards, k, m)).toEqual([]);
  });

  it('encodeShards codes in place: the data shards are views of the input', async () => {
    const data = randomBytes(4 * 1024);
    const shards = await encodeShards(data, k, m);
    expect(shards[0]!.buffer).toBe(data.buffer);
    await expect(encodeShards(randomBytes(4 * 1001), k, m)).rejects.toThrow(/multiple of 8/);
  });
});

describe('other codes', () => {
  it('round-trips with every combination of m losses for 1+1, 2+1, 6+3, 10+4 and m=0', async () => {
    for (const [k, m] of [[1, 1], [2, 1], [6, 3], [10, 4], [3, 0]] as const) {
      const data = randomBytes(12345);
      const shards = await encode(data, k, m);
      for (const picked of combinations(k + m, m)) {
        const lossy = shards.map((s, i) => (picked.includes(i) ? undefined : s));
        expect(Buffer.from(await decode(lossy, k, m, data.length)).equals(data), `${k}+${m} lost ${picked}`).toBe(true);
      }
    }
  });
});

describe('parseEc', () => {
  it('accepts K+M', () => {
    expect(parseEc('4+2')).toEqual({ k: 4, m: 2 });
    expect(parseEc(' 10 + 4 ')).toEqual({ k: 10, m: 4 });
    expect(parseEc('1+0')).toEqual({ k: 1, m: 0 });
  });

  it('rejects nonsense with a message that says what to use', () => {
    expect(() => parseEc('0+2')).toThrow('--ec 0+2: k must be at least 1 (use e.g. 4+2)');
    expect(() => parseEc('30+3')).toThrow(/--ec 30\+3: k\+m must be at most 32/);
    expect(() => parseEc('25+1')).toThrow(/k must be at most 24/);
    expect(() => parseEc('4+7')).toThrow(/m must be at most 6/);
    expect(() => parseEc('4-2')).toThrow(/expected K\+M/);
    expect(() => parseEc('a+b')).toThrow(/expected K\+M/);
    expect(() => parseEc('4+-1')).toThrow(/expected K\+M/);
    expect(() => parseEc('4.5+2')).toThrow(/expected K\+M/);
    expect(() => parseEc('')).toThrow(/expected K\+M/);
  });
});
