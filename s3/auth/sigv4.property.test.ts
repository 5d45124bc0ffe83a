/** Property-based fuzzing of SigV4 canonicalisation, the Authorization header and presigned URLs (fast-check; `npm run fuzz` runs the same properties for longer). */
import { describe, it } from 'vitest';
import { checkTarget } from '../../src/core/testing/fuzz.ts';
import { s3Targets } from '../testing/properties.ts';

describe('fuzzed: SigV4 canonicalisation, the Authorization header and presigned URLs', () => {
  for (const t of s3Targets.filter((t) => /^(sigv4|presigned)$/.test(t.parser))) it(t.name, () => checkTarget(t), 60_000);
});
