/** Property-based fuzzing of the shard protocol's frames and messages (fast-check; `npm run fuzz` runs the same properties for longer). */
import { describe, expect, it } from 'vitest';
import { Uint8ArrayList } from 'uint8arraylist';
import { decodeRequest, decodeResponse, ProtocolViolation } from './messages.ts';
import { checkTarget } from '../../src/core/testing/fuzz.ts';
import { meshTargets } from '../testing/properties.ts';

describe('fuzzed: the shard protocol frames and messages', () => {
  for (const t of meshTargets) it(t.name, () => checkTarget(t), 60_000);

  it('a header length past 2^53 is a ProtocolViolation (found by npm run fuzz: it was a RangeError)', () => {
    const frame = new Uint8ArrayList(Uint8Array.from([128, 128, 128, 128, 128, 128, 128, 16]));
    expect(() => decodeRequest(frame)).toThrow(ProtocolViolation);
    expect(() => decodeResponse(frame)).toThrow(ProtocolViolation);
  });
});
