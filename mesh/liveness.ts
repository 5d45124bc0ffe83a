/**
 * Liveness: probes every known mesh peer each interval (a shard-protocol stat, which also
 * reports the peer's capacity and usage), with a timeout and bounded concurrency, and feeds the
 * outcome to the PeerTable, which marks a peer suspect, then down after N failures in a row.
 * Rounds never overlap; the timer does not keep the process alive.
 */
import type { PeerTable } from './health.ts';
import type { PeerStats } from './shard-protocol/messages.ts';

export interface LivenessOptions {
  table: PeerTable;
  /** The peers to probe this round (not this node). */
  peers: () => string[];
  /** One probe: resolves with the peer's stats, rejects when it does not answer. */
  probe: (peer: string, signal: AbortSignal) => Promise<PeerStats>;
  intervalMs: number;
  timeoutMs: number;
  concurrency?: number;
  onProbeError?: (peer: string, err: Error) => void;
}

export class LivenessMonitor {
  private readonly opts: LivenessOptions;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly controller = new AbortController();
  rounds = 0;

  constructor(opts: LivenessOptions) {
    this.opts = opts;
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.controller.abort();
    await this.running;
  }

  /** Probes one peer now (e.g. a newly identified one). */
  async probe(peer: string): Promise<boolean> {
    if (this.stopped) return false;
    const { table, timeoutMs } = this.opts;
    const started = performance.now();
    try {
      const signal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(timeoutMs)]);
      const stats = await this.opts.probe(peer, signal);
      if (this.stopped) return false;
      table.probeSucceeded(peer, performance.now() - started, stats);
      return true;
    } catch (err) {
      if (this.stopped) return false;
      this.opts.onProbeError?.(peer, err as Error);
      table.probeFailed(peer);
      return false;
    }
  }

  /** One round over every known peer. */
  async round(): Promise<void> {
    const peers = this.opts.peers();
    const concurrency = Math.max(1, this.opts.concurrency ?? 8);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < peers.length && !this.stopped) await this.probe(peers[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, peers.length) }, worker));
    this.rounds++;
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = undefined;
        this.schedule(this.opts.intervalMs);
      });
    }, delay);
    this.timer.unref();
  }
}
