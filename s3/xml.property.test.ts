/** Property-based fuzzing of the XML request bodies (fast-check; `npm run fuzz` runs the same properties for longer). */
import { describe, it } from 'vitest';
import { checkTarget } from '../src/core/testing/fuzz.ts';
import { s3Targets } from './testing/properties.ts';

describe('fuzzed: the XML request bodies', () => {
  for (const t of s3Targets.filter((t) => /^(xml)$/.test(t.parser))) it(t.name, () => checkTarget(t), 60_000);
});
