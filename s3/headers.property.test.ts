/** Property-based fuzzing of Range, conditional and metadata headers (fast-check; `npm run fuzz` runs the same properties for longer). */
import { describe, it } from 'vitest';
import { checkTarget } from '../src/core/testing/fuzz.ts';
import { s3Targets } from './testing/properties.ts';

describe('fuzzed: Range, conditional and metadata headers', () => {
  for (const t of s3Targets.filter((t) => /^(headers)$/.test(t.parser))) it(t.name, () => checkTarget(t), 60_000);
});
