/**
 * What starting `datamesh` costs: the compiled package (plain node on dist/, as `npm start` and the
 * installed command run it) against the development entry (tsx compiling the sources at run time).
 * For each: CPU seconds and peak RSS of `serve` up to "serving S3" (a fresh data directory, single
 * node, so libp2p is not loaded), and the wall time of `--help`. Build first: `npm run build`.
 *
 *   npx tsx scripts/bench-start.ts [--runs 3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from '../src/server/config.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRIES = {
  'compiled (dist/, plain node)': join(ROOT, 'dist/src/server/cli/bin.js'),
  'sources through tsx': join(ROOT, 'src/server/cli/datamesh.mjs'),
};
const runs = Number(parseArgs(process.argv.slice(2)).flags.get('runs')?.at(-1) ?? 3);
const TICK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICK; // utime + stime
}
const peakRssMiB = (pid: number) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function serveOnce(entry: string): Promise<{ cpu: number; rss: number; wall: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-start-'));
  const started = performance.now();
  const proc = spawn(process.execPath, [entry, 'serve', '--listen', '127.0.0.1:0', '--data', dir, '--log-format', 'json'], {
    env: { ...process.env, DATAMESH_ROOT_ACCESS_KEY: 'BENCHSTARTACCESSKEY1', DATAMESH_ROOT_SECRET_KEY: 'bench-start-secret-key-0123456789abcdef' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((ok, no) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('serving S3 at')) ok();
    });
    proc.on('exit', (code) => no(new Error(`exited ${code}: ${out}`)));
  });
  const wall = (performance.now() - started) / 1000;
  const r = { cpu: cpuSeconds(proc.pid!), rss: peakRssMiB(proc.pid!), wall };
  const gone = new Promise((ok) => proc.once('exit', ok));
  proc.kill('SIGTERM');
  await gone;
  rmSync(dir, { recursive: true, force: true });
  return r;
}

function helpOnce(entry: string): number {
  const t = performance.now();
  spawnSync(process.execPath, [entry, '--help'], { stdio: 'ignore' });
  return (performance.now() - t) / 1000;
}

const range = (xs: number[], digits = 2) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

if (!existsSync(ENTRIES['compiled (dist/, plain node)'])) {
  process.stderr.write('bench-start: dist/ is missing: run `npm run build` first\n');
  process.exit(2);
}
process.stdout.write(`${runs} runs each; the machine's load average: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}\n`);
for (const [name, entry] of Object.entries(ENTRIES)) {
  const serve = [];
  const help = [];
  for (let i = 0; i < runs; i++) {
    serve.push(await serveOnce(entry));
    help.push(helpOnce(entry));
  }
  process.stdout.write(
    `${name}: serve to "serving S3" ${range(serve.map((s) => s.cpu))} CPU s, ${range(serve.map((s) => s.wall))} s wall, ` +
      `peak RSS ${range(serve.map((s) => s.rss), 0)} MiB; --help ${range(help)} s wall\n`,
  );
}
