/**
 * The write path: body -> segments (one buffer at a time) -> AES-256-GCM -> Reed-Solomon k+m ->
 * shard ids (SHA-256), all three in a codec worker (src/codec/codec-pool.ts) so the event loop
 * stays free -> placement -> n parallel puts with a write quorum. Pipelined: the body goes on being
 * read while earlier segments are sealed, coded and written; ctx.segmentsInFlight at most.
 * The manifest and its shard rows are recorded as the writer goes, so a crash leaves something
 * collect() can find.
 */
import { randomUUID } from 'node:crypto';
import { DiskFullError, Errors } from '../core/errors.ts';
import type { DataWriteOptions, WrittenData } from './data-store.ts';
import type { EcContext } from './types.ts';
import type { StripeBufferPool, StripeBuffers } from './buffers.ts';
import { encryptSegment, newDataKey, wrapKey, wrapKeyForCustomer } from '../codec/crypto.ts';
import { consumed } from '../core/lent.ts';
import { replaceShards } from '../../mesh/placement.ts';

export { paddedLength } from '../codec/core.mjs';
import { copyInto } from '../codec/core.mjs';

/** A segment's plaintext as read from the body: the first `length` bytes of `bytes`. */
export interface Segment {
  bytes: Buffer;
  length: number;
  /** True when the segment holds segmentSize bytes (a short segment is the body's last). */
  full: boolean;
  /** Pooled stripe buffers whose `plain` holds `bytes`; absent for a short first segment. */
  buffers?: StripeBuffers;
}

/** Segments of one body being sealed and written at once by default (--segments-in-flight; memory per upload: this many stripes). */
export const SEGMENTS_IN_FLIGHT = 4;

/** Below this, the first segment grows in small buffers (a small body never takes a pooled stripe). */
const SMALL_LIMIT = 256 * 1024;

/**
 * Cuts a body into segments of `segmentSize` bytes (the last one shorter; an empty body gives one
 * empty segment), copying each chunk once. Full-size segments fill pooled stripe buffers.
 */
export async function* segmentBody(
  body: AsyncIterable<Uint8Array>,
  segmentSize: number,
  pool: Pick<StripeBufferPool, 'take'>,
  opts: { maxSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<Segment> {
  let total = 0;
  let yielded = false;
  let buf: Buffer | undefined;
  let buffers: StripeBuffers | undefined;
  let len = 0;
  const room = (need: number) => {
    if (buf && need <= buf.length) return;
    if (yielded || need > SMALL_LIMIT) {
      buffers = pool.take();
      const next = Buffer.from(buffers.plain);
      if (buf) copyInto(next, 0, buf.subarray(0, len));
      buf = next;
    } else {
      const next = Buffer.allocUnsafe(Math.min(SMALL_LIMIT, Math.max(64 * 1024, (buf?.length ?? 0) * 4, need)));
      buf?.copy(next, 0, 0, len);
      buf = next;
    }
  };
  for await (const chunk of body) {
    opts.signal?.throwIfAborted();
    total += chunk.length;
    if (opts.maxSize !== undefined && total > opts.maxSize) throw Errors.entityTooLarge(total, opts.maxSize);
    let off = 0;
    while (off < chunk.length) {
      const take = Math.min(chunk.length - off, segmentSize - len);
      room(len + take);
      // a memcpy, not Buffer#copy: that is an atomic byte copy into a SharedArrayBuffer (core.mjs copyInto)
      copyInto(buf!, len, chunk.subarray(off, off + take));
      len += take;
      off += take;
      if (len === segmentSize) {
        yield { bytes: buf!, length: len, full: true, buffers };
        yielded = true;
        buf = undefined;
        buffers = undefined;
        len = 0;
      }
    }
    consumed(chunk); // copied: a recycled buffer (a CopyObject source) can go back to its reader
  }
  opts.signal?.throwIfAborted();
  if (len > 0 || !yielded) yield { bytes: buf ?? Buffer.alloc(0), length: len, full: false, buffers };
}

/** Seals, codes and stores one segment; resolves once a write quorum of its shards is stored. */
export async function storeSegment(
  ctx: EcContext,
  manifest: string,
  dataKey: Buffer,
  index: number,
  seg: Segment,
  signal: AbortSignal,
): Promise<void> {
  const { k, m } = ctx.ec;
  const n = k + m;
  const stripe = seg.buffers ?? ctx.buffers.exact(seg.bytes, seg.length);
  const sealedStripe = await ctx.codec.seal({ key: dataKey, manifestId: manifest, index, length: seg.length, k, m, ...stripe });
  signal.throwIfAborted();
  const { shardSize, ids } = sealedStripe;
  const sealed = new Uint8Array(sealedStripe.sealed);
  const parity = new Uint8Array(sealedStripe.parity);
  const shards = ids.map((_, i) => (i < k ? sealed.subarray(i * shardSize, (i + 1) * shardSize) : parity.subarray((i - k) * shardSize, (i - k + 1) * shardSize)));
  const peers = ctx.network.place(ids);
  ctx.repo.insertSegment(manifest, index, seg.length, shardSize, ids, peers);
  const results = await Promise.allSettled(shards.map((s, i) => ctx.network.put(peers[i]!, ids[i]!, s, { signal })));
  const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ shard: i, peer: peers[i], err: r.reason as unknown }] : []));
  // the shards still to write outlive the pooled stripe buffers: copy them before giving those back
  // and so do the ones placed on a peer that already holds a shard of the segment (too few peers
  // could take them, this node included): on a mesh, completion moves those to a free peer once there is one
  const doubled = ctx.network.targets ? peers.flatMap((p, i) => (peers.indexOf(p) < i && !failed.some((f) => f.shard === i) ? [i] : [])) : [];
  const unwritten = [
    ...failed.map((f) => ({ index: f.shard, bytes: Buffer.from(shards[f.shard]!) })),
    ...doubled.map((i) => ({ index: i, bytes: Buffer.from(shards[i]!), doubled: true })),
  ];
  if (seg.buffers) ctx.buffers.give({ plain: sealedStripe.plain, sealed: sealedStripe.sealed, parity: sealedStripe.parity });
  signal.throwIfAborted();
  const stored = n - failed.length;
  const quorum = new Set(peers).size <= 1 ? n : Math.min(n, k + 1);
  if (stored < quorum) {
    // a full disk says so (SlowDown); other causes are the peers being unavailable
    const first = failed.find((f) => f.err instanceof DiskFullError)?.err ?? failed[0]?.err;
    const message = `could not store segment ${index}: ${stored} of ${n} shards written, ${quorum} needed (${first instanceof Error ? first.message : String(first)}); retry when the peers or disks are back`;
    throw first instanceof DiskFullError ? new DiskFullError(message) : Errors.serviceUnavailable(message);
  }
  if (failed.length > 0) ctx.log.warn({ manifest, segment: index, failed }, 'segment stored with a write quorum; the missing shards are completed in the background');
  if (unwritten.length > 0) void completeSegment(ctx, manifest, index, ids, peers, unwritten);
}

/** Pauses between the background attempts to write a segment's missing shards. */
const COMPLETE_DELAYS_MS = [250, 1_000, 4_000, 15_000];

/**
 * Where shards `moving` of a segment can go now: each to a live peer that holds no other shard of
 * it (healthy peers first), never to a peer in `avoid`; undefined where there is none.
 */
export function freePeers(
  network: EcContext['network'],
  ids: readonly string[],
  where: readonly (string | undefined)[],
  moving: readonly number[],
  avoid: ReadonlySet<string> = new Set(),
): (string | undefined)[] {
  const tiers = (network.targets?.() ?? [[...new Set(network.place(ids))]]).map((t) => t.filter((p) => !avoid.has(p)));
  return replaceShards(ids, where, moving, tiers);
}

/**
 * Writes the shards a PUT stored without (it succeeded on a write quorum), and moves the ones it
 * had to double up on one peer: each to a live peer that holds no other shard of the segment
 * (this node when a missing one has none; a doubled one stays put), recording the new location.
 * What still fails after the last attempt is left to scrub and repair.
 */
export async function completeSegment(
  ctx: EcContext,
  manifest: string,
  segment: number,
  ids: readonly string[],
  peers: readonly string[],
  unwritten: { index: number; bytes: Buffer; doubled?: boolean }[],
  delaysMs: readonly number[] = COMPLETE_DELAYS_MS,
): Promise<void> {
  const where: (string | undefined)[] = [...peers];
  for (const u of unwritten) if (!u.doubled) where[u.index] = undefined;
  let left = unwritten;
  for (const delay of delaysMs) {
    if (left.length === 0) return;
    await new Promise((r) => setTimeout(r, delay).unref());
    const still: typeof left = [];
    const targets = freePeers(ctx.network, ids, where, left.map((l) => l.index));
    for (const [j, shard] of left.entries()) {
      const target = targets[j] ?? (shard.doubled ? undefined : ctx.network.self);
      if (target === undefined) {
        still.push(shard); // no free peer yet for a doubled shard: it stays where it is
        continue;
      }
      try {
        await ctx.network.put(target, ids[shard.index]!, shard.bytes);
        if (ctx.repo.manifest(manifest) === undefined) return; // collected meanwhile: nothing to complete
        ctx.repo.setPeer(manifest, segment, shard.index, target);
        const was = where[shard.index];
        where[shard.index] = target;
        if (shard.doubled && was !== undefined && was !== target) await ctx.network.delete(was, ids[shard.index]!).catch(() => undefined); // unclaimed-shard collection gets it otherwise
      } catch (err) {
        still.push(shard);
        ctx.log.warn({ manifest, segment, shard: shard.index, peer: target, err }, 'completing a segment: shard write failed; will retry');
      }
    }
    left = still;
  }
  const missing = left.filter((l) => !l.doubled);
  if (missing.length > 0) {
    ctx.log.warn({ manifest, segment, shards: missing.map((l) => l.index) }, 'completing a segment gave up; scrub and repair will restore the missing shards');
  }
}

/** Stores a whole body as a pending manifest (see DataStore.write). */
export async function writeBody(
  ctx: EcContext,
  body: AsyncIterable<Uint8Array>,
  opts: DataWriteOptions,
): Promise<WrittenData> {
  opts.signal?.throwIfAborted();
  const { k, m } = ctx.ec;
  const manifestId = randomUUID();
  const dataKey = newDataKey();
  ctx.repo.insertManifest({
    id: manifestId,
    k,
    m,
    segment_size: ctx.segmentSize,
    // SSE-C: only the customer's key opens the data key, not the KEK (so not the master key either)
    wrapped_key: opts.customerKey ? wrapKeyForCustomer(opts.customerKey, dataKey, manifestId) : wrapKey(ctx.kek, dataKey, manifestId),
    created: Date.now(),
    writer: ctx.writer,
  });

  const abort = new AbortController();
  const onAbort = () => abort.abort(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const running = new Set<Promise<void>>();
  try {
    let index = 0;
    let size = 0;
    const inflight: Promise<void>[] = [];
    for await (const seg of segmentBody(body, ctx.segmentSize, ctx.buffers, { maxSize: opts.maxSize, signal: abort.signal })) {
      if (index === 0 && !seg.full && seg.length <= ctx.inlineThreshold) {
        ctx.repo.finish(manifestId, seg.length, encryptSegment(dataKey, manifestId, 0, seg.bytes.subarray(0, seg.length)));
        return { manifestId, size: seg.length };
      }
      const stored: Promise<void> = storeSegment(ctx, manifestId, dataKey, index++, seg, abort.signal);
      running.add(stored);
      stored.then(
        () => running.delete(stored),
        (e: unknown) => abort.abort(e), // stop reading the body at once
      );
      size += seg.length;
      // a bounded pipeline: reading the body goes on while earlier segments are sealed and written;
      // when the stripe buffers of all transfers pass their budget, one segment in flight (buffers.ts)
      inflight.push(stored);
      while (inflight.length >= ctx.segmentsInFlight || (inflight.length > 1 && !ctx.buffers.roomy())) await inflight.shift();
    }
    for (const p of inflight) await p;
    ctx.repo.finish(manifestId, size, null);
    return { manifestId, size };
  } catch (err) {
    abort.abort(err);
    await Promise.allSettled(running);
    // Nobody will ever commit it: make it collectable now rather than at the next start.
    ctx.repo.release(manifestId);
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    dataKey.fill(0);
  }
}
