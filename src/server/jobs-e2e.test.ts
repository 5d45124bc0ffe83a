/**
 * Long admin operations run as jobs on the server: `datamesh admin scrub` starts one and follows
 * it; killing the client never stops or loses the job, and `datamesh admin jobs ID` follows it
 * again to its end. `datamesh admin info` tells what the server is.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ENTRY, ROOT, runAdminCli, startTestServer, type TestServer } from './testing/server.ts';
import type { InfoView, JobView } from './ops-api.ts';

const KiB = 1024;
const SEGMENT = 64 * KiB;
const OBJECTS = 12;
const OBJECT_SIZE = 4 * 1024 * KiB;
const SEGMENTS = (OBJECTS * OBJECT_SIZE) / SEGMENT;
let server: TestServer;

beforeAll(async () => {
  // Small segments: many of them, so that a scrub lasts long enough to kill its client mid-way.
  server = await startTestServer(['--segment-size', '64KiB', '--scrub-interval', '0', '--fsync', 'false']);
  const s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'jobs' }));
  for (let i = 0; i < OBJECTS; i++) await s3.send(new PutObjectCommand({ Bucket: 'jobs', Key: `o${i}`, Body: randomBytes(OBJECT_SIZE) }));
});
afterAll(() => server?.stop());

const json = async <T>(...args: string[]): Promise<T> => {
  const r = await runAdminCli(server, ...args, '--json');
  expect(r.err, r.err).not.toMatch(/datamesh admin:/);
  expect(r.code).toBe(0);
  return JSON.parse(r.out) as T;
};

describe('datamesh admin scrub runs as a job on the server', () => {
  it('survives its client being killed and is followed to its end with `admin jobs ID`', async () => {
    const cli = spawn(process.execPath, [ENTRY, 'admin', 'scrub', '--endpoint', server.url], {
      env: { ...process.env, DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<string>((ok) => cli.on('exit', (code, signal) => ok(String(signal ?? code))));
    // The client announces the job it started, then follows it: kill it then, as Ctrl-C or a dropped network would.
    const id = await new Promise<string>((ok, no) => {
      let err = '';
      cli.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /scrub job (scrub-[0-9a-f]+) running/.exec(err);
        if (m) ok(m[1]!);
      });
      void exited.then((how) => no(new Error(`the scrub client exited (${how}) before starting a job: ${err}`)));
    });
    cli.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');

    const { jobs } = await json<{ jobs: JobView[] }>('jobs');
    const job = jobs.find((j) => j.id === id);
    expect(job, 'the job is listed after its client died').toBeDefined();
    expect(job!.state, `precondition: the scrub of ${SEGMENTS} segments was still running when its client died`).toBe('running');

    const end = await json<{ job: string; state: string; segmentsChecked: number; shardsRebuilt: number; unrecoverable: unknown[] }>('jobs', id);
    expect(end).toMatchObject({ job: id, state: 'succeeded', segmentsChecked: SEGMENTS, shardsRebuilt: 0, unrecoverable: [] });

    const listed = await runAdminCli(server, 'jobs');
    expect(listed.out).toMatch(new RegExp(`${id} +scrub +succeeded +${SEGMENTS}/${SEGMENTS}`));
  });

  it('--detach returns at once with the job; a second scrub joins the running one', async () => {
    const first = await json<JobView>('scrub', '--detach');
    expect(first).toMatchObject({ kind: 'scrub', state: 'running' });
    const second = await json<JobView>('scrub', '--detach');
    expect(second.id).toBe(first.id);
    const end = await json<{ job: string; state: string }>('jobs', first.id);
    expect(end).toMatchObject({ job: first.id, state: 'succeeded' });
  });

  it('an unknown job is a clear 404', async () => {
    const r = await runAdminCli(server, 'jobs', 'scrub-00000000');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no job 'scrub-00000000' on this server: 'datamesh admin jobs' lists them .*\(NotFound, HTTP 404\)/);
  });
});

describe('datamesh admin info', () => {
  it('shows version, uptime, data directory, capacity and usage, mesh role and peers', async () => {
    const info = await json<InfoView>('info');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(info).toMatchObject({
      version: pkg.version,
      dataDir: server.dataDir,
      capacity: null,
      usage: { accounts: 1, buckets: 1, objects: OBJECTS, bytes: OBJECTS * OBJECT_SIZE },
      mesh: { role: 'single', peers: { up: 1, suspect: 0, down: 0 } },
    });
    expect(info.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(info.disk!.totalBytes).toBeGreaterThan(0);
    const text = await runAdminCli(server, 'info');
    expect(text.out).toMatch(/^version: +datamesh \d+\.\d+\.\d+ \(node v\d+/);
    expect(text.out).toMatch(/mesh: +single node \(no mesh\)/);
    expect(text.out).toContain(`data directory: ${server.dataDir}`);
  });
});
