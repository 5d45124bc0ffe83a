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
