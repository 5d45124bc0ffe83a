/**
 * Runs client suites against a started target: detects each client (missing -> skipped), runs its
 * scenarios one after another in fresh temp dirs with a timeout each, and classifies the outcome
 * against known-failures.ts. Suites run concurrently (each uses its own buckets).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { knownFailure, type KnownFailure } from './known-failures.ts';
import type { ClientSuite, RunningTarget, Scenario, ScenarioContext, ScenarioResult } from './harness/types.ts';

export interface RunOptions {
  signal: AbortSignal;
  /** How many client suites run at the same time. */
  concurrency: number;
  known?: readonly KnownFailure[];
  /** Called as each scenario finishes (progress output). */
  onResult?: (r: ScenarioResult) => void;
}

export interface SuiteOutcome {
  client: string;
  version?: string;
  results: ScenarioResult[];
}

/** A DNS-safe, unique bucket name: conf-<label>-<random>. */
export function bucketName(label: string): string {
  const clean = label.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'b';
  return `conf-${clean}-${randomBytes(4).toString('hex')}`;
}

function errorText(e: unknown): string {
  if (e instanceof Error) {
    const name = e.name && e.name !== 'Error' && e.name !== 'ScenarioFailure' ? `${e.name}: ` : '';
    const meta = (e as { $metadata?: { httpStatusCode?: number } }).$metadata;
    return `${name}${e.message}${meta?.httpStatusCode ? ` (HTTP ${meta.httpStatusCode})` : ''}`;
  }
  return String(e);
}

async function runScenario(
  target: RunningTarget,
  suite: ClientSuite,
  scenario: Scenario,
  setup: unknown,
  opts: RunOptions,
): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(tmpdir(), 'datamesh-conf-'));
  const timeoutMs = scenario.timeoutMs ?? 120_000;
  const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(timeoutMs)]);
  setMaxListeners(0, signal); // SDK clients add one listener per request in flight
  const notes: string[] = [];
  const ctx: ScenarioContext = {
    target,
    dir,
    signal,
    setup,
    bucket: (label = suite.name) => bucketName(label),
    note: (t) => notes.push(t),
  };
  const started = Date.now();
  let error: string | undefined;
  try {
    const aborted = new Promise<never>((_, reject) => {
      const fail = () => reject(new Error(opts.signal.aborted ? 'the run was interrupted' : `timed out after ${timeoutMs / 1000} s`));
      if (signal.aborted) fail();
      signal.addEventListener('abort', fail, { once: true });
    });
    await Promise.race([scenario.run(ctx), aborted]);
  } catch (e) {
    error = errorText(e);
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
  const base = { target: target.name, client: suite.name, op: scenario.op, ...(scenario.also ? { also: scenario.also } : {}), scenario: scenario.name, durationMs: Date.now() - started };
  const known = knownFailure(suite.name, scenario.name, opts.known);
  const extra = notes.length ? { notes } : {};
  if (error === undefined) return { ...base, status: 'pass', ...(known ? { unexpectedPass: true, reason: known.reason } : {}), ...extra };
  if (known) return { ...base, status: 'known-failure', error, reason: known.reason, ...extra };
  return { ...base, status: 'fail', error, ...extra };
}

async function runSuite(target: RunningTarget, suite: ClientSuite, opts: RunOptions): Promise<SuiteOutcome> {
  let info;
  try {
    info = await suite.detect();
  } catch (e) {
    info = { missing: `detecting ${suite.name} failed: ${errorText(e)}` };
  }
  const results: ScenarioResult[] = [];
  if ('missing' in info) {
    for (const s of suite.scenarios) {
      const r: ScenarioResult = { target: target.name, client: suite.name, op: s.op, ...(s.also ? { also: s.also } : {}), scenario: s.name, status: 'skipped', durationMs: 0, error: info.missing };
      results.push(r);
      opts.onResult?.(r);
    }
    return { client: suite.name, results };
  }
  for (const s of suite.scenarios) {
    const r = await runScenario(target, suite, s, info.setup, opts);
    results.push(r);
    opts.onResult?.(r);
  }
  return { client: suite.name, version: info.version, results };
}

/** Runs the suites with at most `concurrency` at a time; results keep the suites' order. */
export async function runSuites(target: RunningTarget, suites: readonly ClientSuite[], opts: RunOptions): Promise<SuiteOutcome[]> {
  const outcomes: SuiteOutcome[] = new Array(suites.length);
  let next = 0;
  const worker = async () => {
    while (next < suites.length) {
      const i = next++;
      outcomes[i] = await runSuite(target, suites[i]!, opts);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, suites.length)) }, worker));
  return outcomes;
}
