import { describe, expect, it } from 'vitest';
import { PeerTable } from './health.ts';

const clock = () => {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
};

describe('PeerTable', () => {
  it('goes suspect on a failed probe, down after N in a row (since the first failure), and up again', () => {
    const c = clock();
    const table = new PeerTable({ downAfterFailures: 3, now: c.now });
    const downs: Array<[string, number]> = [];
    const ups: string[] = [];
    table.onPeerDown((p, since) => downs.push([p, since]));
    table.onPeerUp((p) => ups.push(p));
    table.ensure('a');
    const firstFailure = c.now();
    table.probeFailed('a');
    expect(table.get('a')!.state).toBe('suspect');
    c.advance(100);
    table.probeFailed('a');
    expect(table.downSince('a')).toBeUndefined();
    c.advance(100);
    table.probeFailed('a');
    c.advance(100);
    table.probeFailed('a'); // still down: listeners called once
    expect(table.get('a')!.state).toBe('down');
    expect(downs).toEqual([['a', firstFailure]]);
    expect(table.downSince('a')).toBe(firstFailure);
    expect(table.isPlaceable('a')).toBe(false);
    table.probeSucceeded('a', 3, { capacity: 100, used: 10, count: 1 });
    expect(table.get('a')!.state).toBe('up');
    expect(ups).toEqual(['a']);
    expect(table.downSince('a')).toBeUndefined();
  });

  it('a success between failures resets the count', () => {
    const table = new PeerTable({ downAfterFailures: 2 });
    table.probeFailed('a');
    table.probeSucceeded('a', 1);
    table.probeFailed('a');
    expect(table.get('a')!.state).toBe('suspect');
  });

  it('scores success rate and latency; a peer serving wrong bytes falls under the placement threshold', () => {
    const table = new PeerTable();
    for (let i = 0; i < 5; i++) table.recordSuccess('fast', 2);
    for (let i = 0; i < 5; i++) table.recordSuccess('slow', 900);
    expect(table.health('fast').score).toBeGreaterThan(0.99);
    expect(table.health('slow').score).toBeLessThan(table.health('fast').score);
    expect(table.health('slow').latencyMs).toBeCloseTo(900);
    table.recordSuccess('liar', 2);
    table.recordFailure('liar', { severe: true });
    expect(table.health('liar').score).toBeLessThan(0.5);
    expect(table.isPlaceable('liar')).toBe(false);
    expect(table.isPlaceable('slow')).toBe(true); // slowness orders reads, it does not exclude
    expect(table.rank(['liar', 'slow', 'fast'])).toEqual(['fast', 'slow', 'liar']);
  });

  it('keeps a full peer out of placement until it reports less usage', () => {
    const table = new PeerTable();
    table.updateStats('p', { capacity: 1000, used: 900, count: 9 });
    expect(table.isPlaceable('p')).toBe(true);
    table.markFull('p', { capacity: 1000, used: 950, count: 10 });
    expect(table.isPlaceable('p')).toBe(false);
    table.updateStats('p', { capacity: 1000, used: 950, count: 10 });
    expect(table.isFull('p')).toBe(true);
    table.updateStats('p', { capacity: 1000, used: 100, count: 1 });
    expect(table.isPlaceable('p')).toBe(true);
    table.updateStats('q', { capacity: 10, used: 10, count: 1 });
    expect(table.isFull('q')).toBe(true);
  });

  it('ranks down peers last for reads', () => {
    const table = new PeerTable({ downAfterFailures: 1 });
    table.ensure('x');
    table.ensure('y');
    table.probeFailed('x');
    expect(table.rank(['x', 'y'])).toEqual(['y', 'x']);
  });
});
