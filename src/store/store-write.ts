/**
 * The write path shared by PutObject and UploadPart: quota reservation (up front for a declared
 * size, incrementally as bytes flow otherwise), DataStore.write, digest and size checks, then one
 * catalog transaction that commits the manifest; on any failure the pending manifest and the
 * reservation are given back. Also the write conditions (If-Match / If-None-Match).
 */
import { etagListMatches } from '../core/etag.ts';
import type { Logger } from '../core/log.ts';
import type { BucketInfo, Checksums, PutBody, WriteConditions } from '../core/object-store.ts';
import type { Limits, LimitsLookup } from '../core/quota.ts';
import { DomainError, Errors, VersionErrors } from '../core/errors.ts';
import type { DataStore } from '../data/data-store.ts';
import type { Catalog } from './catalog.ts';
import type { UsageLedger } from './catalog-usage.ts';
import type { ObjectRecord } from './catalog-schema.ts';

/** Unknown-length bodies reserve quota in steps of this many bytes. */
export const RESERVE_STEP = 8 * 1024 * 1024;

/**
 * A body declared this small is not reserved ahead: its storage quota is checked inside the commit
 * transaction, which is as exact (commits are serialized) and saves a write transaction of its own
 * on every small PUT. What it lets flow before the check is no more than this.
 */
export const CHECK_AT_COMMIT = 64 * 1024;

export interface StoreContext {
  catalog: Catalog;
  data: DataStore;
  limits: LimitsLookup;
  maxObjectSize: number;
  log?: Logger | undefined;
  /** May this account bypass GOVERNANCE retention (an account flag an admin sets)? */
  mayBypassGovernance: (account: string) => boolean;
}

/** Bytes of storage reserved for one upload in flight. */
export class Reservation {
  amount = 0;

  constructor(
    private readonly usage: UsageLedger,
    readonly account: string,
    private readonly limits: Limits,
  ) {}

  /** Makes sure `total` bytes are reserved, growing the reservation (rounded to roundTo) if needed. */
  ensure(total: number, roundTo = RESERVE_STEP): void {
    if (total <= this.amount) return;
    this.amount += this.usage.reserve(this.account, total - this.amount, this.limits, roundTo);
  }

  /** Inside the commit transaction: the catalog now counts the bytes, drop the reservation. */
  settle(): void {
    this.usage.apply(this.account, { reserved: -this.amount });
  }

  /** Gives back what is still reserved (after a failure, or after settle() committed). */
  release(): void {
    if (this.amount > 0) this.usage.apply(this.account, { reserved: -this.amount });
    this.amount = 0;
  }
}

export interface Written {
  manifestId: string;
  size: number;
  md5: Buffer;
  checksums: Checksums;
}

export interface WriteArgs {
  owner: string;
  limits: Limits;
  body: PutBody;
  size?: number | undefined;
  maxSize: number;
  signal?: AbortSignal | undefined;
  /** SSE-C: the customer key that wraps the data key. */
  customerKey?: Uint8Array | undefined;
}

/**
 * Writes the body and runs `commit` inside one catalog transaction. `commit` must call
 * data.commit(written.manifestId) (last, after anything that may throw) and release what it
 * orphaned. On any failure nothing stays: the pending manifest is released, the reservation
 * given back.
 */
export async function writeAndCommit<T>(ctx: StoreContext, args: WriteArgs, commit: (w: Written) => T): Promise<T> {
  const r = new Reservation(ctx.catalog.usage, args.owner, args.limits);
  let manifestId: string | undefined;
  try {
    args.signal?.throwIfAborted();
    /** Bytes that may flow unreserved, to be checked at the commit. */
    let unreserved = 0;
    if (args.size !== undefined) {
      if (args.size > args.maxSize) throw tooLarge(args.owner, args.limits, args.size, args.maxSize);
      if (args.size <= CHECK_AT_COMMIT) unreserved = args.size;
      else r.ensure(args.size, 1);
    }
    const flowed = { bytes: 0 };
    const written = await ctx.data.write(metered(args, r, flowed, unreserved), {
      maxSize: args.maxSize,
      ...(args.signal ? { signal: args.signal } : {}),
      ...(args.customerKey ? { customerKey: args.customerKey } : {}),
    });
    manifestId = written.manifestId;
    if (written.size !== flowed.bytes) {
      throw Errors.internal(`the data store wrote ${written.size} bytes of a ${flowed.bytes}-byte body; retry the upload`);
    }
    const { md5, checksums } = args.body.digests();
    if (args.size !== undefined && written.size !== args.size) {
      throw Errors.incompleteBody(
        `You did not provide the number of bytes specified by the Content-Length HTTP header: received ${written.size} of ${args.size} bytes. Resend the whole body.`,
      );
    }
    args.signal?.throwIfAborted();
    const w: Written = { manifestId: written.manifestId, size: written.size, md5, checksums };
    const out = ctx.catalog.tx(() => {
      if (written.size > r.amount) ctx.catalog.usage.room(args.owner, written.size - r.amount, args.limits);
      const v = commit(w);
      r.settle();
      return v;
    });
    r.amount = 0;
    manifestId = undefined;
    return out;
  } catch (e) {
    if (manifestId !== undefined) releaseQuietly(ctx, manifestId);
    throw e;
  } finally {
    r.release();
  }
}

/** Passes the body through, reserving quota as bytes flow and stopping it past maxSize. */
async function* metered(args: WriteArgs, r: Reservation, flowed: { bytes: number }, unreserved: number): AsyncGenerator<Uint8Array> {
  for await (const chunk of args.body) {
    flowed.bytes += chunk.byteLength;
    if (flowed.bytes > args.maxSize) throw tooLarge(args.owner, args.limits, flowed.bytes, args.maxSize, true);
    if (flowed.bytes > unreserved) r.ensure(flowed.bytes);
    yield chunk;
  }
}

function releaseQuietly(ctx: StoreContext, manifestId: string): void {
  try {
    ctx.catalog.tx(() => ctx.data.release(manifestId));
  } catch (e) {
    ctx.log?.error({ err: e, manifestId }, 'could not release the manifest of a failed upload; it stays pending until collected');
  }
}

/** Releases, inside the caller's transaction, the manifests among `dropped` that nothing references. */
export function releaseOrphans(ctx: StoreContext, dropped: Iterable<string>): void {
  for (const id of ctx.catalog.orphans(dropped)) ctx.data.release(id);
}

export { normalizeEtag } from '../core/etag.ts';

/**
 * Inside a commit: the bucket is still the one the write started in. A bucket deleted while an
 * upload streamed and re-created (by another account, even) is another bucket: its name is not its
 * identity, its owner and creation time are (a re-creation by the same owner within the same
 * millisecond is the only one taken for the same bucket, and it harms no one).
 */
export function checkSameBucket(ctx: StoreContext, b: BucketInfo): void {
  const now = ctx.catalog.getBucket(b.name);
  if (!now || now.owner !== b.owner || now.created.getTime() !== b.created.getTime()) throw Errors.noSuchBucket(b.name);
}

/**
 * Write conditions against the current object: If-None-Match '*' fails when it exists, If-Match
 * needs it to exist (NoSuchKey otherwise, as S3) with a matching ETag.
 */
export function checkWriteConditions(current: ObjectRecord | undefined, c: WriteConditions | undefined, key: string): void {
  if (!c) return;
  if (c.ifNoneMatch !== undefined && current && etagListMatches(c.ifNoneMatch, current.etag)) {
    throw Errors.preconditionFailed('If-None-Match');
  }
  if (c.ifMatch !== undefined) {
    if (!current) throw Errors.noSuchKey(key);
    if (!etagListMatches(c.ifMatch, current.etag)) throw Errors.preconditionFailed('If-Match');
  }
}

/** The second check of write conditions, inside the commit: a change since the first is a race (409). */
export function racedConditions(current: ObjectRecord | undefined, c: WriteConditions | undefined, key: string): void {
  try {
    checkWriteConditions(current, c, key);
  } catch (e) {
    if (e instanceof DomainError && (e.code === 'PreconditionFailed' || e.code === 'NoSuchKey')) throw VersionErrors.conditionalConflict();
    throw e;
  }
}

/**
 * The error for an upload of `size` bytes over `max`: QuotaExceeded naming the quota when the
 * account's max-object-size is what it passes, else S3's EntityTooLarge (the store's own limit).
 * `atLeast`: the size is what arrived so far of a body of unknown length.
 */
export function tooLarge(owner: string, limits: Limits, size: number, max: number, atLeast = false): DomainError {
  if (limits.maxObjectSize !== undefined && size > limits.maxObjectSize) {
    return Errors.quotaExceeded(
      `object size quota exceeded for account '${owner}': limit ${limits.maxObjectSize} bytes (max-object-size), ` +
        `this upload is ${atLeast ? 'more than ' : ''}${atLeast ? limits.maxObjectSize : size} bytes. Upload a smaller object or ask the operator to raise the quota.`,
    );
  }
  return Errors.entityTooLarge(size, max);
}

/** The largest object the account may store: the store's limit and the account's, whichever is lower. */
export const maxObjectSizeFor = (ctx: StoreContext, limits: Limits): number =>
  Math.min(ctx.maxObjectSize, limits.maxObjectSize ?? Infinity);
