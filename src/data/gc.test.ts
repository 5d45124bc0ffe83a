import { afterEach, describe, expect, it, vi } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { chunked, collectBytes, ecFixture, label, type EcFixture } from './testing/ec.ts';
import { shardId } from '../codec/cid.ts';

const SEG = 64 * 1024;
let f: EcFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

const rows = (fx: EcFixture) => ({
  manifests: (fx.db.prepare('SELECT COUNT(*) AS n FROM ec_manifests').get() as { n: number }).n,
  segments: (fx.db.prepare('SELECT COUNT(*) AS n FROM ec_segments').get() as { n: number }).n,
  shards: (fx.db.prepare('SELECT COUNT(*) AS n FROM ec_shards').get() as { n: number }).n,
});

describe('garbage collection', () => {
  it('a write cut by its abort signal leaves nothing after collect()', async () => {
    f = ecFixture({ segmentSize: SEG });
    const ac = new AbortController();
    let pulled = 0;
    const body = (async function* () {
      for (;;) {
        if (++pulled === 10) ac.abort(new Error('client went away'));
        yield randomBytes(SEG);
      }
    })();
    await expect(f.store.write(body, { signal: ac.signal })).rejects.toThrow('client went away');
    expect((await f.shards.stats()).count).toBeGreaterThan(0);
    const r = await f.store.collect();
    expect(r.manifests).toBe(1);
    expect(await f.shards.stats()).toEqual({ count: 0, bytes: 0 });
    expect(rows(f)).toEqual({ manifests: 0, segments: 0, shards: 0 });
  });

  it('a body that throws mid-way leaves nothing after collect()', async () => {
    f = ecFixture({ segmentSize: SEG });
    const body = (async function* () {
      yield randomBytes(3 * SEG);
      throw new Error('BadDigest: the body did not match its checksum');
    })();
    await expect(f.store.write(body, {})).rejects.toThrow(/BadDigest/);
    await f.store.collect();
    expect(await f.shards.stats()).toEqual({ count: 0, bytes: 0 });
    expect(rows(f)).toEqual({ manifests: 0, segments: 0, shards: 0 });
  });

  it('kill -9 mid-write: the next process collects the pending manifest, its shards and temp files', async () => {
    f = ecFixture({ segmentSize: SEG });
    const keep = await f.store.write(chunked(randomBytes(2 * SEG + 1)), {});
    f.store.commit(keep.manifestId);
    const keptShards = (await f.shards.stats()).count;
    // a writer that stops forever after four segments, as a killed process would
    const stalled = Promise.withResolvers<void>();
    let pulled = 0;
    const body = (async function* () {
      for (;;) {
        if (++pulled === 5) {
          stalled.resolve();
          await new Promise(() => undefined);
        }
        yield randomBytes(SEG);
      }
    })();
    void f.store.write(body, {});
    await stalled.promise;
    // four segments went out before the body stalled: wait until all their shards are on disk
    await vi.waitFor(async () => expect((await f!.shards.stats()).count).toBe(keptShards + 4 * 6));
    // and a temp file that a killed put left behind
    const stray = randomBytes(100);
    const temp = `${f.shards.path(shardId(stray))}.1234.tmp`;
    mkdirSync(dirname(temp), { recursive: true });
    writeFileSync(temp, stray);
    const old = new Date(Date.now() - 60_000);
    utimesSync(temp, old, old);

    // the same process must not collect its own write in progress
    await f.store.collect();
    expect(rows(f).manifests).toBe(2);

    const restarted = f.reopen();
    const r = await restarted.collect();
    expect(r.manifests).toBe(1);
    expect((await f.shards.stats()).count).toBe(keptShards);
    expect(existsSync(temp)).toBe(false);
    expect(rows(f).manifests).toBe(1);
    expect(restarted.describe(keep.manifestId).state).toBe('live');
    expect((await collectBytes(restarted.read(keep.manifestId, { start: 0, end: keep.size, label }))).length).toBe(keep.size);
  });

  it('released manifests are collected, live ones stay readable', async () => {
    f = ecFixture({ segmentSize: SEG });
    const data = randomBytes(3 * SEG);
    const a = await f.store.write(chunked(data), {});
    const b = await f.store.write(chunked(randomBytes(3 * SEG)), {});
    const inline = await f.store.write(chunked(randomBytes(10)), {});
    for (const w of [a, b, inline]) f.store.commit(w.manifestId);
    f.store.release(b.manifestId);
    f.store.release(inline.manifestId);
    expect(await f.store.collect()).toEqual({ manifests: 2, shards: 18 });
    expect((await f.shards.stats()).count).toBe(18);
    expect((await collectBytes(f.store.read(a.manifestId, { start: 0, end: a.size, label }))).equals(data)).toBe(true);
    expect(await f.store.collect()).toEqual({ manifests: 0, shards: 0 });
  });

  it('sweepOrphans deletes shard files that no manifest references', async () => {
    f = ecFixture({ segmentSize: SEG });
    const a = await f.store.write(chunked(randomBytes(SEG)), {});
    f.store.commit(a.manifestId);
    const orphan = randomBytes(1000);
    await f.shards.put(shardId(orphan), orphan);
    expect(await f.store.sweepOrphans()).toEqual({ shards: 1 });
    expect(await f.shards.has(shardId(orphan))).toBe(false);
    expect((await f.shards.stats()).count).toBe(6);
  });

  it('a shard delete that fails keeps the manifest for the next collect', async () => {
    f = ecFixture({ segmentSize: SEG });
    let failing = true;
    const net = {
      self: f.network.self,
      place: (ids: readonly string[]) => f!.network.place(ids),
      put: f.network.put.bind(f.network),
      get: f.network.get.bind(f.network),
      has: f.network.has.bind(f.network),
      localPath: f.network.localPath.bind(f.network),
      delete: async (p: string, id: string) => {
        if (failing) throw new Error('peer unreachable');
        return f!.network.delete(p, id);
      },
    };
    const store = f.reopen({ network: net, localShards: undefined });
    const w = await store.write(chunked(randomBytes(SEG)), {});
    store.release(w.manifestId);
    expect(await store.collect()).toEqual({ manifests: 0, shards: 0 });
    expect(rows(f).manifests).toBe(1);
    failing = false;
    expect(await store.collect()).toEqual({ manifests: 1, shards: 6 });
    expect(rows(f).manifests).toBe(0);
  });
});
