/** Property-based fuzzing of the shard protocol's frames and messages (fast-check; `npm run fuzz` runs the same properties for longer). */
import { describe, it } from 'vitest';
import { checkTarget } from '../../src/core/testing/fuzz.ts';
import { meshTargets } from '../testing/properties.ts';

describe('fuzzed: the shard protocol frames and messages', () => {
  for (const t of meshTargets) it(t.name, () => checkTarget(t), 60_000);
});
