/**
 * Keeps this peer connected to the mesh: dials the --bootstrap multiaddrs at start and again
 * whenever the peer behind one is not connected, and at start re-dials the mesh peers remembered
 * in the persistent peer store (so a restarted gateway finds its storage peers, and they it).
 */
import { multiaddr } from '@multiformats/multiaddr';
import type { Libp2p, PeerId } from '@libp2p/interface';

export interface DialerOptions {
  libp2p: Libp2p;
  bootstrap: readonly string[];
  /** Peers remembered from earlier runs, dialled once at start. */
  remembered: () => PeerId[];
  intervalMs: number;
  dialTimeoutMs: number;
  log: (msg: string) => void;
}

export class Dialer {
  private readonly opts: DialerOptions;
  /** The peer id found behind each bootstrap address, once dialled. */
  private readonly behind = new Map<string, PeerId>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly controller = new AbortController();

  constructor(opts: DialerOptions) {
    for (const addr of opts.bootstrap) {
      try {
        multiaddr(addr);
      } catch (err) {
        throw new RangeError(`--bootstrap ${addr} is not a multiaddr (${(err as Error).message}); write e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3Koo...`);
      }
    }
    this.opts = opts;
  }

  /** Dials every bootstrap address and remembered peer; resolves when each attempt is over. */
  async start(): Promise<void> {
    await Promise.all([this.dialBootstrap(), ...this.opts.remembered().map((p) => this.dialPeer(p))]);
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.controller.abort();
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.dialBootstrap().finally(() => this.schedule());
    }, this.opts.intervalMs);
    this.timer.unref();
  }

  private signal(): AbortSignal {
    return AbortSignal.any([this.controller.signal, AbortSignal.timeout(this.opts.dialTimeoutMs)]);
  }

  private async dialBootstrap(): Promise<void> {
    const { libp2p } = this.opts;
    await Promise.all(
      this.opts.bootstrap.map(async (addr) => {
        const known = this.behind.get(addr);
        if (known !== undefined && libp2p.getConnections(known).length > 0) return;
        if (known !== undefined && known.equals(libp2p.peerId)) return;
        try {
          const conn = await libp2p.dial(multiaddr(addr), { signal: this.signal() });
          this.behind.set(addr, conn.remotePeer);
        } catch (err) {
          if (!this.stopped) this.opts.log(`bootstrap peer ${addr} not reachable yet (${(err as Error).message}); retrying every ${this.opts.intervalMs} ms`);
        }
      }),
    );
  }

  private async dialPeer(peer: PeerId): Promise<void> {
    const { libp2p } = this.opts;
    if (libp2p.getConnections(peer).length > 0) return;
    try {
      await libp2p.dial(peer, { signal: this.signal() });
    } catch {
      // Down peers are the liveness monitor's business.
    }
  }
}
