import { describe, expect, it } from 'vitest';
import { DomainError, ERRORS, Errors } from '../src/core/errors.ts';
import { toS3Error } from './errors.ts';

const render = (e: unknown) => toS3Error(e, { resource: '/b/k', requestId: 'R' });

describe('toS3Error renders the one error table', () => {
  it('gives every S3 code its status and its code in the XML', () => {
    for (const [code, kind] of Object.entries(ERRORS)) {
      if (kind.s3 === undefined) continue;
      const r = render(new DomainError(code as keyof typeof ERRORS, 'm'));
      expect(r.status).toBe(kind.s3);
      if (r.status !== 304) expect(r.body).toContain(`<Code>${code}</Code>`);
    }
  });

  it('a bad percent-encoding in the path is 400 InvalidURI, as S3 answers it', () => {
    expect(render(new DomainError('InvalidURI', 'bad path'))).toMatchObject({ status: 400, code: 'InvalidURI' });
  });

  it('codes of account management are no S3 errors: 500 InternalError', () => {
    const r = render(new DomainError('NoSuchAccount', 'no such account'));
    expect(r.status).toBe(500);
    expect(r.body).toContain('<Code>InternalError</Code>');
  });

  it('anything else is InternalError without its message', () => {
    const r = render(new Error('secret detail'));
    expect(r.status).toBe(500);
    expect(r.body).not.toContain('secret detail');
  });

  it('retryAfter is a field of the error and becomes Retry-After', () => {
    expect(render(Errors.slowDown('busy', 3)).headers['Retry-After']).toBe('3');
    expect(render(Errors.slowDown('busy')).headers['Retry-After']).toBeUndefined();
  });

  it('an unknown code does not compile', () => {
    // @ts-expect-error 'NoSuchThing' is not a key of the error table
    expect(() => new DomainError('NoSuchThing', 'm')).not.toThrow();
  });
});

describe('server faults name no server path and no peer id (issue 12)', () => {
  const peer = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';
  it('hides them in 5xx messages and hands the full message to the log', () => {
    const cases: [DomainError, string][] = [
      [new DomainError('SlowDown', 'insufficient storage: the disk holding the shard store /tmp/datamesh-full-x/data/shards is full (ENOSPC); nothing was stored.'),
        'insufficient storage: the disk holding the shard store is full (ENOSPC); nothing was stored.'],
      [Errors.serviceUnavailable(`could not put shard bafkreiabc on peer ${peer.slice(0, 8)}…${peer.slice(-6)}: timeout. Retry on another peer.`),
        'could not put shard bafkreiabc on peer [peer]: timeout. Retry on another peer.'],
      [Errors.internal(`open '/var/lib/datamesh/shards/ab/cd.tmp' failed for ${peer}`), "open '[server path]' failed for [peer]"],
      [Errors.internal(`ENOENT: no such file or directory, open /srv/dm/datamesh.db-wal`), 'ENOENT: no such file or directory, open'],
    ];
    for (const [err, want] of cases) {
      const r = render(err);
      expect(r.message).toBe(want);
      expect(r.body).not.toMatch(/\/(tmp|var|srv)\/|12D3Koo/);
      expect(r.detail).toBe(err.message);
    }
  });

  it('leaves client errors and clean messages alone', () => {
    const copy = render(Errors.invalidArgument('x-amz-copy-source /b/k names no object version'));
    expect([copy.message, copy.detail]).toEqual(['x-amz-copy-source /b/k names no object version', undefined]);
    const damaged = render(Errors.objectDamaged('b', 'k', 0, '6 of its 6 shards are missing or corrupt and 4 are needed'));
    expect(damaged.detail).toBeUndefined();
    expect(damaged.message).toContain('The object b/k is damaged');
  });
});
