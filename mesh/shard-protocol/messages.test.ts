import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import * as varint from 'uint8-varint';
import { Uint8ArrayList } from 'uint8arraylist';
import { shardId } from '../../src/codec/cid.ts';
import { decodeRequest, decodeResponse, encodeFrame, ProtocolViolation } from './messages.ts';

const id = shardId(randomBytes(10));
const raw = (header: string, body: Uint8Array = new Uint8Array()) => {
  const h = new TextEncoder().encode(header);
  return new Uint8ArrayList(varint.encode(h.byteLength), h, body);
};

describe('shard protocol messages', () => {
  it('round-trips requests and responses with their bytes', () => {
    const body = new Uint8Array(randomBytes(1000));
    const put = decodeRequest(encodeFrame({ op: 'put', id }, body));
    expect(put.header).toEqual({ op: 'put', id });
    expect(Buffer.from(put.body.subarray()).equals(Buffer.from(body))).toBe(true);
    expect(decodeRequest(encodeFrame({ op: 'delete', id, sig: 'c2ln' })).header).toEqual({ op: 'delete', id, sig: 'c2ln' });
    expect(decodeRequest(encodeFrame({ op: 'stat' })).header).toEqual({ op: 'stat' });
    const stats = { capacity: null, used: 5, count: 1 };
    expect(decodeResponse(encodeFrame({ ok: true, stats })).header).toEqual({ ok: true, stats });
    expect(decodeResponse(encodeFrame({ ok: false, code: 'Full', reason: 'peer x is full' })).header).toEqual({
      ok: false,
      code: 'Full',
      reason: 'peer x is full',
    });
    const get = decodeResponse(encodeFrame({ ok: true }, body));
    expect(get.body.byteLength).toBe(1000);
  });

  it('rejects malformed frames with a ProtocolViolation', () => {
    const bad = [
      new Uint8ArrayList(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])),
      raw('{not json'),
      raw('[1,2]'),
      raw('{"op":"format-disk"}'),
      raw('{"op":"get","id":"bafy-not-a-cid"}'),
      raw('{"op":"get"}'),
      raw(`{"op":"get","id":"${id}"}`, new Uint8Array([1])),
      raw(`{"op":"delete","id":"${id}"}`),
      new Uint8ArrayList(varint.encode(100), new Uint8Array(10)),
      new Uint8ArrayList(varint.encode(1_000_000)),
      raw('"ok"'),
    ];
    for (const frame of bad) expect(() => decodeRequest(frame)).toThrow(ProtocolViolation);
    expect(() => decodeResponse(raw('{"code":"Full"}'))).toThrow(ProtocolViolation);
    // an unknown refusal code reads as Internal, not as success
    expect(decodeResponse(raw('{"ok":false,"code":"Weird"}')).header).toMatchObject({ ok: false, code: 'Internal' });
  });
});
