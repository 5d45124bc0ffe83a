/**
 * A bucket's row, settings and configuration documents, cached in memory: a small request reads
 * them ten to twenty times (route, authorization, ACL, CORS, versioning, lock, the commit's
 * same-bucket check), and each autocommit SQLite read costs a WAL read lock. Kept only for a
 * SQLite catalog, which this process alone writes (the data directory's lock); a PostgreSQL
 * catalog is shared by several gateways, whose changes this process would not see, so it reads
 * through.
 *
 * Every write of a bucket's row or configuration goes through the Catalog, which drops the
 * bucket's entry (forget); a transaction that fails drops every entry (forgetAll), since a value
 * read inside it may have been one it wrote and then rolled back.
 */
import type { BucketInfo } from '../core/object-store.ts';

interface Entry<S> {
  /** null: no such bucket. */
  bucket?: BucketInfo | null;
  settings?: S;
  config: Map<string, string | null>;
}

/** More buckets than this and the cache starts over (a bound, not an eviction policy). */
const MAX_BUCKETS = 10_000;

/** S: the catalog's bucket settings type. */
export class BucketCache<S> {
  private readonly entries = new Map<string, Entry<S>>();

  constructor(readonly enabled: boolean) {}

  private entry(name: string): Entry<S> {
    let e = this.entries.get(name);
    if (!e) {
      if (this.entries.size >= MAX_BUCKETS) this.entries.clear();
      e = { config: new Map() };
      this.entries.set(name, e);
    }
    return e;
  }

  bucket(name: string, load: () => BucketInfo | undefined): BucketInfo | undefined {
    if (!this.enabled) return load();
    const e = this.entry(name);
    if (e.bucket === undefined) e.bucket = freeze(load()) ?? null;
    return e.bucket ?? undefined;
  }

  settings(name: string, load: () => S): S {
    if (!this.enabled) return load();
    const e = this.entry(name);
    return (e.settings ??= freeze(load()));
  }

  config(bucket: string, name: string, load: () => string | undefined): string | undefined {
    if (!this.enabled) return load();
    const c = this.entry(bucket).config;
    let v = c.get(name);
    if (v === undefined) c.set(name, (v = load() ?? null));
    return v ?? undefined;
  }

  forget(name: string): void {
    this.entries.delete(name);
  }

  forgetAll(): void {
    this.entries.clear();
  }
}

/** Cached values are shared by every caller: frozen, so a caller that changed one would fail loudly. */
function freeze<T>(v: T): T {
  if (v !== null && typeof v === 'object') {
    Object.freeze(v);
    for (const x of Object.values(v)) if (x !== null && typeof x === 'object' && !(x instanceof Date)) freeze(x);
  }
  return v;
}
