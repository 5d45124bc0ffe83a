/** Property-based fuzzing of the configuration: flags, environment and the --config file (fast-check; `npm run fuzz` runs the same properties for longer). */
import { describe, it } from 'vitest';
import { checkTarget } from '../core/testing/fuzz.ts';
import { configTargets } from './testing/properties.ts';

describe('fuzzed: the configuration', () => {
  for (const t of configTargets) it(t.name, () => checkTarget(t), 60_000);
});
