/** A short run of npm run simulate: the real placement code at 200 peers, in process. */
import { describe, expect, it } from 'vitest';
import { simulate } from './simulate.ts';

describe('simulate (issue 13 targets, small)', () => {
  it('places evenly, moves only the lost peer share on a loss, keeps segments on distinct peers, audits cheaply', () => {
    const r = simulate({ peers: 200, objects: 5000, k: 4, m: 2, shardSize: 1 << 20, auditIntervalMs: 600_000, linkMbps: 100, compare: true });
    expect(r.shards).toBe(30_000);
    expect(r.evenness.maxOverMean).toBeLessThanOrEqual(1.1);
    // plain hashing is what the load-aware choice improves on
    expect(r.rendezvousOnly!.maxOverMean).toBeGreaterThan(r.evenness.maxOverMean);
    expect(r.loss.held).toBeGreaterThan(0);
    expect(r.loss.movedOverHeld).toBeLessThanOrEqual(1.1);
    expect(r.loss.distinctAfter).toBe(true);
    expect(r.audit.perPeerLinkShare).toBeLessThan(0.01);
    expect(r.audit.roundsToCatch.lostAll).toBe(3);
  });
});
