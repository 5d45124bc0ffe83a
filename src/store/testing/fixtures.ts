/**
 * Test fixtures for the store (imported only by *.test.ts): a Store over a real SQLite file in a
 * temp dir and a MemoryDataStore, request bodies from buffers, and stream reading.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { DB } from '../../core/db.ts';
import { openTestCatalog as openDatabase } from '../../core/sql/testing/catalog.ts';
import { createPutBody, type PutBodyOptions } from '../../core/digest.ts';
import type { ObjectMeta, PutBody } from '../../core/object-store.ts';
import type { LimitsLookup } from '../../core/quota.ts';
import { MemoryDataStore } from '../../data/memory-data-store.ts';
import { Store } from '../store.ts';
import { rollupOf } from '../catalog-list.ts';

export const META: ObjectMeta = { user: {} };
export const MiB = 1024 * 1024;

export interface TestStore {
  dir: string;
  db: DB;
  data: MemoryDataStore;
  store: Store;
  /** Closes the database and opens the store again on the same file and data. */
  reopen(): Store;
  cleanup(): void;
}

export function openTestStore(opts: { limits?: LimitsLookup; maxObjectSize?: number; data?: MemoryDataStore } = {}): TestStore {
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-store-'));
  const file = join(dir, 'meta.db');
  const data = opts.data ?? new MemoryDataStore();
  const make = (db: DB) =>
    new Store({
      db,
      data,
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.maxObjectSize !== undefined ? { maxObjectSize: opts.maxObjectSize } : {}),
    });
  const t: TestStore = {
    dir,
    db: openDatabase(file),
    data,
    store: undefined as unknown as Store,
    reopen() {
      t.db.close();
      t.db = openDatabase(file);
      t.store = make(t.db);
      return t.store;
    },
    cleanup() {
      if (t.db.open) t.db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t.store = make(t.db);
  return t;
}

/** Yields `data` in chunks of `chunkSize` bytes. */
export async function* chunksOf(data: Uint8Array, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += chunkSize) yield data.subarray(i, Math.min(data.length, i + chunkSize));
}

/** A PutBody over a buffer or string (MD5 plus the requested checksums). */
export function bodyOf(data: Buffer | string, opts: PutBodyOptions & { chunkSize?: number } = {}): PutBody {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  return createPutBody(chunksOf(buf, opts.chunkSize), opts);
}

/** Deterministic pseudo-random bytes. */
export function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

export async function readAll(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

/** The sum of live objects and open parts per account, straight from the tables. */
export function usageFromRows(db: DB): Map<string, { bytes: number; objects: number }> {
  const rows = db
    .prepare(
      `SELECT account, SUM(bytes) AS bytes, SUM(objects) AS objects FROM (
         SELECT owner AS account, size AS bytes, 1 - delete_marker AS objects FROM objects
         UNION ALL SELECT u.owner, p.size, 0 FROM parts p JOIN uploads u ON u.upload_id = p.upload_id
         UNION ALL SELECT owner, octet_length(key) + octet_length(meta) + octet_length(tags), 0 FROM uploads
       ) AS usage GROUP BY account`,
    )
    .all() as { account: string; bytes: number; objects: number }[];
  return new Map(rows.map((r) => [r.account, { bytes: r.bytes, objects: r.objects }]));
}

/** What an open upload's own row counts toward its owner's bytes: its key, metadata and tags. */
export const uploadRowBytes = (key: string, meta: object, tags: object = {}): number =>
  Buffer.byteLength(key) + Buffer.byteLength(JSON.stringify(meta)) + Buffer.byteLength(JSON.stringify(tags));

// ---- listing model

/** UTF-8 byte order, the obvious way. */
export const byteOrder = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** A small deterministic random number generator: rng(seed)(n) is in [0, n). */
export function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const ALPHABET = ['a', 'b', 'c', '/', '-', 'é', '😀', '\uffff', '\ue000', 'z'];

/** n distinct keys of 1-6 characters, ASCII and multi-byte, with '/' among them. */
export function randomKeys(seed: number, n: number): string[] {
  const r = rng(seed);
  const keys = new Set<string>();
  for (let tries = 0; keys.size < n; tries++) {
    if (tries > n * 100) throw new Error(`randomKeys: cannot make ${n} distinct keys`);
    let k = '';
    const len = 1 + r(6);
    for (let i = 0; i < len; i++) k += ALPHABET[r(ALPHABET.length)];
    keys.add(k);
  }
  return [...keys];
}

export type Entry = { key: string } | { prefix: string };

/** S3's whole listing (no paging), computed the slow obvious way. */
export function listingModel(keys: readonly string[], prefix: string, delimiter: string | undefined, after?: string): Entry[] {
  const out: Entry[] = [];
  const sorted = keys
    .filter((k) => k.startsWith(prefix))
    .map((k) => ({ k, b: Buffer.from(k) }))
    .sort((x, y) => Buffer.compare(x.b, y.b))
    .map((x) => x.k);
  for (const k of sorted) {
    const cp = rollupOf(k, prefix, delimiter);
    if (cp !== undefined) {
      const last = out[out.length - 1];
      if (last && 'prefix' in last && last.prefix === cp) continue;
      if (after !== undefined && (byteOrder(cp, after) <= 0 || after.startsWith(cp))) continue;
      out.push({ prefix: cp });
    } else if (after === undefined || byteOrder(k, after) > 0) out.push({ key: k });
  }
  return out;
}
