/**
 * Fetches enough shards of one segment to read it: the k data shards first, in parallel; a parity
 * shard for each one that comes back missing, unreadable or corrupt (the network verifies every
 * shard against its id); and, when some are slow past `hedgeAfterMs`, a parity shard for each
 * slow one. Stops (aborting the stragglers) as soon as k shards are in hand. With `verify: false`
 * the network does not hash the shards (the caller authenticates them: src/data/reader.ts), so a
 * corrupt shard is only caught by its size here.
 */
import type { ShardNetwork } from '../../mesh/shards.ts';
import type { SegmentPlan } from './schema.ts';

/** Pauses before asking failed shards again; one retry round per entry. */
const RETRY_DELAYS_MS = [200, 600, 1500];

export interface FetchOptions {
  signal: AbortSignal;
  /** Start parity for data shards still outstanding after this long (ms). */
  hedgeAfterMs: number;
  /** Called for each shard that came back missing, unreadable or corrupt. */
  onBad: (index: number, err?: unknown) => void;
  /** A buffer to read shard i into (see ShardNetwork.get's `into`). */
  into?: (index: number) => Uint8Array | undefined;
  /**
   * Called with every fetch started. A fetch abandoned once k shards are in hand may still be
   * writing into its `into` buffer: the caller waits for all of them before reusing the buffers.
   */
  started?: (fetch: Promise<unknown>) => void;
  /** false: do not hash the shards against their ids (ShardGetOptions.verify); default true. */
  verify?: boolean;
}

/** The shards of `plan` by index; at least k present unless the segment is lost. */
export async function fetchShards(
  network: ShardNetwork,
  plan: SegmentPlan,
  k: number,
  opts: FetchOptions,
): Promise<(Uint8Array | undefined)[]> {
  const n = plan.shards.length;
  const got = new Array<Uint8Array | undefined>(n).fill(undefined);
  const local = new AbortController();
  const stop = () => local.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', stop, { once: true });

  let wake!: () => void;
  let woken = new Promise<void>((r) => (wake = r));
  const notify = () => {
    const w = wake;
    woken = new Promise<void>((r) => (wake = r));
    w();
  };
  const inflight = new Set<number>();
  const slow = new Set<number>();
  /** Shards whose fetch failed (a transport error, not "missing"): asked again before giving up. */
  const failed: number[] = [];
  let retries = 0;
  const start = (i: number) => {
    inflight.add(i);
    const { id, peer } = plan.shards[i]!;
    const into = opts.into?.(i);
    const fetch = network.get(peer, id, { signal: local.signal, ...(into ? { into } : {}), ...(opts.verify === false ? { verify: false } : {}) });
    opts.started?.(fetch.catch(() => undefined));
    fetch
      .then(
        (bytes) => {
          if (bytes && bytes.length === plan.shard_size) got[i] = bytes;
          else opts.onBad(i);
        },
        (err: unknown) => {
          if (local.signal.aborted) return;
          failed.push(i);
          opts.onBad(i, err);
        },
      )
      .finally(() => {
        inflight.delete(i);
        slow.delete(i);
        notify();
      });
  };

  for (let i = 0; i < k && i < n; i++) start(i);
  let next = k;
  const hedge = setTimeout(() => {
    for (const i of inflight) slow.add(i);
    notify();
  }, opts.hedgeAfterMs);
  try {
    for (;;) {
      const have = got.reduce((c, s) => c + (s ? 1 : 0), 0);
      if (have >= k) break;
      for (let want = k - have - (inflight.size - slow.size); want > 0 && next < n; want--) start(next++);
      if (inflight.size === 0 && retries < RETRY_DELAYS_MS.length && failed.length > 0) {
        // Every shard was tried and too few arrived: a peer's stream reset or a busy moment is
        // worth a few more tries of the failed ones before the segment is declared unreadable.
        await new Promise((r) => setTimeout(r, RETRY_DELAYS_MS[retries++]));
        opts.signal.throwIfAborted();
        for (const i of failed.splice(0)) start(i);
      }
      if (inflight.size === 0) break;
      await woken;
      opts.signal.throwIfAborted();
    }
  } finally {
    clearTimeout(hedge);
    opts.signal.removeEventListener('abort', stop);
    local.abort(); // stragglers are not needed any more
  }
  return got;
}
