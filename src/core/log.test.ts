import { describe, expect, it } from 'vitest';
import { prettyLine } from './log.ts';

describe('--log-format pretty', () => {
  it('one readable line per record: time, level, message, then the fields', () => {
    const line = prettyLine({ level: 30, time: '2026-11-30T08:00:01.234Z', svc: 'datamesh', msg: 'request', reqId: 'r1', op: 'PutObject', status: 200, key: 'a b', ms: 1.5 });
    expect(line).toBe('08:00:01.234 INFO  request reqId=r1 op=PutObject status=200 key="a b" ms=1.5\n');
  });

  it('an error keeps its stack, indented below the line', () => {
    const line = prettyLine({ level: 50, time: '2026-11-30T08:00:01.234Z', msg: 'internal error', err: { message: 'boom', stack: 'Error: boom\n    at x' } });
    expect(line).toBe('08:00:01.234 ERROR internal error\n    Error: boom\n        at x\n');
  });

  it('colours the level only when asked (a terminal)', () => {
    expect(prettyLine({ level: 40, time: '2026-11-30T08:00:01.234Z', msg: 'm' }, true)).toBe('08:00:01.234 \x1b[33mWARN \x1b[0m m\n');
  });
});
