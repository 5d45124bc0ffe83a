/**
 * The shape every fuzzed parser's properties share: the *.property.test.ts files run them with a
 * small budget in `npm test` (propertySuite), and `npm run fuzz` (scripts/fuzz.ts) runs the same
 * properties for minutes each.
 */
import fc from 'fast-check';

export interface FuzzTarget {
  /** The parser, as `npm run fuzz` reports it (sigv4, aws-chunked, xml, router, ...). */
  parser: string;
  name: string;
  property: () => fc.IRawProperty<unknown>;
  /** Cases in `npm test` when the default would take more than a few seconds. */
  testRuns?: number;
}

/** Runs in `npm test`: a few hundred cases per property keep each parser at a few seconds. */
export async function checkTarget(t: FuzzTarget, numRuns = Number(process.env.FUZZ_RUNS ?? t.testRuns ?? 150)): Promise<void> {
  await fc.assert(t.property(), { numRuns, interruptAfterTimeLimit: 20_000, markInterruptAsFailure: false });
}

export const assert = (ok: boolean, what: string): void => {
  if (!ok) throw new Error(what);
};
