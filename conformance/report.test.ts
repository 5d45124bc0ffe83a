import { describe, expect, it } from 'vitest';
import type { ScenarioResult } from './harness/types.ts';
import { cellStatus, formatTable, summarize } from './report.ts';

const r = (over: Partial<ScenarioResult>): ScenarioResult => ({
  target: 'single-node',
  client: 'c',
  op: 'put / get',
  scenario: 's',
  status: 'pass',
  durationMs: 1000,
  ...over,
});

describe('cellStatus', () => {
  it('lets a failure win, then known failures, then skips', () => {
    expect(cellStatus([])).toBe('none');
    expect(cellStatus([r({}), r({ status: 'fail' })])).toBe('fail');
    expect(cellStatus([r({}), r({ status: 'known-failure' })])).toBe('mixed-known');
    expect(cellStatus([r({ status: 'known-failure' })])).toBe('known-failure');
    expect(cellStatus([r({ status: 'skipped' }), r({ status: 'skipped' })])).toBe('skipped');
    expect(cellStatus([r({}), r({})])).toBe('pass');
  });
});

describe('summarize', () => {
  it('counts by status and lists client versions', () => {
    const report = summarize(
      [
        { client: 'a', version: '1.0', results: [r({ client: 'a', notes: ['9 MiB/s'] }), r({ client: 'a', status: 'fail', error: 'boom' })] },
        { client: 'b', results: [r({ client: 'b', status: 'skipped' }), r({ client: 'b', status: 'known-failure' })] },
      ],
      { date: new Date('2025-01-02T03:04:05Z'), durationMs: 5000, targets: ['single-node'] },
    );
    expect([report.passed, report.failed, report.skipped, report.knownFailures]).toEqual([1, 1, 1, 1]);
    expect(report.clients).toEqual({ a: '1.0', b: 'not installed' });
    expect(report.results).toHaveLength(4);
    const table = formatTable(report);
    expect(table).toMatch(/FAIL: \[single-node\] a \/ s\n {2}boom/);
    expect(table).toContain('note: [single-node] a / s: 9 MiB/s');
    expect(table).toContain('1 passed, 1 failed, 1 known failures, 1 skipped in 5.0s');
  });

  it('flags a known failure that passes', () => {
    const report = summarize([{ client: 'a', version: '1', results: [r({ unexpectedPass: true, reason: 'x' })] }], {
      date: new Date(),
      durationMs: 1,
      targets: ['single-node'],
    });
    expect(formatTable(report)).toContain('remove it from known-failures.ts');
  });
});
