import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig, parseAuditThreshold, parseDuration, parseSize, printable } from './config.ts';
import { quotaSettingsFromConfig } from '../../accounts/limits.ts';

const dir = mkdtempSync(join(tmpdir(), 'datamesh-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const problem = (argv: string[], env: NodeJS.ProcessEnv = {}): string => {
  try {
    loadConfig(argv, env);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`loadConfig(${argv.join(' ')}) accepted a bad configuration`);
};

describe('precedence: flags > environment > file > defaults', () => {
  const toml = file('p.toml', 'region = "from-file"\nbody_idle_timeout = "90s"\nmax-concurrent-requests = 64\nshutdownGrace = "2m"\n');

  test('each level overrides the ones below it', () => {
    expect(loadConfig([], {}).region).toBe('us-east-1');
    expect(loadConfig(['--config', toml], {}).region).toBe('from-file');
    expect(loadConfig(['--config', toml], { DATAMESH_REGION: 'from-env' }).region).toBe('from-env');
    expect(loadConfig(['--config', toml, '--region', 'from-flag'], { DATAMESH_REGION: 'from-env' }).region).toBe('from-flag');
    // the file named by the environment
    expect(loadConfig([], { DATAMESH_CONFIG: toml }).region).toBe('from-file');
    // an empty variable does not override
    expect(loadConfig(['--config', toml], { DATAMESH_REGION: '' }).region).toBe('from-file');
  });

  test('file keys in camelCase or flag-style, parsed by kind', () => {
    const c = loadConfig(['--config', toml], {});
    expect(c.bodyIdleTimeout).toBe(90_000);
    expect(c.maxConcurrentRequests).toBe(64);
    expect(c.shutdownGrace).toBe(120_000);
    const env = loadConfig(['--config', toml], { DATAMESH_MAX_CONCURRENT_REQUESTS: '8', DATAMESH_SHUTDOWN_GRACE: '5s' });
    expect(env.maxConcurrentRequests).toBe(8);
    expect(env.shutdownGrace).toBe(5000);
    expect(loadConfig(['--config', toml, '--max-concurrent-requests=3'], { DATAMESH_MAX_CONCURRENT_REQUESTS: '8' }).maxConcurrentRequests).toBe(3);
  });

  test('JSON files and the defaults of the limits', () => {
    const json = file('c.json', JSON.stringify({ maxHeaderSize: '32KiB', headerTimeout: 5000, listen: '0.0.0.0:9100' }));
    const c = loadConfig(['--config', json], {});
    expect(c.maxHeaderSize).toBe(32 * 1024);
    expect(c.headerTimeout).toBe(5000);
    expect(c.listen).toBe('0.0.0.0:9100');
    const d = loadConfig([], {});
    expect(d).toMatchObject({ maxConcurrentRequests: 256, maxHeaderSize: 16384, headerTimeout: 60_000, bodyIdleTimeout: 60_000, idleTimeout: 300_000, shutdownGrace: 30_000 });
  });

  test('sizes and durations', () => {
    expect(parseSize('4MiB')).toBe(4 * 1024 * 1024);
    expect(parseSize('500MB')).toBe(500_000_000);
    expect(parseSize('1.5KiB')).toBe(1536);
    expect(parseSize('42')).toBe(42);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30')).toBe(30_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
  });
});

describe('validation names the setting and what is allowed', () => {
  test.each([
    [['--segment-size', 'lots'], /^--segment-size: 'lots' is not a size: use bytes or a unit such as 4MiB/],
    [['--max-header-size', '1KiB'], /^--max-header-size: '1KiB': use 4KiB to 1MiB/],
    [['--shutdown-grace', 'soon'], /^--shutdown-grace: 'soon' is not a duration: use e\.g\. 500ms, 30s/],
    [['--body-idle-timeout', '0'], /^--body-idle-timeout: '0': use at least 10ms/],
    [['--max-concurrent-requests', '2.5'], /^--max-concurrent-requests: '2\.5' is not an integer/],
    [['--max-concurrent-requests', '0'], /^--max-concurrent-requests: '0': use a whole number of at least 1/],
    [['--listen', '9000'], /^--listen: '9000': use HOST:PORT, e\.g\. 127\.0\.0\.1:9000/],
    [['--log-level', 'loud'], /^--log-level: 'loud': use one of trace, debug, info/],
    [['--audit-threshold', '3'], /^--audit-threshold: '3': use FAILED\/WINDOW with 1 <= FAILED <= WINDOW <= 1000, e\.g\. 3\/10/],
    [['--audit-threshold', '5/3'], /^--audit-threshold: '5\/3': use FAILED\/WINDOW/],
    [['--audit-threshold', '0/10'], /^--audit-threshold: '0\/10': use FAILED\/WINDOW/],
    [['--colour', 'blue'], /^unknown option --colour: run 'datamesh help'/],
    [['--listen'], /^option --listen needs a value/],
    [['stray'], /^unexpected argument 'stray'/],
  ])('%s', (argv, message) => {
    expect(problem(argv)).toMatch(message);
  });

  test('one size syntax: a flag, a variable and a quota key refuse the same ambiguous unit', () => {
    expect(problem(['--capacity', '4Ki'])).toMatch(/^--capacity: '4Ki' has an unknown unit 'Ki'/);
    expect(problem(['--capacity', '4M'])).toMatch(/^--capacity: '4M' has an unknown unit 'M'/);
    expect(problem([], { DATAMESH_CAPACITY: '4M' })).toMatch(/^DATAMESH_CAPACITY: '4M' has an unknown unit 'M'/);
    expect(() => quotaSettingsFromConfig({ max_storage: '4M' })).toThrow(/'4M' has an unknown unit 'M'/);
    expect(loadConfig(['--capacity', '4KiB'], {}).capacity).toBe(4096);
    expect(quotaSettingsFromConfig({ max_storage: '4KiB' }).maxStorage).toBe(4096);
  });

  test('from the environment, the variable is named', () => {
    expect(problem([], { DATAMESH_HEADER_TIMEOUT: 'forever' })).toMatch(/^DATAMESH_HEADER_TIMEOUT: 'forever' is not a duration/);
  });

  test('from the file, the key is named; unknown keys and broken files are refused', () => {
    expect(problem(['--config', file('bad-size.toml', 'region = "x"\n  max_header_size = "huge"\n')])).toMatch(
      /^--config \S+bad-size\.toml:2:3: max_header_size: 'huge' is not a size/,
    );
    expect(problem(['--config', file('unknown.toml', '# settings\ncolour = "blue"\n')])).toMatch(/unknown\.toml:2:1: unknown setting 'colour'; known settings: listen, data, region/);
    expect(problem(['--config', file('broken.toml', 'region = "x"\nlisten = \n')])).toMatch(/broken\.toml:2:\d+: not valid TOML/);
    expect(problem(['--config', file('broken.json', '{"region": "x",\n "listen": }')])).toMatch(/broken\.json:2:12: not valid JSON/);
    expect(problem(['--config', join(dir, 'missing.toml')])).toMatch(/cannot read it \(ENOENT\); give the path of a \.toml or \.json file/);
  });
});

describe('datamesh config print', () => {
  const run = promisify(execFile);
  const cli = fileURLToPath(new URL('./cli/datamesh.mjs', import.meta.url));

  test('shows the effective configuration with secrets masked', async () => {
    const cfg = file('print.toml', 'metrics_token = "super-secret-scrape-token"\nregion = "eu-west-1"\n');
    const { stdout } = await run(process.execPath, [cli, 'config', 'print', '--config', cfg, '--body-idle-timeout', '5s'], {
      env: { ...process.env, DATAMESH_MAX_CONCURRENT_REQUESTS: '12' },
    });
    expect(stdout).not.toContain('super-secret-scrape-token');
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ metricsToken: '********', region: 'eu-west-1', bodyIdleTimeout: 5000, maxConcurrentRequests: 12 });
    expect(printable(loadConfig([], {})).metricsToken).toBeUndefined();
  });

  test('a bad value: one line on stderr and exit code 2', async () => {
    const err = await run(process.execPath, [cli, 'config', 'print', '--shutdown-grace', 'later']).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toMatch(/^datamesh: --shutdown-grace: 'later' is not a duration[^\n]*\n$/);
  });
});

describe('--audit-threshold', () => {
  test('defaults to 3 of the last 10 audits, and takes FAILED/WINDOW from a flag or the environment', () => {
    expect(parseAuditThreshold(loadConfig([], {}).auditThreshold)).toEqual({ failures: 3, window: 10 });
    expect(parseAuditThreshold(loadConfig(['--audit-threshold', '2/5'], {}).auditThreshold)).toEqual({ failures: 2, window: 5 });
    expect(parseAuditThreshold(loadConfig([], { DATAMESH_AUDIT_THRESHOLD: '1/1' }).auditThreshold)).toEqual({ failures: 1, window: 1 });
  });
});

describe('--ec', () => {
  test('refuses nonsense at start with the reason and an example', () => {
    expect(() => loadConfig(['--ec', '0+2'], {})).toThrow(/--ec: '0\+2': k must be at least 1 \(use e\.g\. 4\+2\)/);
    expect(() => loadConfig(['--ec', '30+5'], {})).toThrow(/k\+m must be at most 32/);
    expect(() => loadConfig(['--ec', 'four'], {})).toThrow(/--ec: 'four'/);
    expect(loadConfig(['--ec', '6+3'], {}).ec).toBe('6+3');
  });
});
