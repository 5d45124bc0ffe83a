import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LAYOUT_FILE, LocalShardStore } from './local-shards.ts';
import { LocalNetwork } from './local-network.ts';
import { sha256ShardId, shardId } from '../src/codec/cid.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'datamesh-shards-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const shard = (size = 1000) => {
  const bytes = randomBytes(size);
  return { bytes, id: shardId(bytes) };
};

/** Every file under `root`, relative to it, sorted. */
const filesIn = (root: string): string[] => {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else out.push(relative(root, join(d, e.name)));
    }
  };
  walk(root);
  return out.sort();
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
    expect(rel).toEqual([a.id.slice(-3, -1), a.id]);
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

  it('never returns a corrupt shard, BLAKE3 or old sha2-256 id: it reports it and answers undefined', async () => {
    const corrupt: string[] = [];
    const warnings: object[] = [];
    const store = new LocalShardStore(dir, { onCorrupt: (id) => corrupt.push(id), log: { warn: (o) => warnings.push(o) } });
    const bytes = randomBytes(1000);
    for (const a of [shard(), { bytes, id: sha256ShardId(bytes) }]) {
      corrupt.length = 0;
      warnings.length = 0;
      await store.put(a.id, a.bytes);
      expect(Buffer.from((await store.get(a.id))!).equals(a.bytes)).toBe(true);
      const bad = Buffer.from(a.bytes);
      bad[500]! ^= 0x01;
      writeFileSync(store.path(a.id), bad);
      expect(await store.get(a.id)).toBeUndefined();
      expect(corrupt).toEqual([a.id]);
      expect(warnings).toHaveLength(1);
      // unverified (the read path, which authenticates by the AEAD tag) the bytes come back as they are
      expect(Buffer.from((await store.get(a.id, { verify: false }))!).equals(bad)).toBe(true);
      // a put with the right bytes repairs it in place
      await store.put(a.id, a.bytes);
      expect(Buffer.from((await store.get(a.id))!).equals(a.bytes)).toBe(true);
      await expect(store.put(a.id, bad)).rejects.toThrow(/do not hash to/);
    }
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
    expect(filesIn(dir)).toEqual([LAYOUT_FILE]);
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

/** Writes a shard where the old two-level layout put it: DIR/xx/yy/<id>. */
const putOld = (s: { id: string; bytes: Buffer }): string => {
  const leaf = join(dir, s.id.slice(-3, -1), s.id.slice(-5, -3));
  mkdirSync(leaf, { recursive: true });
  writeFileSync(join(leaf, s.id), s.bytes);
  return join(leaf, s.id);
};

describe('LocalShardStore layout', () => {
  it('marks a fresh directory with the layout and keeps only DIR/LAYOUT and DIR/xx/<id>', async () => {
    const store = new LocalShardStore(dir);
    expect(store.migrated).toBe(0);
    expect(readFileSync(join(dir, LAYOUT_FILE), 'utf8')).toBe('datamesh shard layout 2: DIR/xx/<id>\n');
    const shards = [shard(10), shard(20), shard(30)];
    for (const s of shards) await store.put(s.id, s.bytes);
    expect(filesIn(dir)).toEqual([LAYOUT_FILE, ...shards.map((s) => join(s.id.slice(-3, -1), s.id))].sort());
    // LAYOUT and strays are neither listed nor counted
    writeFileSync(join(dir, shards[0]!.id.slice(-3, -1), 'notes.txt'), 'not a shard');
    mkdirSync(join(dir, 'lost+found'));
    writeFileSync(join(dir, 'lost+found', shards[1]!.id), 'x');
    const listed: string[] = [];
    for await (const id of store.list()) listed.push(id);
    expect(listed.sort()).toEqual(shards.map((s) => s.id).sort());
    expect(await store.stats()).toEqual({ count: 3, bytes: 60 });
  });

  it('migrates an old two-level directory on open: shards readable, temp files and old dirs gone, marker written', async () => {
    const shards = Array.from({ length: 40 }, (_, i) => shard(50 + i));
    const old = shards.map(putOld);
    const cut = `${old[0]}.0123456789ab.tmp`;
    writeFileSync(cut, 'half a shard');
    expect(existsSync(join(dir, LAYOUT_FILE))).toBe(false);

    const store = new LocalShardStore(dir, { fsync: false });
    expect(store.migrated).toBe(40);
    for (const s of shards) expect(Buffer.from((await store.get(s.id))!).equals(s.bytes)).toBe(true);
    for (const p of old) expect(existsSync(p)).toBe(false);
    expect(existsSync(cut)).toBe(false);
    // no directory below DIR/xx is left, and the files are exactly the marker and the shards
    for (const top of readdirSync(dir, { withFileTypes: true })) {
      if (!top.isDirectory()) continue;
      expect(readdirSync(join(dir, top.name), { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
    }
    expect(filesIn(dir)).toEqual([LAYOUT_FILE, ...shards.map((s) => relative(dir, store.path(s.id)))].sort());
    expect(await store.stats()).toEqual({ count: 40, bytes: shards.reduce((n, s) => n + s.bytes.length, 0) });
  });

  it('re-opening is a no-op, and a store with the marker is never scanned', async () => {
    const a = shard();
    putOld(a);
    expect(new LocalShardStore(dir).migrated).toBe(1);
    const after = filesIn(dir);
    const again = new LocalShardStore(dir);
    expect(again.migrated).toBe(0);
    expect(filesIn(dir)).toEqual(after);
    // an old-layout shard appearing after the marker is not looked for (the marker ends scanning)
    const b = shard();
    const stray = putOld(b);
    expect(new LocalShardStore(dir).migrated).toBe(0);
    expect(existsSync(stray)).toBe(true);
    expect(await again.has(b.id)).toBe(false);
    expect(Buffer.from((await again.get(a.id))!).equals(a.bytes)).toBe(true);
  });

  it('finishes a cut migration: a shard at both places ends up once, at its new place', async () => {
    const a = shard(100);
    const b = shard(200);
    const oldA = putOld(a);
    putOld(b);
    // a crash after A was moved (renamed) but before its old copy was gone: simulated by a copy
    const newA = join(dir, a.id.slice(-3, -1), a.id);
    writeFileSync(newA, a.bytes);
    const store = new LocalShardStore(dir, { fsync: false });
    expect(store.migrated).toBe(1); // b; a was already in place
    expect(existsSync(oldA)).toBe(false);
    expect(existsSync(newA)).toBe(true);
    const listed: string[] = [];
    for await (const id of store.list()) listed.push(id);
    expect(listed.sort()).toEqual([a.id, b.id].sort());
    expect(filesIn(dir)).toEqual([LAYOUT_FILE, relative(dir, newA), relative(dir, store.path(b.id))].sort());
    expect(Buffer.from((await store.get(a.id))!).equals(a.bytes)).toBe(true);
  });

  it('leaves unexpected entries of an old directory in place, and refuses an unknown layout marker', () => {
    const a = shard();
    const oldA = putOld(a);
    const odd = join(dirname(oldA), 'README');
    writeFileSync(odd, 'mine');
    const warnings: object[] = [];
    const store = new LocalShardStore(dir, { log: { warn: (o) => warnings.push(o) } });
    expect(store.migrated).toBe(1);
    expect(existsSync(odd)).toBe(true);
    expect(warnings).toEqual([{ path: odd }]);
    expect(existsSync(store.path(a.id))).toBe(true);

    writeFileSync(join(dir, LAYOUT_FILE), 'datamesh shard layout 3: something else\n');
    expect(() => new LocalShardStore(dir)).toThrow(/shard layout this version does not know/);
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
