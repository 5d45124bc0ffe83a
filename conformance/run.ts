/**
 * `npm run conformance`: starts datamesh (each target in targets.ts), runs every client suite
 * against it, prints the client × operation table, writes .tmp/conformance.json, rewrites the
 * README's compatibility section, and exits 1 when a scenario expected to pass failed.
 *
 *   npm run conformance -- [--only aws-cli,rclone] [--target single-node,cluster] [--concurrency N] [--no-readme]
 */
import '../src/core/polyfill.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allSuites } from './clients/index.ts';
import { formatTable, summarize, type SuiteSummary } from './report.ts';
import { runSuites } from './runner.ts';
import { targets } from './targets.ts';
import { updateReadme } from './update-readme.ts';
import type { ScenarioResult } from './harness/types.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT_DIR = join(ROOT, '.tmp');

interface Args {
  only?: string[];
  target?: string;
  concurrency: number;
  readme: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { concurrency: 8, readme: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--only') args.only = value().split(',').map((s) => s.trim().toLowerCase());
    else if (a === '--target') args.target = value();
    else if (a === '--concurrency') args.concurrency = Math.max(1, Number(value()) || 1);
    else if (a === '--no-readme') args.readme = false;
    else throw new Error(`unknown option ${a}: use --only CLIENTS, --target NAME, --concurrency N or --no-readme`);
  }
  return args;
}

function progress(r: ScenarioResult): void {
  const mark = r.status === 'pass' ? 'ok  ' : r.status === 'fail' ? 'FAIL' : r.status === 'skipped' ? 'skip' : 'known';
  const first = r.status === 'pass' || r.status === 'skipped' ? '' : ` - ${(r.error ?? '').split('\n')[0]}`;
  process.stderr.write(`${mark} ${r.client} / ${r.scenario} (${(r.durationMs / 1000).toFixed(1)}s)${first}\n`);
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`conformance: ${(e as Error).message}\n`);
    return 2;
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const started = Date.now();
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort(new Error('interrupted')));
  process.once('SIGTERM', () => controller.abort(new Error('terminated')));

  const suites = allSuites().filter((s) => !args.only || args.only.some((o) => s.name.toLowerCase().includes(o)));
  const chosen = targets(OUT_DIR).filter((t) => (args.target ? args.target.split(',').includes(t.name) : t.byDefault));
  if (chosen.length === 0 || suites.length === 0) {
    process.stderr.write(`conformance: nothing to run (targets: ${targets(OUT_DIR).map((t) => t.name).join(', ')}; clients: ${allSuites().map((s) => s.name).join(', ')})\n`);
    return 2;
  }

  const summaries: SuiteSummary[] = [];
  let peakRss: number | undefined;
  for (const target of chosen) {
    process.stderr.write(`conformance: starting ${target.name}\n`);
    let running;
    try {
      running = await target.start();
    } catch (e) {
      // Recorded as a failed scenario so .tmp/conformance.json (and CI's sum) shows it.
      const error = `could not start ${target.name}: ${(e as Error).message}`;
      process.stderr.write(`conformance: ${error}\n`);
      summaries.push({ client: 'datamesh', version: 'n/a', results: [{ target: target.name, client: 'datamesh', op: 'buckets', scenario: `start ${target.name}`, status: 'fail', durationMs: 0, error }] });
      continue;
    }
    process.stderr.write(`conformance: ${target.name} at ${running.endpoint} (log: ${running.logFile})\n`);
    try {
      const outcomes = await runSuites(running, suites, { signal: controller.signal, concurrency: args.concurrency, onResult: progress });
      for (const o of outcomes) {
        const prev = summaries.find((s) => s.client === o.client);
        if (prev) prev.results.push(...o.results);
        else summaries.push({ client: o.client, version: o.version, results: o.results });
      }
    } finally {
      peakRss = Math.max(peakRss ?? 0, running.peakRss() ?? 0) || undefined;
      await running.stop();
    }
  }

  const report = summarize(summaries, { date: new Date(), durationMs: Date.now() - started, targets: chosen.map((t) => t.name), peakRssBytes: peakRss });
  const jsonPath = join(OUT_DIR, 'conformance.json');
  writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write('\n' + formatTable(report) + '\n');
  process.stdout.write(`wrote ${jsonPath}\n`);
  // A partial run (--only / --target) must not replace the full table in the README.
  if (args.readme && !args.only && !args.target) {
    updateReadme(join(ROOT, 'README.md'), jsonPath);
    process.stdout.write('updated README.md (compatibility section)\n');
  }
  return report.failed > 0 || controller.signal.aborted ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`conformance: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
