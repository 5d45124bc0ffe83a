/**
 * Properties of the shard protocol's parsers (frames and messages), for fast-check: run small in
 * mesh/shard-protocol/*.property.test.ts and large by `npm run fuzz`. Whatever bytes a peer sends,
 * decoding gives a well-formed message or a ProtocolViolation (the stream is aborted, the peer
 * stays up), never another error, and never a read that waits forever on a closed stream.
 */
import fc from 'fast-check';
import { streamPair } from '@libp2p/utils';
import { Uint8ArrayList } from 'uint8arraylist';
import * as varint from 'uint8-varint';
import { assert, type FuzzTarget } from '../../src/core/testing/fuzz.ts';
import { decodeRequest, decodeResponse, encodeFrame, ProtocolViolation, type ShardRequest, type ShardResponse } from '../shard-protocol/messages.ts';
import { frameStream } from '../shard-protocol/framing.ts';

const ID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

const violationOnly = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ProtocolViolation)) throw new Error(`not a ProtocolViolation: ${(e as Error)?.stack ?? String(e)}`);
  }
};

const jsonish = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.record({ op: fc.constantFrom('put', 'get', 'has', 'delete', 'stat', 'x', 1), id: fc.oneof(fc.constant(ID), fc.string({ maxLength: 70 })), sig: fc.option(fc.string({ maxLength: 30 })) }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.record({ ok: fc.oneof(fc.boolean(), fc.string()), code: fc.string(), reason: fc.oneof(fc.string(), fc.integer()), has: fc.anything(), stats: fc.anything() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
  fc.string({ unit: 'binary', maxLength: 100 }),
);

/** A frame: varint header length (right, wrong or huge), a header, a body. */
const frameBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => new Uint8ArrayList(b)),
  fc.tuple(jsonish, fc.integer({ min: -5, max: 5 }), fc.uint8Array({ maxLength: 64 }), fc.boolean()).map(([json, skew, body, huge]) => {
    const header = new TextEncoder().encode(json);
    const len = huge ? 2 ** 31 : Math.max(0, header.byteLength + skew);
    return new Uint8ArrayList(varint.encode(len), header, body);
  }),
);

const requests: fc.Arbitrary<ShardRequest> = fc.oneof(
  fc.constantFrom<ShardRequest>({ op: 'put', id: ID }, { op: 'get', id: ID }, { op: 'has', id: ID }, { op: 'stat' }),
  fc.string({ minLength: 1, maxLength: 200 }).map((sig): ShardRequest => ({ op: 'delete', id: ID, sig })),
);
const stats = fc.option(fc.record({ capacity: fc.option(fc.nat(), { nil: null }), used: fc.nat(), count: fc.nat() }), { nil: undefined });
const responses: fc.Arbitrary<ShardResponse> = fc.oneof(
  fc.tuple(fc.option(fc.boolean(), { nil: undefined }), stats).map(([has, s]): ShardResponse => ({ ok: true, ...(has !== undefined ? { has } : {}), ...(s ? { stats: s } : {}) })),
  fc.tuple(fc.constantFrom('NotFound', 'Corrupt', 'Full', 'BadId', 'Denied', 'BadRequest', 'Internal' as const), fc.string({ maxLength: 100 }), stats).map(([code, reason, s]): ShardResponse => ({ ok: false, code, reason, ...(s ? { stats: s } : {}) })),
);

export const meshTargets: FuzzTarget[] = [
  {
    parser: 'shard-messages',
    name: 'any frame decodes to a well-formed request or response, or a ProtocolViolation',
    property: () =>
      fc.property(frameBytes, (frame) => {
        violationOnly(() => decodeRequest(frame));
        violationOnly(() => decodeResponse(frame));
      }),
  },
  {
    parser: 'shard-messages',
    name: 'round trip: every request and response decodes to itself, with its body',
    property: () =>
      fc.property(requests, responses, fc.uint8Array({ maxLength: 200 }), (req, res, body) => {
        const withBody = req.op === 'put' ? body : undefined;
        const r = decodeRequest(encodeFrame(req, withBody));
        assert(JSON.stringify(r.header) === JSON.stringify(req), 'request header round-trips');
        assert(Buffer.from(r.body.subarray()).equals(Buffer.from(withBody ?? [])), 'request body round-trips');
        const s = decodeResponse(encodeFrame(res, body));
        const expected = res.ok ? res : { ...res, reason: res.reason.slice(0, 2000) };
        assert(JSON.stringify(s.header) === JSON.stringify(expected), `response ${JSON.stringify(res)} round-trips as ${JSON.stringify(s.header)}`);
        assert(Buffer.from(s.body.subarray()).equals(Buffer.from(body)), 'response body round-trips');
      }),
  },
  {
    parser: 'shard-frames',
    testRuns: 30, // each case is a stream pair with a simulated network delay
    name: 'length-prefixed frames on a stream: any bytes then a close give frames or an error, never a hang; valid frames round-trip across any cuts',
    property: () =>
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 3 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 4 }),
        async (frames, junk, cuts) => {
          const [out, inb] = await streamPair();
          const reader = frameStream(inb, 1024);
          const wire = Buffer.concat([...frames.flatMap((f) => [Buffer.from(varint.encode(f.byteLength)), Buffer.from(f)]), Buffer.from(junk)]);
          const sending = (async () => {
            let i = 0;
            let k = 0;
            while (i < wire.length) {
              const n = cuts[k++ % cuts.length]!;
              out.send(wire.subarray(i, i + n));
              i += n;
            }
            await out.close();
          })();
          for (const f of frames) {
            const got = await reader.read({ signal: AbortSignal.timeout(5_000) });
            assert(Buffer.from(got.subarray()).equals(Buffer.from(f)), 'frame round-trips');
          }
          if (junk.byteLength > 0) {
            let ended = false;
            try {
              await reader.read({ signal: AbortSignal.timeout(5_000) });
              ended = true; // junk that happens to be a whole frame
            } catch (e) {
              assert((e as Error).name !== 'TimeoutError', 'a read on junk then a close must not hang');
              ended = true;
            }
            assert(ended, 'ended');
          }
          await sending;
          inb.abort(new Error('done'));
        },
      ),
  },
];
