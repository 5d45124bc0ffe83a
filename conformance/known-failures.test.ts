import { describe, expect, it } from 'vitest';
import { allSuites } from './clients/index.ts';
import { KNOWN_FAILURES, knownFailure } from './known-failures.ts';

describe('known failures', () => {
  it('every entry names a client suite and one of its scenarios, with a reason', () => {
    const suites = allSuites();
    for (const k of KNOWN_FAILURES) {
      const suite = suites.find((s) => s.name === k.client);
      expect(suite, `known failure for unknown client "${k.client}"`).toBeDefined();
      expect(suite!.scenarios.map((s) => s.name), `client ${k.client}`).toContain(k.scenario);
      expect(k.reason.length).toBeGreaterThan(20);
    }
  });

  it('scenario names are unique within each client', () => {
    for (const s of allSuites()) expect(new Set(s.scenarios.map((x) => x.name)).size).toBe(s.scenarios.length);
  });

  it('matches by client (or *) and scenario', () => {
    const list = [
      { client: 'a', scenario: 'x', reason: 'r1' },
      { client: '*', scenario: 'y', reason: 'r2' },
    ];
    expect(knownFailure('a', 'x', list)?.reason).toBe('r1');
    expect(knownFailure('b', 'x', list)).toBeUndefined();
    expect(knownFailure('b', 'y', list)?.reason).toBe('r2');
  });
});
