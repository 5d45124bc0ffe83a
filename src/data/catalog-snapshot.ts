/**
 * The catalog copy in the mesh, as bytes: a snapshot is the gateway's whole SQLite database (a
 * consistent image) plus its peer key, gzipped, cut into segments, each sealed with AES-256-GCM
 * under a key of its own (HKDF of the master key's 'catalog/v1' key with a random salt) and
 * Reed-Solomon coded into k+m shards on the storage peers. The head record names it: sequence
 * number, time, salt, and every shard (id, peer), MAC'd with a key derived from the master key
 * (so recovery knows a head is its own before reading a byte) and signed by the gateway's peer key
 * (so peers keep it only from that gateway). Peers learn nothing but sizes.
 */
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { gunzip, gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { deriveKey } from '../core/master-key.ts';
import { decode, encode } from '../codec/erasure.ts';
import { decryptSegment, encryptSegment } from '../codec/crypto.ts';
import { shardIdAsync } from '../codec/cid.ts';
import type { ShardNetwork } from '../../mesh/shards.ts';
import { verifyHead, type SignedHead } from '../../mesh/catalog-heads.ts';
import { settleLimited } from './gc.ts';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export const CATALOG_KEY_PURPOSE = 'catalog/v1';
export const CATALOG_MAC_PURPOSE = 'catalog-head-mac/v1';
const MAGIC = Buffer.from('DMCATv1\n');

export interface ShardRef {
  id: string;
  peer: string;
}

/** The head record's body (JSON), as the gateway writes it. */
export interface HeadBody {
  v: 1;
  gateway: string;
  seq: number;
  /** When the snapshot was taken (ms since epoch). */
  time: number;
  ec: { k: number; m: number };
  /** base64 salt of the snapshot key. */
  salt: string;
  /** Bytes of the gzipped container. */
  size: number;
  segments: { size: number; shards: ShardRef[] }[];
  /** base64 HMAC-SHA256 over the body without this field, under the master key's head MAC key. */
  mac: string;
}

/** What a snapshot holds besides the database image. */
export interface SnapshotMeta {
  seq: number;
  gen: number;
  time: number;
  /** The gateway's libp2p private key (protobuf, base64): the recovered gateway keeps its peer id. */
  peerKey: string;
}

const macOf = (masterKey: Buffer, body: Omit<HeadBody, 'mac'>): string =>
  createHmac('sha256', deriveKey(masterKey, CATALOG_MAC_PURPOSE)).update(JSON.stringify(body)).digest('base64');

const snapshotKey = (masterKey: Buffer, salt: Buffer): Buffer =>
  Buffer.from(hkdfSync('sha256', deriveKey(masterKey, CATALOG_KEY_PURPOSE), salt, 'datamesh catalog snapshot', 32));

const aadId = (gateway: string, seq: number): string => `catalog/${gateway}/${seq}`;

/** Seals and codes a snapshot, puts its shards on `peers` and returns the head body (unsigned). */
export async function writeSnapshot(opts: {
  masterKey: Buffer;
  network: ShardNetwork;
  gateway: string;
  meta: SnapshotMeta;
  image: Uint8Array;
  ec: { k: number; m: number };
  segmentSize: number;
  /** Remote peers to hold the shards (never the gateway itself: its disk is what we guard against). */
  peers: string[];
  place: (ids: string[], peers: string[]) => string[];
  signal?: AbortSignal;
}): Promise<HeadBody> {
  const { masterKey, network, gateway, meta, ec } = opts;
  const header = Buffer.from(JSON.stringify(meta));
  const len = Buffer.alloc(4);
  len.writeUInt32BE(header.length);
  const packed = await gzipAsync(Buffer.concat([MAGIC, len, header, opts.image]), { level: 1 });
  const salt = randomBytes(32);
  const key = snapshotKey(masterKey, salt);
  const segments: HeadBody['segments'] = [];
  for (let i = 0, off = 0; off < packed.length || i === 0; i++, off += opts.segmentSize) {
    const sealed = encryptSegment(key, aadId(gateway, meta.seq), i, packed.subarray(off, off + opts.segmentSize));
    const shards = await encode(sealed, ec.k, ec.m);
    const ids = await Promise.all(shards.map((s) => shardIdAsync(s)));
    const placed = opts.place(ids, opts.peers);
    const results = await settleLimited(ids.map((_, j) => j), 8, (j) => network.put(placed[j]!, ids[j]!, shards[j]!, opts.signal ? { signal: opts.signal } : {}));
    const stored = ids.map((id, j) => ({ id, peer: placed[j]! })).filter((_, j) => results[j]!.status === 'fulfilled');
    const quorum = Math.min(ec.k + 1, ec.k + ec.m);
    if (stored.length < quorum) {
      const err = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      throw new Error(`only ${stored.length} of ${ids.length} shards of catalog segment ${i} could be stored (need ${quorum}): ${(err?.reason as Error)?.message ?? ''}`);
    }
    // Missing shards stay as slots with an empty peer so indexes keep their meaning.
    segments.push({ size: sealed.length, shards: ids.map((id, j) => ({ id, peer: results[j]!.status === 'fulfilled' ? placed[j]! : '' })) });
  }
  const body: Omit<HeadBody, 'mac'> = { v: 1, gateway, seq: meta.seq, time: meta.time, ec, salt: salt.toString('base64'), size: packed.length, segments };
  return { ...body, mac: macOf(masterKey, body) };
}

/** Parses a signed head; undefined unless it is signed by its gateway and MAC'd under this master key. */
export async function openHead(masterKey: Buffer, head: SignedHead): Promise<HeadBody | undefined> {
  if (!(await verifyHead(head))) return undefined;
  let body: HeadBody;
  try {
    body = JSON.parse(head.body) as HeadBody;
  } catch {
    return undefined;
  }
  if (body.v !== 1 || typeof body.mac !== 'string' || !Array.isArray(body.segments)) return undefined;
  const { mac, ...rest } = body;
  const want = Buffer.from(macOf(masterKey, rest), 'base64');
  const got = Buffer.from(mac, 'base64');
  return got.length === want.length && timingSafeEqual(got, want) ? body : undefined;
}

/** Every shard a snapshot stored (for deleting it once newer ones are durable). */
export const snapshotShards = (body: Pick<HeadBody, 'segments'>): ShardRef[] => body.segments.flatMap((s) => s.shards.filter((r) => r.peer !== ''));

/** Reads a snapshot back from the mesh: the database image and its meta. Throws naming what is missing. */
export async function readSnapshot(opts: { masterKey: Buffer; network: ShardNetwork; head: HeadBody; signal?: AbortSignal }): Promise<{ meta: SnapshotMeta; image: Buffer }> {
  const { head, network } = opts;
  const key = snapshotKey(opts.masterKey, Buffer.from(head.salt, 'base64'));
  const { k, m } = head.ec;
  const parts: Buffer[] = [];
  for (const [i, seg] of head.segments.entries()) {
    const got = await Promise.all(
      seg.shards.map((s) => (s.peer === '' ? undefined : network.get(s.peer, s.id, opts.signal ? { signal: opts.signal } : {}).catch(() => undefined))),
    );
    const present = got.filter((g) => g !== undefined).length;
    if (present < k) throw new Error(`catalog snapshot #${head.seq}: segment ${i} has ${present} readable shards of the ${k} needed (start more storage peers, or pass their addresses with --bootstrap)`);
    const sealed = await decode(got, k, m, seg.size);
    parts.push(decryptSegment(key, aadId(head.gateway, head.seq), i, sealed));
  }
  const packed = Buffer.concat(parts);
  const raw = await gunzipAsync(packed);
  if (!raw.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`catalog snapshot #${head.seq} is not in a known format`);
  const len = raw.readUInt32BE(MAGIC.length);
  const at = MAGIC.length + 4;
  const meta = JSON.parse(raw.subarray(at, at + len).toString('utf8')) as SnapshotMeta;
  return { meta, image: raw.subarray(at + len) };
}
