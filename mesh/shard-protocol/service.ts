/**
 * The shard protocol as a libp2p service (in the style of @libp2p/ping): handles
 * /datamesh/shard/1.0.0 in start(), unhandles it in stop(), and opens streams to ask other peers.
 * One request and one response per stream, each one length-prefixed frame of at most
 * MAX_MESSAGE_BYTES. A malformed or oversized message aborts that stream; the peer carries on.
 */
import { serviceCapabilities, type AbortOptions, type ComponentLogger, type Connection, type Logger, type PeerId, type PrivateKey, type Startable, type Stream } from '@libp2p/interface';
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal';
import {
  DEFAULT_INBOUND_TIMEOUT_MS,
  DEFAULT_STREAM_IDLE_MS,
  DELETE_SIGNATURE_DOMAIN,
  MAX_INBOUND_BYTES,
  MAX_INBOUND_STREAMS,
  MAX_IDLE_STREAMS_PER_PEER,
  MAX_INBOUND_STREAMS_PER_PEER,
  MAX_MESSAGE_BYTES,
  MAX_OUTBOUND_STREAMS,
  SHARD_PROTOCOL,
} from '../constants.ts';
import { exchangeFrame, frameStream, type FrameStream } from './framing.ts';
import { IdleStreams, type Channel } from './idle-streams.ts';
import type { ShardHost } from './host.ts';
import { Uint8ArrayList } from 'uint8arraylist';
import {
  deleteSigningBytes,
  encodeFrame,
  encodeListBody,
  parseHead,
  parseRequestHeader,
  parseResponseHeader,
  ProtocolViolation,
  type Frame,
  type ShardRequest,
  type ShardResponse,
} from './messages.ts';
import { ByteBudget } from './budget.ts';
import { ProtocolRegistration } from '../protocol-registration.ts';

export interface ShardProtocolInit {
  /** The local side (store, capacity, owners). Set later with attachHost when built after libp2p. */
  host?: ShardHost;
  /** Time a remote has to send its request before the stream is aborted. */
  inboundTimeoutMs?: number;
  /** Time a stream may wait for its next request before it is closed (default DEFAULT_STREAM_IDLE_MS). */
  idleTimeoutMs?: number;
  maxInboundStreams?: number;
  maxOutboundStreams?: number;
  /** Whether this node serves `op` to `peer` (admitted). Default: everyone (tests of the protocol alone). */
  authorize?: (peer: string, op: ShardRequest['op']) => boolean;
  /** Bytes of inbound shard bodies held at once, all peers together (default MAX_INBOUND_BYTES). */
  maxInboundBytes?: number;
  /** Inbound requests one peer may have in flight at once, over all its connections. */
  maxStreamsPerPeer?: number;
}

export interface ShardProtocolComponents {
  peerId: PeerId;
  privateKey: PrivateKey;
  registrar: Registrar;
  connectionManager: ConnectionManager;
  logger: ComponentLogger;
}

export class ShardProtocolService implements Startable {
  readonly protocol = SHARD_PROTOCOL;
  private readonly components: ShardProtocolComponents;
  private readonly log: Logger;
  private readonly inboundTimeoutMs: number;
  private readonly registration: ProtocolRegistration;
  private host: ShardHost | undefined;
  private readonly authorize: (peer: string, op: ShardRequest['op']) => boolean;
  private readonly maxStreamsPerPeer: number;
  private readonly inFlight = new Map<string, number>();
  /** Memory for the bodies of inbound puts, shared by every peer. */
  readonly budget: ByteBudget;
  /** Time a stream may wait between two requests before this node closes it. */
  private readonly idleTimeoutMs: number;
  /** Streams to each peer with no request on them, ready for the next one. */
  private readonly streams = new IdleStreams(MAX_IDLE_STREAMS_PER_PEER);
  /** Streams this node opened to ask other peers (most requests reuse one). */
  streamsOpened = 0;
  /** Streams aborted for protocol violations (for tests and the operations view). */
  violations = 0;
  /** Requests refused because the peer is not admitted, or had too many in flight. */
  refused = 0;

  constructor(components: ShardProtocolComponents, init: ShardProtocolInit = {}) {
    this.components = components;
    this.log = components.logger.forComponent('datamesh:shard-protocol');
    this.host = init.host;
    this.inboundTimeoutMs = init.inboundTimeoutMs ?? DEFAULT_INBOUND_TIMEOUT_MS;
    this.idleTimeoutMs = init.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_MS;

    this.authorize = init.authorize ?? (() => true);
    this.maxStreamsPerPeer = init.maxStreamsPerPeer ?? MAX_INBOUND_STREAMS_PER_PEER;
    this.budget = new ByteBudget(init.maxInboundBytes ?? MAX_INBOUND_BYTES);
    this.handle = this.handle.bind(this);
    this.registration = new ProtocolRegistration(components.registrar, this.protocol, this.handle, {
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: init.maxOutboundStreams ?? MAX_OUTBOUND_STREAMS,
    });
  }

  readonly [Symbol.toStringTag] = '@datamesh/shard-protocol';
  readonly [serviceCapabilities] = ['@datamesh/shard-protocol'];

  attachHost(host: ShardHost): void {
    this.host = host;
  }

  start = (): Promise<void> => this.registration.start();
  stop = async (): Promise<void> => {
    this.streams.clear();
    await this.registration.stop();
  };
  isStarted = (): boolean => this.registration.isStarted();

  /**
   * Serves one inbound request. Never throws: a bad stream is aborted and logged. Only the
   * header is read before the peer is checked; a put's body is read only once its bytes fit the
   * shared inbound budget, so peers that stall mid-frame hold bounded memory, however many.
   */
  async handle(stream: Stream, connection: Connection): Promise<void> {
    // Gives up at the inbound timeout, or as soon as the stream closes (a stalled request waiting
    // for the budget must not keep its place once its peer is gone).
    const closed = new AbortController();
    stream.addEventListener('close', () => closed.abort(new Error('stream closed')), { once: true });
    stream.maxReadBufferLength = Math.max(stream.maxReadBufferLength, MAX_MESSAGE_BYTES + 1024 * 1024);
    const lp = frameStream(stream);
    try {
      // One request after another on the same stream, until the remote ends it or lets it idle.
      for (let first = true; ; first = false) {
        if (!first) {
          const idle = AbortSignal.any([AbortSignal.timeout(this.idleTimeoutMs), closed.signal]);
          const more = await lp.more({ signal: idle }).catch(() => false);
          if (!more) {
            await stream.close({ signal: AbortSignal.timeout(this.inboundTimeoutMs) }).catch(() => stream.abort(new Error('idle stream did not close')));
            return;
          }
        }
        const signal = AbortSignal.any([AbortSignal.timeout(this.inboundTimeoutMs), closed.signal]);
        if (!(await this.serveOne(stream, lp, connection, signal))) return;
      }
    } catch (err) {
      if (err instanceof ProtocolViolation) this.violations++;
      this.log('aborting %s stream from %p: %s', this.protocol, connection.remotePeer, (err as Error).message);
      stream.abort(err instanceof Error ? err : new ProtocolViolation(String(err)));
    }
  }

  /** One request of a stream: admission checked, answered. False when the stream was given up. */
  private async serveOne(stream: Stream, lp: FrameStream, connection: Connection, signal: AbortSignal): Promise<boolean> {
    const remote = connection.remotePeer.toString();
    const active = (this.inFlight.get(remote) ?? 0) + 1;
    this.inFlight.set(remote, active);
    let release = () => {};
    try {
      const { head, bodyLength } = await lp.readHead({ signal });
      const req = parseRequestHeader(parseHead(head), bodyLength);
      // checked for every request, not once per stream: an evicted peer's next request is refused
      const refusal = this.refusal(remote, req.op, active);
      if (refusal !== undefined) {
        this.refused++;
        await lp.write(encodeFrame(refusal), { signal });
        if (bodyLength > 0) {
          stream.abort(new ProtocolViolation('refused'));
          return false;
        }
        return true;
      }
      let body = new Uint8ArrayList();
      if (bodyLength > 0) {
        release = await this.budget.acquire(bodyLength, signal);
        body = new Uint8ArrayList(await lp.readBody(bodyLength, { signal }));
      }
      const { response, body: out } = await this.serve({ header: req, body }, connection.remotePeer);
      release();
      release = () => {};
      await lp.write(encodeFrame(response, out), { signal });
      return true;
    } finally {
      release();
      const left = (this.inFlight.get(remote) ?? 1) - 1;
      if (left <= 0) this.inFlight.delete(remote);
      else this.inFlight.set(remote, left);
    }
  }

  private refusal(remote: string, op: ShardRequest['op'], active: number): ShardResponse | undefined {
    if (!this.authorize(remote, op))
      return {
        ok: false,
        code: 'Denied',
        reason: `peer ${remote} may not ${op} here: it is not admitted to this node's mesh (a gateway's operator admits a storage peer with: datamesh admin mesh admit ${remote}; a storage peer serves the gateways given to its --admit-peers)`,
      };
    if (active > this.maxStreamsPerPeer)
      return { ok: false, code: 'Busy', reason: `more than ${this.maxStreamsPerPeer} requests in flight from one peer; retry when one is answered` };
    return undefined;
  }

  private async serve(frame: Frame<ShardRequest>, remote: PeerId): Promise<{ response: ShardResponse; body?: Uint8Array }> {
    const host = this.host;
    if (host === undefined) return { response: { ok: false, code: 'Internal', reason: 'peer is starting; retry shortly' } };
    const req = frame.header;
    try {
      switch (req.op) {
        case 'stat':
          return { response: { ok: true, stats: host.stats() } };
        case 'list': {
          const page = host.list(remote.toString(), req.after, req.limit);
          return { response: page.next === undefined ? { ok: true } : { ok: true, next: page.next }, body: encodeListBody(page.shards) };
        }
        case 'has':
          return { response: { ok: true, has: await host.has(req.id) } };
        case 'get': {
          const { response, bytes } = await host.get(req.id);
          return bytes === undefined ? { response } : { response, body: bytes };
        }
        case 'put':
          // the body was read into a buffer of its own: it may travel to a codec worker and back
          return { response: await host.put(req.id, frame.body.subarray(), remote.toString(), { transfer: true }) };
        case 'delete': {
          if (!(await verifyDeleteSignature(remote, req.id, req.sig)))
            return { response: { ok: false, code: 'Denied', reason: `the delete of shard ${req.id} is not signed by the key of peer ${remote}` } };
          return { response: await host.delete(req.id, remote.toString()) };
        }
      }
    } catch (err) {
      this.log.error('serving %s %s for %p failed - %e', req.op, 'id' in req ? req.id : '', remote, err);
      return { response: { ok: false, code: 'Internal', reason: `peer failed to ${req.op}: ${(err as Error).message}` } };
    }
  }

  /**
   * Sends one request to `peer` and returns its response (body: the shard bytes of a get). On a
   * stream this node used before with that peer when one is idle (no stream set-up, protocol
   * negotiation and peer-store update per shard), else on a new one; a reused stream that the
   * peer closed meanwhile is replaced once (every request is safe to repeat: puts and deletes of
   * content-addressed shards are idempotent).
   */
  async request(peer: PeerId, req: ShardRequest, body: Uint8Array | undefined, options: AbortOptions): Promise<Frame<ShardResponse>> {
    const frame = encodeFrame(req, body);
    const idle = this.streams.take(peer);
    if (idle !== undefined) {
      try {
        return await this.exchange(peer, idle, frame, options);
      } catch (err) {
        if (options.signal?.aborted === true) throw err;
        this.log('reused %s stream to %p failed (%s); retrying on a new one', this.protocol, peer, (err as Error).message);
      }
    }
    const stream = await this.components.connectionManager.openStream(peer, this.protocol, options);
    this.streamsOpened++;
    return this.exchange(peer, { stream, lp: frameStream(stream) }, frame, options);
  }

  private async exchange(peer: PeerId, ch: Channel, frame: Uint8ArrayList, options: AbortOptions): Promise<Frame<ShardResponse>> {
    try {
      const { answer, sent } = await exchangeFrame(
        ch.lp,
        frame,
        async () => {
          const { head, bodyLength } = await ch.lp.readHead(options);
          // the body in a buffer of its own: a shard to hand to a codec worker without a copy
          return { head, body: bodyLength > 0 ? await ch.lp.readBody(bodyLength, options) : new Uint8Array(0) };
        },
        options,
      );
      // A stream whose request was cut short (a refused put) is not used again.
      if (sent) this.streams.give(peer, ch);
      else ch.stream.abort(new Error('request not sent whole'));
      return { header: parseResponseHeader(parseHead(answer.head)), body: new Uint8ArrayList(answer.body) };
    } catch (err) {
      ch.stream.abort(err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
  }

  /** The signature proving this node asks to delete `id` (see DELETE_SIGNATURE_DOMAIN). */
  async signDelete(id: string): Promise<string> {
    const sig = await this.components.privateKey.sign(deleteSigningBytes(DELETE_SIGNATURE_DOMAIN, id));
    return Buffer.from(sig).toString('base64');
  }
}

async function verifyDeleteSignature(remote: PeerId, id: string, sig: string): Promise<boolean> {
  const key = remote.publicKey;
  if (key === undefined) return false;
  try {
    return await key.verify(deleteSigningBytes(DELETE_SIGNATURE_DOMAIN, id), Buffer.from(sig, 'base64'));
  } catch {
    return false;
  }
}
