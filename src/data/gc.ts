/**
 * Garbage collection: the shards of released manifests, and of pending ones left by an earlier
 * process (a cut PUT, a kill -9), are deleted, then their rows. A shard id still referenced by
 * another manifest is kept. Rows go only after every delete succeeded, so a peer that was down is
 * retried at the next collect. sweepOrphans removes local shard files that no row references
 * (a write that finished after its failed manifest was collected) and temp files of writes cut
 * by a crash.
 */
import type { EcContext } from './types.ts';
import { isDomainError } from '../core/errors.ts';

const BATCH = 64;
const DELETE_CONCURRENCY = 16;
/** On a shared catalog: how long a gateway's collection lease and its writer row last unless renewed. */
export const LEASE_MS = 60_000;
const COLLECT_LEASE = 'collect';

/** Several gateways share the catalog (PostgreSQL): collection is coordinated through it. */
export const sharedCatalog = (ctx: EcContext): boolean => ctx.repo.db.dialect !== 'sqlite';

/** Runs `fn` over `items` with at most `limit` at a time; settles every one. */
export async function settleLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = { status: 'fulfilled', value: await fn(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Deletes the data of one garbage manifest; true when its rows could go too. */
async function collectManifest(ctx: EcContext, manifestId: string): Promise<{ done: boolean; shards: number }> {
  const rows = ctx.repo.shardsOf(manifestId);
  const shared = sharedCatalog(ctx);
  const results = await settleLimited(rows, DELETE_CONCURRENCY, async (row) => {
    if (ctx.repo.referencedElsewhere(row.id, manifestId)) return 0;
    try {
      await ctx.network.delete(row.peer, row.id);
    } catch (err) {
      // On a shared catalog the shard may be another gateway's (only the gateway that stored a
      // shard may delete it): once the rows are gone, that gateway's unclaimed-shard collection
      // frees it (collectUnclaimed below, after --orphan-grace).
      if (shared && isDomainError(err) && err.code === 'AccessDenied') return 0;
      throw err;
    }
    return 1;
  });
  const failed = results.filter((r) => r.status === 'rejected');
  const shards = results.reduce((c, r) => c + (r.status === 'fulfilled' ? r.value : 0), 0);
  if (failed.length > 0) {
    ctx.log.warn({ manifest: manifestId, failed: failed.length, err: (failed[0] as PromiseRejectedResult).reason }, 'could not delete every shard of a collected manifest; will retry');
    return { done: false, shards };
  }
  ctx.repo.deleteManifest(manifestId);
  return { done: true, shards };
}

export interface CollectOptions {
  /** Also sweep local shard files no manifest references (walks the whole shard store: at start). */
  sweep?: boolean;
  /** Collect only the garbage this predicate accepts (the periodic collector's grace period). */
  ready?: (manifestId: string) => boolean;
}

export async function collectGarbage(ctx: EcContext, opts: CollectOptions = {}): Promise<{ manifests: number; shards: number }> {
  // With the catalog kept in the mesh, released data waits until a copy recording the release is durable.
  const gate = ctx.collectGate?.();
  if (gate === 'hold') return { manifests: 0, shards: 0 };
  // On a shared catalog one gateway collects at a time: the others find the lease taken and skip.
  const shared = sharedCatalog(ctx);
  if (shared && !ctx.repo.takeLease(COLLECT_LEASE, ctx.writer, LEASE_MS)) return { manifests: 0, shards: 0 };
  try {
    return await collectLeased(ctx, opts, gate, shared);
  } finally {
    if (shared) ctx.repo.dropLease(COLLECT_LEASE, ctx.writer);
  }
}

async function collectLeased(
  ctx: EcContext,
  opts: CollectOptions,
  gate: { releasedUpTo: number } | undefined,
  shared: boolean,
): Promise<{ manifests: number; shards: number }> {
  let manifests = 0;
  let shards = 0;
  const skipped = new Set<string>();
  for (;;) {
    const ids = ctx.repo
      .garbage(ctx.writer, BATCH + skipped.size, gate?.releasedUpTo)
      .filter((id) => !skipped.has(id))
      .filter((id) => {
        if (opts.ready === undefined || opts.ready(id)) return true;
        skipped.add(id);
        return false;
      });
    if (ids.length === 0) break;
    // renewed per batch; lost (another gateway took over after a stall): stop
    if (shared && !ctx.repo.takeLease(COLLECT_LEASE, ctx.writer, LEASE_MS)) break;
    for (const id of ids) {
      const r = await collectManifest(ctx, id);
      shards += r.shards;
      if (r.done) manifests++;
      else skipped.add(id);
    }
  }
  const orphans = opts.sweep === false ? { shards: 0 } : await sweepOrphans(ctx);
  if (manifests + shards + orphans.shards > 0) {
    ctx.log.info({ manifests, shards, orphans: orphans.shards }, 'collected unreferenced data');
  }
  return { manifests, shards: shards + orphans.shards };
}

/** Deletes shard files on this node's disk that no manifest references, and temp files of dead writes. */
export async function sweepOrphans(ctx: EcContext): Promise<{ shards: number }> {
  const store = ctx.localShards;
  if (!store) return { shards: 0 };
  let shards = 0;
  // Rows are recorded before a shard is written, so a file without a row is an orphan.
  for await (const id of store.list()) {
    if (ctx.repo.referenced(id)) continue;
    await store.delete(id);
    shards++;
  }
  shards += await store.sweepTemp(ctx.openedAt);
  return { shards };
}

/**
 * The gateway's side of collecting unclaimed shards: pages through what this node stored on each
 * of `peers` (the shard protocol's `list`) and deletes every shard that no manifest records on
 * that peer, once it was stored longer than `graceMs` ago (a write in flight records its row
 * before or just after the bytes land). A peer that cannot answer is skipped until next time.
 */
export async function collectUnclaimed(ctx: EcContext, peers: readonly string[], graceMs: number, now = Date.now()): Promise<{ shards: number; peersListed: number }> {
  const list = ctx.network.list?.bind(ctx.network);
  if (list === undefined) return { shards: 0, peersListed: 0 };
  let shards = 0;
  let peersListed = 0;
  for (const peer of peers) {
    try {
      let after = '';
      for (;;) {
        const page = await list(peer, after);
        const junk = page.shards.filter((s) => now - s.storedAt >= graceMs && !ctx.repo.referencedOn(s.id, peer));
        const results = await settleLimited(junk, DELETE_CONCURRENCY, (s) => ctx.network.delete(peer, s.id));
        shards += results.filter((r) => r.status === 'fulfilled').length;
        if (page.next === undefined) break;
        after = page.next;
      }
      peersListed++;
    } catch (err) {
      ctx.log.warn({ peer, err }, 'collecting unclaimed shards: the peer could not list its shards; will retry');
    }
  }
  if (shards > 0) ctx.log.info({ shards, peers: peersListed }, `collected ${shards} shards that no manifest records (older than ${graceMs} ms)`);
  return { shards, peersListed };
}
