import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LocalShardStore } from './local-shards.ts';
import { LocalNetwork } from './local-network.ts';
import { shardId } from './codec/cid.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datamesh-shards-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const shard = (size = 1000) => {
  const bytes = randomBytes(size);
  return { bytes, id: shardId(bytes) };
};

describe('LocalShardStore', () => {
  it('puts, gets, lists, counts and deletes shards in a fan-out layout', async () => {
    const store = new LocalShardStore(dir);
    const a = shard(100);
    const b = shard(300);
    await store.put(a.id, a.bytes);
    await store.put(b.id, b.bytes);
    expect(Buffer.from((await store.get(a.id))!).equals(a.bytes)).toBe(true);
    expect(await store.has(b.id)).toBe(true);
    const rel = relative(dir, store.path(a.id)).split('/');
    expect(rel).toEqual([a.id.slice(-3, -1), a.id.slice(-5, -3), a.id]);
    expect(readFileSync(store.path(a.id)).equals(a.bytes)).toBe(true);
    expect(statSync(store.path(a.id)).mode & 0o777).toBe(0o600);
    const listed: string[] = [];
    for await (const id of store.list()) listed.push(id);
    expect(listed.sort()).toEqual([a.id, b.id].sort());
    expect(await store.stats()).toEqual({ count: 2, bytes: 400 });
    await store.delete(a.id);
    await store.delete(a.id); // absent is fine
    expect(await store.get(a.id)).toBeUndefined();
    expect(await store.has(a.id)).toBe(false);
    expect(await store.stats()).toEqual({ count: 1, bytes: 300 });
  });

  it('never returns a corrupt shard: it reports it and answers undefined', async () => {
    const corrupt: string[] = [];
    const warnings: object[] = [];
    const store = new LocalShardStore(dir, { onCorrupt: (id) => corrupt.push(id), log: { warn: (o) => warnings.push(o) } });
    const a = shard();
    await store.put(a.id, a.bytes);
    const bad = Buffer.from(a.bytes);
    bad[500]! ^= 0x01;
    writeFileSync(store.path(a.id), bad);
    expect(await store.get(a.id)).toBeUndefined();
    expect(corrupt).toEqual([a.id]);
    expect(warnings).toHaveLength(1);
    // a put with the right bytes repairs it in place
    await store.put(a.id, a.bytes);
    expect(Buffer.from((await store.get(a.id))!).equals(a.bytes)).toBe(true);
  });

  it('refuses bytes that do not hash to the id, unless told they were just hashed', async () => {
    const store = new LocalShardStore(dir);
    const a = shard();
    const b = shard();
    await expect(store.put(a.id, b.bytes)).rejects.toThrow(/do not hash to/);
    expect(await store.has(a.id)).toBe(false);
    await store.put(a.id, a.bytes, { verify: false });
    expect(await store.has(a.id)).toBe(true);
  });

  it('rejects ids that are not shard ids (no path traversal)', async () => {
    const store = new LocalShardStore(dir);
    await expect(store.put('../../evil', Buffer.from('x'))).rejects.toThrow(/not a shard id/);
    expect(await store.get('../../etc/passwd')).toBeUndefined();
    expect(await store.has('../x')).toBe(false);
    expect(() => store.path('nope')).toThrow(/not a shard id/);
  });

  it('enforces its capacity', async () => {
    const store = new LocalShardStore(dir, { capacity: 2500 });
    const a = shard(1000);
    const b = shard(1000);
    const c = shard(1000);
    await store.put(a.id, a.bytes);
    await store.put(b.id, b.bytes);
    await expect(store.put(c.id, c.bytes)).rejects.toThrow(/is full \(2000 of 2500 bytes used/);
    await store.delete(a.id);
    await store.put(c.id, c.bytes);
    expect((await store.stats()).count).toBe(2);
  });

  it('writes atomically: an aborted put leaves neither the shard nor a temp file', async () => {
    const store = new LocalShardStore(dir);
    const a = shard(1 << 20);
    const ac = new AbortController();
    const put = store.put(a.id, a.bytes, { signal: ac.signal });
    ac.abort(); // while the put is under way (past its first check)
    await expect(put).rejects.toThrow(/abort/i);
    expect(await store.has(a.id)).toBe(false);
    const files: string[] = [];
    const walk = (d: string) => {
      if (!existsSync(d)) return;
      for (const e of readdirSync(d, { withFileTypes: true })) e.isDirectory() ? walk(join(d, e.name)) : files.push(e.name);
    };
    walk(dir);
    expect(files).toEqual([]);
  });

  it('sweepTemp removes temp files of writes cut by a crash, and list skips them', async () => {
    const store = new LocalShardStore(dir);
    const a = shard();
    await store.put(a.id, a.bytes);
    const temp = `${store.path(a.id)}.abcdef.tmp`;
    writeFileSync(temp, 'half a shard');
    const old = new Date(Date.now() - 60_000);
    utimesSync(temp, old, old);
    const listed: string[] = [];
    for await (const id of store.list()) listed.push(id);
    expect(listed).toEqual([a.id]);
    expect(await store.sweepTemp(Date.now() - 120_000)).toBe(0);
    expect(await store.sweepTemp(Date.now())).toBe(1);
    expect(existsSync(temp)).toBe(false);
    expect(existsSync(dirname(temp))).toBe(true);
    expect(await store.has(a.id)).toBe(true);
  });
});

describe('LocalNetwork', () => {
  it('places every shard on itself and serves them from the local store', async () => {
    const store = new LocalShardStore(dir);
    const net = new LocalNetwork('node-a', store);
    const a = shard();
    const b = shard();
    expect(net.place([a.id, b.id])).toEqual(['node-a', 'node-a']);
    await net.put('node-a', a.id, a.bytes);
    expect(Buffer.from((await net.get('node-a', a.id))!).equals(a.bytes)).toBe(true);
    expect(await net.has('node-a', a.id)).toBe(true);
    expect(net.localPath(a.id)).toBe(store.path(a.id));
    await expect(net.put('node-b', b.id, b.bytes)).rejects.toThrow(/peer node-b is not reachable/);
    expect(await net.get('node-b', a.id)).toBeUndefined();
    await net.delete('node-a', a.id);
    expect(await net.has('node-a', a.id)).toBe(false);
  });
});
