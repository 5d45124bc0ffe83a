/** Property-based fuzzing of the router (methods, hosts, paths, queries) (fast-check; `npm run fuzz` runs the same properties for longer). */
import { describe, expect, it } from 'vitest';
import { route } from './router.ts';
import { toS3Error } from './errors.ts';
import { checkTarget } from '../src/core/testing/fuzz.ts';
import { s3Targets } from './testing/properties.ts';

describe('fuzzed: the router (methods, hosts, paths, queries)', () => {
  for (const t of s3Targets.filter((t) => /^(router)$/.test(t.parser))) it(t.name, () => checkTarget(t), 60_000);

  it('a path that is not valid percent-encoding is 400 InvalidURI (found by this fuzzer: it was a 500 InternalError)', () => {
    const err = (() => {
      try {
        route({ method: 'GET', rawPath: '/bucket/%', query: new URLSearchParams(), headers: {} });
      } catch (e) {
        return e;
      }
    })();
    expect(toS3Error(err, { resource: '/bucket/%', requestId: 'r' })).toMatchObject({ status: 400, code: 'InvalidURI' });
  });
});
