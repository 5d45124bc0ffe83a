import { expect } from 'vitest';
import { DomainError } from '../errors.ts';

/** The DomainError that fn throws (the test fails when it throws nothing, or something else). */
export function thrown(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DomainError);
    return e as DomainError;
  }
  throw new Error('expected a DomainError');
}
