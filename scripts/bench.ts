/**
 * End-to-end benchmark: PUT and GET MB/s for large objects and ops/s for 4 KiB objects, against
 * datamesh and, in the same run with the same client, against a null endpoint that does no S3 work
 * (the ceiling of this machine). Prints the ratios, the server's peak RSS and, per phase, the CPU
 * seconds each server (by thread role), the client and the machine spent per GiB (per op for 4 KiB
 * objects), read from /proc by scripts/proc-cpu.ts. Codec figures come from scripts/bench-codec.ts.
 *
 *   npm run bench                       start a fresh single-node server and a null endpoint
 *   npm run bench -- --endpoint URL     measure a running server (root credentials from env)
 *   npm run bench -- --cluster 6       also a gateway + 6 storage peers, and the repair rate after a peer dies
 *   npm run bench -- --gateways 2      also 2 gateways over one PostgreSQL catalog and 6 peers (--cluster N):
 *                                      the same load through 1 gateway, then spread over both
 *   options: --size 64MiB --count 8 --small 2000 --concurrency 1 --ec 4+2 --fsync false
 */
import '../src/core/polyfill.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { request, Agent } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { parseArgs, parseSize } from '../src/server/config.ts';
import { runAdminCli, signRequest, ROOT } from '../src/server/testing/server.ts';
import { freePortRange, startCluster } from './cluster.ts';
import type { MeshView } from '../src/server/open-data.ts';
import { cpuDelta, formatCpu, snapshot, ThreadRoles, type CpuDelta } from './proc-cpu.ts';

const { flags } = parseArgs(process.argv.slice(2));
const flag = (n: string, d: string) => flags.get(n)?.at(-1) ?? d;
const SIZE = parseSize(flag('size', '64MiB'));
const COUNT = Number(flag('count', '6'));
const SMALL = Number(flag('small', '1000'));
const CONC = Number(flag('concurrency', '1'));
const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const creds = {
  accessKeyId: process.env.DATAMESH_ROOT_ACCESS_KEY ?? ROOT.accessKeyId,
  secretAccessKey: process.env.DATAMESH_ROOT_SECRET_KEY ?? ROOT.secretAccessKey,
};

async function send(base: string, method: string, path: string, body?: Buffer, query?: Record<string, string>): Promise<number> {
  const s = await signRequest({ url: base }, { method, path, query, payload: 'UNSIGNED-PAYLOAD', credentials: creds, headers: body ? { 'content-length': String(body.length) } : {} });
  return new Promise((ok, fail) => {
    const req = request(s.url, { method, headers: s.headers, agent }, (res) => {
      let n = 0;
      let text = '';
      res.on('data', (c: Buffer) => {
        n += c.length;
        if (res.statusCode! >= 300 && text.length < 2000) text += c.toString();
      });
      res.on('end', () => (res.statusCode! < 300 ? ok(n) : fail(new Error(`${method} ${path}: HTTP ${res.statusCode} ${/<Message>([^<]*)/.exec(text)?.[1] ?? ''}`))));
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

/** The four phases against `base` (several: requests spread round-robin); with the server's `pid`, its CPU by thread role as well. */
async function measure(bases: string | string[], bucket: string, pid?: number) {
  const list = typeof bases === 'string' ? [bases] : bases;
  const at = (i: number) => list[i % list.length]!;
  const base = list[0]!;
  const roles = pid ? new ThreadRoles(pid) : undefined;
  roles?.observe(); // the threads of a server that is ready and has served nothing yet
  const phase = async (n: number, conc: number, fn: (i: number) => Promise<unknown>): Promise<[number, CpuDelta]> => {
    const before = snapshot(roles);
    const s = await timed(n, conc, fn);
    return [s, cpuDelta(before, snapshot(roles), roles)];
  };
  const big = randomBytes(SIZE);
  const small = randomBytes(4096);
  await send(base, 'PUT', `/${bucket}`).catch(() => 0);
  await send(base, 'PUT', `/${bucket}/warm`, big);
  const [put, putCpu] = await phase(COUNT, CONC, (i) => send(at(i), 'PUT', `/${bucket}/big-${i}`, big));
  const [get, getCpu] = await phase(COUNT, CONC, (i) => send(at(i + 1), 'GET', `/${bucket}/big-${i}`, undefined, { size: String(SIZE) }));
  const [sput, sputCpu] = await phase(SMALL, 8, (i) => send(at(i), 'PUT', `/${bucket}/small-${i}`, small));
  const [sget, sgetCpu] = await phase(SMALL, 8, (i) => send(at(i + 1), 'GET', `/${bucket}/small-${i}`, undefined, { size: '4096' }));
  const mb = (SIZE * COUNT) / 1e6;
  return {
    putMBs: mb / put,
    getMBs: mb / get,
    smallPutOps: SMALL / sput,
    smallGetOps: SMALL / sget,
    cpu: { put: putCpu, get: getCpu, sput: sputCpu, sget: sgetCpu },
  };
}

/** CPU seconds per GiB of the large-object phases and microseconds per op of the 4 KiB ones, the runs side by side. */
function cpuLines(runs: [string, Awaited<ReturnType<typeof measure>>][]): string[] {
  const gib = (SIZE * COUNT) / 2 ** 30;
  const phases = [
    ['CPU s/GiB PUT  ', 'put', gib, 2],
    ['CPU s/GiB GET  ', 'get', gib, 2],
    ['CPU µs/op 4KiB PUT', 'sput', SMALL / 1e6, 0],
    ['CPU µs/op 4KiB GET', 'sget', SMALL / 1e6, 0],
  ] as const;
  return phases.flatMap(([label, key, per, digits]) =>
    runs.map(([name, v]) => `${label.padEnd(18)} ${formatCpu(name, v.cpu[key], per, digits)}`),
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

const peakRss = (pid: number): number => {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

async function main() {
  const endpoint = flags.get('endpoint')?.at(-1);
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-bench-'));
  try {
    const port = 19000 + Math.floor(Math.random() * 500);
    const nullProc = await start(['--import', 'tsx', 'scripts/null-endpoint.ts', String(port + 1)], {}, /null endpoint on/);
    procs.push(nullProc);
    let base = endpoint;
    let server: ChildProcess | undefined;
    if (!base) {
      server = await start(
        ['src/server/cli/datamesh.mjs', 'serve', '--listen', `127.0.0.1:${port}`, '--data', join(dir, 'data'), '--log-level', 'info', ...(flags.get('ec') ? ['--ec', flag('ec', '4+2')] : []), ...(flags.get('fsync') ? ['--fsync', flag('fsync', 'true')] : [])],
        { DATAMESH_ROOT_ACCESS_KEY: creds.accessKeyId, DATAMESH_ROOT_SECRET_KEY: creds.secretAccessKey },
        /serving S3|"msg":"datamesh serving/,
      ).catch(async () => {
        throw new Error('datamesh did not start');
      });
      procs.push(server);
      base = `http://127.0.0.1:${port}`;
      await new Promise((r) => setTimeout(r, 300));
    }
    const ceiling = await measure(`http://127.0.0.1:${port + 1}`, 'null', nullProc.pid);
    const dm = await measure(base, 'bench', server?.pid);
    const row = (name: string, v: typeof dm) =>
      `${name.padEnd(14)} PUT ${v.putMBs.toFixed(0).padStart(6)} MB/s   GET ${v.getMBs.toFixed(0).padStart(6)} MB/s   4KiB PUT ${v.smallPutOps.toFixed(0).padStart(6)} ops/s   4KiB GET ${v.smallGetOps.toFixed(0).padStart(6)} ops/s`;
    const ratio = (v: typeof dm) =>
      `PUT ${((v.putMBs / ceiling.putMBs) * 100).toFixed(0)}% (target >= 60%)   GET ${((v.getMBs / ceiling.getMBs) * 100).toFixed(0)}% (target >= 85%)`;
    console.log(`objects: ${COUNT} x ${SIZE} bytes, concurrency ${CONC}; ${SMALL} x 4 KiB at concurrency 8`);
    console.log(row('null endpoint', ceiling));
    console.log(row('datamesh', dm));
    console.log(`ratio          ${ratio(dm)}`);
    if (server?.pid) console.log(`datamesh peak RSS: ${(peakRss(server.pid) / 1048576).toFixed(0)} MiB`);
    for (const line of cpuLines([['null endpoint', ceiling], ['datamesh', dm]])) console.log(line);

    const nodes = flags.get('cluster')?.at(-1);
    if (nodes) {
      // The same client against a gateway and N storage peers on loopback, then the repair rate.
      const env = { DATAMESH_ROOT_ACCESS_KEY: creds.accessKeyId, DATAMESH_ROOT_SECRET_KEY: creds.secretAccessKey };
      const cluster = await startCluster({ nodes: Number(nodes), dataDir: join(dir, 'cluster'), basePort: await freePortRange(Number(nodes) + 2), ec: flag('ec', '4+2'), repairAfter: '2s', env });
      procs.push(...cluster.procs);
      const admin = { url: cluster.endpoint };
      const meshView = async () => JSON.parse((await runAdminCli(admin, 'mesh', '--json')).out) as MeshView;
      for (let i = 0; (await meshView()).peers.filter((p) => !p.self && p.state === 'up').length < Number(nodes); i++) {
        if (i > 120) throw new Error('the storage peers did not all come up within 60 s');
        await new Promise((r) => setTimeout(r, 500));
      }
      const gw = cluster.procs[cluster.procs.length - 1]!;
      const cl = await measure(cluster.endpoint, 'bench', gw.pid);
      console.log(row(`cluster 1+${nodes}`, cl));
      console.log(`ratio          ${ratio(cl)}`);
      if (gw.pid) console.log(`gateway peak RSS: ${(peakRss(gw.pid) / 1048576).toFixed(0)} MiB`);
      for (const line of cpuLines([['gateway', cl]])) console.log(line);
      const victim = cluster.members.find((m) => m.role === 'storage')!;
      const t0 = performance.now();
      process.kill(victim.pid, 'SIGKILL');
      for (;;) {
        const view = await meshView();
        if (view.repair.shardsRebuilt > 0 && view.repair.queue === 0 && !view.repair.running) {
          console.log(
            `repair: ${view.repair.shardsRebuilt} shards (${(view.repair.bytesRebuilt / 1e6).toFixed(0)} MB) of the killed peer rebuilt at ` +
              `${(view.repair.lastThroughputMBs ?? 0).toFixed(1)} MB/s; ${((performance.now() - t0) / 1000).toFixed(1)} s from the kill, including the 2 s repair window and detection`,
          );
          break;
        }
        if (performance.now() - t0 > 300_000) throw new Error('repair did not finish within 5 minutes');
        await new Promise((r) => setTimeout(r, 500));
      }
      await cluster.stop();
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
        const one = await measure(multi.endpoints[0]!, 'bench-1');
        const all = await measure(multi.endpoints, 'bench-n');
        console.log(`PostgreSQL catalog, ${peers} storage peers:`);
        console.log(row('1 gateway', one));
        console.log(row(`${gateways} gateways`, all));
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
