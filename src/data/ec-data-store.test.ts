import { SEGMENTS_IN_FLIGHT } from './writer.ts';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { chunked, collectBytes, ecFixture, label, type EcFixture } from './testing/ec.ts';
import { createEcDataStore } from './ec-data-store.ts';
import type { ShardNetwork } from '../../mesh/shards.ts';
import { isDomainError } from '../core/errors.ts';

const SEG = 64 * 1024;
let f: EcFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

/** A network that forwards to another and counts the calls. */
function spy(inner: ShardNetwork) {
  const gets: string[] = [];
  const puts: string[] = [];
  const net: ShardNetwork = {
    self: inner.self,
    place: (ids) => inner.place(ids),
    put: async (p, id, b, o) => {
      puts.push(id);
      return inner.put(p, id, b, o);
    },
    get: async (p, id, o) => {
      gets.push(id);
      return inner.get(p, id, o);
    },
    has: (p, id, o) => inner.has(p, id, o),
    delete: (p, id, o) => inner.delete(p, id, o),
    localPath: (id) => inner.localPath(id),
  };
  return { net, gets, puts };
}

async function put(store: EcFixture['store'], data: Uint8Array, chunk?: number): Promise<string> {
  const w = await store.write(chunked(data, chunk), {});
  expect(w.size).toBe(data.length);
  store.commit(w.manifestId);
  return w.manifestId;
}

describe('EcDataStore write and read', () => {
  it('reads back every size byte-identical: 0, 1, inline edge, segment boundaries +-1, several segments', async () => {
    f = ecFixture({ segmentSize: SEG });
    const sizes = [0, 1, 4095, 4096, 4097, SEG - 1, SEG, SEG + 1, 2 * SEG, 5 * SEG + 12345];
    for (const size of sizes) {
      const data = randomBytes(size);
      const id = await put(f.store, data, 10_000);
      const back = await collectBytes(f.store.read(id, { start: 0, end: size, label }));
      expect(back.equals(data), `size ${size}`).toBe(true);
      const d = f.store.describe(id);
      expect(d.size).toBe(size);
      expect(d.inline).toBe(size <= 4096);
      expect(d.segments).toHaveLength(size <= 4096 ? 0 : Math.ceil(size / SEG));
      for (const s of d.segments) {
        expect(s.shards).toHaveLength(6);
        for (const sh of s.shards) {
          expect(sh.location).toBe('node-1');
          expect(existsSync(sh.path!)).toBe(true);
        }
      }
    }
  });

  it('reads random ranges byte-identical, fetching only the segments they overlap', async () => {
    f = ecFixture({ segmentSize: SEG });
    const s = spy(f.network);
    const store = f.reopen({ network: s.net });
    const size = 7 * SEG + 999;
    const data = randomBytes(size);
    const id = await put(store, data, 7777);
    const segOf = new Map<string, number>();
    for (const seg of store.describe(id).segments) for (const sh of seg.shards) segOf.set(sh.id, seg.index);
    for (let i = 0; i < 60; i++) {
      const a = randomInt(0, size);
      const b = i % 10 === 0 ? size : randomInt(a, size + 1);
      s.gets.length = 0;
      const back = await collectBytes(store.read(id, { start: a, end: b, label }));
      expect(back.equals(data.subarray(a, b)), `range [${a}, ${b})`).toBe(true);
      const touched = new Set(s.gets.map((g) => segOf.get(g)));
      const expected = b > a ? Math.floor((b - 1) / SEG) - Math.floor(a / SEG) + 1 : 0;
      expect(touched.size).toBe(expected);
      expect(s.gets.length).toBe(expected * 4); // the k data shards only
    }
    // ends past the object are clamped, empty ranges are empty
    expect((await collectBytes(store.read(id, { start: size - 10, end: size + 1000, label }))).equals(data.subarray(size - 10))).toBe(true);
    expect((await collectBytes(store.read(id, { start: 5, end: 5, label }))).length).toBe(0);
  });

  it('works with the default 4 MiB segments: 4 MiB - 1, 4 MiB, 4 MiB + 1', async () => {
    f = ecFixture();
    const MiB4 = 4 * 1024 * 1024;
    for (const size of [MiB4 - 1, MiB4, MiB4 + 1]) {
      const data = randomBytes(size);
      const id = await put(f.store, data, 256 * 1024);
      expect((await collectBytes(f.store.read(id, { start: 0, end: size, label }))).equals(data)).toBe(true);
      expect(f.store.describe(id).segments.map((s) => s.size)).toEqual(size > MiB4 ? [MiB4, 1] : [size]);
    }
  });

  it('keeps at most SEGMENTS_IN_FLIGHT segments in flight while writing', async () => {
    f = ecFixture({ segmentSize: SEG });
    let blocked = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const twoSegmentsBlocked = Promise.withResolvers<void>();
    const s = spy(f.network);
    const net: ShardNetwork = {
      ...s.net,
      put: async (p, id, b, o) => {
        if (++blocked === 6 * SEGMENTS_IN_FLIGHT) twoSegmentsBlocked.resolve();
        await gate;
        return f!.network.put(p, id, b, o);
      },
    };
    const store = f.reopen({ network: net });
    let pulled = 0;
    const data = randomBytes(10 * SEG);
    const body = (async function* () {
      for (let i = 0; i < 10; i++) {
        pulled++;
        yield data.subarray(i * SEG, (i + 1) * SEG);
      }
    })();
    const writing = store.write(body, {});
    await twoSegmentsBlocked.promise;
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(blocked).toBe(6 * SEGMENTS_IN_FLIGHT);
    expect(pulled).toBeLessThanOrEqual(SEGMENTS_IN_FLIGHT + 1);
    release();
    const w = await writing;
    store.commit(w.manifestId);
    expect(pulled).toBe(10);
    expect((await collectBytes(store.read(w.manifestId, { start: 0, end: w.size, label }))).equals(data)).toBe(true);
  });

  it('prefetches one segment ahead while a read is being consumed, no more', async () => {
    f = ecFixture({ segmentSize: SEG });
    const s = spy(f.network);
    const store = f.reopen({ network: s.net });
    const data = randomBytes(10 * SEG);
    const id = await put(store, data);
    s.gets.length = 0;
    const it = store.read(id, { start: 0, end: data.length, label })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(Buffer.from(first.value as Uint8Array).equals(data.subarray(0, SEG))).toBe(true);
    await vi.waitFor(() => expect(s.gets.length).toBe(8));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(s.gets.length).toBe(8);
    await it.return?.();
  });

  it('authenticates a healthy read by the AEAD tag alone: no shard is hashed', async () => {
    f = ecFixture({ segmentSize: SEG });
    const data = randomBytes(3 * SEG + 10);
    const id = await put(f.store, data);
    const asked: (boolean | undefined)[] = [];
    const s = spy(f.network);
    const store = f.reopen({ network: { ...s.net, get: (p, sid, o) => (asked.push(o?.verify), s.net.get(p, sid, o)) } });
    const hash = vi.spyOn(f.shards['codec'] as { hash: (...a: unknown[]) => unknown }, 'hash');
    expect((await collectBytes(store.read(id, { start: 0, end: data.length, label }))).equals(data)).toBe(true);
    expect(asked).toEqual(Array(4 * 4).fill(false));
    expect(hash).not.toHaveBeenCalled();
    hash.mockRestore();
  });

  it('finds a corrupt data shard after a tag failure, reports it and reads around it from parity', async () => {
    f = ecFixture({ segmentSize: SEG });
    const data = randomBytes(2 * SEG);
    const id = await put(f.store, data);
    const seg = f.store.describe(id).segments[1]!;
    const bad = seg.shards[2]!;
    const bytes = readFileSync(bad.path!);
    bytes[100]! ^= 0x01;
    writeFileSync(bad.path!, bytes);
    const before = f.store.counters.badShards;
    expect((await collectBytes(f.store.read(id, { start: 0, end: data.length, label }))).equals(data)).toBe(true);
    expect(f.store.counters.badShards).toBe(before + 1);
  });

  it('asks for parity in place of a data shard that is slow, and cancels the slow fetch', async () => {
    f = ecFixture({ segmentSize: SEG });
    const data = randomBytes(3 * SEG);
    const id = await put(f.store, data);
    const slowIds = new Set(f.store.describe(id).segments.map((s) => s.shards[1]!.id));
    let cancelled = 0;
    const s = spy(f.network);
    const net: ShardNetwork = {
      ...s.net,
      get: (p, shard, o) =>
        slowIds.has(shard)
          ? new Promise((_, reject) =>
              o?.signal?.addEventListener('abort', () => {
                cancelled++;
                reject(new Error('aborted'));
              }),
            )
          : s.net.get(p, shard, o),
    };
    const store = f.reopen({ network: net, hedgeAfterMs: 20 });
    expect((await collectBytes(store.read(id, { start: 0, end: data.length, label }))).equals(data)).toBe(true);
    expect(cancelled).toBe(3);
    expect(store.counters.degradedReads).toBe(3);
  });

  it('refuses bodies past maxSize with EntityTooLarge and keeps nothing', async () => {
    f = ecFixture({ segmentSize: SEG });
    const err = await f.store.write(chunked(randomBytes(3 * SEG)), { maxSize: 2 * SEG }).catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe('EntityTooLarge');
    await f.store.collect();
    expect((await f.shards.stats()).count).toBe(0);
    expect(f.db.prepare('SELECT COUNT(*) AS n FROM ec_manifests').get()).toEqual({ n: 0 });
  });

  it('commit is idempotent, a released manifest cannot be committed', async () => {
    f = ecFixture();
    const w = await f.store.write(chunked(randomBytes(10)), {});
    expect(f.store.describe(w.manifestId).state).toBe('pending');
    f.store.commit(w.manifestId);
    f.store.commit(w.manifestId);
    expect(f.store.describe(w.manifestId).state).toBe('live');
    f.store.release(w.manifestId);
    expect(() => f!.store.commit(w.manifestId)).toThrow(/cannot be committed: it was released/);
    expect(() => f!.store.describe('nope')).toThrow(/manifest nope does not exist/);
  });

  it('refuses to start with a master key other than the one the directory was created with', () => {
    f = ecFixture();
    expect(() => f!.reopen({ masterKey: randomBytes(32) })).toThrow(
      `the master key does not match the one this data directory was created with (${f.dir}): set DATAMESH_MASTER_KEY to the original key or restore ${f.dir}/master.key`,
    );
    expect(() => f!.reopen({})).not.toThrow();
  });

  it('rejects a nonsense erasure code or segment size', () => {
    f = ecFixture();
    const base = { db: f.db, network: f.network, masterKey: f.masterKey };
    expect(() => createEcDataStore({ ...base, ec: { k: 0, m: 2 } })).toThrow(/k must be at least 1/);
    expect(() => createEcDataStore({ ...base, ec: { k: 4, m: 2 }, segmentSize: 0 })).toThrow(/segment size 0/);
  });
});
