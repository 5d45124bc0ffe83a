/** The auditor's bookkeeping, over a fake repo and network (the real thing: src/server/audit-e2e.test.ts). */
import { describe, expect, it } from 'vitest';
import { Auditor } from './audit.ts';
import type { EcContext } from './types.ts';

function fakeCtx(serve: (peer: string) => Promise<Uint8Array | undefined>, holds = true): EcContext {
  return {
    repo: {
      randomShardOn: () => (holds ? { manifest: 'm', segment: 0, idx: 0, id: 'bafkreix', shardSize: 3 } : undefined),
      manifest: () => undefined,
      plans: () => [],
    },
    network: { get: (peer: string) => serve(peer) },
    log: { info: () => {}, warn: () => {}, error: () => {} },
  } as unknown as EcContext;
}

describe('Auditor', () => {
  it('passes a peer that serves the shard, fails one that does not, and distrusts after 3 failures of the last 10', async () => {
    const untrusted: string[] = [];
    const results: string[] = [];
    const good = new Uint8Array(3);
    const a = new Auditor(fakeCtx(async (peer) => (peer === 'liar' ? undefined : good)), {
      peers: () => ['honest', 'liar'],
      intervalMs: 1000,
      onUntrusted: (p) => untrusted.push(p),
      onAudit: (_p, r) => results.push(r),
    });
    await a.round();
    await a.round();
    expect(untrusted).toEqual([]);
    await a.round();
    expect(untrusted).toEqual(['liar']);
    expect(a.counts('honest')).toEqual({ passed: 3, failed: 0 });
    expect(a.counts('liar')).toEqual({ passed: 0, failed: 3 });
    expect(results.filter((r) => r === 'failed')).toHaveLength(3);
  });

  it('counts a wrong-sized shard and no answer as failures, skips a peer that holds nothing, and forgives on admit', async () => {
    const untrusted: string[] = [];
    const a = new Auditor(fakeCtx(async (peer) => {
      if (peer === 'short') return new Uint8Array(2);
      throw new Error('connect ECONNREFUSED');
    }), { peers: () => ['short', 'silent'], intervalMs: 1000, onUntrusted: (p) => untrusted.push(p) });
    expect(await a.audit('short')).toBe('failed');
    expect(await a.audit('silent')).toBe('failed');
    await a.audit('silent');
    a.forgive('silent');
    await a.audit('silent');
    expect(untrusted).toEqual([]);
    expect(a.counts('silent')).toEqual({ passed: 0, failed: 3 });
    const empty = new Auditor(fakeCtx(async () => undefined, false), { peers: () => ['p'], intervalMs: 1000, onUntrusted: () => {} });
    expect(await empty.audit('p')).toBeUndefined();
    expect(empty.counts('p')).toEqual({ passed: 0, failed: 0 });
  });

  it('takes the threshold it is given (--audit-threshold): 2 failures of the last 4 here, and old failures slide out of the window', async () => {
    const untrusted: string[] = [];
    let fail = [true, false, false, false, false, true, false, true];
    const a = new Auditor(fakeCtx(async () => (fail.shift() ? undefined : new Uint8Array(3))), {
      peers: () => ['p'],
      intervalMs: 1000,
      failuresToDistrust: 2,
      window: 4,
      onUntrusted: (p) => untrusted.push(p),
    });
    for (let i = 0; i < 6; i++) await a.round(); // failures at audits 1 and 6: five apart, never 2 within 4
    expect(untrusted).toEqual([]);
    await a.round();
    await a.round(); // failures at audits 6 and 8
    expect(untrusted).toEqual(['p']);
    expect(a.counts('p')).toEqual({ passed: 5, failed: 3 });
    fail = [];
  });
});
