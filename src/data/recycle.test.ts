/**
 * The reader's recycled stripe buffers (ec-buffers.ts, src/core/lent.ts): a full segment's
 * plaintext is a lent view of a shared buffer that goes back to the pool only once consumed and
 * once every shard read into it has settled; nothing else ever reuses it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { chunked, ecFixture, label, type EcFixture } from './testing/ec.ts';
import type { ShardNetwork } from '../../mesh/shards.ts';
import { consumed } from '../core/lent.ts';

const SEG = 64 * 1024;
let f: EcFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

async function put(store: EcFixture['store'], data: Uint8Array): Promise<string> {
  const w = await store.write(chunked(data), {});
  store.commit(w.manifestId);
  return w.manifestId;
}

async function chunksOf(store: EcFixture['store'], id: string, size: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of store.read(id, { start: 0, end: size, label })) out.push(c as Buffer);
  return out;
}

const settle = () => new Promise((r) => setTimeout(r, 10));

describe('recycled read buffers', () => {
  it('lends full segments from shared buffers and reuses them once consumed', async () => {
    f = ecFixture({ segmentSize: SEG });
    const a = randomBytes(3 * SEG);
    const id = await put(f.store, a);
    const first = await chunksOf(f.store, id, a.length);
    expect(Buffer.concat(first).equals(a)).toBe(true);
    expect(first.every((c) => c.buffer instanceof SharedArrayBuffer)).toBe(true);
    const used = new Set(first.map((c) => c.buffer));
    for (const c of first) consumed(c);
    await settle();
    const second = await chunksOf(f.store, id, a.length);
    expect(Buffer.concat(second).equals(a)).toBe(true);
    expect(second.some((c) => used.has(c.buffer))).toBe(true);
  });

  it('never reuses a buffer that was not consumed', async () => {
    f = ecFixture({ segmentSize: SEG });
    const a = randomBytes(3 * SEG);
    const b = randomBytes(3 * SEG);
    const ida = await put(f.store, a);
    const idb = await put(f.store, b);
    const held = await chunksOf(f.store, ida, a.length); // not consumed: still in use
    const other = await chunksOf(f.store, idb, b.length);
    expect(Buffer.concat(other).equals(b)).toBe(true);
    const heldBuffers = new Set(held.map((c) => c.buffer));
    expect(other.some((c) => heldBuffers.has(c.buffer))).toBe(false);
    expect(Buffer.concat(held).equals(a)).toBe(true);
  });

  it('keeps a stripe out of the pool until a straggling shard read into it has settled', async () => {
    // Data shard 0 of every segment is slow: parity stands in after the hedge, and the late read
    // then scribbles into the buffer it was given. Its stripe must not be handed to another read
    // before that: a later read would find its shard overwritten.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let stragglers = 0;
    f = ecFixture({ segmentSize: SEG, hedgeAfterMs: 20 });
    const inner = f.network;
    const slow: ShardNetwork = {
      self: inner.self,
      place: (ids) => inner.place(ids),
      put: (p, id, b, o) => inner.put(p, id, b, o),
      has: (p, id) => inner.has(p, id),
      delete: (p, id) => inner.delete(p, id),
      localPath: (id) => inner.localPath(id),
      get: async (p, id, o = {}) => {
        const first = f!.db.prepare('SELECT 1 FROM ec_shards WHERE id = ? AND idx = 0').get(id) !== undefined;
        if (!first || !o.into) return inner.get(p, id, o);
        stragglers++;
        await gate;
        o.into.fill(0xee);
        return undefined;
      },
    };
    const store = f.reopen({ network: slow, segmentSize: SEG, hedgeAfterMs: 20 });
    const a = randomBytes(2 * SEG);
    const id = await put(store, a);
    const first = await chunksOf(store, id, a.length);
    expect(Buffer.concat(first).equals(a)).toBe(true);
    expect(stragglers).toBe(2);
    for (const c of first) consumed(c);
    await settle();
    const firstBuffers = new Set(first.map((c) => c.buffer));
    const during = await chunksOf(store, id, a.length); // the stragglers still hold their stripes
    expect(during.some((c) => firstBuffers.has(c.buffer))).toBe(false);
    release();
    await settle();
    expect(Buffer.concat(during).equals(a)).toBe(true); // held, not consumed: only the first read's stripes are free
    const after = await chunksOf(store, id, a.length);
    expect(Buffer.concat(after).equals(a)).toBe(true);
    expect(after.some((c) => firstBuffers.has(c.buffer))).toBe(true); // back once they settled
  });

  it('fetches ahead while the budget allows, and not once it is spent (one segment at a time)', async () => {
    for (const [budget, ahead] of [[undefined, true], [0, false]] as const) {
      f = ecFixture({ segmentSize: SEG, ...(budget === undefined ? {} : { stripeBudget: budget }) });
      const inner = f.network;
      let reading = 0;
      let most = 0;
      const counting: ShardNetwork = {
        ...inner,
        place: (ids) => inner.place(ids),
        put: (p, id, b, o) => inner.put(p, id, b, o),
        has: (p, id) => inner.has(p, id),
        delete: (p, id) => inner.delete(p, id),
        localPath: (id) => inner.localPath(id),
        self: inner.self,
        get: async (p, id, o = {}) => {
          most = Math.max(most, ++reading);
          try {
            return await inner.get(p, id, o);
          } finally {
            reading--;
          }
        },
      };
      const store = f.reopen({ network: counting, segmentSize: SEG, ...(budget === undefined ? {} : { stripeBudget: budget }) });
      const a = randomBytes(4 * SEG);
      const id = await put(store, a);
      const got: Buffer[] = [];
      for await (const c of store.read(id, { start: 0, end: a.length, label })) {
        got.push(Buffer.from(c));
        await settle(); // a slow consumer: the next segment is fetched meanwhile, or not
        consumed(c);
      }
      expect(Buffer.concat(got).equals(a)).toBe(true);
      // 4 data shards a segment: two segments' worth at once when fetching ahead, one when not
      if (ahead) expect(most).toBeGreaterThan(4);
      else expect(most).toBeLessThanOrEqual(4);
      await f.cleanup();
      f = undefined;
    }
  });
});
