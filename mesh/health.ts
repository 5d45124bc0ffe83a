/**
 * What this node knows about each mesh peer: liveness (up / suspect / down, and since when),
 * reputation (success rate and latency, as exponentially weighted moving averages, folded into a
 * score in [0, 1]) and the peer's last reported usage. Pure bookkeeping with an injectable
 * clock; the probing and the requests that feed it live elsewhere.
 */
import type { PeerStats } from './shard-protocol/messages.ts';

export type PeerState = 'up' | 'suspect' | 'down';

export interface PeerHealth {
  /** EWMA of request outcomes, 1 = every request succeeded. */
  successRate: number;
  /** EWMA of request round trips in ms; null before the first one. */
  latencyMs: number | null;
  /** successRate weighted down by latency, in [0, 1]. Placement skips peers below the threshold. */
  score: number;
}

export interface PeerRecord {
  id: string;
  state: PeerState;
  /** When the current state began (for down: when the peer first failed to answer). */
  since: number;
  consecutiveFailures: number;
  successRate: number;
  latencyMs: number | null;
  stats?: PeerStats;
  /** `used` reported when the peer refused a put as full; cleared once it reports less. */
  fullAtUsed?: number;
}

export interface PeerTableOptions {
  /** Consecutive failed probes before a peer is down (default 3). */
  downAfterFailures?: number;
  /** Weight of a new request outcome in the averages (default 0.2). */
  alpha?: number;
  /** Success rate under which a peer gets no new shards (default 0.5); latency only orders peers. */
  minScore?: number;
  /** Latency that halves the score (default 500 ms). */
  halfScoreLatencyMs?: number;
  now?: () => number;
}

export type DownListener = (peer: string, since: number) => void;
export type UpListener = (peer: string, downSince: number) => void;

export class PeerTable {
  private readonly records = new Map<string, PeerRecord>();
  private readonly downListeners = new Set<DownListener>();
  private readonly upListeners = new Set<UpListener>();
  private readonly downAfter: number;
  private readonly alpha: number;
  private readonly minScore: number;
  private readonly halfLatency: number;
  private readonly now: () => number;
  /** When the current run of failures began, per peer. */
  private readonly failingSince = new Map<string, number>();

  constructor(opts: PeerTableOptions = {}) {
    this.downAfter = Math.max(1, opts.downAfterFailures ?? 3);
    this.alpha = opts.alpha ?? 0.2;
    this.minScore = opts.minScore ?? 0.5;
    this.halfLatency = opts.halfScoreLatencyMs ?? 500;
    this.now = opts.now ?? Date.now;
  }

  /**
   * The record of `id`, created the first time a peer is seen with perfect health, `up` (just
   * connected) or `suspect` (remembered from an earlier run, not heard from yet).
   */
  ensure(id: string, initial: 'up' | 'suspect' = 'up'): PeerRecord {
    let r = this.records.get(id);
    if (r === undefined) {
      r = { id, state: initial, since: this.now(), consecutiveFailures: 0, successRate: 1, latencyMs: null };
      this.records.set(id, r);
    }
    return r;
  }

  get(id: string): PeerRecord | undefined {
    return this.records.get(id);
  }

  ids(): string[] {
    return [...this.records.keys()];
  }

  all(): PeerRecord[] {
    return [...this.records.values()];
  }

  /** A request to the peer succeeded in `latencyMs`. `weight` < 1 for cheap requests (probes). */
  recordSuccess(id: string, latencyMs: number, weight = 1): void {
    const r = this.ensure(id);
    const a = this.alpha * weight;
    r.successRate = r.successRate * (1 - a) + a;
    r.latencyMs = r.latencyMs === null ? latencyMs : r.latencyMs * (1 - this.alpha) + this.alpha * latencyMs;
  }

  /** A request failed; `severe` for a peer that served bytes not matching the shard id. */
  recordFailure(id: string, opts: { severe?: boolean } = {}): void {
    const r = this.ensure(id);
    r.successRate = opts.severe === true ? r.successRate * 0.25 : r.successRate * (1 - this.alpha);
  }

  /** A liveness probe answered: the peer is up (again). */
  probeSucceeded(id: string, latencyMs: number, stats?: PeerStats): void {
    const r = this.ensure(id);
    const wasDown = r.state === 'down' ? r.since : undefined;
    if (r.state !== 'up') {
      r.state = 'up';
      r.since = this.now();
    }
    r.consecutiveFailures = 0;
    this.failingSince.delete(id);
    this.recordSuccess(id, latencyMs, 0.25);
    if (stats !== undefined) this.updateStats(id, stats);
    if (wasDown !== undefined) for (const cb of this.upListeners) cb(id, wasDown);
  }

  /** A liveness probe failed: suspect, then down after N in a row (listeners called once). */
  probeFailed(id: string): void {
    const r = this.ensure(id);
    const now = this.now();
    if (!this.failingSince.has(id)) this.failingSince.set(id, now);
    r.consecutiveFailures += 1;
    r.successRate = r.successRate * (1 - this.alpha * 0.25);
    if (r.state === 'down') return;
    if (r.consecutiveFailures >= this.downAfter) {
      r.state = 'down';
      r.since = this.failingSince.get(id) ?? now;
      for (const cb of this.downListeners) cb(id, r.since);
    } else if (r.state === 'up') {
      r.state = 'suspect';
      r.since = now;
    }
  }

  updateStats(id: string, stats: PeerStats): void {
    const r = this.ensure(id);
    r.stats = stats;
    if (r.fullAtUsed !== undefined && stats.used < r.fullAtUsed) delete r.fullAtUsed;
  }

  /** The peer refused a put for lack of space. */
  markFull(id: string, stats?: PeerStats): void {
    const r = this.ensure(id);
    if (stats !== undefined) r.stats = stats;
    r.fullAtUsed = r.stats?.used ?? 0;
  }

  isFull(id: string): boolean {
    const r = this.records.get(id);
    if (r === undefined) return false;
    if (r.fullAtUsed !== undefined) return true;
    const s = r.stats;
    return s !== undefined && s.capacity !== null && s.used >= s.capacity;
  }

  health(id: string): PeerHealth {
    const r = this.records.get(id);
    if (r === undefined) return { successRate: 1, latencyMs: null, score: 1 };
    const latencyFactor = r.latencyMs === null ? 1 : this.halfLatency / (this.halfLatency + r.latencyMs);
    return { successRate: r.successRate, latencyMs: r.latencyMs, score: r.successRate * latencyFactor };
  }

  /** Live, not full, healthy enough to be given new shards. */
  isPlaceable(id: string): boolean {
    const r = this.records.get(id);
    if (r === undefined) return true;
    // Latency orders peers (rank) but never excludes one: a 1 MiB shard put is slow on a busy
    // machine without the peer being unhealthy. Failures do exclude it.
    return r.state !== 'down' && !this.isFull(id) && r.successRate >= this.minScore;
  }

  downSince(id: string): number | undefined {
    const r = this.records.get(id);
    return r?.state === 'down' ? r.since : undefined;
  }

  onPeerDown(cb: DownListener): () => void {
    this.downListeners.add(cb);
    return () => this.downListeners.delete(cb);
  }

  onPeerUp(cb: UpListener): () => void {
    this.upListeners.add(cb);
    return () => this.upListeners.delete(cb);
  }

  /** Orders peers best first for reads: up before suspect before down, then by score. */
  rank(peers: readonly string[]): string[] {
    const stateOrder: Record<PeerState, number> = { up: 0, suspect: 1, down: 2 };
    const key = (id: string) => ({ s: stateOrder[this.records.get(id)?.state ?? 'up'], score: this.health(id).score });
    return peers
      .map((id, i) => ({ id, i, ...key(id) }))
      .sort((a, b) => a.s - b.s || b.score - a.score || a.i - b.i)
      .map((x) => x.id);
  }
}
