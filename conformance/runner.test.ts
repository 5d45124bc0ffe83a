import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ScenarioFailure } from './harness/exec.ts';
import type { ClientSuite, RunningTarget, ScenarioResult } from './harness/types.ts';
import { bucketName, runSuites } from './runner.ts';

const target: RunningTarget = {
  name: 'fake',
  endpoint: 'http://127.0.0.1:1',
  port: 1,
  domain: 'example.test',
  region: 'us-east-1',
  credentials: { accessKeyId: 'A', secretAccessKey: 'S' },
  logFile: '/dev/null',
  peakRss: () => undefined,
  stop: async () => {},
};

describe('runSuites', () => {
  it('classifies pass, fail, known failure, unexpected pass, timeout and missing clients', async () => {
    const dirs: string[] = [];
    const suite: ClientSuite = {
      name: 'fake-client',
      detect: async () => ({ version: '9.9', setup: { token: 42 } }),
      scenarios: [
        {
          name: 'passes',
          op: 'put / get',
          run: async (ctx) => {
            dirs.push(ctx.dir);
            expect(existsSync(ctx.dir)).toBe(true);
            expect(ctx.setup).toEqual({ token: 42 });
            ctx.note('fast');
          },
        },
        { name: 'fails', op: 'list', run: async () => Promise.reject(new ScenarioFailure('listing: expected 3 keys, got 2')) },
        { name: 'known', op: 'presigned POST', run: async () => Promise.reject(new Error('501')) },
        { name: 'fixed', op: 'copy', run: async () => {} },
        { name: 'hangs', op: 'sync', timeoutMs: 50, run: () => new Promise(() => {}) },
      ],
    };
    const missing: ClientSuite = { name: 'absent', detect: async () => ({ missing: 'apt-get install -y absent' }), scenarios: [{ name: 'x', op: 'buckets', run: async () => {} }] };
    const seen: ScenarioResult[] = [];
    const known = [
      { client: 'fake-client', scenario: 'known', reason: 'not implemented' },
      { client: 'fake-client', scenario: 'fixed', reason: 'was broken' },
    ];
    const out = await runSuites(target, [suite, missing], { signal: new AbortController().signal, concurrency: 2, known, onResult: (r) => seen.push(r) });
    const by = Object.fromEntries(out.flatMap((o) => o.results).map((r) => [r.scenario, r]));
    expect(by.passes).toMatchObject({ status: 'pass', notes: ['fast'], client: 'fake-client', target: 'fake' });
    expect(by.fails).toMatchObject({ status: 'fail', error: 'listing: expected 3 keys, got 2' });
    expect(by.known).toMatchObject({ status: 'known-failure', reason: 'not implemented', error: '501' });
    expect(by.fixed).toMatchObject({ status: 'pass', unexpectedPass: true });
    expect(by.hangs).toMatchObject({ status: 'fail', error: 'timed out after 0.05 s' });
    expect(by.x).toMatchObject({ status: 'skipped', client: 'absent', error: 'apt-get install -y absent' });
    expect(out.map((o) => o.version)).toEqual(['9.9', undefined]);
    expect(seen).toHaveLength(6);
    expect(dirs).toHaveLength(1);
    expect(existsSync(dirs[0]!)).toBe(false);
  });
});

describe('bucketName', () => {
  it('is DNS-safe, unique and short enough', () => {
    const a = bucketName('AWS CLI v2 / Sync!!');
    const b = bucketName('AWS CLI v2 / Sync!!');
    expect(a).toMatch(/^conf-aws-cli-v2-sync-[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
    expect(bucketName('x'.repeat(100)).length).toBeLessThanOrEqual(63);
  });
});
