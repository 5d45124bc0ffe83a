/**
 * The read path: manifest -> the segments overlapping [start, end) -> the k data shards in
 * parallel (parity only when one is missing, unreadable, fails its id check or is slow:
 * ec-fetch.ts) -> decode only when
 * needed -> decrypt (in a codec worker, straight from the shards, no concatenation) -> slice. The next segment is fetched while the current one is
 * consumed (a prefetch of one), so memory stays at about two segments per read.
 */
import { Errors } from '../core/errors.ts';
import type { DataReadOptions } from './data-store.ts';
import type { EcContext } from './ec-types.ts';
import type { ManifestRow, SegmentPlan } from './ec-schema.ts';
import { decode } from '../../mesh/codec/erasure.ts';
import { fetchShards } from './ec-fetch.ts';
import { decryptSegment, unwrapKey } from '../../mesh/codec/crypto.ts';

const PLAN_WINDOW = 64;

type Label = DataReadOptions['label'];

export function loadManifest(ctx: EcContext, manifestId: string): ManifestRow {
  const man = ctx.repo.manifest(manifestId);
  if (!man) throw Errors.internal(`manifest ${manifestId} does not exist: the catalog refers to data that was collected or never written`);
  return man;
}

/** Streams bytes [start, end) of a manifest (see DataStore.read). */
export async function* readManifest(ctx: EcContext, manifestId: string, opts: DataReadOptions): AsyncGenerator<Uint8Array> {
  const man = loadManifest(ctx, manifestId);
  const start = Math.max(0, opts.start);
  const end = Math.min(opts.end, man.size);
  if (end <= start) return;
  opts.signal?.throwIfAborted();
  const key = unwrapKey(ctx.kek, man.wrapped_key, man.id);
  if (man.inline) {
    let plain: Buffer;
    try {
      plain = decryptSegment(key, man.id, 0, man.inline);
    } catch {
      throw Errors.objectDamaged(opts.label.bucket, opts.label.key, 0, 'its inline bytes fail authentication');
    }
    key.fill(0);
    yield plain.subarray(start, end);
    return;
  }

  const segSize = man.segment_size;
  const first = Math.floor(start / segSize);
  const last = Math.floor((end - 1) / segSize);
  const abort = new AbortController();
  const onAbort = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  let window: SegmentPlan[] = [];
  const planOf = (i: number): SegmentPlan => {
    let plan = window.find((p) => p.idx === i);
    if (!plan) {
      window = ctx.repo.plans(man.id, i, Math.min(last, i + PLAN_WINDOW - 1));
      plan = window.find((p) => p.idx === i);
    }
    if (!plan) throw Errors.objectDamaged(opts.label.bucket, opts.label.key, i, 'its segment record is missing');
    return plan;
  };
  const fetch = (i: number): Promise<Buffer> => {
    const p = loadSegment(ctx, man, key, planOf(i), opts.label, abort.signal);
    p.catch(() => undefined); // a prefetch the consumer never reaches must not be an unhandled rejection
    return p;
  };

  try {
    let next: Promise<Buffer> | undefined = fetch(first);
    for (let i = first; i <= last; i++) {
      const current: Promise<Buffer> = next!;
      next = i < last ? fetch(i + 1) : undefined;
      const plain = await current;
      const from = i === first ? start - i * segSize : 0;
      const to = i === last ? end - i * segSize : plain.length;
      yield plain.subarray(from, to);
    }
  } finally {
    abort.abort();
    opts.signal?.removeEventListener('abort', onAbort);
    key.fill(0);
  }
}

/** Fetches, verifies, decodes (if needed) and decrypts one segment; returns its plaintext. */
export async function loadSegment(
  ctx: EcContext,
  man: ManifestRow,
  key: Buffer,
  plan: SegmentPlan,
  label: Label,
  signal: AbortSignal,
): Promise<Buffer> {
  const { k, m } = man;
  const n = k + m;
  const damaged = (detail: string) => Errors.objectDamaged(label.bucket, label.key, plan.idx, detail);
  if (plan.shards.length !== n) throw damaged(`it records ${plan.shards.length} shards, ${n} expected for ${k}+${m}`);

  const got = await fetchShards(ctx.network, plan, k, {
    signal,
    hedgeAfterMs: ctx.hedgeAfterMs,
    onBad: (i, err) => {
      ctx.counters.badShards++;
      const { id, peer } = plan.shards[i]!;
      if (err !== undefined) ctx.log.warn({ manifest: man.id, segment: plan.idx, shard: i, id, peer, err }, 'shard fetch failed: routed around');
      else ctx.log.warn({ manifest: man.id, segment: plan.idx, shard: i, id, peer }, 'shard missing or corrupt on its peer: routed around');
    },
  });
  signal.throwIfAborted();
  const present = got.reduce((c, s) => c + (s ? 1 : 0), 0);
  if (present < k) throw damaged(`${n - present} of its ${n} shards are missing or corrupt and ${k} are needed`);

  const missingData = got.slice(0, k).flatMap((s, i) => (s ? [] : [i]));
  let pieces: Uint8Array[];
  if (missingData.length === 0) {
    pieces = got.slice(0, k) as Uint8Array[];
  } else {
    ctx.counters.degradedReads++;
    ctx.log.warn({ manifest: man.id, segment: plan.idx, missing: missingData }, 'degraded read: segment rebuilt from parity');
    pieces = [await decode(got, k, m, plan.shard_size * k)];
  }
  signal.throwIfAborted();
  try {
    const job = { key, manifestId: man.id, index: plan.idx, size: plan.size, sealedLength: plan.shard_size * k, pieces };
    return await ctx.codec.open(job, { transfer: true });
  } catch (err) {
    if ((err as Error).name !== 'AuthenticationError') throw err;
    throw damaged('its shards decode to bytes that fail authentication');
  }
}
