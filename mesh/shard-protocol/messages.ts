/**
 * Wire format of the shard protocol. Every message is one length-prefixed frame (varint length,
 * at most MAX_MESSAGE_BYTES) holding: varint header length, a small JSON header, then the raw
 * shard bytes (put requests and get responses only). One request and one response per stream.
 * Pure functions: a malformed frame throws ProtocolViolation, and the service aborts the stream.
 */
import * as varint from 'uint8-varint';
import { Uint8ArrayList } from 'uint8arraylist';
import { MAX_HEADER_BYTES } from '../constants.ts';
import { isShardId } from '../../src/codec/cid.ts';

export type ShardRequest =
  | { op: 'put'; id: string }
  | { op: 'get'; id: string }
  | { op: 'has'; id: string }
  /** sig: base64 signature by the requester's peer key over DELETE_SIGNATURE_DOMAIN + id. */
  | { op: 'delete'; id: string; sig: string }
  | { op: 'stat' }
  /** The shards the requester stored on this peer, in id order after `after` (a paged inventory). */
  | { op: 'list'; after?: string; limit?: number };

/** Most shard ids one `list` answer carries. */
export const LIST_PAGE_MAX = 1000;

export type RefusalCode = 'NotFound' | 'Corrupt' | 'Full' | 'BadId' | 'Denied' | 'Busy' | 'BadRequest' | 'Internal';

export interface PeerStats {
  /** Bytes this peer accepts in total; null for unlimited. */
  capacity: number | null;
  used: number;
  count: number;
}

export type ShardResponse =
  | { ok: true; has?: boolean; stats?: PeerStats; next?: string }
  | { ok: false; code: RefusalCode; reason: string; stats?: PeerStats };

export interface Frame<H> {
  header: H;
  /** The raw bytes after the header (empty when none). */
  body: Uint8ArrayList;
}

/** A frame that breaks the protocol: the stream is aborted, the peer stays up. */
export class ProtocolViolation extends Error {
  override name = 'ProtocolViolation';
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes header + body as the contents of one length-prefixed frame (the caller adds the prefix). */
export function encodeFrame(header: ShardRequest | ShardResponse, body?: Uint8Array): Uint8ArrayList {
  const json = encoder.encode(JSON.stringify(header));
  if (json.byteLength > MAX_HEADER_BYTES) throw new ProtocolViolation(`header of ${json.byteLength} bytes exceeds ${MAX_HEADER_BYTES}`);
  const list = new Uint8ArrayList<ArrayBufferLike>(varint.encode(json.byteLength), json);
  if (body !== undefined && body.byteLength > 0) list.append(body);
  return list;
}

/** Parses the head of a frame (varint header length + JSON header) as framing.readHead returns it. */
export function parseHead(head: Uint8ArrayList): unknown {
  return splitFrame(head).json;
}

function splitFrame(frame: Uint8ArrayList): { json: unknown; body: Uint8ArrayList } {
  let headerLength: number;
  try {
    headerLength = varint.decode(frame);
  } catch {
    throw new ProtocolViolation('frame does not start with a varint header length');
  }
  // checked first: encodingLength throws a RangeError for a varint past 2^53
  if (headerLength > MAX_HEADER_BYTES) throw new ProtocolViolation(`header length ${headerLength} exceeds ${MAX_HEADER_BYTES}`);
  const offset = varint.encodingLength(headerLength);
  if (offset + headerLength > frame.byteLength) throw new ProtocolViolation('header runs past the end of the frame');
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(frame.subarray(offset, offset + headerLength)));
  } catch {
    throw new ProtocolViolation('header is not UTF-8 JSON');
  }
  return { json, body: frame.sublist(offset + headerLength) };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isShardIdShape = (id: unknown): id is string => typeof id === 'string' && isShardId(id);

/** Parses a request frame; throws ProtocolViolation on anything but a well-formed request. */
export function decodeRequest(frame: Uint8ArrayList): Frame<ShardRequest> {
  const { json, body } = splitFrame(frame);
  return { header: parseRequestHeader(json, body.byteLength), body };
}

/** Checks a request header (and that only a put carries bytes, `bodyLength` of them). */
export function parseRequestHeader(json: unknown, bodyLength: number): ShardRequest {
  if (!isObject(json)) throw new ProtocolViolation('request header is not an object');
  const { op, id } = json;
  if (op !== 'put' && bodyLength !== 0) throw new ProtocolViolation(`${String(op)} request carries ${bodyLength} unexpected bytes`);
  if (op === 'stat') return { op };
  if (op === 'list') {
    const { after, limit } = json;
    if (after !== undefined && (typeof after !== 'string' || after.length > 200)) throw new ProtocolViolation('list request with a bad "after"');
    if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)) throw new ProtocolViolation('list request with a bad "limit"');
    return { op, ...(after !== undefined ? { after } : {}), ...(limit !== undefined ? { limit: Math.min(limit, LIST_PAGE_MAX) } : {}) };
  }
  if (op !== 'put' && op !== 'get' && op !== 'has' && op !== 'delete') throw new ProtocolViolation(`unknown op ${JSON.stringify(op)}`);
  if (!isShardIdShape(id)) throw new ProtocolViolation(`${op} request without a valid shard id`);
  if (op === 'delete') {
    if (typeof json.sig !== 'string' || json.sig.length === 0 || json.sig.length > 1024)
      throw new ProtocolViolation('delete request without a signature');
    return { op, id, sig: json.sig };
  }
  return { op, id };
}

/** The body of a `list` answer: [shard id, stored at (ms)] pairs. */
export function encodeListBody(shards: readonly { id: string; storedAt: number }[]): Uint8Array {
  return encoder.encode(JSON.stringify(shards.map((s) => [s.id, s.storedAt])));
}

export function decodeListBody(body: Uint8Array): { id: string; storedAt: number }[] {
  let json: unknown;
  try {
    json = JSON.parse(decoder.decode(body));
  } catch {
    throw new ProtocolViolation('list answer is not UTF-8 JSON');
  }
  if (!Array.isArray(json) || json.length > LIST_PAGE_MAX) throw new ProtocolViolation('list answer is not an array of at most LIST_PAGE_MAX entries');
  return json.map((e: unknown) => {
    if (!Array.isArray(e) || !isShardIdShape(e[0]) || typeof e[1] !== 'number') throw new ProtocolViolation('list answer entry is not [shard id, time]');
    return { id: e[0], storedAt: e[1] };
  });
}

const REFUSALS: readonly RefusalCode[] = ['NotFound', 'Corrupt', 'Full', 'BadId', 'Denied', 'Busy', 'BadRequest', 'Internal'];

function parseStats(v: unknown): PeerStats | undefined {
  if (!isObject(v)) return undefined;
  const { capacity, used, count } = v;
  if ((capacity !== null && typeof capacity !== 'number') || typeof used !== 'number' || typeof count !== 'number') return undefined;
  return { capacity, used, count };
}

/** Parses a response frame; throws ProtocolViolation on anything but a well-formed response. */
export function decodeResponse(frame: Uint8ArrayList): Frame<ShardResponse> {
  const { json, body } = splitFrame(frame);
  return { header: parseResponseHeader(json), body };
}

export function parseResponseHeader(json: unknown): ShardResponse {
  if (!isObject(json) || typeof json.ok !== 'boolean') throw new ProtocolViolation('response header is not an object with ok');
  const stats = parseStats(json.stats);
  if (json.ok) {
    const header: ShardResponse = { ok: true };
    if (typeof json.has === 'boolean') header.has = json.has;
    if (stats !== undefined) header.stats = stats;
    if (isShardIdShape(json.next)) header.next = json.next;
    return header;
  }
  const code = REFUSALS.find((c) => c === json.code) ?? 'Internal';
  const reason = typeof json.reason === 'string' ? json.reason.slice(0, 2000) : 'no reason given';
  return stats === undefined ? { ok: false, code, reason } : { ok: false, code, reason, stats };
}

/** The bytes a gateway signs to delete shard `id` (and the peer verifies). */
export const deleteSigningBytes = (domain: string, id: string): Uint8Array => encoder.encode(domain + id);
