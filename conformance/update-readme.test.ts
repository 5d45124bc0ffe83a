import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConformanceReport, ScenarioResult } from './harness/types.ts';
import { END, START, escapeText, renderCompatibility, replaceSection, updateReadme } from './update-readme.ts';

const res = (client: string, op: ScenarioResult['op'], status: ScenarioResult['status'], extra: Partial<ScenarioResult> = {}): ScenarioResult => ({
  target: 'single-node',
  client,
  op,
  scenario: `${client} ${op} ${status}`,
  status,
  durationMs: 10,
  ...extra,
});

const report: ConformanceReport = {
  passed: 2,
  failed: 1,
  skipped: 1,
  knownFailures: 1,
  date: '2025-06-07T08:09:10.000Z',
  durationMs: 1000,
  targets: ['single-node'],
  clients: { alpha: '1.2.3', beta: 'not installed' },
  results: [
    res('alpha', 'put / get', 'pass'),
    res('alpha', 'list', 'fail', { error: 'listing was empty\nmore' }),
    res('alpha', 'presigned POST', 'known-failure', { reason: 'POST policy is not implemented' }),
    res('alpha', 'head', 'pass', { also: ['copy'] }),
    res('beta', 'put / get', 'skipped', { error: 'beta is not installed' }),
  ],
};

describe('renderCompatibility', () => {
  it('draws the client × operation matrix with versions, the date and the known failures', () => {
    const md = renderCompatibility(report);
    expect(md).toContain('on 2025-06-07');
    expect(md).toContain('| Operation | alpha | beta |');
    expect(md).toContain('Clients: alpha 1.2.3; beta not installed.');
    expect(md).toContain('| put / get | ✅ | not run |');
    expect(md).toContain('| list | ❌ | — |');
    expect(md).toContain('| presigned POST | ⚠️ | — |');
    expect(md).toContain('| copy | ✅ | — |');
    expect(md).toContain('- alpha, alpha presigned POST known-failure: POST policy is not implemented');
    expect(md).toContain('- alpha, alpha list fail: listing was empty');
    // Rows follow OPERATIONS order: put / get before head before list.
    expect(md.indexOf('| put / get')).toBeLessThan(md.indexOf('| head'));
    expect(md.indexOf('| head')).toBeLessThan(md.indexOf('| list'));
  });
});

describe('escapeText', () => {
  it('keeps markup and entities visible and the table intact', () => {
    expect(escapeText('<ETag>&#34;x&#34;</ETag> a|b\nc')).toBe('&lt;ETag&gt;&amp;#34;x&amp;#34;&lt;/ETag&gt; a\\|b c');
  });
});

describe('replaceSection', () => {
  it('replaces only what is between the markers', () => {
    const before = `# T\nintro\n${START}\nold table\n${END}\n## After\ntext\n`;
    const after = replaceSection(before, 'NEW');
    expect(after).toBe(`# T\nintro\n${START}\nNEW\n${END}\n## After\ntext\n`);
    expect(replaceSection(after, 'NEW')).toBe(after);
  });

  it('refuses a README without the markers', () => {
    expect(() => replaceSection('# no markers', 'x')).toThrow(/compatibility:start/);
    expect(() => replaceSection(`${END}\n${START}`, 'x')).toThrow(/add both markers/);
  });
});

describe('updateReadme', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rewrites the README file from the report file', () => {
    dir = mkdtempSync(join(tmpdir(), 'conformance-readme-'));
    const readme = join(dir, 'README.md');
    const json = join(dir, 'conformance.json');
    writeFileSync(readme, `before\n${START}\nplaceholder\n${END}\nafter\n`);
    writeFileSync(json, JSON.stringify(report));
    updateReadme(readme, json);
    const text = readFileSync(readme, 'utf8');
    expect(text).not.toContain('placeholder');
    expect(text).toContain('| Operation | alpha | beta |');
    expect(text.startsWith('before\n')).toBe(true);
    expect(text.endsWith(`${END}\nafter\n`)).toBe(true);
  });
});
