/**
 * Lifecycle (issue 16): applying a bucket's rules (Expiration, NoncurrentVersionExpiration,
 * ExpiredObjectDeleteMarker, AbortIncompleteMultipartUpload, with Prefix/Tag/size filters), the
 * x-amz-expiration a version gets, and the background worker. Every removal goes through the
 * store's DeleteObject, so a locked version is never removed (it is counted as kept instead).
 */
import type { Logger } from '../core/log.ts';
import type { DeleteResult, LifecycleFilter, LifecycleRule, ObjectInfo, RemoveOptions, Tags } from '../core/object-store.ts';
import { isDomainError } from '../core/errors.ts';
import type { BucketSettings } from './catalog.ts';
import type { ObjectRecord } from './catalog-schema.ts';
import { releaseOrphans, type StoreContext } from './store-write.ts';

export interface LifecycleCounts {
  /** Current versions expired (deleted, or hidden under a new delete marker). */
  expired: number;
  noncurrentExpired: number;
  deleteMarkersRemoved: number;
  uploadsAborted: number;
  /** Versions a rule would have removed but object lock kept. */
  keptLocked: number;
}

const DAY = 24 * 3600 * 1000;

/** The rules as stored (dates as ISO strings) back to LifecycleRule. */
export function rulesOf(s: BucketSettings): LifecycleRule[] {
  return ((s.lifecycle ?? []) as LifecycleRule[]).map((r) =>
    r.expiration?.date === undefined ? r : { ...r, expiration: { ...r.expiration, date: new Date(r.expiration.date) } },
  );
}

function matches(f: LifecycleFilter, key: string, size: number | undefined, tags: () => Tags): boolean {
  if (f.prefix !== undefined && !key.startsWith(f.prefix)) return false;
  if (size !== undefined && f.sizeGreaterThan !== undefined && !(size > f.sizeGreaterThan)) return false;
  if (size !== undefined && f.sizeLessThan !== undefined && !(size < f.sizeLessThan)) return false;
  if (f.tags && Object.keys(f.tags).length > 0) {
    const t = tags();
    if (!Object.entries(f.tags).every(([k, v]) => t[k] === v)) return false;
  }
  return true;
}

/** When an Expiration rule expires a version made at `made` (ms). */
function expiryOf(r: LifecycleRule, made: number, dayMs: number): number | undefined {
  const e = r.expiration;
  if (!e) return undefined;
  if (e.date !== undefined) return e.date.getTime();
  if (e.days === undefined) return undefined;
  const t = made + e.days * dayMs;
  return dayMs === DAY ? Math.ceil(t / DAY) * DAY : t; // S3 rounds to the next midnight UTC
}

/** x-amz-expiration of a current version: the earliest Expiration of the rules that match it. */
export function expirationOf(ctx: StoreContext, info: ObjectInfo, dayMs: number): { date: Date; ruleId: string } | undefined {
  const rules = rulesOf(ctx.catalog.settings(info.bucket)).filter((r) => r.status === 'Enabled' && r.expiration && !r.expiration.expiredObjectDeleteMarker);
  if (rules.length === 0) return undefined;
  const o = ctx.catalog.getObject(info.bucket, info.key, info.versionId);
  let best: { date: Date; ruleId: string } | undefined;
  for (const r of rules) {
    if (!matches(r.filter, info.key, info.size, () => (o ? ctx.catalog.getTags(o.id) : {}))) continue;
    const t = expiryOf(r, info.lastModified.getTime(), dayMs);
    if (t !== undefined && (!best || t < best.date.getTime())) best = { date: new Date(t), ruleId: r.id ?? '' };
  }
  return best;
}

export interface ApplyOptions {
  dayMs: number;
  now: number;
  /** The store's DeleteObject (with its lock checks). */
  remove: (bucket: string, key: string, opts: RemoveOptions) => Promise<DeleteResult>;
}

const PAGE = 500;

export async function applyLifecycle(ctx: StoreContext, opts: ApplyOptions): Promise<LifecycleCounts> {
  const counts: LifecycleCounts = { expired: 0, noncurrentExpired: 0, deleteMarkersRemoved: 0, uploadsAborted: 0, keptLocked: 0 };
  const db = ctx.catalog.db;
  const keysAfter = db.prepare('SELECT DISTINCT key FROM objects WHERE bucket = ? AND key > ? ORDER BY key LIMIT ?');
  const uploadsOf = db.prepare('SELECT upload_id, key, initiated FROM uploads WHERE bucket = ? ORDER BY key, upload_id');
  for (const bucket of ctx.catalog.bucketsWithLifecycle()) {
    const rules = rulesOf(ctx.catalog.settings(bucket)).filter((r) => r.status === 'Enabled');
    if (rules.length === 0) continue;
    const tryRemove = async (key: string, ro: RemoveOptions): Promise<boolean> => {
      try {
        await opts.remove(bucket, key, ro);
        return true;
      } catch (e) {
        if (isDomainError(e) && e.code === 'AccessDenied') {
          counts.keptLocked++;
          return false;
        }
        throw e;
      }
    };
    let after = '';
    for (;;) {
      const keys = (keysAfter.all(bucket, after, PAGE) as { key: string }[]).map((r) => r.key);
      if (keys.length === 0) break;
      after = keys[keys.length - 1]!;
      for (const key of keys) await applyToKey(ctx, bucket, key, rules, opts, counts, tryRemove);
    }
    // AbortIncompleteMultipartUpload
    const uploads = uploadsOf.all(bucket) as { upload_id: string; key: string; initiated: number }[];
    for (const u of uploads) {
      const due = rules.some(
        (r) => r.abortIncompleteDays !== undefined && matches({ ...(r.filter.prefix !== undefined ? { prefix: r.filter.prefix } : {}) }, u.key, undefined, () => ({})) && u.initiated + r.abortIncompleteDays * opts.dayMs <= opts.now,
      );
      if (!due) continue;
      ctx.catalog.tx(() => {
        const rec = ctx.catalog.uploads.get(u.upload_id);
        if (!rec) return;
        releaseOrphans(ctx, ctx.catalog.uploads.remove(rec).dropped);
        counts.uploadsAborted++;
      });
    }
  }
  return counts;
}

async function applyToKey(
  ctx: StoreContext,
  bucket: string,
  key: string,
  rules: LifecycleRule[],
  opts: ApplyOptions,
  counts: LifecycleCounts,
  tryRemove: (key: string, ro: RemoveOptions) => Promise<boolean>,
): Promise<void> {
  const tagsOf = (o: ObjectRecord) => () => ctx.catalog.getTags(o.id);
  // Expiration of the current version.
  let versions = ctx.catalog.versionsOf(bucket, key);
  const latest = versions[0];
  if (latest && !latest.deleteMarker) {
    const due = rules.some((r) => {
      if (!matches(r.filter, key, latest.size, tagsOf(latest))) return false;
      const t = expiryOf(r, latest.lastModified, opts.dayMs);
      return t !== undefined && t <= opts.now;
    });
    if (due && (await tryRemove(key, {}))) {
      counts.expired++;
      versions = ctx.catalog.versionsOf(bucket, key);
    }
  }
  // Noncurrent versions: noncurrent since the next newer version was made.
  const doomed: ObjectRecord[] = [];
  for (let i = 1; i < versions.length; i++) {
    const v = versions[i]!;
    const since = versions[i - 1]!.lastModified;
    const rank = i - 1; // 0 = the newest noncurrent version
    const due = rules.some((r) => {
      const n = r.noncurrentExpiration;
      if (!n || !matches(r.filter, key, v.deleteMarker ? undefined : v.size, tagsOf(v))) return false;
      return rank >= (n.newerNoncurrentVersions ?? 0) && since + n.noncurrentDays * opts.dayMs <= opts.now;
    });
    if (due) doomed.push(v);
  }
  for (const v of doomed) if (await tryRemove(key, { versionId: v.versionId })) counts.noncurrentExpired++;
  // A delete marker left alone (no other version) goes when a rule asks for it.
  versions = doomed.length > 0 ? ctx.catalog.versionsOf(bucket, key) : versions;
  const only = versions.length === 1 ? versions[0]! : undefined;
  if (only?.deleteMarker) {
    const due = rules.some((r) => matches({ ...(r.filter.prefix !== undefined ? { prefix: r.filter.prefix } : {}) }, key, undefined, () => ({})) && r.expiration?.expiredObjectDeleteMarker === true);
    if (due && (await tryRemove(key, { versionId: only.versionId }))) counts.deleteMarkersRemoved++;
  }
}

/** Runs the rules every `intervalMs`, logging and counting what it expired. */
export class LifecycleWorker {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<LifecycleCounts> | undefined;

  constructor(
    private readonly store: { applyLifecycle(now?: number): Promise<LifecycleCounts> },
    private readonly opts: { intervalMs: number; log?: Logger; onRun?: (c: LifecycleCounts) => void },
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.runOnce().catch((err) => this.opts.log?.error({ err }, 'lifecycle run failed; it runs again at the next interval')), this.opts.intervalMs);
    this.timer.unref();
  }

  /**
   * One pass over every bucket with rules (a pass already running is joined, not doubled). `now`
   * is for tests: the pass as it would run at that time.
   */
  runOnce(now?: number): Promise<LifecycleCounts> {
    this.running ??= (async () => {
      try {
        const c = await this.store.applyLifecycle(now);
        this.opts.onRun?.(c);
        const total = c.expired + c.noncurrentExpired + c.deleteMarkersRemoved + c.uploadsAborted;
        if (total > 0 || c.keptLocked > 0) {
          this.opts.log?.info(
            { lifecycle: c },
            `lifecycle: expired ${c.expired} current and ${c.noncurrentExpired} noncurrent versions, removed ${c.deleteMarkersRemoved} delete markers, aborted ${c.uploadsAborted} uploads; object lock kept ${c.keptLocked}`,
          );
        }
        return c;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }
}
