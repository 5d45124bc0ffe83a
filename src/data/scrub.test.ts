import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { chunked, collectBytes, ecFixture, label, type EcFixture } from './testing/ec.ts';
import { verifyShard } from '../codec/cid.ts';
import { isDomainError } from '../core/errors.ts';
import type { ShardGetOptions, ShardNetwork } from '../../mesh/shards.ts';

const SEG = 64 * 1024;
let f: EcFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

async function putObjects(store: EcFixture['store'], sizes: number[]) {
  const out: { id: string; data: Buffer }[] = [];
  for (const size of sizes) {
    const data = randomBytes(size);
    const w = await store.write(chunked(data, 5000), {});
    store.commit(w.manifestId);
    out.push({ id: w.manifestId, data });
  }
  return out;
}

function flipByte(path: string, at: number) {
  const bytes = readFileSync(path);
  bytes[at % bytes.length]! ^= 0xff;
  writeFileSync(path, bytes);
}

const readAll = (store: EcFixture['store'], id: string, size: number) => collectBytes(store.read(id, { start: 0, end: size, label }));

describe('damage, degraded reads and scrub', () => {
  it('reads identical after one shard deleted and another corrupted in every segment, and scrub restores all n', async () => {
    f = ecFixture({ segmentSize: SEG });
    const objects = await putObjects(f.store, [4097, SEG - 1, SEG + 1, 4 * SEG + 7]);
    let segments = 0;
    objects.forEach((o, n) => {
      for (const seg of f!.store.describe(o!.id).segments) {
        segments++;
        // vary which shards go: a data shard and a parity shard, or two data shards
        const del = (seg.index + n) % 6;
        const cor = (del + 1 + (seg.index % 5)) % 6;
        rmSync(seg.shards[del]!.path!);
        flipByte(seg.shards[cor]!.path!, 100 + seg.index);
      }
    });
    for (const o of objects) expect((await readAll(f.store, o!.id, o!.data.length)).equals(o!.data)).toBe(true);
    expect(f.store.counters.degradedReads).toBeGreaterThan(0);

    const progress: [number, number][] = [];
    const result = await f.store.scrub({ onProgress: (done, total) => progress.push([done, total]) });
    expect(result).toEqual({ segmentsChecked: segments, shardsRebuilt: 2 * segments, unrecoverable: [] });
    expect(progress.at(-1)).toEqual([segments, segments]);
    for (const o of objects) {
      for (const seg of f.store.describe(o!.id).segments) {
        for (const sh of seg.shards) expect(verifyShard(sh.id, readFileSync(sh.path!)), `${sh.path}`).toBe(true);
      }
    }
    const before = f.store.counters.degradedReads;
    for (const o of objects) expect((await readAll(f.store, o!.id, o!.data.length)).equals(o!.data)).toBe(true);
    expect(f.store.counters.degradedReads).toBe(before);
    expect(await f.store.scrub()).toEqual({ segmentsChecked: segments, shardsRebuilt: 0, unrecoverable: [] });
  });

  it('reads identical with any m shards of a segment deleted or corrupted (every combination for 4+2)', async () => {
    f = ecFixture({ segmentSize: SEG });
    const [o] = await putObjects(f.store, [SEG + 1000]);
    const shards = f.store.describe(o!.id).segments[0]!.shards;
    const originals = shards.map((s) => readFileSync(s.path!));
    let cases = 0;
    for (let a = 0; a < 6; a++) {
      for (let b = a; b < 6; b++) {
        const picked = a === b ? [a] : [a, b];
        for (let mask = 0; mask < 1 << picked.length; mask++) {
          picked.forEach((idx, j) => (mask & (1 << j) ? flipByte(shards[idx]!.path!, 7 * idx + j) : rmSync(shards[idx]!.path!)));
          const back = await readAll(f.store, o!.id, o!.data.length);
          expect(back.equals(o!.data), `lost ${picked} mask ${mask}`).toBe(true);
          shards.forEach((s, i) => writeFileSync(s.path!, originals[i]!));
          cases++;
        }
      }
    }
    expect(cases).toBe(6 * 2 + 15 * 4);
    expect(f.store.counters.degradedReads).toBeGreaterThan(0);
  });

  it('a segment with more than m shards lost gives ObjectDamaged naming the segment; scrub reports it and repairs the rest', async () => {
    f = ecFixture({ segmentSize: SEG });
    const [o] = await putObjects(f.store, [3 * SEG]);
    const segs = f.store.describe(o!.id).segments;
    for (const i of [0, 3, 5]) rmSync(segs[1]!.shards[i]!.path!);
    rmSync(segs[2]!.shards[0]!.path!);
    const err = await readAll(f.store, o!.id, o!.data.length).catch((e: unknown) => e);
    expect(isDomainError(err) && err.code).toBe('InternalError');
    expect((err as Error).message).toMatch(/The object b\/k is damaged: segment 1 cannot be reconstructed \(3 of its 6 shards are missing or corrupt and 4 are needed\)/);
    // the undamaged segments still read
    expect((await collectBytes(f.store.read(o!.id, { start: 0, end: SEG, label }))).equals(o!.data.subarray(0, SEG))).toBe(true);
    const result = await f.store.scrub();
    expect(result).toEqual({ segmentsChecked: 3, shardsRebuilt: 1, unrecoverable: [{ manifestId: o!.id, segment: 1 }] });
    expect(existsSync(segs[2]!.shards[0]!.path!)).toBe(true);
  });

  it('does not call a segment lost when the shards it lacks are on peers that do not answer (restarting): warns, defers, reads back later', async () => {
    f = ecFixture({ segmentSize: SEG });
    const [o] = await putObjects(f.store, [SEG]);
    const shards = f.store.describe(o!.id).segments[0]!.shards;
    rmSync(shards[0]!.path!); // gone for good
    let restarting = new Set([shards[1]!.id, shards[2]!.id]); // their peer refuses connections for now
    const base = f.network;
    const network = Object.assign(Object.create(base) as typeof base, {
      get: async (peer: string, id: string, opts?: Parameters<typeof base.get>[2]) => {
        if (restarting.has(id)) throw new Error('connect ECONNREFUSED 127.0.0.1:4001');
        return base.get(peer, id, opts);
      },
    });
    const logged: { level: string; msg: string }[] = [];
    const log = { info: () => {}, warn: (_o: unknown, msg: string) => logged.push({ level: 'warn', msg }), error: (_o: unknown, msg: string) => logged.push({ level: 'error', msg }) };
    const store = f.reopen({ network, log: log as never });
    const r = await store.scrub();
    expect(r.unrecoverable).toEqual([]);
    expect(r.deferred).toBe(1);
    expect(logged.filter((l) => l.level === 'error')).toEqual([]);
    expect(logged.some((l) => /not lost/.test(l.msg))).toBe(true);
    restarting = new Set(); // the peer is back
    const again = await store.scrub();
    expect(again.unrecoverable).toEqual([]);
    expect(again.shardsRebuilt).toBe(1);
    expect((await readAll(store, o!.id, SEG)).equals(o!.data)).toBe(true);
  });

  it('scrub skips inline, pending and released manifests', async () => {
    f = ecFixture({ segmentSize: SEG });
    await putObjects(f.store, [100]);
    await f.store.write(chunked(randomBytes(SEG)), {});
    const rel = await f.store.write(chunked(randomBytes(SEG)), {});
    f.store.release(rel.manifestId);
    expect(await f.store.scrub()).toEqual({ segmentsChecked: 0, shardsRebuilt: 0, unrecoverable: [] });
  });

  it('the background scrub repairs on its interval and stops when told', async () => {
    const done = Promise.withResolvers<object>();
    const log = { info: (o: object, msg?: string) => msg === 'background scrub done' && done.resolve(o), warn() {}, error() {} };
    f = ecFixture({ segmentSize: SEG, log });
    const [o] = await putObjects(f.store, [SEG]);
    const shard = f.store.describe(o!.id).segments[0]!.shards[2]!;
    rmSync(shard.path!);
    const stop = f.store.startBackgroundScrub(10);
    expect(await done.promise).toMatchObject({ segmentsChecked: 1, shardsRebuilt: 1 });
    stop();
    expect(existsSync(shard.path!)).toBe(true);
  });
});

/**
 * A mesh of named peers in memory, for repair: each peer a map of shards; a peer in `down` refuses
 * connections, one in `hanging` never answers until the caller gives up. Verifies what it serves
 * unless asked not to, as the real network does; records every get.
 */
class FakeMesh implements ShardNetwork {
  readonly self = 'gateway';
  readonly held = new Map<string, Map<string, Uint8Array>>();
  readonly down = new Set<string>();
  readonly hanging = new Set<string>();
  readonly gets: { peer: string; id: string; verify: boolean }[] = [];
  /** With `selfAt`, placement puts shard `selfAt` of every segment on this node (a gateway that stores shards). */
  constructor(peers: number, readonly selfAt?: number) {
    for (let i = 0; i < peers; i++) this.held.set(`peer-${i}`, new Map());
    this.held.set(this.self, new Map());
  }
  private live(): string[] {
    return [...this.held.keys()].filter((p) => p !== this.self && !this.down.has(p));
  }
  place(ids: readonly string[]): string[] {
    const live = this.live();
    return ids.map((_, i) => (i === this.selfAt ? this.self : live[i % live.length]!));
  }
  targets(): string[][] {
    return [this.live()];
  }
  async put(peer: string, id: string, bytes: Uint8Array): Promise<void> {
    if (this.down.has(peer)) throw new Error(`connect ECONNREFUSED (${peer})`);
    this.held.get(peer)!.set(id, Buffer.from(bytes));
  }
  async get(peer: string, id: string, opts: ShardGetOptions = {}): Promise<Uint8Array | undefined> {
    this.gets.push({ peer, id, verify: opts.verify !== false });
    if (this.down.has(peer)) throw new Error(`connect ECONNREFUSED (${peer})`);
    if (this.hanging.has(peer)) {
      return new Promise((_, reject) => opts.signal?.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
    }
    const bytes = this.held.get(peer)?.get(id);
    if (bytes === undefined || (opts.verify !== false && !verifyShard(id, bytes))) return undefined;
    return bytes;
  }
  async has(peer: string, id: string): Promise<boolean> {
    return this.held.get(peer)?.has(id) ?? false;
  }
  async delete(peer: string, id: string): Promise<void> {
    this.held.get(peer)?.delete(id);
  }
  localPath(): string | undefined {
    return undefined;
  }
}

describe('repair of dead peers', () => {
  const logs = () => {
    const lines: { level: string; msg: string }[] = [];
    const at = (level: string) => (_o: unknown, msg?: string) => void lines.push({ level, msg: msg ?? '' });
    return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } };
  };
  const meshStore = (net: FakeMesh, extra: Parameters<EcFixture['reopen']>[0] = {}) => {
    f = ecFixture({ segmentSize: SEG });
    return f.reopen({ network: net, localShards: undefined, ...extra });
  };
  /** One object of one segment on `net`, its shards, and the lines the store logs. */
  const oneSegment = async (net: FakeMesh, extra: Parameters<EcFixture['reopen']>[0] = {}) => {
    const { lines, log } = logs();
    const store = meshStore(net, { log: log as never, ...extra });
    const [o] = await putObjects(store, [SEG]);
    return { lines, store, o: o!, shards: store.describe(o!.id).segments[0]!.shards };
  };
  /** Every shard of every segment of `ids` where the manifest says it is, matching its id. */
  const whole = (store: EcFixture['store'], net: FakeMesh, ids: string[], avoid: string) => {
    for (const id of ids) {
      for (const seg of store.describe(id).segments) {
        expect(new Set(seg.shards.map((s) => s.location)).size).toBe(6);
        for (const sh of seg.shards) {
          expect(sh.location).not.toBe(avoid);
          expect(verifyShard(sh.id, net.held.get(sh.location)!.get(sh.id)!)).toBe(true);
        }
      }
    }
  };

  it('fetches only k shards per segment (data shards first, none of the dead peer, unhashed), rebuilds on free peers and reports progress', async () => {
    const net = new FakeMesh(8);
    const store = meshStore(net);
    const objects = await putObjects(store, [3 * SEG, SEG + 100]);
    const victim = 'peer-1';
    const segments = objects.reduce((n, o) => n + store.describe(o.id).segments.length, 0);
    const onVictim = objects.flatMap((o) => store.describe(o.id).segments.flatMap((s) => s.shards.filter((sh) => sh.location === victim)));
    expect(onVictim.length).toBeGreaterThan(0);
    net.down.add(victim);
    net.gets.length = 0;
    const progress: [number, number][] = [];
    let bytes = 0;
    const r = await store.repairPeers([victim], { onProgress: (d, t) => progress.push([d, t]), onRebuilt: (b) => (bytes += b) });
    expect(r.unrecoverable).toEqual([]);
    expect(r.shardsRebuilt).toBe(onVictim.length);
    expect(r.bytesRebuilt).toBe(onVictim.reduce((n, sh) => n + net.held.get(victim)!.get(sh.id)!.length, 0));
    expect(bytes).toBe(r.bytesRebuilt);
    expect(progress.at(-1)).toEqual([onVictim.length, onVictim.length]);
    // k fetches per repaired segment, never the dead peer, never hashed (the rebuilt shard's id check stands for them)
    expect(net.gets.length).toBe(4 * onVictim.length);
    expect(net.gets.some((g) => g.peer === victim || g.verify)).toBe(false);
    whole(store, net, objects.map((o) => o.id), victim);
    for (const o of objects) expect((await readAll(store, o.id, o.data.length)).equals(o.data)).toBe(true);
    expect(segments).toBeGreaterThanOrEqual(onVictim.length);
  });

  it('a survivor that serves corrupt bytes is caught by the rebuilt shard id check: the segment is repaired from verified shards, the corrupt one too', async () => {
    const net = new FakeMesh(8);
    const { store, o, shards } = await oneSegment(net);
    const victim = shards[5]!.location; // a parity shard's peer dies
    const liar = shards[0]!;
    const held = net.held.get(liar.location)!;
    const bad = Buffer.from(held.get(liar.id)!);
    bad[10]! ^= 0xff;
    held.set(liar.id, bad);
    net.down.add(victim);
    const r = await store.repairPeers([victim]);
    expect(r.unrecoverable).toEqual([]);
    expect(r.shardsRebuilt).toBe(2);
    expect(verifyShard(liar.id, net.held.get(store.describe(o.id).segments[0]!.shards[0]!.location)!.get(liar.id)!)).toBe(true);
    whole(store, net, [o.id], victim);
    expect((await readAll(store, o.id, SEG)).equals(o.data)).toBe(true);
  });

  it("reads this node's own shard first: a parity shard held locally is one transfer less", async () => {
    const net = new FakeMesh(8, 5);
    const { store, o, shards } = await oneSegment(net);
    expect(shards[5]!.location).toBe(net.self);
    net.down.add(shards[4]!.location);
    net.gets.length = 0;
    expect(await store.repairPeers([shards[4]!.location])).toMatchObject({ shardsRebuilt: 1, unrecoverable: [] });
    expect(net.gets.map((g) => g.peer)).toEqual([net.self, shards[0]!.location, shards[1]!.location, shards[2]!.location]);
    whole(store, net, [o.id], shards[4]!.location);
  });

  it('a data shard whose peer hangs is replaced by parity after 5 x hedgeAfterMs', async () => {
    const net = new FakeMesh(8);
    const { store, o, shards } = await oneSegment(net, { hedgeAfterMs: 20 });
    net.down.add(shards[4]!.location);
    net.hanging.add(shards[1]!.location);
    const r = await store.repairPeers([shards[4]!.location]);
    expect(r).toMatchObject({ shardsRebuilt: 1, unrecoverable: [] });
    net.hanging.clear();
    expect((await readAll(store, o.id, SEG)).equals(o.data)).toBe(true);
  });

  it('does not call a segment lost when, besides the dead peer, the peers short of k only refuse connections (restarting): deferred, rebuilt once they are back', async () => {
    const net = new FakeMesh(8);
    const { lines, store, o, shards } = await oneSegment(net);
    const dead = shards[0]!.location;
    net.down.add(dead);
    net.down.add(shards[1]!.location); // restarting
    net.down.add(shards[2]!.location); // restarting
    const r = await store.repairPeers([dead]);
    expect(r).toMatchObject({ shardsRebuilt: 0, unrecoverable: [], deferred: 1 });
    expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    net.down.delete(shards[1]!.location);
    net.down.delete(shards[2]!.location);
    expect(await store.repairPeers([dead])).toMatchObject({ shardsRebuilt: 1, unrecoverable: [] });
    whole(store, net, [o.id], dead);
  });

  it('warns of a deferred segment once across repair rounds, still counting it every round, and speaks again when it turns lost', async () => {
    const net = new FakeMesh(8);
    const { lines, store, o, shards } = await oneSegment(net);
    const dead = shards[0]!.location;
    for (const i of [0, 1, 2]) net.down.add(shards[i]!.location); // 1 and 2 restarting
    for (let round = 0; round < 3; round++) expect(await store.repairPeers([dead])).toMatchObject({ unrecoverable: [], deferred: 1 });
    const said = (re: RegExp) => lines.filter((l) => re.test(l.msg));
    expect(said(/not readable now/)).toHaveLength(1);
    // the restarting peers come back empty: now the segment is lost, which is news
    for (const i of [1, 2]) {
      net.down.delete(shards[i]!.location);
      net.held.get(shards[i]!.location)!.clear();
    }
    for (let round = 0; round < 2; round++) expect((await store.repairPeers([dead])).unrecoverable).toHaveLength(1);
    expect(said(/segment lost/)).toHaveLength(1);
    expect(said(/not readable now/)).toHaveLength(1);
  });

  it('logs a lost segment once, not on every repair round or scrub, and still reports it every time', async () => {
    const net = new FakeMesh(8);
    const { lines, store, o, shards } = await oneSegment(net);
    const dead = [0, 1, 2].map((i) => shards[i]!.location);
    for (const p of dead) net.down.add(p);
    for (let round = 0; round < 3; round++) {
      const r = await store.repairPeers(dead);
      expect(r.unrecoverable).toEqual([{ manifestId: o.id, segment: 0 }]);
    }
    // the shards on the dead peers are gone for good; scrub finds them missing (the peers are back, empty)
    for (const p of dead) {
      net.down.delete(p);
      net.held.get(p)!.clear();
    }
    for (let round = 0; round < 2; round++) expect((await store.scrub()).unrecoverable).toHaveLength(1);
    expect(lines.filter((l) => l.level === 'error' && /segment lost/.test(l.msg))).toHaveLength(1);
  });
});
