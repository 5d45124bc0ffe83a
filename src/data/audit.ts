/**
 * Audits: a peer cannot claim to hold shards it lost or never kept. Every interval the gateway
 * challenges each admitted, live peer for one random shard that the manifests say it holds,
 * fetches it and verifies the bytes against the shard id (the network does, whatever the peer
 * claims). A shard that is missing or does not match, or no answer at all, counts against the
 * peer, and the segment it belongs to is rebuilt at once without that peer; `failuresToDistrust`
 * failures among the last `window` audits make the peer untrusted (the caller takes it out of
 * placement and drains it, as for an evicted peer).
 *
 * Cost: one shard (segment size / k, 1 MiB by default) per peer per interval. At the default
 * --audit-interval of 10 min that is 1.75 KB/s per peer, 0.014% of a 100 Mbit/s link; the gateway
 * fetches that much from each peer, 175 KB/s for 100 peers (0.14% of 1 Gbit/s).
 */
import type { AuditCounts, AuditorOptions, AuditResult, EcContext, PeerAuditor } from './types.ts';
import { repairSegment } from './scrub.ts';

interface PeerAudits extends AuditCounts {
  recent: AuditResult[];
}

export class Auditor implements PeerAuditor {
  private readonly ctx: EcContext;
  private readonly opts: AuditorOptions;
  private readonly byPeer = new Map<string, PeerAudits>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  rounds = 0;

  constructor(ctx: EcContext, opts: AuditorOptions) {
    this.ctx = ctx;
    this.opts = opts;
  }

  /** Passed and failed audits of `peer` since this process started. */
  counts(peer: string): AuditCounts {
    const a = this.byPeer.get(peer);
    return { passed: a?.passed ?? 0, failed: a?.failed ?? 0 };
  }

  /** Forgets the recent failures of a peer an operator admitted again. */
  forgive(peer: string): void {
    const a = this.byPeer.get(peer);
    if (a) a.recent = [];
  }

  /**
   * Challenges `peer` for one random shard it is recorded as holding; undefined when it holds
   * none. A failed challenge rebuilds that shard's segment elsewhere before it returns.
   */
  async audit(peer: string): Promise<AuditResult | undefined> {
    const pick = this.ctx.repo.randomShardOn(peer, this.opts.random);
    if (pick === undefined) return undefined;
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.opts.timeoutMs ?? 30_000)]);
    let why: string | undefined;
    try {
      const bytes = await this.ctx.network.get(peer, pick.id, { signal });
      if (bytes === undefined) why = 'the shard is missing or does not match its id';
      else if (bytes.length !== pick.shardSize) why = `the shard has ${bytes.length} bytes, ${pick.shardSize} expected`;
    } catch (err) {
      if (this.abort.signal.aborted) return undefined;
      why = `no answer: ${(err as Error).message}`;
    }
    const result: AuditResult = why === undefined ? 'passed' : 'failed';
    this.record(peer, result);
    if (why !== undefined) {
      const log = { peer, shard: pick.id, manifest: pick.manifest, segment: pick.segment };
      this.ctx.log.warn({ ...log, counts: this.counts(peer) }, `audit: peer ${peer} failed a challenge for shard ${pick.id}: ${why}; rebuilding the segment on other peers`);
      if (!why.startsWith('no answer')) {
        try {
          const r = await repairSegment(this.ctx, pick.manifest, pick.segment, [peer]);
          this.ctx.log.info({ ...log, rebuilt: r.shardsRebuilt }, 'audit: segment rebuilt without the failing peer');
        } catch (err) {
          this.ctx.log.warn({ ...log, err }, 'audit: rebuilding the segment failed; scrub or the next audit retries');
        }
      }
    }
    return result;
  }

  /** One audit of every peer, a few at a time. */
  async round(): Promise<void> {
    const peers = this.opts.peers();
    const concurrency = Math.max(1, this.opts.concurrency ?? 4);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < peers.length && !this.abort.signal.aborted) await this.audit(peers[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, peers.length) }, worker));
    this.rounds++;
  }

  start(): void {
    const schedule = () => {
      this.timer = setTimeout(() => {
        this.running = this.round()
          .catch((err: unknown) => this.ctx.log.error({ err }, 'audit round failed; the next one retries'))
          .finally(() => {
            this.running = undefined;
            if (!this.abort.signal.aborted) schedule();
          });
      }, this.opts.intervalMs);
      this.timer.unref();
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private record(peer: string, result: AuditResult): void {
    let a = this.byPeer.get(peer);
    if (a === undefined) this.byPeer.set(peer, (a = { passed: 0, failed: 0, recent: [] }));
    a[result]++;
    a.recent.push(result);
    if (a.recent.length > (this.opts.window ?? 10)) a.recent.shift();
    this.opts.onAudit?.(peer, result);
    if (a.recent.filter((r) => r === 'failed').length >= (this.opts.failuresToDistrust ?? 3)) {
      a.recent = [];
      this.opts.onUntrusted(peer, this.counts(peer));
    }
  }
}
