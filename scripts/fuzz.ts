/**
 * The long fuzz run: the same fast-check properties as the *.property.test.ts files, each for a
 * share of --minutes with as many cases as fit (fast-check's generators with bias toward edge
 * values; no coverage guidance). Prints, per parser, the executions and the findings (a shrunk
 * counterexample with its seed to replay); exits 1 when anything was found.
 *
 *   npm run fuzz -- --minutes 10 [--parser sigv4,xml] [--seed S]
 */
import '../src/core/polyfill.ts'; // libp2p's streams (the shard-frames properties) need Promise.withResolvers
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { parseArgs } from '../src/server/config.ts';
import type { FuzzTarget } from '../src/core/testing/fuzz.ts';
import { s3Targets } from '../s3/testing/properties.ts';
import { meshTargets } from '../mesh/testing/properties.ts';
import { configTargets } from '../src/server/testing/properties.ts';

export const ALL_TARGETS: FuzzTarget[] = [...s3Targets, ...meshTargets, ...configTargets];

async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  const one = (n: string) => flags.get(n)?.at(-1);
  const fail = (m: string): never => {
    process.stderr.write(`fuzz: ${m}\n`);
    process.exit(2);
  };
  for (const f of flags.keys()) if (!['minutes', 'parser', 'seed'].includes(f)) fail(`unknown option --${f}: use --minutes N [--parser a,b] [--seed S]`);
  const minutes = Number(one('minutes') ?? 1);
  if (!(minutes > 0)) fail(`--minutes ${one('minutes')}: give a positive number of minutes`);
  const parsers = [...new Set(ALL_TARGETS.map((t) => t.parser))];
  const wanted = one('parser')?.split(',') ?? parsers;
  for (const p of wanted) if (!parsers.includes(p)) fail(`--parser ${p}: not a fuzzed parser; pick from ${parsers.join(', ')}`);
  const targets = ALL_TARGETS.filter((t) => wanted.includes(t.parser));
  const seed = one('seed') !== undefined ? Number(one('seed')) : Date.now() % 2 ** 31;
  const perTarget = (minutes * 60_000) / targets.length;
  process.stdout.write(`fuzz: ${targets.length} properties of ${wanted.length} parsers, ${Math.round(perTarget / 1000)} s each, seed ${seed}\n`);

  const perParser = new Map<string, { runs: number; findings: number; ms: number }>();
  for (const t of targets) {
    const started = Date.now();
    const details = await fc.check(t.property(), { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: perTarget, markInterruptAsFailure: false });
    const ms = Date.now() - started;
    const agg = perParser.get(t.parser) ?? { runs: 0, findings: 0, ms: 0 };
    agg.runs += details.numRuns;
    agg.ms += ms;
    if (details.failed) {
      agg.findings++;
      process.stdout.write(`fuzz: FINDING in ${t.parser}: ${t.name}\n  counterexample: ${fc.stringify(details.counterexample)}\n  replay: seed ${details.seed}, path "${details.counterexamplePath}"\n  ${String((details.errorInstance as Error | undefined)?.message ?? details.errorInstance).split('\n').slice(0, 3).join('\n  ')}\n`);
    }
    perParser.set(t.parser, agg);
    process.stdout.write(`fuzz: ${t.parser}: ${details.numRuns} executions in ${(ms / 1000).toFixed(0)} s${details.failed ? ', FAILED' : ''}: ${t.name}\n`);
  }
  let findings = 0;
  for (const [parser, a] of perParser) {
    findings += a.findings;
    process.stdout.write(`fuzz: ${parser.padEnd(15)} ${String(a.runs).padStart(9)} executions, ${(a.runs / (a.ms / 1000)).toFixed(0)}/s, ${a.findings} findings\n`);
  }
  process.stdout.write(`fuzz: ${[...perParser.values()].reduce((n, a) => n + a.runs, 0)} executions, ${findings} findings\n`);
  process.exit(findings > 0 ? 1 : 0);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) void main();
