import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsDatastore } from 'datastore-fs';
import { Key } from 'interface-datastore';
import { PeerCachingDatastore } from './peer-datastore.ts';

const dirs: string[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'datamesh-ds-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const keysOf = async (ds: PeerCachingDatastore, prefix?: string) => {
  const out: string[] = [];
  for await (const k of ds.queryKeys(prefix === undefined ? {} : { prefix })) out.push(k.toString());
  return out.sort();
};

describe('PeerCachingDatastore', () => {
  it('keeps DHT records in SQLite and peer records in files, and answers queries across both', async () => {
    const dir = tempDir();
    const ds = new PeerCachingDatastore(dir);
    await ds.open();
    await ds.put(new Key('/dht/provider/cidA/peer1'), bytes('a1'));
    await ds.put(new Key('/dht/provider/cidA/peer2'), bytes('a2'));
    await ds.put(new Key('/dht/provider/cidB/peer1'), bytes('b1'));
    await ds.put(new Key('/peers/peer1'), bytes('p1'));
    expect(text(await ds.get(new Key('/dht/provider/cidA/peer2')))).toBe('a2');
    expect(await ds.has(new Key('/dht/provider/cidB/peer1'))).toBe(true);
    await expect(ds.get(new Key('/dht/provider/nope/peer1'))).rejects.toMatchObject({ name: 'NotFoundError' });
    expect(await keysOf(ds, '/dht/provider/cidA')).toEqual(['/dht/provider/cidA/peer1', '/dht/provider/cidA/peer2']);
    const pairs: string[] = [];
    for await (const p of ds.query({ prefix: '/dht/provider/cidB' })) pairs.push(`${p.key.toString()}=${text(p.value)}`);
    expect(pairs).toEqual(['/dht/provider/cidB/peer1=b1']);
    await ds.delete(new Key('/dht/provider/cidA/peer1'));
    expect(await ds.has(new Key('/dht/provider/cidA/peer1'))).toBe(false);
    // every key, from both places (the pending peer record is flushed first)
    expect(await keysOf(ds)).toEqual(['/dht/provider/cidA/peer2', '/dht/provider/cidB/peer1', '/peers/peer1']);
    expect(await keysOf(ds, '/peers/')).toEqual(['/peers/peer1']);
    await ds.close();
    // no DHT record became a file; the peer record did
    expect(existsSync(join(dir, 'dht'))).toBe(false);
    expect(readdirSync(join(dir, 'peers')).length).toBe(1);

    const again = new PeerCachingDatastore(dir);
    await again.open();
    expect(text(await again.get(new Key('/dht/provider/cidB/peer1')))).toBe('b1');
    expect(text(await again.get(new Key('/peers/peer1')))).toBe('p1');
    await again.close();
  });

  it('moves the DHT records an older version kept as files into the table', async () => {
    const dir = tempDir();
    const old = new FsDatastore(dir);
    await old.open();
    await old.put(new Key('/dht/provider/cidC/peer9'), bytes('c9'));
    await old.put(new Key('/dht/record/xyz'), bytes('r'));
    await old.put(new Key('/peers/peer9'), bytes('p9'));
    await old.close();

    const ds = new PeerCachingDatastore(dir);
    await ds.open();
    expect(existsSync(join(dir, 'dht'))).toBe(false);
    expect(text(await ds.get(new Key('/dht/provider/cidC/peer9')))).toBe('c9');
    expect(text(await ds.get(new Key('/dht/record/xyz')))).toBe('r');
    expect(text(await ds.get(new Key('/peers/peer9')))).toBe('p9');
    expect(await keysOf(ds, '/dht')).toEqual(['/dht/provider/cidC/peer9', '/dht/record/xyz']);
    await ds.close();
  });
});
