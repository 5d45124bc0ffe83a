/**
 * The shard protocol's idle streams, per peer: a request takes one (or opens a new stream when
 * none is idle) and gives it back once answered, so consecutive shards to a peer skip the stream
 * set-up, the protocol negotiation and libp2p's peer-store update that each new stream costs. A
 * stream the peer closes or resets while idle leaves at once; at most `perPeer` wait for each peer.
 */
import type { PeerId, Stream } from '@libp2p/interface';
import type { FrameStream } from './framing.ts';

export interface Channel {
  stream: Stream;
  lp: FrameStream;
}

const usable = (ch: Channel): boolean => {
  const s = ch.stream;
  return s.status === 'open' && s.writeStatus === 'writable' && s.remoteWriteStatus === 'writable' && s.readStatus !== 'closed' && ch.lp.buffered === 0;
};

export class IdleStreams {
  private readonly idle = new Map<string, Channel[]>();
  /** Removes an idle channel's listeners (and it from its list). */
  private readonly detach = new WeakMap<Channel, () => void>();

  constructor(private readonly perPeer: number) {}

  /** An idle stream to `peer` that is still open both ways, if any. */
  take(peer: PeerId): Channel | undefined {
    const list = this.idle.get(peer.toString());
    while (list !== undefined && list.length > 0) {
      const ch = list[list.length - 1]!;
      this.detach.get(ch)?.();
      if (usable(ch)) return ch;
      ch.stream.abort(new Error('stale idle stream'));
    }
    return undefined;
  }

  /** Keeps an answered stream for the next request to `peer` (or closes it when enough wait). */
  give(peer: PeerId, ch: Channel): void {
    const key = peer.toString();
    const list = this.idle.get(key) ?? [];
    if (!usable(ch) || list.length >= this.perPeer) {
      void ch.stream.close().catch(() => ch.stream.abort(new Error('closing a spare stream failed')));
      return;
    }
    list.push(ch);
    this.idle.set(key, list);
    // the serving side ended it (idle too long, restarting): it leaves, and our end closes too
    const onEnd = (): void => {
      detach();
      void ch.stream.close().catch(() => {});
    };
    const detach = (): void => {
      const at = list.indexOf(ch);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0 && this.idle.get(key) === list) this.idle.delete(key);
      ch.stream.removeEventListener('close', detach);
      ch.stream.removeEventListener('remoteCloseWrite', onEnd);
      this.detach.delete(ch);
    };
    ch.stream.addEventListener('close', detach);
    ch.stream.addEventListener('remoteCloseWrite', onEnd);
    this.detach.set(ch, detach);
  }

  /** Aborts every idle stream (the service stops). */
  clear(): void {
    for (const list of [...this.idle.values()]) for (const ch of [...list]) ch.stream.abort(new Error('shard protocol stopped'));
    this.idle.clear();
  }
}
