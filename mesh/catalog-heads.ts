/**
 * Catalog heads, /datamesh/catalog-head/1.0.0 as a libp2p service: a gateway ships its catalog to
 * the mesh as encrypted, erasure-coded snapshots (src/data/catalog-sync.ts) and gives every storage
 * peer a small head record naming the newest one. A head is opaque JSON text signed by the gateway's
 * peer key; a peer accepts a head only from the gateway it names, and only when its sequence number
 * is not older than the one it keeps (a stale gateway cannot roll the mesh back). Anyone on the
 * (closed) mesh may read the heads a peer keeps: they hold shard ids and sizes, nothing secret
 * (a recovery reads them before it has an admitted identity); only admitted gateways leave heads.
 * Kept as DIR/catalog-heads/<gateway peer id>.json, written atomically.
 *
 * One request and one response per stream, each one length-prefixed JSON frame (MAX_HEAD_BYTES).
 */
import { serviceCapabilities, type AbortOptions, type ComponentLogger, type Connection, type Logger, type PeerId, type PrivateKey, type Startable, type Stream } from '@libp2p/interface';
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal';
import { peerIdFromString } from '@libp2p/peer-id';
import { Uint8ArrayList } from 'uint8arraylist';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CATALOG_HEAD_PROTOCOL, DEFAULT_INBOUND_TIMEOUT_MS, MAX_HEAD_BYTES } from './constants.ts';
import { frameStream, requestFrame } from './shard-protocol/framing.ts';
import { ProtocolViolation } from './shard-protocol/messages.ts';
import { ProtocolRegistration } from './protocol-registration.ts';

/** A head as it travels and is kept: the gateway's JSON text and its signature over it. */
export interface SignedHead {
  /** JSON of at least { gateway: peer id, seq: number }; the rest belongs to the gateway. */
  body: string;
  /** base64 signature by the gateway's peer key over HEAD_SIGNATURE_DOMAIN + body. */
  sig: string;
}

export interface HeadFields {
  gateway: string;
  seq: number;
}

export const HEAD_SIGNATURE_DOMAIN = 'datamesh-catalog-head:';

type HeadRequest = { op: 'put'; head: SignedHead } | { op: 'get'; gateway?: string } | { op: 'owned'; gateway: string; since: number };
type HeadResponse = { ok: true; heads?: SignedHead[]; ids?: string[] } | { ok: false; code: 'Stale' | 'Denied' | 'BadRequest' | 'Internal'; reason: string; seq?: number };

const encoder = new TextEncoder();
const signingBytes = (body: string): Uint8Array => encoder.encode(HEAD_SIGNATURE_DOMAIN + body);

/** The gateway and sequence number of a head, or a ProtocolViolation. */
export function headFields(head: SignedHead): HeadFields {
  let json: unknown;
  try {
    json = JSON.parse(head.body);
  } catch {
    throw new ProtocolViolation('head body is not JSON');
  }
  const { gateway, seq } = (json ?? {}) as Record<string, unknown>;
  if (typeof gateway !== 'string' || !Number.isSafeInteger(seq) || (seq as number) < 0) throw new ProtocolViolation('head body lacks gateway and seq');
  return { gateway, seq: seq as number };
}

/** True when `head` is signed by the key of the gateway it names. */
export async function verifyHead(head: SignedHead): Promise<boolean> {
  try {
    const { gateway } = headFields(head);
    const key = peerIdFromString(gateway).publicKey;
    if (key === undefined) return false;
    return await key.verify(signingBytes(head.body), Buffer.from(head.sig, 'base64'));
  } catch {
    return false;
  }
}

const isSignedHead = (v: unknown): v is SignedHead =>
  typeof v === 'object' && v !== null && typeof (v as SignedHead).body === 'string' && typeof (v as SignedHead).sig === 'string' && (v as SignedHead).sig.length <= 1024;

function decode<T>(frame: Uint8ArrayList): T {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(frame.subarray())) as T;
  } catch {
    throw new ProtocolViolation('message is not UTF-8 JSON');
  }
}
const encode = (v: HeadRequest | HeadResponse): Uint8ArrayList => new Uint8ArrayList(encoder.encode(JSON.stringify(v)));

/** The heads this peer keeps, one file per gateway. */
export class HeadStore {
  constructor(private readonly dir: string) {}

  private file(gateway: string): string {
    if (!/^[1-9A-HJ-NP-Za-km-z]{40,100}$/.test(gateway)) throw new ProtocolViolation('gateway is not a peer id');
    return join(this.dir, `${gateway}.json`);
  }

  async get(gateway: string): Promise<SignedHead | undefined> {
    const text = await readFile(this.file(gateway), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    try {
      const head = JSON.parse(text) as unknown;
      return isSignedHead(head) ? head : undefined;
    } catch {
      return undefined;
    }
  }

  async all(): Promise<SignedHead[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const heads = await Promise.all(names.filter((n) => n.endsWith('.json')).map((n) => this.get(n.slice(0, -5)).catch(() => undefined)));
    return heads.filter((h): h is SignedHead => h !== undefined);
  }

  /** Keeps `head` unless a newer one of its gateway is kept already; returns the seq kept before. */
  async put(head: SignedHead, fields: HeadFields): Promise<{ stored: boolean; seq?: number }> {
    const current = await this.get(fields.gateway);
    const seq = current === undefined ? undefined : headFields(current).seq;
    if (seq !== undefined && seq > fields.seq) return { stored: false, seq };
    await mkdir(this.dir, { recursive: true });
    const file = this.file(fields.gateway);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(head), { mode: 0o600 });
    await rename(tmp, file);
    return { stored: true, ...(seq === undefined ? {} : { seq }) };
  }
}

/** The most shard ids one 'owned' answer lists. */
export const MAX_OWNED_IDS = 50_000;

export interface CatalogHeadsInit {
  /** Where this peer keeps heads (DIR/catalog-heads). */
  dir: string;
  /** Ids of the shards `gateway` stored on this peer since `since` (recovery finds writes newer than its copy). */
  owned?: (gateway: string, since: number, limit: number) => string[];
  /** Whether `peer` may leave its head here (default: any): a storage peer keeps the heads of its admitted gateways only. */
  mayPublish?: (peer: string) => boolean;
  inboundTimeoutMs?: number;
}

export interface CatalogHeadsComponents {
  peerId: PeerId;
  privateKey: PrivateKey;
  registrar: Registrar;
  connectionManager: ConnectionManager;
  logger: ComponentLogger;
}

export class CatalogHeadsService implements Startable {
  readonly protocol = CATALOG_HEAD_PROTOCOL;
  readonly store: HeadStore;
  private readonly log: Logger;
  private readonly inboundTimeoutMs: number;
  private readonly owned: CatalogHeadsInit['owned'];
  private readonly mayPublish: (peer: string) => boolean;
  private readonly registration: ProtocolRegistration;

  constructor(
    private readonly components: CatalogHeadsComponents,
    init: CatalogHeadsInit,
  ) {
    this.owned = init.owned;
    this.mayPublish = init.mayPublish ?? (() => true);
    this.store = new HeadStore(init.dir);
    this.log = components.logger.forComponent('datamesh:catalog-heads');
    this.inboundTimeoutMs = init.inboundTimeoutMs ?? DEFAULT_INBOUND_TIMEOUT_MS;
    this.handle = this.handle.bind(this);
    this.registration = new ProtocolRegistration(components.registrar, this.protocol, this.handle, { maxInboundStreams: 8, maxOutboundStreams: 32 });
  }

  readonly [Symbol.toStringTag] = '@datamesh/catalog-heads';
  readonly [serviceCapabilities] = ['@datamesh/catalog-heads'];

  start = (): Promise<void> => this.registration.start();
  stop = (): Promise<void> => this.registration.stop();
  isStarted = (): boolean => this.registration.isStarted();

  async handle(stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(this.inboundTimeoutMs);
    const lp = frameStream(stream, MAX_HEAD_BYTES);
    try {
      const req = decode<HeadRequest>(await lp.read({ signal }));
      await lp.write(encode(await this.serve(req, connection.remotePeer)), { signal });
      await stream.close({ signal });
    } catch (err) {
      this.log('aborting %s stream from %p: %s', this.protocol, connection.remotePeer, (err as Error).message);
      stream.abort(err instanceof Error ? err : new ProtocolViolation(String(err)));
    }
  }

  private async serve(req: HeadRequest, remote: PeerId): Promise<HeadResponse> {
    if (typeof req !== 'object' || req === null) throw new ProtocolViolation('request is not an object');
    if (req.op === 'owned') {
      if (typeof req.gateway !== 'string' || !Number.isFinite(req.since)) throw new ProtocolViolation('owned needs gateway and since');
      return { ok: true, ids: this.owned?.(req.gateway, req.since, MAX_OWNED_IDS) ?? [] };
    }
    if (req.op === 'get') {
      if (req.gateway !== undefined) {
        const head = await this.store.get(String(req.gateway));
        return { ok: true, heads: head ? [head] : [] };
      }
      return { ok: true, heads: await this.store.all() };
    }
    if (req.op !== 'put' || !isSignedHead(req.head)) throw new ProtocolViolation('unknown request');
    if (!this.mayPublish(remote.toString()))
      return { ok: false, code: 'Denied', reason: `peer ${remote} is not admitted to this node's mesh: it keeps the catalog heads of its admitted gateways only` };
    const fields = headFields(req.head);
    if (fields.gateway !== remote.toString() || !(await verifyHead(req.head)))
      return { ok: false, code: 'Denied', reason: `a head for gateway ${fields.gateway} must come from that gateway, signed by its peer key` };
    const r = await this.store.put(req.head, fields);
    if (!r.stored) return { ok: false, code: 'Stale', reason: `this peer keeps head #${r.seq} of gateway ${fields.gateway}, newer than #${fields.seq}`, seq: r.seq! };
    return { ok: true };
  }

  private async request(peer: PeerId, req: HeadRequest, options: AbortOptions): Promise<HeadResponse> {
    const res = decode<HeadResponse>(await requestFrame(this.components.connectionManager, peer, this.protocol, encode(req), options, MAX_HEAD_BYTES));
    if (typeof res !== 'object' || res === null || typeof res.ok !== 'boolean') throw new ProtocolViolation('response is not an object with ok');
    return res;
  }

  /** Signs a head body with this node's peer key. */
  async sign(body: string): Promise<SignedHead> {
    const sig = await this.components.privateKey.sign(signingBytes(body));
    return { body, sig: Buffer.from(sig).toString('base64') };
  }

  /** Gives `peer` this node's head; throws with the peer's reason when it refuses. */
  async publish(peer: string, head: SignedHead, options: AbortOptions = {}): Promise<void> {
    const res = await this.request(peerIdFromString(peer), { op: 'put', head }, options);
    if (!res.ok) throw Object.assign(new Error(`peer ${peer} refused the catalog head: ${res.reason}`), { code: res.code, seq: res.seq });
  }

  /** Ids of the shards `gateway` stored on `peer` since `since` (ms, the peer's clock). */
  async ownedSince(peer: string, gateway: string, since: number, options: AbortOptions = {}): Promise<string[]> {
    const res = await this.request(peerIdFromString(peer), { op: 'owned', gateway, since }, options);
    if (!res.ok) throw new Error(`peer ${peer} could not list shards: ${res.reason}`);
    return Array.isArray(res.ids) ? res.ids.filter((id) => typeof id === 'string') : [];
  }

  /** The heads `peer` keeps (of one gateway, or of all); each still to be verified (verifyHead). */
  async fetch(peer: string, gateway?: string, options: AbortOptions = {}): Promise<SignedHead[]> {
    const res = await this.request(peerIdFromString(peer), gateway === undefined ? { op: 'get' } : { op: 'get', gateway }, options);
    if (!res.ok) throw new Error(`peer ${peer} could not list catalog heads: ${res.reason}`);
    return (res.heads ?? []).filter(isSignedHead);
  }
}

export function catalogHeads(init: CatalogHeadsInit): (components: CatalogHeadsComponents) => CatalogHeadsService {
  return (components) => new CatalogHeadsService(components, init);
}
