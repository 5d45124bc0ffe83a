/**
 * Assertions for scenarios: each failure says what was checked, what was expected and what came back.
 */
import { ScenarioFailure } from './exec.ts';

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ScenarioFailure(message);
}

export function checkEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) {
    throw new ScenarioFailure(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** Compares two sets of names and lists what is missing and what is extra. */
export function checkSameSet(actual: Iterable<string>, expected: Iterable<string>, what: string): void {
  const a = new Set(actual);
  const e = new Set(expected);
  const missing = [...e].filter((x) => !a.has(x));
  const extra = [...a].filter((x) => !e.has(x));
  if (missing.length || extra.length) {
    const show = (xs: string[]) => (xs.length > 8 ? `${xs.slice(0, 8).join(', ')} … (${xs.length})` : xs.join(', '));
    throw new ScenarioFailure(
      `${what}: ${missing.length ? `missing [${show(missing)}]` : ''}${missing.length && extra.length ? ', ' : ''}${extra.length ? `unexpected [${show(extra)}]` : ''}`,
    );
  }
}

/** Compares two path -> hash maps (a local tree against what came back). */
export function checkSameTree(actual: Map<string, string>, expected: Map<string, string>, what: string): void {
  checkSameSet(actual.keys(), expected.keys(), `${what} (file names)`);
  const differ = [...expected].filter(([k, v]) => actual.get(k) !== v).map(([k]) => k);
  check(differ.length === 0, `${what}: content differs for ${differ.join(', ')}`);
}
