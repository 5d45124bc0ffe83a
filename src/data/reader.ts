/**
 * The read path: manifest -> the segments overlapping [start, end) -> the k data shards in
 * parallel (parity only when one is missing, unreadable or slow: fetch.ts) -> decode only when
 * needed -> decrypt (in a codec worker, straight from the shards, no concatenation) -> slice.
 *
 * Healthy reads are authenticated by the AEAD tag alone: AES-GCM over the segment covers every
 * byte of the k data shards (and of anything decoded from parity), so the shards are not hashed
 * against their ids on the way in. Only when the tag fails is the segment read again with every
 * shard hashed: the corrupt ones fail their id check, are reported (and the peer marked) and
 * read around from parity. Scrub and audits still hash every shard. The next segment is fetched while the current one is
 * consumed (a prefetch of one, and none while the pool's budget is spent: buffers.ts), so memory
 * stays at two segments per read at most, one under load.
 *
 * A full segment is read into a recycled stripe buffer (buffers.ts): the k data shards land in
 * `sealed` and the worker decrypts them there, in place (a degraded read decodes from parity into
 * fresh memory and decrypts into a pooled `plain`); the chunk yielded is a view of the plaintext,
 * lent (src/core/lent.ts): the stripe goes back to the pool once the consumer says the bytes
 * were taken and every shard read into it has settled. No fresh buffer per segment, so V8 does
 * not run a full garbage collection every few segments.
 */
import { Errors } from '../core/errors.ts';
import type { DataReadOptions } from './data-store.ts';
import type { EcContext } from './types.ts';
import type { ManifestRow, SegmentPlan } from './schema.ts';
import { decode } from '../codec/erasure.ts';
import { fetchShards } from './fetch.ts';
import { decryptSegment, unwrapManifestKey } from '../codec/crypto.ts';
import { lend } from '../core/lent.ts';
import type { StripeBuffers } from './buffers.ts';

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
  const key = unwrapManifestKey(ctx.kek, man.wrapped_key, man.id, opts.customerKey);
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
  const fetch = (i: number): Promise<LoadedSegment> => {
    const p = loadSegment(ctx, man, key, planOf(i), opts.label, abort.signal);
    p.catch(() => undefined); // a prefetch the consumer never reaches must not be an unhandled rejection
    return p;
  };

  try {
    let next: Promise<LoadedSegment> | undefined = fetch(first);
    for (let i = first; i <= last; i++) {
      const current: Promise<LoadedSegment> = next!;
      // fetch ahead only while the stripe buffers of all transfers are within their budget; past
      // it, the next segment is fetched once the consumer asks for it (it has taken this one)
      next = i < last && ctx.buffers.roomy() ? fetch(i + 1) : undefined;
      const { plain, giveBack } = await current;
      const from = i === first ? start - i * segSize : 0;
      const to = i === last ? end - i * segSize : plain.length;
      const chunk = plain.subarray(from, to);
      if (giveBack) lend(chunk, giveBack);
      yield chunk;
      if (next === undefined && i < last) next = fetch(i + 1);
    }
  } finally {
    abort.abort();
    opts.signal?.removeEventListener('abort', onAbort);
    key.fill(0);
  }
}

export interface LoadedSegment {
  plain: Buffer;
  /** Returns the segment's recycled stripe buffers to the pool: call once nothing uses `plain`. */
  giveBack?: () => void;
}

/**
 * Fetches, decodes (if needed) and decrypts one segment, authenticated by its tag; returns its
 * plaintext. On a tag failure, reads it again with every shard checked against its id, which
 * finds the corrupt ones and reads around them.
 */
export async function loadSegment(...args: SegmentArgs): Promise<LoadedSegment> {
  try {
    return await fetchAndOpen(args, false);
  } catch (err) {
    if (!(err instanceof TagFailure)) throw err;
    const [ctx, man, , plan] = args;
    ctx.log.warn({ manifest: man.id, segment: plan.idx }, 'segment failed authentication: reading it again with every shard checked against its id');
    return fetchAndOpen(args, true);
  }
}

type SegmentArgs = [ctx: EcContext, man: ManifestRow, key: Buffer, plan: SegmentPlan, label: Label, signal: AbortSignal];

/** The segment's shards decrypt to bytes that fail authentication (some shard is corrupt). */
class TagFailure extends Error {}

async function fetchAndOpen([ctx, man, key, plan, label, signal]: SegmentArgs, verify: boolean): Promise<LoadedSegment> {
  const { k, m } = man;
  const n = k + m;
  const S = plan.shard_size;
  const damaged = (detail: string) => Errors.objectDamaged(label.bucket, label.key, plan.idx, detail);
  if (plan.shards.length !== n) throw damaged(`it records ${plan.shards.length} shards, ${n} expected for ${k}+${m}`);

  // Full segments are read into recycled shared buffers; short ones into fresh ones (as before).
  // Only the sealed part is taken: the data shards land there and are decrypted in place. Parity
  // shards (rare: a missing or slow data shard) are read into fresh buffers.
  const stripe: StripeBuffers | undefined = ctx.buffers.fits(k, m, S) ? ctx.buffers.take({ plain: false, parity: false }) : undefined;
  const fetches: Promise<unknown>[] = [];
  const got = await fetchShards(ctx.network, plan, k, {
    into: stripe && ((i) => (i < k ? new Uint8Array(stripe.sealed, i * S, S) : undefined)),
    started: (f) => fetches.push(f),
    signal,
    verify,
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
  // abandoned stragglers may still be reading into the stripe: it is reused only after them
  const giveBack = stripe && (() => void Promise.all(fetches).then(() => ctx.buffers.give(stripe)));
  try {
    const job = { key, manifestId: man.id, index: plan.idx, size: plan.size, sealedLength: S * k, pieces };
    if (!stripe) return { plain: await ctx.codec.open(job, { transfer: true }) };
    // When the k data shards were read into the stripe's sealed buffer, decrypt them in place
    // (each piece is read before its bytes are overwritten, the tag lies past the plaintext): the
    // plain buffer is never touched, half the resident memory of a read. Decoded or foreign bytes
    // (a mesh peer's) go to the plain buffer as before.
    const inPlace = pieces.length === k && pieces.every((p, i) => p.buffer === stripe.sealed && p.byteOffset === i * S && p.byteLength === S);
    if (!inPlace) stripe.plain = ctx.buffers.take({ sealed: false, parity: false }).plain;
    const plain = await ctx.codec.open({ ...job, out: new Uint8Array(inPlace ? stripe.sealed : stripe.plain) });
    return { plain, giveBack };
  } catch (err) {
    giveBack?.();
    if ((err as Error).name !== 'AuthenticationError') throw err;
    if (!verify) throw new TagFailure();
    throw damaged('its shards decode to bytes that fail authentication');
  }
}
