/**
 * End-to-end benchmark: PUT and GET MB/s for large objects, ops/s for 4 KiB objects and LIST keys/s,
 * against datamesh and, in the same run with the same client, two references: a null endpoint that
 * does no S3 work (the ceiling of this machine) and s3rver (npm; a plain file server: no crypto, no
 * coding, no fsync). Beside them the work floor (scripts/bench-floor.ts): the CPU a PUT and a GET
 * must spend at the least, measured in isolation in this run. Prints one table with MB/s, ops/s,
 * the server's CPU s/GiB and CPU ms per request (read from /proc by scripts/proc-cpu.ts, by thread
 * role), the ratios against the targets of issue 19, and the server's peak RSS.
 *
 *   npm run bench                       start a fresh single-node server, a null endpoint and s3rver
 *   npm run bench -- --quick            CI-sized: 4 x 16 MiB, 300 x 4 KiB, LIST over 2,000 keys
 *   npm run bench -- --endpoint URL     measure a running server (root credentials from env)
 *   npm run bench -- --old DIR          also a datamesh started from the checkout in DIR (e.g. the previous
 *                                       commit: git archive REV | tar -x -C DIR), old and new in one run
 *   npm run bench -- --cluster 6       also a gateway + 6 storage peers (the CPU of the gateway and of every peer,
 *                                      their ratios to the single node), and the repair rate after a peer dies
 *                                      (with --old DIR, the old checkout's cluster and repair too, on the same load)
 *   npm run bench -- --repair-only     only the repair rate (--cluster N peers, default 6; --old DIR side by side)
 *   npm run bench -- --gateways 2      also 2 gateways over one PostgreSQL catalog and 6 peers (--cluster N):
 *                                      the same load through 1 gateway, then spread over both
 *   options: --size 64MiB --count 8 --small 2000 --concurrency 4 --small-concurrency 16
 *            --list 100000 (keys; 0 skips LIST) --ec 4+2 --fsync false --no-s3rver
 */
import '../src/core/polyfill.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { parseArgs, parseSize } from '../src/server/config.ts';
import { runAdminCli, signRequest, ROOT } from '../src/server/testing/server.ts';
import { freePortRange, startCluster } from './cluster.ts';
import type { MeshView } from '../src/server/open-data.ts';
import { formatSteps, measureFloor, type Floor } from './bench-floor.ts';
import { cpuDelta, formatCpu, processCpu, snapshot, ThreadRoles, type CpuDelta } from './proc-cpu.ts';

const { flags } = parseArgs(process.argv.slice(2));
const QUICK = flags.has('quick');
const flag = (n: string, d: string) => flags.get(n)?.at(-1) ?? d;
const SIZE = parseSize(flag('size', QUICK ? '16MiB' : '64MiB'));
const COUNT = Number(flag('count', QUICK ? '4' : '8'));
const SMALL = Number(flag('small', QUICK ? '300' : '2000'));
const CONC = Number(flag('concurrency', '4'));
const SMALL_CONC = Number(flag('small-concurrency', '16'));
const LIST = Number(flag('list', QUICK ? '2000' : '100000'));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
type Creds = { accessKeyId: string; secretAccessKey: string };
const creds: Creds = {
  accessKeyId: process.env.DATAMESH_ROOT_ACCESS_KEY ?? ROOT.accessKeyId,
  secretAccessKey: process.env.DATAMESH_ROOT_SECRET_KEY ?? ROOT.secretAccessKey,
};
/** s3rver's built-in account. */
const S3RVER: Creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface Endpoint {
  name: string;
  base: string;
  creds: Creds;
  pid?: number;
  /** Can list (the null endpoint cannot). */
  lists: boolean;
}

async function send(ep: Endpoint, method: string, path: string, body?: Buffer, query?: Record<string, string>, text?: (t: string) => void): Promise<number> {
  const s = await signRequest({ url: ep.base }, { method, path, query, payload: 'UNSIGNED-PAYLOAD', credentials: ep.creds, headers: body ? { 'content-length': String(body.length) } : {} });
  return new Promise((ok, fail) => {
    const req = request(s.url, { method, headers: s.headers, agent }, (res) => {
      let n = 0;
      let out = '';
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (text || (res.statusCode! >= 300 && out.length < 2000)) out += c.toString();
      });
      res.on('end', () => {
        if (res.statusCode! >= 300) return fail(new Error(`${ep.name}: ${method} ${path}: HTTP ${res.statusCode} ${/<Message>([^<]*)/.exec(out)?.[1] ?? ''}`));
        text?.(out);
        ok(n);
      });
      res.on('error', fail);
    });
    req.on('error', fail);
    if (body) {
      // write in 1 MiB pieces, as a streaming client does
      for (let o = 0; o < body.length; o += 1 << 20) req.write(body.subarray(o, Math.min(o + (1 << 20), body.length)));
    }
    req.end();
  });
}

async function timed(n: number, conc: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (next < n) await fn(next++); }));
  return (performance.now() - t0) / 1000;
}

/** Every key under `prefix`, in pages of 1000 (ListObjectsV2), optionally with a delimiter; returns the keys seen. */
async function listAll(ep: Endpoint, bucket: string, prefix: string, delimiter?: string): Promise<number> {
  let token: string | undefined;
  let keys = 0;
  for (;;) {
    let xml = '';
    const query: Record<string, string> = { 'list-type': '2', prefix, 'max-keys': '1000', ...(delimiter ? { delimiter } : {}), ...(token ? { 'continuation-token': token } : {}) };
    await send(ep, 'GET', `/${bucket}`, undefined, query, (t) => (xml = t));
    keys += xml.split('<Key>').length - 1;
    token = /<NextContinuationToken>([^<]*)</.exec(xml)?.[1]?.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
    if (!/<IsTruncated>true</.test(xml)) return keys;
    if (!token) throw new Error(`${ep.name}: a truncated ListObjectsV2 page without NextContinuationToken`);
  }
}

type Phase = [seconds: number, cpu: CpuDelta];
interface Result {
  putMBs: number;
  getMBs: number;
  smallPutOps: number;
  smallGetOps: number;
  listKeys?: number;
  list?: Phase;
  listDelim?: Phase;
  cpu: { put: CpuDelta; get: CpuDelta; sput: CpuDelta; sget: CpuDelta };
  /** CPU seconds of each other process measured alongside (a cluster's storage peers), by phase. */
  others?: { put: number[]; get: number[]; sput: number[]; sget: number[] };
}

/**
 * The phases against one endpoint (requests spread round-robin over `spread`, default just `ep`); with its `pid`, the server's CPU by thread role as well,
 * and with `others` (a cluster's storage peers) the CPU of each of those processes.
 */
async function measure(ep: Endpoint, bucket: string, spread: Endpoint[] = [ep], others: number[] = []): Promise<Result> {
  const at = (i: number) => spread[i % spread.length]!;
  const roles = ep.pid ? new ThreadRoles(ep.pid) : undefined;
  roles?.observe(); // the threads of a server that is ready and has served nothing yet
  const otherCpu: number[][] = [];
  const phase = async (n: number, conc: number, fn: (i: number) => Promise<unknown>): Promise<Phase> => {
    const before = snapshot(roles);
    const othersBefore = others.map(processCpu);
    const s = await timed(n, conc, fn);
    otherCpu.push(others.map((pid, i) => processCpu(pid) - othersBefore[i]!));
    return [s, cpuDelta(before, snapshot(roles), roles)];
  };
  const big = randomBytes(SIZE);
  const small = randomBytes(4096);
  await send(ep, 'PUT', `/${bucket}`).catch(() => 0);
  await send(ep, 'PUT', `/${bucket}/warm`, big);
  const [put, putCpu] = await phase(COUNT, CONC, (i) => send(at(i), 'PUT', `/${bucket}/big-${i}`, big));
  const [get, getCpu] = await phase(COUNT, CONC, (i) => send(at(i + 1), 'GET', `/${bucket}/big-${i}`, undefined, { size: String(SIZE) }));
  const [sput, sputCpu] = await phase(SMALL, SMALL_CONC, (i) => send(at(i), 'PUT', `/${bucket}/small-${i}`, small));
  const [sget, sgetCpu] = await phase(SMALL, SMALL_CONC, (i) => send(at(i + 1), 'GET', `/${bucket}/small-${i}`, undefined, { size: '4096' }));
  const mb = (SIZE * COUNT) / 1e6;
  const r: Result = { putMBs: mb / put, getMBs: mb / get, smallPutOps: SMALL / sput, smallGetOps: SMALL / sget, cpu: { put: putCpu, get: getCpu, sput: sputCpu, sget: sgetCpu } };
  if (others.length > 0) r.others = { put: otherCpu[0]!, get: otherCpu[1]!, sput: otherCpu[2]!, sget: otherCpu[3]! };
  if (LIST > 0 && ep.lists) {
    const empty = Buffer.alloc(0);
    const t0 = performance.now();
    await timed(LIST, SMALL_CONC, (i) => send(ep, 'PUT', `/${bucket}/list/${String(i).padStart(7, '0')}`, empty));
    console.log(`${ep.name}: ${LIST} keys to list written in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    let seen = 0;
    r.list = await phase(1, 1, async () => (seen = await listAll(ep, bucket, 'list/')));
    r.listDelim = await phase(1, 1, () => listAll(ep, bucket, 'list/', '/'));
    r.listKeys = seen;
    if (seen !== LIST) throw new Error(`${ep.name}: listed ${seen} keys, ${LIST} were written`);
  }
  return r;
}

/** The one table: every endpoint side by side, the floor and the ratios against issue 19's targets. */
function table(runs: [Endpoint, Result][], floor: Floor, rss: Map<string, number>): string[] {
  const gib = (SIZE * COUNT) / 2 ** 30;
  const cols = [...runs.map(([e]) => e.name), 'work floor'];
  const lines: string[] = [];
  const w = 13;
  const row = (label: string, cells: string[]) => lines.push(label.padEnd(26) + cells.map((c) => c.padStart(w)).join(''));
  const srv = (d: CpuDelta) => d.server?.total;
  const fmt = (v: number | undefined, digits = 0) => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));
  row('', cols);
  row('PUT MB/s', [...runs.map(([, r]) => fmt(r.putMBs)), '']);
  row('GET MB/s', [...runs.map(([, r]) => fmt(r.getMBs)), '']);
  row('PUT server CPU s/GiB', [...runs.map(([, r]) => fmt(srv(r.cpu.put)! / gib, 2)), floor.put.toFixed(2)]);
  row('GET server CPU s/GiB', [...runs.map(([, r]) => fmt(srv(r.cpu.get)! / gib, 2)), floor.get.toFixed(2)]);
  row('4 KiB PUT ops/s', [...runs.map(([, r]) => fmt(r.smallPutOps)), '']);
  row('4 KiB GET ops/s', [...runs.map(([, r]) => fmt(r.smallGetOps)), '']);
  row('4 KiB PUT CPU ms/request', [...runs.map(([, r]) => fmt((srv(r.cpu.sput)! / SMALL) * 1000, 3)), '']);
  row('4 KiB GET CPU ms/request', [...runs.map(([, r]) => fmt((srv(r.cpu.sget)! / SMALL) * 1000, 3)), '']);
  const kps = (r: Result, p?: Phase) => (p && r.listKeys ? r.listKeys / p[0] : undefined);
  row(`LIST keys/s (${LIST} keys)`, [...runs.map(([, r]) => fmt(kps(r, r.list))), '']);
  row('LIST keys/s, delimiter /', [...runs.map(([, r]) => fmt(kps(r, r.listDelim))), '']);
  row('LIST CPU ms/page', [...runs.map(([, r]) => fmt(r.list && r.listKeys ? (srv(r.list[1])! / (r.listKeys / 1000)) * 1000 : undefined, 1)), '']);
  row('peak RSS MiB', [...runs.map(([e]) => fmt(rss.get(e.name))), '']);
  const get = (name: string) => runs.find(([e]) => e.name === name)?.[1];
  const nul = get('null endpoint');
  const s3r = get('s3rver');
  const check = (label: string, v: number | undefined, target: string, ok: (v: number) => boolean) =>
    lines.push(`${label.padEnd(44)} ${v === undefined ? '-' : v.toFixed(2).padStart(6)}  target ${target}  ${v === undefined ? '' : ok(v) ? 'met' : 'NOT met'}`);
  for (const [ep, dm] of runs.filter(([e]) => e.name !== 'null endpoint' && e.name !== 's3rver')) {
    lines.push(`ratios (${ep.name}):`);
    check('  PUT CPU s/GiB / work floor', srv(dm.cpu.put) !== undefined ? srv(dm.cpu.put)! / gib / floor.put : undefined, '<= 1.3', (v) => v <= 1.3);
    check('  PUT MB/s / s3rver', s3r && dm.putMBs / s3r.putMBs, '>= 1.0', (v) => v >= 1);
    check('  GET MB/s / null endpoint', nul && dm.getMBs / nul.getMBs, '>= 0.9', (v) => v >= 0.9);
    check('  GET CPU s/GiB / work floor', srv(dm.cpu.get) !== undefined ? srv(dm.cpu.get)! / gib / floor.get : undefined, '(none)', () => true);
    check('  4 KiB PUT ops/s / s3rver', s3r && dm.smallPutOps / s3r.smallPutOps, '>= 2', (v) => v >= 2);
    check('  4 KiB GET ops/s / s3rver', s3r && dm.smallGetOps / s3r.smallGetOps, '>= 2', (v) => v >= 2);
    check('  LIST keys/s / 100,000', kps(dm, dm.list) && kps(dm, dm.list)! / 1e5, '>= 1', (v) => v >= 1);
    check('  LIST keys/s with delimiter / 100,000', kps(dm, dm.listDelim) && kps(dm, dm.listDelim)! / 1e5, '>= 1', (v) => v >= 1);
  }
  lines.push(`work floor PUT: ${formatSteps(floor.putSteps)}`);
  lines.push(`work floor GET: ${formatSteps(floor.getSteps)}`);
  return lines;
}

/** CPU seconds per GiB of the large-object phases and milliseconds per request of the 4 KiB ones, by thread role. */
function cpuLines(runs: [string, Result][]): string[] {
  const gib = (SIZE * COUNT) / 2 ** 30;
  const phases = [
    ['CPU s/GiB PUT  ', 'put', gib, 2],
    ['CPU s/GiB GET  ', 'get', gib, 2],
    ['CPU ms/req 4KiB PUT', 'sput', SMALL / 1000, 3],
    ['CPU ms/req 4KiB GET', 'sget', SMALL / 1000, 3],
  ] as const;
  return phases.flatMap(([label, key, per, digits]) =>
    runs.flatMap(([name, v]) => {
      const line = `${label.padEnd(19)} ${formatCpu(name, v.cpu[key], per, digits)}`;
      const others = v.others?.[key];
      if (!others) return [line];
      const f = (s: number) => (s / per).toFixed(digits);
      const sum = others.reduce((a, b) => a + b, 0);
      return [line, `${''.padEnd(19)} storage peers ${f(sum)} (max ${f(Math.max(...others))}; ${others.map((c, i) => `peer ${i + 1} ${f(c)}`).join(', ')})`];
    }),
  );
}

function start(cmd: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  return new Promise((ok, fail) => {
    const p = spawn(process.execPath, cmd, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const on = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) ok(p);
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.on('exit', (code) => fail(new Error(`exited ${code}: ${out}`)));
  });
}

interface RepairRun {
  name: string;
  shards: number;
  bytes: number;
  /** The gateway's own figure (admin mesh repair.lastThroughputMBs): shard bytes over the round's time. */
  mbs: number;
  /** From the SIGKILL to the queue being empty, detection and the 2 s --repair-after included. */
  seconds: number;
  /** CPU seconds of every cluster process (gateway and surviving peers) from the kill to the end. */
  cpuSeconds: number;
  /** Of which the gateway's. */
  gatewayCpuSeconds: number;
  /** What admin mesh showed while the round ran: the largest segmentsToRepair, and the last progress seen. */
  progress: { segmentsToRepair: number; segmentsDone: number; bytesRebuilt: number; samples: number };
}

/**
 * A gateway and `nodes` storage peers running the datamesh of the checkout `root` (startCluster's
 * `root`, as the --old cluster of the main run; '.' is this one), loaded as measure() loads one (a warm-up and COUNT objects of
 * SIZE), then one storage peer SIGKILLed and the repair timed (repairAfterKill).
 */
async function measureRepair(root: string, name: string, nodes: number, dataDir: string, procs: ChildProcess[]): Promise<RepairRun> {
  const env = { DATAMESH_ROOT_ACCESS_KEY: creds.accessKeyId, DATAMESH_ROOT_SECRET_KEY: creds.secretAccessKey };
  const cluster = await startCluster({ nodes, dataDir, basePort: await freePortRange(nodes + 2), ec: flag('ec', '4+2'), repairAfter: '2s', env, ...(root !== '.' ? { root } : {}) });
  procs.push(...cluster.procs);
  try {
    await peersUp({ url: cluster.endpoint }, nodes);
    const ep: Endpoint = { name, base: cluster.endpoint, creds, lists: false };
    const big = randomBytes(SIZE);
    await send(ep, 'PUT', '/repair');
    await timed(COUNT + 1, CONC, (i) => send(ep, 'PUT', `/repair/big-${i}`, big));
    return await repairAfterKill(name, cluster, nodes);
  } finally {
    await cluster.stop();
  }
}

async function peersUp(admin: { url: string }, nodes: number): Promise<void> {
  for (let i = 0; (JSON.parse((await runAdminCli(admin, 'mesh', '--json')).out) as MeshView).peers.filter((p) => !p.self && p.state === 'up').length < nodes; i++) {
    if (i > 120) throw new Error('the storage peers did not all come up within 60 s');
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** SIGKILLs the first storage peer and waits for the gateway to have rebuilt its shards, watching admin mesh. */
async function repairAfterKill(name: string, cluster: Awaited<ReturnType<typeof startCluster>>, nodes: number): Promise<RepairRun> {
  const admin = { url: cluster.endpoint };
  const meshView = async () => JSON.parse((await runAdminCli(admin, 'mesh', '--json')).out) as MeshView;
  const victim = cluster.members.find((m) => m.role === 'storage')!;
  const others = cluster.members.filter((m) => m !== victim).map((m) => m.pid);
  const cpu = () => others.reduce((t, pid) => t + processCpu(pid), 0);
  const gatewayPid = cluster.members.find((m) => m.role === 'gateway')!.pid;
  const gw0 = processCpu(gatewayPid);
  const progress = { segmentsToRepair: 0, segmentsDone: 0, bytesRebuilt: 0, samples: 0 };
  const t0 = performance.now();
  const cpu0 = cpu();
  process.kill(victim.pid, 'SIGKILL');
  for (;;) {
    const view = await meshView();
    const p = view.repair.progress;
    if (p) {
      if (p.segmentsDone > p.segmentsToRepair) throw new Error(`${name}: admin mesh shows ${p.segmentsDone} of ${p.segmentsToRepair} segments repaired`);
      Object.assign(progress, { segmentsToRepair: Math.max(progress.segmentsToRepair, p.segmentsToRepair), segmentsDone: p.segmentsDone, bytesRebuilt: p.bytesRebuilt, samples: progress.samples + 1 });
    }
    if (view.repair.shardsRebuilt > 0 && view.repair.queue === 0 && !view.repair.running) {
      // the gateway's own account of its rounds (seconds, and where the time went when it says)
      const gateway = cluster.members.find((m) => m.role === 'gateway')!;
      for (const line of readFileSync(`${gateway.dataDir}.log`, 'utf8').split('\n').filter((l) => l.includes('repair: rebuilt'))) {
        const { seconds, shardsRebuilt, ms } = JSON.parse(line) as { seconds: number; shardsRebuilt: number; ms?: object };
        console.log(`  ${name}: round of ${shardsRebuilt} shards in ${seconds.toFixed(1)} s${ms ? `, summed over segments (ms): ${JSON.stringify(ms)}` : ''}`);
      }
      return { name, shards: view.repair.shardsRebuilt, bytes: view.repair.bytesRebuilt, mbs: view.repair.lastThroughputMBs ?? 0, seconds: (performance.now() - t0) / 1000, cpuSeconds: cpu() - cpu0, gatewayCpuSeconds: processCpu(gatewayPid) - gw0, progress };
    }
    if (performance.now() - t0 > 300_000) throw new Error(`${name}: repair did not finish within 5 minutes (${nodes} storage peers)`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function repairLines(runs: RepairRun[]): string[] {
  const lines = runs.map(
    (r) =>
      `repair (${r.name}): ${r.shards} shards (${(r.bytes / 1e6).toFixed(0)} MB) of the killed peer rebuilt at ${r.mbs.toFixed(1)} MB/s; ` +
      `${r.seconds.toFixed(1)} s from the kill, including the 2 s repair window and detection; cluster CPU ${(r.cpuSeconds / (r.bytes / 2 ** 30)).toFixed(1)} s/GiB rebuilt (gateway ${(r.gatewayCpuSeconds / (r.bytes / 2 ** 30)).toFixed(1)}); ` +
      `admin mesh progress seen ${r.progress.samples} times, last ${r.progress.segmentsDone}/${r.progress.segmentsToRepair} segments, ${(r.progress.bytesRebuilt / 1e6).toFixed(0)} MB`,
  );
  const [a, b] = runs;
  if (runs.length === 2 && a!.mbs > 0) lines.push(`repair ${b!.name} vs ${a!.name}: MB/s x${(b!.mbs / a!.mbs).toFixed(2)}, CPU s/GiB x${(b!.cpuSeconds / b!.bytes / (a!.cpuSeconds / a!.bytes)).toFixed(2)} (gateway x${(b!.gatewayCpuSeconds / b!.bytes / (a!.gatewayCpuSeconds / a!.bytes)).toFixed(2)}); target >= 30 MB/s`);
  return lines;
}

const peakRss = (pid: number): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

async function main() {
  const endpoint = flags.get('endpoint')?.at(-1);
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-bench-'));
  try {
    if (flags.has('repair-only')) {
      // only the repair rate after a storage peer dies, of this checkout (and of --old DIR), side by side
      const nodes = Number(flags.get('cluster')?.at(-1) ?? 6);
      const old = flags.get('old')?.at(-1);
      const runs = [...(old ? [await measureRepair(old, 'datamesh old', nodes, join(dir, 'cluster-old'), procs)] : []), await measureRepair('.', 'datamesh', nodes, join(dir, 'cluster'), procs)];
      for (const line of repairLines(runs)) console.log(line);
      return;
    }
    const port = 19000 + Math.floor(Math.random() * 500);
    const nullProc = await start(['--import', 'tsx', 'scripts/null-endpoint.ts', String(port + 1)], {}, /null endpoint on/);
    procs.push(nullProc);
    const eps: Endpoint[] = [{ name: 'null endpoint', base: `http://127.0.0.1:${port + 1}`, creds, pid: nullProc.pid!, lists: false }];
    if (!flags.has('no-s3rver')) {
      const bin = join(createRequire(import.meta.url).resolve('s3rver'), '../../bin/s3rver.js');
      const s3rver = await start([bin, '-d', join(dir, 's3rver'), '-p', String(port + 2), '--silent', '--allow-mismatched-signatures', '--no-vhost-buckets'], {}, /S3rver listening/);
      procs.push(s3rver);
      eps.push({ name: 's3rver', base: `http://127.0.0.1:${port + 2}`, creds: S3RVER, pid: s3rver.pid!, lists: flags.has('list-s3rver') });
    }
    const serve = async (name: string, root: string, at: number) => {
      const server = await start(
        [join(root, 'src/server/cli/datamesh.mjs'), 'serve', '--listen', `127.0.0.1:${at}`, '--data', join(dir, name.replace(/\W+/g, '-')), '--log-level', 'info', ...(flags.get('ec') ? ['--ec', flag('ec', '4+2')] : []), ...(flags.get('fsync') ? ['--fsync', flag('fsync', 'true')] : [])],
        { DATAMESH_ROOT_ACCESS_KEY: creds.accessKeyId, DATAMESH_ROOT_SECRET_KEY: creds.secretAccessKey },
        /serving S3|"msg":"datamesh serving/,
      ).catch(async () => {
        throw new Error(`${name} did not start`);
      });
      procs.push(server);
      eps.push({ name, base: `http://127.0.0.1:${at}`, creds, pid: server.pid!, lists: true });
    };
    const old = flags.get('old')?.at(-1);
    if (old) await serve('datamesh old', old, port + 3);
    if (endpoint) eps.push({ name: 'datamesh', base: endpoint, creds, lists: true });
    else await serve('datamesh', '.', port);
    await new Promise((r) => setTimeout(r, 300));
    const runs: [Endpoint, Result][] = [];
    const rss = new Map<string, number>();
    for (const ep of eps) {
      runs.push([ep, await measure(ep, ep.name === 's3rver' ? 's3rver-bench' : 'bench')]);
      if (ep.pid) rss.set(ep.name, peakRss(ep.pid) / 1048576);
    }
    const [k, m] = flag('ec', '4+2').split('+').map(Number);
    const floor = await measureFloor(Math.max(SIZE * COUNT, 256 << 20), { k: k!, m: m!, dir });
    console.log(`objects: ${COUNT} x ${SIZE} bytes at concurrency ${CONC}; ${SMALL} x 4 KiB at concurrency ${SMALL_CONC}; LIST over ${LIST} keys, pages of 1000`);
    for (const line of table(runs, floor, rss)) console.log(line);
    for (const line of cpuLines(runs.map(([e, r]) => [e.name, r]))) console.log(line);

    const nodes = flags.get('cluster')?.at(-1);
    const repairs: RepairRun[] = [];
    if (nodes) {
      // The same client against a gateway and N storage peers on loopback, then the repair rate.
      const env = { DATAMESH_ROOT_ACCESS_KEY: creds.accessKeyId, DATAMESH_ROOT_SECRET_KEY: creds.secretAccessKey };
      // With --old, the other checkout's cluster first, on the same load, then this one's.
      const clusterRun = async (name: string, root?: string) => {
        const cluster = await startCluster({
          nodes: Number(nodes), dataDir: join(dir, name.replace(/\W+/g, '-')), basePort: await freePortRange(Number(nodes) + 2), ec: flag('ec', '4+2'), repairAfter: '2s', env, ...(root ? { root } : {}),
        });
        procs.push(...cluster.procs);
        await peersUp({ url: cluster.endpoint }, Number(nodes));
        const gw = cluster.procs[cluster.procs.length - 1]!;
        const ep: Endpoint = { name, base: cluster.endpoint, creds, pid: gw.pid!, lists: false };
        const peerPids = cluster.members.filter((m) => m.role === 'storage').map((m) => m.pid);
        const result = await measure(ep, 'bench', [ep], peerPids);
        rss.set(ep.name, peakRss(gw.pid!) / 1048576);
        return { cluster, run: [ep, result] as [Endpoint, Result] };
      };
      const clusters: { run: [Endpoint, Result]; single: string }[] = [];
      if (old) {
        const before = await clusterRun(`cluster old 1+${nodes}`, old);
        clusters.push({ run: before.run, single: 'datamesh old' });
        repairs.push(await repairAfterKill('datamesh old', before.cluster, Number(nodes)));
        await before.cluster.stop();
      }
      const { cluster, run } = await clusterRun(`cluster 1+${nodes}`);
      clusters.push({ run, single: 'datamesh' });
      for (const line of table([...runs.filter(([e]) => e.name !== 'datamesh' && e.name !== 'datamesh old'), ...clusters.map((c) => c.run)], floor, rss)) console.log(line);
      for (const line of cpuLines(clusters.map(({ run: [e, r] }) => [e.name, r]))) console.log(line);
      for (const { run: [ep, cl], single: singleName } of clusters) {
        const single = runs.find(([e]) => e.name === singleName)?.[1];
        if (!single) continue;
        const ratio = (label: string, v: number, target: number) => console.log(`${label.padEnd(44)} ${v.toFixed(2).padStart(6)}  target >= ${target}  ${v >= target ? 'met' : 'NOT met'}`);
        ratio(`${ep.name} PUT MB/s / ${singleName}`, cl.putMBs / single.putMBs, 0.5);
        ratio(`${ep.name} GET MB/s / ${singleName}`, cl.getMBs / single.getMBs, 0.6);
      }
      repairs.push(await repairAfterKill('datamesh', cluster, Number(nodes)));
      await cluster.stop();
      for (const line of repairLines(repairs)) console.log(line);
    }

    const gateways = Number(flags.get('gateways')?.at(-1) ?? 0);
    if (gateways > 1) {
      // N gateways over one PostgreSQL catalog and the same peers: 1 gateway, then all of them.
      const { startPgServer } = await import('../src/core/sql/testing/pg-server.ts');
      const pg = await startPgServer();
      try {
        const peers = Number(nodes ?? 6);
        const env = { DATAMESH_ROOT_ACCESS_KEY: creds.accessKeyId, DATAMESH_ROOT_SECRET_KEY: creds.secretAccessKey };
        const multi = await startCluster({
          nodes: peers, gateways, catalog: pg.url, dataDir: join(dir, 'gateways'), basePort: await freePortRange(peers + 2 * gateways + 2), ec: flag('ec', '4+2'), env,
        });
        procs.push(...multi.procs);
        for (const url of multi.endpoints) {
          for (let i = 0; (JSON.parse((await runAdminCli({ url }, 'mesh', '--json')).out) as MeshView).peers.filter((p) => !p.self && p.state === 'up').length < peers; i++) {
            if (i > 240) throw new Error('the storage peers did not all come up within 120 s');
            await new Promise((r) => setTimeout(r, 500));
          }
        }
        const eps: Endpoint[] = multi.endpoints.map((base, i) => ({ name: `gateway ${i + 1}`, base, creds, lists: false }));
        const one = await measure({ ...eps[0]!, name: '1 gateway' }, 'bench-1');
        const all = await measure({ ...eps[0]!, name: `${gateways} gateways` }, 'bench-n', eps);
        console.log(`PostgreSQL catalog, ${peers} storage peers:`);
        for (const line of table([[{ ...eps[0]!, name: '1 gateway' }, one], [{ ...eps[0]!, name: `${gateways} gateways` }, all]], floor, rss)) console.log(line);
        console.log(
          `${gateways} vs 1         PUT x${(all.putMBs / one.putMBs).toFixed(2)}   GET x${(all.getMBs / one.getMBs).toFixed(2)}   4KiB PUT x${(all.smallPutOps / one.smallPutOps).toFixed(2)}   4KiB GET x${(all.smallGetOps / one.smallGetOps).toFixed(2)}`,
        );
        for (const line of cpuLines([['1 gateway (machine)', one], [`${gateways} gateways (machine)`, all]])) console.log(line);
        await multi.stop();
      } finally {
        pg.stop();
      }
    }
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench: ${(e as Error).message}`);
  process.exit(1);
});
