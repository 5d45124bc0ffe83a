/** The soak's checker finds each anomaly it reports, and accepts the legal histories around them. */
import { describe, expect, it } from 'vitest';
import { ABSENT, ANY, check, type HistoryOp } from './soak-checker.ts';

const w = (key: string, value: string, invoke: number, complete: number, outcome: 'ok' | 'fail' | 'unknown' = 'ok'): HistoryOp => ({ kind: 'write', key, value, op: value === ABSENT ? 'DELETE' : 'PUT', invoke, complete, outcome });
const r = (key: string, value: string | undefined, invoke: number, complete: number, extra: { torn?: boolean; final?: boolean } = {}): HistoryOp => ({ kind: 'read', key, value, op: 'GET', invoke, complete, outcome: value === undefined ? 'unknown' : 'ok', ...extra });

describe('the soak checker', () => {
  it('accepts reads of the latest value, of concurrent writes, of unknown outcomes, and of absent keys', () => {
    const res = check([
      w('a', 'v1', 0, 10), r('a', 'v1', 11, 12), w('a', 'v2', 13, 20), r('a', 'v1', 14, 15), r('a', 'v2', 14, 15), r('a', 'v2', 21, 22),
      w('b', 'x', 0, 5, 'unknown'), r('b', ABSENT, 6, 7), r('b', 'x', 8, 9),
      r('c', ABSENT, 0, 1), w('c', 'y', 2, 3, 'fail'), r('c', ABSENT, 4, 5),
      w('d', ANY, 0, 1, 'unknown'), r('d', 'z', 2, 3),
    ]);
    expect(res.anomalies).toEqual([]);
  });

  it('reports a lost acknowledged write, a never-written value, a torn read, a resurrected delete and a stale read', () => {
    const res = check([
      w('lost', 'v', 0, 1), r('lost', ABSENT, 5, 6, { final: true }),
      w('lost2', 'v', 0, 1), r('lost2', undefined, 5, 6, { final: true }),
      r('ghost', 'nope', 0, 1),
      w('torn', 'v', 0, 1), r('torn', 'v', 2, 3, { torn: true }),
      w('del', 'v', 0, 1), w('del', ABSENT, 2, 3), r('del', 'v', 4, 5),
      w('stale', 'v1', 0, 1), w('stale', 'v2', 2, 3), r('stale', 'v1', 4, 5),
    ]);
    expect(res.lostAcknowledgedWrites).toBe(2);
    expect(res.neverWrittenOrTorn).toBe(2);
    expect(res.resurrectedDeletes).toBe(1);
    expect(res.orderViolations).toBe(1);
  });
});
