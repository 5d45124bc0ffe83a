/**
 * Memory under large transfers (issue 19: RSS <= 256 MiB during a 5 GiB single PUT and during 16
 * concurrent 1 GiB GETs). Starts a fresh single-node server, streams one PUT of --put bytes (from
 * a reused 1 MiB buffer: the client holds no object), then --readers concurrent GETs of one object
 * of --get bytes, and prints the server's peak RSS in each phase (the kernel's VmHWM, reset between
 * phases through /proc/PID/clear_refs) and the throughput.
 *
 *   npx tsx scripts/bench-memory.ts                              5 GiB PUT, 16 x 1 GiB GET
 *   npx tsx scripts/bench-memory.ts --put 1GiB --get 256MiB      scaled down for a busy machine
 *   npx tsx scripts/bench-memory.ts --entry dist                 the built command (npm run build
 *                                                                first), as installed: no TypeScript
 *                                                                loader thread (~45 MiB of the idle RSS)
 */
import '../src/core/polyfill.ts';
import { spawn } from 'node:child_process';
import { request, Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs, parseSize } from '../src/server/config.ts';
import { signRequest, ROOT } from '../src/server/testing/server.ts';

const { flags } = parseArgs(process.argv.slice(2));
const PUT = parseSize(flags.get('put')?.at(-1) ?? '5GiB');
const GET = parseSize(flags.get('get')?.at(-1) ?? '1GiB');
const READERS = Number(flags.get('readers')?.at(-1) ?? '16');
const ENTRY = flags.get('entry')?.at(-1) ?? 'src';
const LIMIT = 256 * 1024 * 1024;
const ENTRIES: Record<string, string> = { src: 'src/server/cli/datamesh.mjs', dist: 'dist/src/server/cli/bin.js' };
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const status = (pid: number, field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
/** Resets the kernel's peak RSS (VmHWM) of `pid` to its current RSS. */
const resetPeak = (pid: number) => writeFileSync(`/proc/${pid}/clear_refs`, '5');

async function call(base: string, method: string, path: string, size?: number): Promise<number> {
  const s = await signRequest({ url: base }, { method, path, payload: 'UNSIGNED-PAYLOAD', headers: size === undefined ? {} : { 'content-length': String(size) } });
  return new Promise((ok, fail) => {
    const req = request(s.url, { method, headers: s.headers, agent }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => (res.statusCode! < 300 ? ok(n) : fail(new Error(`${method} ${path}: HTTP ${res.statusCode}`))));
      res.on('error', fail);
    });
    req.on('error', fail);
    if (size === undefined) return void req.end();
    const block = randomBytes(1 << 20);
    let left = size;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!req.write(n === block.length ? block : block.subarray(0, n))) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-mem-'));
  const port = 19600 + Math.floor(Math.random() * 300);
  const entry = ENTRIES[ENTRY];
  if (!entry) throw new Error(`--entry ${ENTRY}: use src (the sources, through tsx) or dist (the built command)`);
  const server = spawn(process.execPath, [entry, 'serve', '--listen', `127.0.0.1:${port}`, '--data', join(dir, 'data')], {
    env: { ...process.env, DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    await new Promise<void>((ok, fail) => {
      let out = '';
      const on = (d: Buffer) => ((out += d.toString()), /serving S3|"msg":"datamesh serving/.test(out) && ok());
      server.stdout!.on('data', on);
      server.stderr!.on('data', on);
      server.on('exit', (c) => fail(new Error(`server exited ${c}: ${out}`)));
    });
    const pid = server.pid!;
    console.log(`server: ${entry}, idle RSS ${(status(pid, 'VmRSS') / 2 ** 20).toFixed(0)} MiB`);
    const base = `http://127.0.0.1:${port}`;
    await call(base, 'PUT', '/mem');
    const phase = async (label: string, bytes: number, fn: () => Promise<unknown>) => {
      resetPeak(pid);
      const idle = status(pid, 'VmRSS');
      const t0 = performance.now();
      await fn();
      const s = (performance.now() - t0) / 1000;
      const peak = status(pid, 'VmHWM');
      console.log(
        `${label.padEnd(34)} ${(bytes / 1e6 / s).toFixed(0).padStart(5)} MB/s   RSS before ${(idle / 2 ** 20).toFixed(0)} MiB, peak ${(peak / 2 ** 20).toFixed(0)} MiB (limit 256 MiB: ${peak <= LIMIT ? 'met' : 'NOT met'})`,
      );
    };
    await phase(`one PUT of ${(PUT / 2 ** 30).toFixed(2)} GiB`, PUT, () => call(base, 'PUT', '/mem/big', PUT));
    if (GET !== PUT) await call(base, 'PUT', '/mem/get', GET);
    const key = GET === PUT ? '/mem/big' : '/mem/get';
    await phase(`${READERS} concurrent GETs of ${(GET / 2 ** 30).toFixed(2)} GiB`, GET * READERS, () =>
      Promise.all(Array.from({ length: READERS }, async () => {
        const n = await call(base, 'GET', key);
        if (n !== GET) throw new Error(`a GET returned ${n} bytes, ${GET} expected`);
      })),
    );
  } finally {
    server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench-memory: ${(e as Error).message}`);
  process.exit(1);
});
