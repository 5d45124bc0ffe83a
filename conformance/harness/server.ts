/**
 * Starts a real datamesh process (`datamesh serve`) on a free loopback port with a temp data dir,
 * waits for /_datamesh/health/ready, and stops it (SIGTERM, then SIGKILL) and removes its data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import type { RunningTarget } from './types.ts';

const CLI = fileURLToPath(new URL('../../src/server/cli/datamesh.mjs', import.meta.url));

/** A port that was free a moment ago (the kernel's pick for port 0). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, 'close');
  return port;
}

export interface NodeOptions {
  name: string;
  /** Base domain for virtual-hosted-style addressing. */
  domain: string;
  /** Extra `datamesh serve` flags (e.g. --ec 2+1). */
  flags?: string[];
  /** Where the server's stdout/stderr go. */
  logFile: string;
  logLevel?: string;
}

/** Peak RSS (VmHWM) of a live process, from /proc; undefined where /proc is not available. */
function peakRssOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function waitReady(url: string, child: ChildProcess, logFile: string, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < until) {
    if (exited) throw new Error(`datamesh exited during start-up (exit code ${child.exitCode}); see ${logFile}`);
    try {
      const r = await fetch(`${url}/_datamesh/health/ready`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      if (r.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100)); // polling: the server offers no readiness event to a parent process
  }
  throw new Error(`datamesh did not become ready at ${url} within ${deadlineMs / 1000} s; see ${logFile}`);
}

export async function startNode(opts: NodeOptions): Promise<RunningTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'datamesh-conformance-'));
  const port = await freePort();
  const credentials = { accessKeyId: `CONF${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') };
  const log = createWriteStream(opts.logFile);
  await once(log, 'open');
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--listen', `127.0.0.1:${port}`, '--data', dataDir, '--domain', opts.domain, '--log-level', opts.logLevel ?? 'info', ...(opts.flags ?? [])],
    {
      env: { ...process.env, DATAMESH_ROOT_ACCESS_KEY: credentials.accessKeyId, DATAMESH_ROOT_SECRET_KEY: credentials.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.pipe(log, { end: false });
  child.stderr!.pipe(log, { end: false });
  const endpoint = `http://127.0.0.1:${port}`;
  let lastRss: number | undefined;
  const sample = setInterval(() => (lastRss = peakRssOf(child.pid) ?? lastRss), 1000);
  sample.unref();
  const stop = async () => {
    clearInterval(sample);
    lastRss = peakRssOf(child.pid) ?? lastRss;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    log.end();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitReady(endpoint, child, opts.logFile, 30_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    name: opts.name,
    endpoint,
    port,
    domain: opts.domain,
    region: 'us-east-1',
    credentials,
    logFile: opts.logFile,
    peakRss: () => peakRssOf(child.pid) ?? lastRss,
    stop,
  };
}
