/**
 * Scrub: reads every shard of every live manifest (each read verifies the shard against its id),
 * rebuilds the missing or corrupt ones from any k survivors, checks that each rebuilt shard hashes
 * to its recorded id, writes it to the peer placement chooses, and records the new location.
 */
import type { EcContext, ScrubOptions, ScrubResult } from './types.ts';
import type { ManifestRow, SegmentPlan } from './schema.ts';
import { reconstruct } from '../codec/erasure.ts';
import { freePeers } from './writer.ts';

const MANIFEST_PAGE = 100;
const SEGMENT_PAGE = 64;

/**
 * Checks one segment and rebuilds its missing shards. Shards recorded on a peer in `dead` count as
 * missing without asking for them. Rebuilt shards go to live peers that hold no other shard of the
 * segment (placement order first), so a repaired segment stays spread over distinct peers.
 */
async function scrubSegment(
  ctx: EcContext,
  man: ManifestRow,
  plan: SegmentPlan,
  result: ScrubResult & { bytesRebuilt?: number },
  signal?: AbortSignal,
  dead: ReadonlySet<string> = new Set(),
  onRebuilt?: (bytes: number) => void,
): Promise<void> {
  const { k, m } = man;
  const n = k + m;
  const log = { manifest: man.id, segment: plan.idx };
  result.segmentsChecked++;
  /** Shards whose peer did not answer (restarting, busy): not known to be gone. */
  const unanswered = new Set<number>();
  const got = await Promise.all(
    plan.shards.map(async ({ id, peer }, i) => {
      if (dead.has(peer)) return undefined;
      try {
        const bytes = await ctx.network.get(peer, id, { signal });
        return bytes && bytes.length === plan.shard_size ? bytes : undefined;
      } catch (err) {
        signal?.throwIfAborted();
        unanswered.add(i);
        ctx.log.warn({ ...log, id, peer, err }, 'scrub: shard fetch failed');
        return undefined;
      }
    }),
  );
  const missing = got.flatMap((s, i) => (s ? [] : [i]));
  if (missing.length === 0) return;
  ctx.counters.badShards += missing.length;
  if (plan.shards.length !== n || n - missing.length < k) {
    // "lost" only when fewer than k shards exist on peers that answered or are gone for good; a
    // peer that is restarting is neither, and its shards may well come back
    const gone = missing.length - unanswered.size;
    if (plan.shards.length === n && n - gone >= k) {
      result.deferred = (result.deferred ?? 0) + 1;
      ctx.log.warn(
        { ...log, missing, unanswered: [...unanswered] },
        `scrub: segment not readable now: ${missing.length} of ${n} shards unavailable, ${unanswered.size} of them on peers that do not answer (restarting?); not lost, retried later`,
      );
      return;
    }
    result.unrecoverable.push({ manifestId: man.id, segment: plan.idx });
    ctx.log.error({ ...log, missing }, `scrub: segment lost: ${gone} of ${n} shards missing or corrupt on peers that answered or are gone, ${k} needed`);
    return;
  }
  const rebuilt = await reconstruct(got, k, m);
  const ids = plan.shards.map((s) => s.id);
  // With fewer live peers than shards the extra shards stay on this node: it serves the object
  // anyway, so doubling up here costs no availability, while doubling up on a storage peer would
  // let two more peer failures take three shards of the segment.
  const where = plan.shards.map((s, i) => (missing.includes(i) ? undefined : s.peer));
  const free = freePeers(ctx.network, ids, where, missing, dead);
  const targets = new Map(missing.map((idx, j) => [idx, free[j] ?? ctx.network.self]));
  const rebuiltIds = (await ctx.codec.hash(rebuilt.map((r) => r.bytes), { like: rebuilt.map((r) => ids[r.index]!) })).ids;
  for (const [j, { index, bytes }] of rebuilt.entries()) {
    const id = ids[index]!;
    if (rebuiltIds[j] !== id) {
      result.unrecoverable.push({ manifestId: man.id, segment: plan.idx });
      ctx.log.error({ ...log, shard: index, id }, 'scrub: a rebuilt shard does not match its id; segment left as is');
      return;
    }
    const peer = targets.get(index) ?? ctx.network.self;
    try {
      await ctx.network.put(peer, id, bytes, { signal });
    } catch (err) {
      signal?.throwIfAborted();
      ctx.log.warn({ ...log, shard: index, id, peer, err }, 'scrub: could not write a rebuilt shard; next scrub retries');
      continue;
    }
    if (peer !== plan.shards[index]!.peer) ctx.repo.setPeer(man.id, plan.idx, index, peer);
    result.shardsRebuilt++;
    if (result.bytesRebuilt !== undefined) result.bytesRebuilt += bytes.length; // repairs count bytes
    onRebuilt?.(bytes.length);
    ctx.counters.shardsRebuilt++;
  }
  ctx.log.info({ ...log, rebuilt: rebuilt.map((r) => r.index) }, 'scrub: shards rebuilt');
}

export async function scrubAll(ctx: EcContext, opts: ScrubOptions = {}): Promise<ScrubResult> {
  const result: ScrubResult = { segmentsChecked: 0, shardsRebuilt: 0, unrecoverable: [] };
  const total = ctx.repo.liveSegmentCount();
  let done = 0;
  opts.onProgress?.(0, total);
  let after = '';
  for (;;) {
    const ids = ctx.repo.liveAfter(after, MANIFEST_PAGE);
    if (ids.length === 0) break;
    after = ids[ids.length - 1]!;
    for (const id of ids) {
      const man = ctx.repo.manifest(id);
      if (!man || man.state !== 'live') continue;
      for (let from = 0; ; from += SEGMENT_PAGE) {
        const plans = ctx.repo.plans(id, from, from + SEGMENT_PAGE - 1);
        if (plans.length === 0) break;
        for (const plan of plans) {
          opts.signal?.throwIfAborted();
          await scrubSegment(ctx, man, plan, result, opts.signal);
          opts.onProgress?.(++done, Math.max(total, done));
        }
      }
    }
  }
  return result;
}

/**
 * Checks and rebuilds one segment now (an audit caught a peer without a shard of it): the shards
 * recorded on `avoid` count as missing and none is rebuilt there.
 */
export async function repairSegment(ctx: EcContext, manifest: string, segment: number, avoid: readonly string[]): Promise<RepairResult> {
  const result: RepairResult = { segmentsChecked: 0, shardsRebuilt: 0, unrecoverable: [], bytesRebuilt: 0 };
  const man = ctx.repo.manifest(manifest);
  const plan = ctx.repo.plans(manifest, segment, segment)[0];
  if (man?.state === 'live' && plan) await scrubSegment(ctx, man, plan, result, undefined, new Set(avoid));
  return result;
}

export interface RepairResult extends ScrubResult {
  bytesRebuilt: number;
}

/** Segments rebuilt at once by repair: enough to keep peers and the codec busy, bounded memory (n shards each). */
export const REPAIR_CONCURRENCY = 4;

/**
 * Rebuilds every shard recorded on the `dead` peers from the survivors onto live peers, segment by
 * segment, REPAIR_CONCURRENCY segments at a time.
 */
export async function repairPeers(ctx: EcContext, dead: readonly string[], opts: ScrubOptions = {}): Promise<RepairResult> {
  const result: RepairResult = { segmentsChecked: 0, shardsRebuilt: 0, unrecoverable: [], bytesRebuilt: 0 };
  const gone = new Set(dead);
  const given = new Set<string>();
  const total = ctx.repo.countSegmentsOnPeers(dead);
  let done = 0;
  opts.onProgress?.(0, total);
  for (;;) {
    const batch = ctx.repo.segmentsOnPeers(dead, SEGMENT_PAGE + given.size).filter((s) => !given.has(`${s.manifest}/${s.segment}`));
    if (batch.length === 0) break;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batch.length) {
        const { manifest, segment } = batch[next++]!;
        opts.signal?.throwIfAborted();
        const man = ctx.repo.manifest(manifest);
        const plan = ctx.repo.plans(manifest, segment, segment)[0];
        if (man && plan) await scrubSegment(ctx, man, plan, result, opts.signal, gone, opts.onRebuilt);
        // a segment that still has shards on the dead peers (nowhere to put them, or lost) is not retried this round
        const after = ctx.repo.plans(manifest, segment, segment)[0];
        if (!after || after.shards.some((sh) => gone.has(sh.peer))) given.add(`${manifest}/${segment}`);
        opts.onProgress?.(++done, Math.max(total, done));
      }
    };
    await Promise.all(Array.from({ length: Math.min(REPAIR_CONCURRENCY, batch.length) }, worker));
  }
  return result;
}
