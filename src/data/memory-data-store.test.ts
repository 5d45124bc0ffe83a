import { describe, expect, it } from 'vitest';
import { MemoryDataStore } from './memory-data-store.ts';
import { bytes, chunksOf } from '../store/testing/fixtures.ts';

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of it) out.push(Buffer.from(c));
  return Buffer.concat(out);
}
const label = { bucket: 'b', key: 'k' };

describe('MemoryDataStore', () => {
  it('writes, commits, reads ranges and releases', async () => {
    const m = new MemoryDataStore({ readChunkSize: 7 });
    const data = bytes(1000);
    const w = await m.write(chunksOf(data, 33), {});
    expect(w.size).toBe(1000);
    expect(m.counts()).toEqual({ pending: 1, live: 0, released: 0 });
    await expect(collect(m.read(w.manifestId, { start: 0, end: 10, label }))).rejects.toThrow(/not committed/);
    m.commit(w.manifestId);
    expect(await collect(m.read(w.manifestId, { start: 0, end: 1000, label }))).toEqual(data);
    expect(await collect(m.read(w.manifestId, { start: 30, end: 101, label }))).toEqual(data.subarray(30, 101));
    expect(await collect(m.read(w.manifestId, { start: 5, end: 5, label }))).toEqual(Buffer.alloc(0));
    expect(() => m.commit(w.manifestId)).toThrow(/commit of manifest/);
    m.release(w.manifestId);
    expect(() => m.release(w.manifestId)).toThrow(/release of manifest/);
    expect(m.counts()).toEqual({ pending: 0, live: 0, released: 1 });
    expect(await m.collect()).toEqual({ manifests: 1, shards: 0 });
    expect(m.counts()).toEqual({ pending: 0, live: 0, released: 0 });
  });

  it('copies chunks (callers may reuse buffers) and enforces maxSize and the signal', async () => {
    const m = new MemoryDataStore();
    const buf = Buffer.from('abcd');
    async function* reuse() {
      yield buf;
      buf.fill('z');
      yield buf;
    }
    const w = await m.write(reuse(), {});
    m.commit(w.manifestId);
    expect((await collect(m.read(w.manifestId, { start: 0, end: 8, label }))).toString()).toBe('abcdzzzz');
    await expect(m.write(chunksOf(bytes(100), 10), { maxSize: 50 })).rejects.toMatchObject({ code: 'EntityTooLarge' });
    const ac = new AbortController();
    ac.abort();
    await expect(m.write(chunksOf(bytes(10)), { signal: ac.signal })).rejects.toThrow();
    expect(m.counts()).toEqual({ pending: 0, live: 1, released: 0 }); // failed writes leave nothing
  });
});
