/**
 * Announces stored shards as provider records in the DHT, in the background: a PUT never waits
 * for the DHT. A bounded queue (ids beyond it are dropped with a log line; the DHT reprovider and
 * the placement recorded in manifests cover them), a small concurrency, duplicates folded.
 * findProviders lets a gateway that lost its record of a shard find who holds it.
 */
import type { ContentRouting, PeerId } from '@libp2p/interface';
import { CID } from 'multiformats/cid';

export interface ProvideQueueOptions {
  concurrency?: number;
  maxQueued?: number;
  /** Time allowed for one provide (default 30 s). */
  timeoutMs?: number;
  onError?: (id: string, err: Error) => void;
}

export class ProvideQueue {
  private routing: ContentRouting | undefined;
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private running = 0;
  private stopped = false;
  private readonly controller = new AbortController();
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly timeoutMs: number;
  private readonly onError: (id: string, err: Error) => void;
  private idleWaiters: Array<() => void> = [];
  provided = 0;
  dropped = 0;
  failed = 0;

  constructor(opts: ProvideQueueOptions = {}) {
    this.concurrency = opts.concurrency ?? 2;
    this.maxQueued = opts.maxQueued ?? 10_000;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.onError = opts.onError ?? (() => {});
  }

  /** Starts announcing (ids added before are kept). */
  attach(routing: ContentRouting): void {
    this.routing = routing;
    this.pump();
  }

  add(id: string): void {
    if (this.stopped || this.queued.has(id)) return;
    if (this.queue.length >= this.maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push(id);
    this.queued.add(id);
    this.pump();
  }

  get pending(): number {
    return this.queue.length + this.running;
  }

  /** Resolves once nothing is queued or running. */
  onIdle(): Promise<void> {
    if (this.pending === 0 || this.routing === undefined) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops announcing; the DHT forgets to reprovide `id` (after a delete). */
  async forget(id: string): Promise<void> {
    if (this.queued.delete(id)) this.queue.splice(this.queue.indexOf(id), 1);
    await this.routing?.cancelReprovide(CID.parse(id), { signal: AbortSignal.timeout(this.timeoutMs) }).catch(() => {});
  }

  stop(): void {
    this.stopped = true;
    this.controller.abort();
    this.queue.length = 0;
    this.queued.clear();
    this.notifyIdle();
  }

  private pump(): void {
    const routing = this.routing;
    if (routing === undefined || this.stopped) return;
    while (this.running < this.concurrency && this.queue.length > 0) {
      const id = this.queue.shift()!;
      this.running++;
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.timeoutMs)]);
      routing
        .provide(CID.parse(id), { signal })
        .then(
          () => void this.provided++,
          (err: Error) => {
            this.failed++;
            if (!this.stopped) this.onError(id, err);
          },
        )
        .finally(() => {
          this.queued.delete(id);
          this.running--;
          this.pump();
          if (this.pending === 0) this.notifyIdle();
        });
    }
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

export interface FoundProvider {
  peer: PeerId;
  multiaddrs: string[];
}

/** Peers that announced shard `id` in the DHT (at most `limit`, default 20). */
export async function findProviders(
  routing: ContentRouting,
  id: string,
  opts: { signal?: AbortSignal; limit?: number } = {},
): Promise<FoundProvider[]> {
  const limit = opts.limit ?? 20;
  const found = new Map<string, FoundProvider>();
  const controller = new AbortController();
  const signal = opts.signal === undefined ? controller.signal : AbortSignal.any([opts.signal, controller.signal]);
  try {
    for await (const p of routing.findProviders(CID.parse(id), { signal })) {
      const key = p.id.toString();
      const prev = found.get(key);
      const addrs = p.multiaddrs.map((m) => m.toString());
      found.set(key, { peer: p.id, multiaddrs: [...new Set([...(prev?.multiaddrs ?? []), ...addrs])] });
      if (found.size >= limit) {
        controller.abort();
        break;
      }
    }
  } catch (err) {
    // The DHT reports "not found" as an error; only the caller's own abort is rethrown.
    if (opts.signal?.aborted === true) throw err;
  }
  return [...found.values()];
}
