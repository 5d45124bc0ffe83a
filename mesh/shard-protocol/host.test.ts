import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shardId } from '../../src/codec/cid.ts';
import { LocalShardStore } from '../local-shards.ts';
import { ShardHost } from './host.ts';
import { OwnerIndex } from './owners.ts';

const dirs: string[] = [];
const owners: OwnerIndex[] = [];
afterEach(() => {
  for (const o of owners.splice(0)) o.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const makeHost = async (capacity?: number) => {
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-host-'));
  dirs.push(dir);
  const index = new OwnerIndex(join(dir, 'mesh.db'));
  owners.push(index);
  const stored: string[] = [];
  const shards = new LocalShardStore(join(dir, 'shards'), { fsync: false });
  const host = new ShardHost({ shards, owners: index, self: '12D3KooWself', onStored: (id) => stored.push(id), ...(capacity ? { capacity } : {}) });
  await host.refresh();
  return { host, shards, stored, dir };
};
const shard = (n: number) => {
  const bytes = new Uint8Array(randomBytes(n));
  return { bytes, id: shardId(bytes) };
};

describe('ShardHost', () => {
  it('verifies ids, counts usage and announces new shards', async () => {
    const { host, stored } = await makeHost();
    const s = shard(100);
    expect(await host.put(s.id, shard(100).bytes, 'gw')).toMatchObject({ ok: false, code: 'BadId' });
    expect(await host.put(s.id, s.bytes, 'gw')).toEqual({ ok: true });
    expect(await host.put(s.id, s.bytes, 'gw')).toEqual({ ok: true });
    expect(host.stats()).toEqual({ capacity: null, used: 100, count: 1 });
    expect(stored).toEqual([s.id]);
    expect((await host.get(s.id)).bytes?.byteLength).toBe(100);
    expect((await host.get(shard(5).id)).response).toMatchObject({ ok: false, code: 'NotFound' });
  });

  it('refuses puts past its capacity, counting puts in flight', async () => {
    const { host } = await makeHost(1000);
    const results = await Promise.all([shard(400), shard(400), shard(400)].map((s) => host.put(s.id, s.bytes, 'gw')));
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    const refusal = results.find((r) => !r.ok);
    expect(refusal).toMatchObject({ ok: false, code: 'Full' });
    expect(!refusal!.ok && refusal!.reason).toMatch(/is full: 1000 B capacity, 800 B used; it cannot take a shard of 400 B/);
    expect(host.stats().used).toBe(800);
  });

  it('lets only the owner delete, and lets no other gateway claim a stored shard by re-putting it', async () => {
    const { host, shards } = await makeHost();
    const s = shard(50);
    await host.put(s.id, s.bytes, 'gw1');
    // issue 12: a re-put made the sender a co-owner, so the owner's delete dropped only its own claim
    expect(await host.put(s.id, s.bytes, 'gw2')).toMatchObject({ ok: false, code: 'Denied' });
    expect(await host.put(s.id, s.bytes, 'gw1')).toEqual({ ok: true });
    expect(await host.delete(s.id, 'stranger')).toMatchObject({ ok: false, code: 'Denied' });
    expect(await host.delete(s.id, 'gw2')).toMatchObject({ ok: false, code: 'Denied' });
    expect(await host.delete(s.id, 'gw1')).toEqual({ ok: true });
    expect(await shards.has(s.id)).toBe(false);
    expect(host.stats()).toMatchObject({ used: 0, count: 0 });
    expect(await host.delete(s.id, 'anyone')).toEqual({ ok: true }); // absent: nothing to protect
  });

  it('pages the inventory of one owner, and collects what no admitted gateway claims after the grace period', async () => {
    const { host, shards } = await makeHost();
    const mine = Array.from({ length: 5 }, () => shard(20));
    for (const s of mine) await host.put(s.id, s.bytes, 'gw');
    const theirs = shard(30);
    await host.put(theirs.id, theirs.bytes, 'gone');
    const junk = shard(40);
    await shards.put(junk.id, junk.bytes); // a file nobody stored through the protocol
    await host.refresh();
    const pages: string[][] = [];
    let after = '';
    for (;;) {
      const page = host.list('gw', after, 2);
      pages.push(page.shards.map((x) => x.id));
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(pages.map((p) => p.length)).toEqual([2, 2, 1]);
    expect(pages.flat()).toEqual(mine.map((s) => s.id).sort());
    const claims = (owner: string) => owner === 'gw';
    expect(await host.collectUnclaimed(claims, 60_000)).toBe(0); // still within the grace period
    expect(await host.collectUnclaimed(claims, 60_000, Date.now() + 120_000)).toBe(2);
    expect(await shards.has(junk.id)).toBe(false);
    expect(await shards.has(theirs.id)).toBe(false);
    for (const s of mine) expect(await shards.has(s.id)).toBe(true);
    expect(host.stats()).toMatchObject({ used: 100, count: 5 });
  });

  it('remembers owners and usage across a restart', async () => {
    const { host, dir } = await makeHost();
    const s = shard(70);
    await host.put(s.id, s.bytes, 'gw');
    owners.shift()!.close();
    const index = new OwnerIndex(join(dir, 'mesh.db'));
    owners.push(index);
    const again = new ShardHost({ shards: new LocalShardStore(join(dir, 'shards')), owners: index, self: 'x' });
    await again.refresh();
    expect(again.stats()).toMatchObject({ used: 70, count: 1 });
    expect(await again.delete(s.id, 'other')).toMatchObject({ ok: false, code: 'Denied' });
    expect(await again.delete(s.id, 'gw')).toEqual({ ok: true });
  });
});
