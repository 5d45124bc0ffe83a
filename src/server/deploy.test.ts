/**
 * The deployment files of scripts/deploy, tested as far as this machine allows (no container
 * engine, no running systemd): the Dockerfile's entry point and health check run as plain
 * processes with its environment; the systemd unit passes `systemd-analyze verify`; every metric
 * the Grafana dashboard and the Prometheus alert rules name exists in /_datamesh/metrics; the
 * OpenAPI description covers every route of the admin API.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENTRY, ROOT, whenServing } from './testing/server.ts';
import { createAdminApi } from './admin-api.ts';
import { mountOpsApi } from './ops-api.ts';
import { validate as lintDockerfile } from 'dockerfile-utils';

const DEPLOY = new URL('../../scripts/deploy/', import.meta.url);
const read = (name: string) => readFileSync(new URL(name, DEPLOY), 'utf8');
const dir = mkdtempSync(join(tmpdir(), 'datamesh-deploy-'));
const run = promisify(execFile);

/** The Dockerfile's instructions of the last (runtime) stage, by keyword. */
function runtimeStage(text: string): { from: string[]; get(keyword: string): string[] } {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const from = lines.filter((l) => /^FROM /i.test(l));
  const last = lines.slice(lines.lastIndexOf(from.at(-1)!));
  return { from, get: (k) => last.filter((l) => l.toUpperCase().startsWith(k + ' ')).map((l) => l.slice(k.length + 1).trim()) };
}

const docker = runtimeStage(read('Dockerfile'));
/** ENV lines: KEY=VALUE pairs. */
const dockerEnv = Object.fromEntries(docker.get('ENV').flatMap((l) => [...l.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));
const execForm = (s: string) => JSON.parse(s) as string[];

let port: number;
let metricsText = '';
let server: ReturnType<typeof spawn> | undefined;

function freePort(): Promise<number> {
  return new Promise((ok) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => ok(p));
    });
  });
}

/** Runs `datamesh ARGS` (the development entry) with the container's environment. */
const datamesh = (args: string[], env: Record<string, string>) =>
  run(process.execPath, [ENTRY, ...args], { env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

describe('Dockerfile', () => {
  let env: Record<string, string>;
  beforeAll(async () => {
    port = await freePort();
    // The image's environment, with the data volume and the port moved to this test's own.
    env = { ...dockerEnv, DATAMESH_DATA: join(dir, 'data'), DATAMESH_LISTEN: `127.0.0.1:${port}`, DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey };
  });

  it('passes the Dockerfile linter (dockerfile-utils; hadolint is not packaged for Debian)', () => {
    expect(lintDockerfile(read('Dockerfile')).map((d) => `${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    expect(lintDockerfile('FROM node:22\nFOO bar\n').map((d) => d.message)).toEqual(['Unknown instruction: FOO']);
  });

  it('is multi-stage, runs as a non-root user with the data in a volume, and checks its health', () => {
    expect(docker.from.length).toBeGreaterThanOrEqual(2);
    expect(docker.from[0]).toMatch(/ AS build$/i);
    expect(docker.get('USER')).toEqual(['node']);
    expect(docker.get('VOLUME')).toEqual(['["/data"]']);
    expect(dockerEnv).toMatchObject({ DATAMESH_DATA: '/data', DATAMESH_LISTEN: '0.0.0.0:9000', DATAMESH_LOG_FORMAT: 'json' });
    expect(docker.get('HEALTHCHECK')[0]).toMatch(/CMD \["datamesh", "health"\]$/);
    expect(execForm(docker.get('ENTRYPOINT')[0]!)).toEqual(['datamesh']);
  });

  it('its health check fails before the server is up, its entry point serves, then the health check passes', async () => {
    const health = execForm(docker.get('HEALTHCHECK')[0]!.replace(/^.*CMD /, '')).slice(1);
    const before = await datamesh(health, env);
    expect(before.code).toBe(1);
    expect(before.stderr).toMatch(/^datamesh: not ready: http:\/\/127\.0\.0\.1:\d+\/_datamesh\/health\/ready \(ECONNREFUSED\)\n$/);

    const cmd = [...execForm(docker.get('ENTRYPOINT')[0]!).slice(1), ...execForm(docker.get('CMD')[0]!)];
    server = spawn(process.execPath, [ENTRY, ...cmd], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'ignore'] });
    const out = (await whenServing(server)).output();
    // DATAMESH_LOG_FORMAT=json: every line of the log is a JSON record
    for (const line of out.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();

    const after = await datamesh(health, env);
    expect(after).toMatchObject({ code: 0, stdout: `ready: http://127.0.0.1:${port}/_datamesh/health/ready\n` });
    metricsText = await (await fetch(`http://127.0.0.1:${port}/_datamesh/metrics`)).text();
  });
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const gone = new Promise((ok) => server!.once('exit', ok));
    server.kill('SIGTERM');
    await gone;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('Prometheus alert rules and the Grafana dashboard', () => {
  /**
   * Metrics the files may name before /_datamesh/metrics has them: `up` is Prometheus's own.
   */
  const TO_COME = new Set(['up']);
  const named = (text: string) => new Set([...text.matchAll(/\b((?:datamesh|process|nodejs)_[a-z0-9_]+|up)\b(?=\s*[{[(]|\s*[=<>!]|\s*$|\s*\))/gm)].map((m) => m[1]!));
  const exposed = () => {
    const types = new Map([...metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
    return (name: string) => {
      if (types.has(name)) return true;
      const base = name.replace(/_(bucket|sum|count)$/, '');
      return base !== name && (types.get(base) === 'histogram' || types.get(base) === 'summary');
    };
  };

  it('every metric the alert rules name exists', () => {
    const text = read('prometheus-alerts.yml');
    const names = named(text);
    expect(names.size).toBeGreaterThan(5);
    const has = exposed();
    expect([...names].filter((n) => !has(n) && !TO_COME.has(n))).toEqual([]);
    for (const alert of ['DatameshPeerDown', 'DatameshDegradedSegments', 'DatameshRepairBacklog', 'DatameshCatalogSyncLag', 'DatameshQuotaRejections', 'DatameshHigh5xxRate']) {
      expect(text).toContain(`- alert: ${alert}\n`);
    }
    // every rule has an expression and a severity
    const rules = text.split('- alert: ').slice(1);
    for (const r of rules) expect(r, r.split('\n')[0]).toMatch(/\n\s+expr: [^\n]+[\s\S]*severity: (critical|warning|info)/);
  });

  it('every metric the dashboard names exists, and the dashboard is well-formed', () => {
    const dash = JSON.parse(read('grafana-dashboard.json')) as { uid: string; panels: { id: number; title: string; targets: { expr: string }[] }[] };
    expect(dash.uid).toBe('datamesh');
    const ids = dash.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const exprs = dash.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.every((e) => typeof e === 'string' && e.length > 0)).toBe(true);
    const names = new Set(exprs.flatMap((e) => [...named(e)]));
    const has = exposed();
    expect([...names].filter((n) => !has(n) && !TO_COME.has(n))).toEqual([]);
    expect(names).toContain('datamesh_build_info');
  });

  it('datamesh_build_info carries the version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(metricsText).toContain(`datamesh_build_info{version="${pkg.version}",node="${process.version}"} 1`);
  });
});

describe('systemd unit', () => {
  it('passes systemd-analyze verify, with hardening and a readiness check', () => {
    const unit = read('datamesh.service');
    for (const option of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes', 'DynamicUser=yes', 'StateDirectory=datamesh', 'SystemCallFilter=@system-service']) {
      expect(unit).toContain(`\n${option}\n`);
    }
    expect(unit).toMatch(/\nExecStartPost=\/usr\/local\/bin\/datamesh health --wait \d+s\n/);
    // verify resolves the commands: point them at an executable of this machine
    const bin = join(dir, 'datamesh');
    writeFileSync(bin, '#!/bin/sh\nexit 0\n');
    chmodSync(bin, 0o755);
    const file = join(dir, 'datamesh.service');
    writeFileSync(file, unit.replaceAll('/usr/local/bin/datamesh', bin));
    const r = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    expect(r.error, 'systemd-analyze is needed (Debian: apt-get install systemd)').toBeUndefined();
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });
});

describe('OpenAPI description of the admin API', () => {
  it('describes every route the admin API serves, and nothing else', () => {
    const doc = JSON.parse(read('openapi.json')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toMatch(/^3\./);
    const api = createAdminApi({} as never, { authenticate: (() => undefined) as never, extend: (a) => mountOpsApi(a, {} as never) });
    const served = new Set(
      api.routes
        .filter((r) => r.method !== 'ALL')
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)(\{[^}]*\})?/g, '{$1}')}`),
    );
    const described = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).filter((k) => k !== 'parameters').map((m) => `${m} ${path}`)),
    );
    expect([...described].sort()).toEqual([...served].sort());
  });
});
