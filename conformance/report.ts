/**
 * Pure functions over results: the summary written to .tmp/conformance.json, the console table, and
 * the per-cell aggregation shared with the README generator.
 */
import type { ConformanceReport, Operation, ScenarioResult, Status } from './harness/types.ts';

export interface SuiteSummary {
  client: string;
  version?: string;
  results: ScenarioResult[];
}

export function summarize(
  suites: readonly SuiteSummary[],
  meta: { date: Date; durationMs: number; targets: string[]; peakRssBytes?: number },
): ConformanceReport {
  const results = suites.flatMap((s) => s.results);
  const count = (st: Status) => results.filter((r) => r.status === st).length;
  const clients: Record<string, string> = {};
  for (const s of suites) clients[s.client] = s.version ?? 'not installed';
  return {
    passed: count('pass'),
    failed: count('fail'),
    skipped: count('skipped'),
    knownFailures: count('known-failure'),
    date: meta.date.toISOString(),
    durationMs: meta.durationMs,
    targets: meta.targets,
    clients,
    ...(meta.peakRssBytes !== undefined ? { server: { peakRssBytes: meta.peakRssBytes } } : {}),
    results,
  };
}

export type CellStatus = Status | 'mixed-known' | 'none';

/** One table cell: every scenario of `client` for `op`. Any failure wins, then known failures, then skips. */
export function cellStatus(results: readonly ScenarioResult[]): CellStatus {
  if (results.length === 0) return 'none';
  if (results.some((r) => r.status === 'fail')) return 'fail';
  const known = results.some((r) => r.status === 'known-failure');
  if (known) return results.some((r) => r.status === 'pass') ? 'mixed-known' : 'known-failure';
  if (results.every((r) => r.status === 'skipped')) return 'skipped';
  return 'pass';
}

export function clientsOf(results: readonly ScenarioResult[]): string[] {
  return [...new Set(results.map((r) => r.client))];
}

/** Every table row a result counts for: its operation and the others it also exercises. */
export function rowsOf(r: ScenarioResult): Operation[] {
  return [r.op, ...(r.also ?? [])];
}

export function opsOf(results: readonly ScenarioResult[], order: readonly Operation[]): Operation[] {
  const present = new Set(results.flatMap(rowsOf));
  return order.filter((o) => present.has(o));
}

const LABEL: Record<Status, string> = { pass: 'pass', fail: 'FAIL', 'known-failure': 'known-failure', skipped: 'skipped' };

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

/** The console table: one line per scenario, grouped by target and client, then the failure details. */
export function formatTable(report: ConformanceReport): string {
  const lines: string[] = [];
  const rows = report.results.map((r) => [r.target, `${r.client}`, r.op, r.scenario, LABEL[r.status] + (r.unexpectedPass ? ' (known failure now passes: remove it from known-failures.ts)' : ''), r.status === 'skipped' ? '' : seconds(r.durationMs)]);
  const head = ['target', 'client', 'operation', 'scenario', 'result', 'time'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 4 ? Math.min(r[i]!.length, 14) : r[i]!.length))));
  lines.push(head.map((h, i) => pad(h, widths[i]!)).join('  '));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) lines.push(r.map((c, i) => pad(c, widths[i]!)).join('  ').trimEnd());
  const bad = report.results.filter((r) => r.status === 'fail' || r.status === 'known-failure');
  if (bad.length) {
    lines.push('');
    for (const r of bad) {
      lines.push(`${r.status === 'fail' ? 'FAIL' : 'known failure'}: [${r.target}] ${r.client} / ${r.scenario}`);
      if (r.reason) lines.push(`  reason: ${r.reason}`);
      for (const l of (r.error ?? '').split('\n')) lines.push(`  ${l}`);
    }
  }
  const noted = report.results.filter((r) => r.notes?.length);
  if (noted.length) {
    lines.push('');
    for (const r of noted) lines.push(`note: [${r.target}] ${r.client} / ${r.scenario}: ${r.notes!.join('; ')}`);
  }
  const skippedClients = [...new Set(report.results.filter((r) => r.status === 'skipped').map((r) => `${r.client}: ${r.error}`))];
  if (skippedClients.length) {
    lines.push('');
    for (const s of skippedClients) lines.push(`skipped ${s}`);
  }
  lines.push('');
  lines.push(`clients: ${Object.entries(report.clients).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  lines.push(
    `${report.passed} passed, ${report.failed} failed, ${report.knownFailures} known failures, ${report.skipped} skipped in ${seconds(report.durationMs)}` +
      (report.server?.peakRssBytes ? `; server peak RSS ${(report.server.peakRssBytes / 1024 / 1024).toFixed(0)} MiB` : ''),
  );
  return lines.join('\n');
}
