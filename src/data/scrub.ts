/**
 * Scrub and repair.
 *
 * Scrub reads every shard of every live manifest (each read verifies the shard against its id):
 * scrub exists to check every shard. It rebuilds the missing or corrupt ones from the survivors.
 *
 * Repair rebuilds the shards recorded on dead, evicted or untrusted peers. It needs only k
 * survivors per segment: it asks for k shards (data shards first; parity for each one that comes
 * back missing or fails, and for each one still outstanding after 5 x hedgeAfterMs), without hashing
 * them, and reconstructs as soon as k are in hand. Every rebuilt shard must hash to its recorded id
 * before it is written; since each rebuilt shard of a Reed-Solomon (MDS) code depends on all k
 * inputs, one corrupt input changes it, so that check also catches a peer that served bad bytes,
 * and the segment is then repaired the slow way, every shard fetched and verified. Rebuilt shards
 * are written in parallel to live peers that hold no other shard of the segment, and their new
 * locations recorded. Segments are repaired REPAIR_CONCURRENCY at a time, so the fetches of some
 * overlap the coding and writing of others.
 */
import type { EcContext, RepairResult, ScrubOptions, ScrubResult } from './types.ts';
import type { ManifestRow, SegmentPlan } from './schema.ts';
import { reconstruct } from '../codec/erasure.ts';
import { freePeers } from './writer.ts';
import { fetchShards } from './fetch.ts';

const MANIFEST_PAGE = 100;
const SEGMENT_PAGE = 64;

/** Repair asks for parity in place of a shard still outstanding after this many times a read's hedgeAfterMs. */
export const REPAIR_HEDGE_FACTOR = 5;
/** An unreadable segment (lost or deferred) whose state has not changed is logged again after this long (it stays counted). */
export const LOST_RELOG_MS = 3_600_000;
/** Unreadable segments remembered for the log-once rule (the oldest are forgotten past this). */
const LOST_REMEMBERED = 100_000;

type Result = ScrubResult & Partial<Pick<RepairResult, 'bytesRebuilt' | 'ms'>>;

interface SegmentRun {
  ctx: EcContext;
  man: ManifestRow;
  plan: SegmentPlan;
  result: Result;
  signal?: AbortSignal;
  /** Peers whose shards count as missing without asking for them. */
  dead: ReadonlySet<string>;
  onRebuilt?: (bytes: number) => void;
}

/** The unreadable segments logged per data store: "manifest/segment" -> what was said of it and when. */
const unreadableLogged = new WeakMap<EcContext, Map<string, { state: string; at: number }>>();

/**
 * Whether to log an unreadable segment now: once, then again only when what is said of it changes
 * (lost or deferred, which shards) or LOST_RELOG_MS has passed. Scrub and every repair round meet
 * it again, and one line per tick buries everything else; it is still counted every time
 * (`unrecoverable`, `deferred`, the repair gauges).
 */
function sayOnce(run: SegmentRun, state: string, now = Date.now()): boolean {
  const { ctx, man, plan } = run;
  let seen = unreadableLogged.get(ctx);
  if (!seen) unreadableLogged.set(ctx, (seen = new Map()));
  const key = `${man.id}/${plan.idx}`;
  const was = seen.get(key);
  if (was && was.state === state && now - was.at < LOST_RELOG_MS) return false;
  seen.delete(key); // re-inserted last: the map's order is the order of logging
  seen.set(key, { state, at: now });
  if (seen.size > LOST_REMEMBERED) seen.delete(seen.keys().next().value!);
  return true;
}

/** The segment is whole again (or was deleted): a later loss is news and is logged. */
function forgetLost(ctx: EcContext, man: ManifestRow, plan: SegmentPlan): void {
  unreadableLogged.get(ctx)?.delete(`${man.id}/${plan.idx}`);
}

/**
 * Too few shards came back to rebuild the segment. "Lost" only when fewer than k exist on peers
 * that answered or are gone for good; a peer that is restarting is neither, and its shards may
 * well come back: then the segment is deferred (warned about, retried later).
 */
function unreadable(run: SegmentRun, missing: readonly number[], unanswered: ReadonlySet<number>): void {
  const { ctx, man, plan, result } = run;
  const n = man.k + man.m;
  const gone = missing.filter((i) => !unanswered.has(i));
  if (plan.shards.length === n && n - gone.length >= man.k) {
    result.deferred = (result.deferred ?? 0) + 1;
    if (sayOnce(run, `deferred:${missing.join(',')}/${[...unanswered].join(',')}`))
      ctx.log.warn(
        { manifest: man.id, segment: plan.idx, missing, unanswered: [...unanswered] },
        `scrub: segment not readable now: ${missing.length} of ${n} shards unavailable, ${unanswered.size} of them on peers that do not answer (restarting?); not lost, retried later`,
      );
    return;
  }
  result.unrecoverable.push({ manifestId: man.id, segment: plan.idx });
  logLost(run, gone);
}

/** A lost segment, at error level, once (sayOnce). */
function logLost(run: SegmentRun, gone: readonly number[]): void {
  const { ctx, man, plan } = run;
  if (sayOnce(run, `lost:${gone.join(',')}`))
    ctx.log.error(
      { manifest: man.id, segment: plan.idx, missing: gone },
      `scrub: segment lost: ${gone.length} of ${man.k + man.m} shards missing or corrupt on peers that answered or are gone, ${man.k} needed`,
    );
}

/**
 * Rebuilds the shards `missing` from `got` (at least k present), checks each against its id and
 * writes them in parallel to free live peers. 'mismatch' (nothing written) when a rebuilt shard
 * does not hash to its id: one of the inputs was corrupt.
 */
async function rebuild(run: SegmentRun, got: readonly (Uint8Array | undefined)[], missing: readonly number[]): Promise<'done' | 'mismatch'> {
  const { ctx, man, plan, result, signal, dead } = run;
  const log = { manifest: man.id, segment: plan.idx };
  const want = new Set(missing);
  const t0 = performance.now();
  const rebuilt = (await reconstruct(got, man.k, man.m)).filter((r) => want.has(r.index));
  const ids = plan.shards.map((s) => s.id);
  const rebuiltIds = (await ctx.codec.hash(rebuilt.map((r) => r.bytes), { like: rebuilt.map((r) => ids[r.index]!) })).ids;
  const t1 = performance.now();
  if (result.ms) result.ms.code += t1 - t0;
  const wrong = rebuilt.findIndex((r, j) => rebuiltIds[j] !== ids[r.index]);
  if (wrong !== -1) {
    ctx.log.warn({ ...log, shard: rebuilt[wrong]!.index, id: ids[rebuilt[wrong]!.index] }, 'scrub: a rebuilt shard does not match its id');
    return 'mismatch';
  }
  // With fewer live peers than shards the extra shards stay on this node: it serves the object
  // anyway, so doubling up here costs no availability, while doubling up on a storage peer would
  // let two more peer failures take three shards of the segment.
  const where = plan.shards.map((s, i) => (want.has(i) ? undefined : s.peer));
  const free = freePeers(ctx.network, ids, where, missing, dead);
  const targets = new Map(missing.map((idx, j) => [idx, free[j] ?? ctx.network.self]));
  const written = await Promise.all(
    rebuilt.map(async ({ index, bytes }) => {
      const id = ids[index]!;
      const peer = targets.get(index) ?? ctx.network.self;
      try {
        await ctx.network.put(peer, id, bytes, { signal });
      } catch (err) {
        signal?.throwIfAborted();
        ctx.log.warn({ ...log, shard: index, id, peer, err }, 'scrub: could not write a rebuilt shard; next scrub retries');
        return false;
      }
      if (peer !== plan.shards[index]!.peer) ctx.repo.setPeer(man.id, plan.idx, index, peer);
      result.shardsRebuilt++;
      if (result.bytesRebuilt !== undefined) result.bytesRebuilt += bytes.length; // repairs count bytes
      run.onRebuilt?.(bytes.length);
      ctx.counters.shardsRebuilt++;
      return true;
    }),
  );
  if (result.ms) result.ms.write += performance.now() - t1;
  if (written.every(Boolean)) forgetLost(ctx, man, plan);
  ctx.log.info({ ...log, rebuilt: rebuilt.filter((_, j) => written[j]).map((r) => r.index) }, 'scrub: shards rebuilt');
  return 'done';
}

/**
 * Checks one segment by reading every shard (verified against its id) and rebuilds the missing
 * or corrupt ones. Shards recorded on a peer in `dead` count as missing without asking for them.
 */
async function scrubSegment(run: SegmentRun): Promise<void> {
  const { ctx, man, plan, signal, dead } = run;
  run.result.segmentsChecked++;
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
        ctx.log.warn({ manifest: man.id, segment: plan.idx, id, peer, err }, 'scrub: shard fetch failed');
        return undefined;
      }
    }),
  );
  const missing = got.flatMap((s, i) => (s ? [] : [i]));
  if (missing.length === 0) return forgetLost(ctx, man, plan);
  ctx.counters.badShards += missing.length;
  if (plan.shards.length !== man.k + man.m || got.length - missing.length < man.k) return unreadable(run, missing, unanswered);
  // the inputs were verified: a rebuilt shard that does not match means the segment is damaged beyond what the code fixes
  if ((await rebuild(run, got, missing)) === 'mismatch') {
    run.result.unrecoverable.push({ manifestId: man.id, segment: plan.idx });
    logLost(run, missing);
  }
}

/**
 * Rebuilds the shards of one segment recorded on `dead` peers (and any survivor found missing on
 * the way) from the first k survivors that answer, unhashed; the rebuilt shards' id check stands
 * for the inputs' (see the file's comment), and a mismatch falls back to scrubSegment.
 */
async function repairSegmentFast(run: SegmentRun): Promise<void> {
  const { ctx, man, plan, signal, dead } = run;
  const { k, m } = man;
  const n = k + m;
  const lost = plan.shards.flatMap((s, i) => (dead.has(s.peer) ? [i] : []));
  if (plan.shards.length !== n || lost.length === 0) return scrubSegment(run);
  // the survivors, this node's own first (no transport to pay), then data shards before parity
  // (plan order): fetchShards asks the first k, then the rest
  const self = ctx.network.self;
  const alive = plan.shards.flatMap((s, i) => (dead.has(s.peer) ? [] : [i])).sort((a, b) => Number(plan.shards[b]!.peer === self) - Number(plan.shards[a]!.peer === self) || a - b);
  const bad = new Set<number>();
  const unanswered = new Set<number>();
  const t0 = performance.now();
  const fetched = await fetchShards(ctx.network, { ...plan, shards: alive.map((i) => plan.shards[i]!) }, k, {
    signal: signal ?? new AbortController().signal,
    // repair is throughput work: a hedge doubles traffic on a busy mesh, so only a peer that
    // hangs (REPAIR_HEDGE_FACTOR times a read's patience) is bypassed with parity
    hedgeAfterMs: ctx.hedgeAfterMs * REPAIR_HEDGE_FACTOR,
    verify: false,
    onBad: (j, err) => {
      if (err === undefined) bad.add(alive[j]!);
      else if (!signal?.aborted) unanswered.add(alive[j]!);
    },
  });
  signal?.throwIfAborted();
  if (run.result.ms) run.result.ms.fetch += performance.now() - t0;
  const got = new Array<Uint8Array | undefined>(n).fill(undefined);
  fetched.forEach((bytes, j) => (got[alive[j]!] = bytes));
  for (const i of got.keys()) if (got[i]) unanswered.delete(i); // answered on a retry
  const have = got.filter(Boolean).length;
  const missing = [...lost, ...bad].sort((a, b) => a - b);
  if (have < k) {
    run.result.segmentsChecked++;
    ctx.counters.badShards += missing.length + unanswered.size;
    return unreadable(run, [...missing, ...unanswered].sort((a, b) => a - b), unanswered);
  }
  if ((await rebuild(run, got, missing)) === 'mismatch') return scrubSegment(run); // a survivor served bad bytes
  run.result.segmentsChecked++;
  ctx.counters.badShards += missing.length;
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
          await scrubSegment({ ctx, man, plan, result, signal: opts.signal, dead: new Set() });
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
  if (man?.state === 'live' && plan) await repairSegmentFast({ ctx, man, plan, result, dead: new Set(avoid) });
  return result;
}

/**
 * Segments rebuilt at once by repair, bounding memory (each holds at most n shards: k fetched, the
 * coder's k + m). Measured here (bench --repair-only, 6 peers, 4+2, 4 MiB segments, a loaded
 * 2-core machine): 2 at once 2.2 MB/s, 4 at once 2.9, 8 at once 2.4 (against 3.8 for 4 in that
 * run). The gateway's main thread is the bottleneck (the transport's ciphers), so more segments
 * in flight only queue.
 */
export const REPAIR_CONCURRENCY = 4;

/**
 * Rebuilds every shard recorded on the `dead` peers from the survivors onto live peers, segment by
 * segment, `concurrency` segments at a time.
 */
export async function repairPeers(ctx: EcContext, dead: readonly string[], opts: ScrubOptions & { concurrency?: number } = {}): Promise<RepairResult> {
  const result: RepairResult = { segmentsChecked: 0, shardsRebuilt: 0, unrecoverable: [], bytesRebuilt: 0, ms: { fetch: 0, code: 0, write: 0 } };
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
        if (man && plan) await repairSegmentFast({ ctx, man, plan, result, signal: opts.signal, dead: gone, onRebuilt: opts.onRebuilt });
        // a segment that still has shards on the dead peers (nowhere to put them, or lost) is not retried this round
        const after = ctx.repo.plans(manifest, segment, segment)[0];
        if (!after || after.shards.some((sh) => gone.has(sh.peer))) given.add(`${manifest}/${segment}`);
        opts.onProgress?.(++done, Math.max(total, done));
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? REPAIR_CONCURRENCY, batch.length) }, worker));
  }
  for (const step of ['fetch', 'code', 'write'] as const) result.ms![step] = Math.round(result.ms![step]);
  return result;
}
