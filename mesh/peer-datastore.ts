/**
 * The libp2p datastore of a mesh node. Two kinds of records, kept two ways:
 *
 * - The peer store's records (/peers/...) live in datastore-fs files, held in memory and written
 *   behind. libp2p merges the remote peer's protocol into the peer store on every stream it opens
 *   or accepts, under a per-peer lock, and the record always changes (its `updated` time), so with
 *   a plain FsDatastore each shard request waited for a file read, a file write and a rename, one
 *   request after another per peer. Here reads come from memory after the first, and the latest
 *   record of each peer reaches the disk within FLUSH_DELAY_MS (and on close).
 * - Everything else (the DHT's provider records, /dht/...) lives in one SQLite table,
 *   DIR/records.sqlite. Every stored shard is announced, so every peer near a shard's CID in the
 *   DHT keeps a provider record for it: as datastore-fs files that was one directory per shard
 *   CID and one file per record, so a node holding millions of shards kept millions of tiny files
 *   and directories (inodes, a mkdir and a rename on the hot path). An upsert is a few
 *   microseconds. Records a node kept as files before are moved into the table when it opens.
 *   (This did not make the one-machine cluster bench faster: the cost of announcing there is
 *   libp2p's per-RPC work, a DHT query and ADD_PROVIDER streams per shard.)
 */
import { FsDatastore } from 'datastore-fs';
import { Key, type Pair, type Query, type KeyQuery } from 'interface-datastore';
import { NotFoundError } from 'interface-store';
import type { AbortOptions } from '@libp2p/interface';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { SqlStatement as Statement } from '../src/core/db.ts';
import { openDatabase, type DB } from '../src/core/db.ts';

const PEER_PREFIX = '/peers/';
const FLUSH_DELAY_MS = 1_000;
/** Past this many cached records the cache starts over (reads fall back to the disk). */
const MAX_CACHED = 10_000;
/** Records that lived as files under these directories before they moved to SQLite. */
const LEGACY_DIRS = ['dht'];

/** True when keys under `prefix` may include peer records (no prefix, or one /peers/ starts with or extends). */
const mayHoldPeers = (prefix: string | undefined): boolean =>
  prefix === undefined || PEER_PREFIX.startsWith(prefix) || prefix.startsWith(PEER_PREFIX);

/** The SQLite table that holds every record outside /peers/. */
class RecordTable {
  private readonly db: DB;
  private readonly sql: { put: Statement; get: Statement; del: Statement; range: Statement; all: Statement };

  constructor(file: string) {
    this.db = openDatabase(file);
    this.db.exec('CREATE TABLE IF NOT EXISTS records (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID');
    this.sql = {
      put: this.db.prepare('INSERT OR REPLACE INTO records (key, value) VALUES (?, ?)'),
      get: this.db.prepare('SELECT value FROM records WHERE key = ?').pluck(),
      del: this.db.prepare('DELETE FROM records WHERE key = ?'),
      range: this.db.prepare('SELECT key, value FROM records WHERE key >= ? AND key < ? ORDER BY key'),
      all: this.db.prepare('SELECT key, value FROM records ORDER BY key'),
    };
  }

  put(key: string, value: Uint8Array): void {
    this.sql.put.run(key, value);
  }

  get(key: string): Uint8Array | undefined {
    const v = this.sql.get.get(key) as Buffer | undefined;
    return v === undefined ? undefined : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  }

  delete(key: string): void {
    this.sql.del.run(key);
  }

  /** Records whose key starts with `prefix` (all of them without one), read at once. */
  list(prefix: string | undefined): { key: string; value: Uint8Array }[] {
    const rows = (prefix ? this.sql.range.all(prefix, `${prefix}\uffff`) : this.sql.all.all()) as { key: string; value: Buffer }[];
    return rows.map((r) => ({ key: r.key, value: new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength) }));
  }

  /** Deletes the records whose key starts with `prefix`; returns how many went. */
  deletePrefix(prefix: string): number {
    return this.db.prepare('DELETE FROM records WHERE key >= ? AND key < ?').run(prefix, `${prefix}\uffff`).changes;
  }

  putMany(pairs: readonly { key: string; value: Uint8Array }[]): void {
    this.db.transaction(() => pairs.forEach((p) => this.put(p.key, p.value)))();
  }

  close(): void {
    this.db.close();
  }
}

export class PeerCachingDatastore extends FsDatastore {
  private readonly cache = new Map<string, Uint8Array>();
  private readonly pending = new Map<string, { key: Key; value: Uint8Array }>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  /** Open between open() and close(). */
  private table: RecordTable | undefined;

  private get records(): RecordTable {
    if (!this.table) throw new Error(`the libp2p datastore at ${this.path} is not open (the node is starting or shutting down)`);
    return this.table;
  }

  /** Opens the store, moving records a previous version kept as files into the table. */
  override async open(): Promise<void> {
    await super.open();
    this.table ??= new RecordTable(join(this.path, 'records.sqlite'));
    for (const dir of LEGACY_DIRS) {
      const moved: { key: string; value: Uint8Array }[] = [];
      for await (const pair of super._all({ prefix: `/${dir}` })) moved.push({ key: pair.key.toString(), value: pair.value });
      if (moved.length > 0) this.records.putMany(moved);
      await rm(join(this.path, dir), { recursive: true, force: true });
    }
  }

  /** Deletes every DHT provider record; returns how many went. */
  dropProviderRecords(): number {
    return this.records.deletePrefix('/dht/provider/');
  }

  /** How many DHT records (provider and others, not peer records) the store holds. */
  dhtRecordCount(): number {
    return this.records.list('/dht/').length;
  }

  private static cached(key: Key): boolean {
    return key.toString().startsWith(PEER_PREFIX);
  }

  override async put(key: Key, val: Uint8Array, options?: AbortOptions): Promise<Key> {
    if (!PeerCachingDatastore.cached(key)) {
      options?.signal?.throwIfAborted();
      this.records.put(key.toString(), val);
      return key;
    }
    const k = key.toString();
    this.remember(k, val);
    this.pending.set(k, { key, value: val });
    this.schedule();
    return key;
  }

  override async get(key: Key, options?: AbortOptions): Promise<Uint8Array> {
    if (!PeerCachingDatastore.cached(key)) {
      const v = this.records.get(key.toString());
      if (v === undefined) throw new NotFoundError(`no record ${key.toString()}`);
      return v;
    }
    const k = key.toString();
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    const value = await super.get(key, options);
    // a put may have landed while the file was read: it is newer
    const now = this.cache.get(k);
    if (now !== undefined) return now;
    this.remember(k, value);
    return value;
  }

  override async has(key: Key, options?: AbortOptions): Promise<boolean> {
    if (!PeerCachingDatastore.cached(key)) return this.records.get(key.toString()) !== undefined;
    if (this.cache.has(key.toString())) return true;
    return super.has(key, options);
  }

  override async delete(key: Key, options?: AbortOptions): Promise<void> {
    if (!PeerCachingDatastore.cached(key)) return this.records.delete(key.toString());
    const k = key.toString();
    this.cache.delete(k);
    this.pending.delete(k);
    // a flush in progress may still write the record: delete after it
    await this.flushing;
    return super.delete(key, options);
  }

  // The peer records are files (write the pending ones first); the rest come from the table.
  override async *_all(q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    if (mayHoldPeers(q.prefix)) {
      await this.flush();
      yield* super._all(q, options);
    }
    if (!q.prefix?.startsWith(PEER_PREFIX)) {
      for (const r of this.records.list(q.prefix)) {
        options?.signal?.throwIfAborted();
        yield { key: new Key(r.key), value: r.value };
      }
    }
  }

  override async *_allKeys(q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    for await (const pair of this._all(q.prefix === undefined ? {} : { prefix: q.prefix }, options)) yield pair.key;
  }

  override async close(): Promise<void> {
    await this.flush();
    this.table?.close();
    this.table = undefined;
    await super.close();
  }

  /** Writes every pending record now. */
  flush(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending.clear();
    this.flushing = this.flushing.then(async () => {
      for (const { key, value } of batch) {
        // best effort: the record stays in memory, and the next change writes it again
        await super.put(key, value).catch(() => undefined);
      }
    });
    return this.flushing;
  }

  private remember(k: string, value: Uint8Array): void {
    if (this.cache.size >= MAX_CACHED && !this.cache.has(k)) this.cache.clear();
    this.cache.set(k, value);
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => void this.flush(), FLUSH_DELAY_MS);
    this.timer.unref();
  }
}
