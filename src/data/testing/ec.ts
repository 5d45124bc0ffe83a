/**
 * Test fixtures for the erasure-coded data store (imported by *.test.ts only): a temp data
 * directory with a real SQLite file, a LocalShardStore and a LocalNetwork.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openDatabase, type SqliteDb as DB } from '../../core/db.ts';
import { LocalShardStore } from '../../../mesh/local-shards.ts';
import { LocalNetwork } from '../../../mesh/local-network.ts';
import { createEcDataStore } from '../ec-data-store.ts';
import type { EcDataStore, EcDataStoreOptions } from '../types.ts';

export interface EcFixture {
  dir: string;
  db: DB;
  shards: LocalShardStore;
  network: LocalNetwork;
  masterKey: Buffer;
  store: EcDataStore;
  /** Opens another store on the same directory (as a restarted process would). */
  reopen(overrides?: Partial<EcDataStoreOptions>): EcDataStore;
  cleanup(): Promise<void>;
}

export function ecFixture(overrides: Partial<EcDataStoreOptions> = {}): EcFixture {
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-ec-'));
  const db = openDatabase(join(dir, 'meta.db'));
  const corrupt: string[] = [];
  const shards = new LocalShardStore(join(dir, 'shards'), { onCorrupt: (id) => corrupt.push(id) });
  const network = new LocalNetwork('node-1', shards);
  const masterKey = randomBytes(32);
  const base = { db, network, masterKey, ec: { k: 4, m: 2 }, localShards: shards, dataDir: dir };
  const opened: EcDataStore[] = [];
  const open = (o: Partial<EcDataStoreOptions>) => {
    const s = createEcDataStore({ ...base, ...overrides, ...o });
    opened.push(s);
    return s;
  };
  const store = open({});
  return {
    dir,
    db,
    shards,
    network,
    masterKey,
    store,
    reopen: (o = {}) => open(o),
    async cleanup() {
      for (const s of opened) await s.close();
      db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An async body that yields `data` in chunks of `chunk` bytes. */
export async function* chunked(data: Uint8Array, chunk = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, Math.min(data.length, i + chunk));
}

export async function collectBytes(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const p of it) parts.push(p);
  return Buffer.concat(parts);
}

export const label = { bucket: 'b', key: 'k' };
