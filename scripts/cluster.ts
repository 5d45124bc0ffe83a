/**
 * A local cluster on loopback: one gateway (S3 + shards) and N storage peers, bootstrapped to each
 * other. The gateway's network secret (DIR/gateway/swarm.key) and identity are made first and
 * shared: every peer gets --swarm-key and serves that gateway (--admit-peers GATEWAY_ID), and the
 * gateway admits every peer that holds the secret (--admit-peers auto, unless told otherwise). Writes DIR/cluster.json (role, pid, peer id, multiaddrs, and the gateway's S3 endpoint)
 * and stops them all on Ctrl-C.
 *
 *   npm run cluster -- --nodes 6 --data ./cluster [--base-port 9000] [--ec 4+2] [--repair-after 5s]
 *                      [--gateways 2 --catalog postgres://USER@HOST:PORT/DB]
 *
 * Several gateways (--gateways N) share one catalog (--catalog, PostgreSQL), the master key (the
 * first gateway's DIR/gateway/master.key is copied to DIR/gateway-2/..., as `datamesh key
 * export/import` would) and the swarm key; every storage peer serves all of them. The first gateway
 * starts first (it creates the tables), the others after it. cluster.json lists every endpoint.
 *
 * The gateway takes its root credentials from DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY,
 * as `datamesh serve` does (or generates them into DIR/gateway/root-credentials.json).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, createWriteStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { parseArgs } from '../src/server/config.ts';
import { loadOrCreatePeerKey, peerIdOf } from '../mesh/identity.ts';
import { loadSwarmKey } from '../mesh/swarm-key.ts';
import { loadMasterKey, MASTER_KEY_FILE } from '../src/core/master-key.ts';
import { isPostgresUrl } from '../src/core/db.ts';

const ENTRY = fileURLToPath(new URL('../src/server/cli/datamesh.mjs', import.meta.url));

export interface ClusterMember {
  role: 'gateway' | 'storage';
  pid: number;
  peerId: string;
  multiaddrs: string[];
  dataDir: string;
  endpoint?: string;
}

interface Started {
  proc: ChildProcess;
  info: ClusterMember;
}

/** True when `port` can be bound on loopback right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((ok) => {
    const srv = createServer();
    srv.once('error', () => ok(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)));
  });
}

/**
 * A base port whose next `count` ports are all free, below the kernel's ephemeral range (32768+),
 * where the client connections of a busy test run would otherwise take them between the check and
 * the start (a cluster needs consecutive ports: S3, the gateway's mesh port, one per peer).
 */
export async function freePortRange(count: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - count));
    let free = true;
    for (let p = base; p < base + count && free; p++) free = await portFree(p);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports between 20000 and 32000`);
}

function fail(message: string): never {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(2);
}

/** Starts one datamesh process and resolves once it has logged its peer id (and endpoint). */
function start(args: string[], role: ClusterMember['role'], dataDir: string, env: NodeJS.ProcessEnv, procs: ChildProcess[], entry = ENTRY): Promise<Started> {
  return new Promise((ok, no) => {
    const proc = spawn(process.execPath, [entry, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(proc);
    // every process logs to DIR/<its data folder>.log as well
    const logFile = createWriteStream(`${dataDir}.log`, { flags: 'a' });
    proc.stdout!.pipe(logFile);
    let out = '';
    let info: Partial<ClusterMember> = { role, dataDir, pid: proc.pid! };
    const onLine = (line: string) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (typeof rec.peerId === 'string' && Array.isArray(rec.multiaddrs)) info = { ...info, peerId: rec.peerId, multiaddrs: rec.multiaddrs as string[] };
      if (typeof rec.url === 'string') info.endpoint = rec.url;
      if (info.peerId && (role === 'storage' || info.endpoint)) ok({ proc, info: info as ClusterMember });
    };
    const onData = (d: Buffer) => {
      out += d.toString();
      let i: number;
      while ((i = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, i);
        out = out.slice(i + 1);
        if (process.env.CLUSTER_VERBOSE) process.stderr.write(`[${role} ${proc.pid}] ${line}\n`);
        onLine(line);
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => {
      const text = d.toString();
      if (process.env.CLUSTER_VERBOSE || /Generated root credentials/.test(text)) process.stderr.write(text);
    });
    proc.on('exit', (code) => no(new Error(`${role} (pid ${proc.pid}) exited with ${code} before it was ready: ${out.slice(-2000)}`)));
  });
}

export async function startCluster(opts: {
  nodes: number;
  dataDir: string;
  basePort: number;
  ec?: string;
  repairAfter?: string;
  extra?: string[];
  env?: NodeJS.ProcessEnv;
  /** The gateway's --admit-peers (default auto). */
  admitPeers?: string;
  /** Extra flags of every storage peer. */
  nodeExtra?: string[];
  /** The storage peers' --admit-peers (default: the gateways' peer ids). */
  nodeAdmitPeers?: string;
  /** Gateways over one catalog (default 1); more than one needs `catalog`. */
  gateways?: number;
  /** postgres://... shared by every gateway (default: each its own SQLite). */
  catalog?: string;
  /** Run the datamesh of another checkout (e.g. the previous commit, for bench --old). */
  root?: string;
}): Promise<{
  members: ClusterMember[];
  endpoint: string;
  /** Every gateway's S3 endpoint, the first one first. */
  endpoints: string[];
  procs: ChildProcess[];
  stop(): Promise<void>;
  swarmKeyFile: string;
  gatewayId: string;
}> {
  const dir = resolve(opts.dataDir);
  const entry = opts.root ? join(resolve(opts.root), 'src/server/cli/datamesh.mjs') : ENTRY;
  mkdirSync(dir, { recursive: true });
  const gwData = join(dir, 'gateway');
  mkdirSync(gwData, { recursive: true, mode: 0o700 });
  const swarmKeyFile = loadSwarmKey({ dataDir: gwData, create: true }).file!;
  const gatewayId = peerIdOf(await loadOrCreatePeerKey(gwData));
  const gatewayCount = opts.gateways ?? 1;
  if (gatewayCount > 1 && !opts.catalog) throw new Error(`${gatewayCount} gateways need one shared catalog: add --catalog postgres://USER@HOST:PORT/DB`);
  // The other gateways: their own identity and data folder, the first one's master key.
  loadMasterKey(gwData, {});
  const moreGateways = await Promise.all(
    Array.from({ length: gatewayCount - 1 }, async (_, i) => {
      const data = join(dir, `gateway-${i + 2}`);
      mkdirSync(data, { recursive: true, mode: 0o700 });
      if (!existsSync(join(data, MASTER_KEY_FILE))) copyFileSync(join(gwData, MASTER_KEY_FILE), join(data, MASTER_KEY_FILE));
      chmodSync(join(data, MASTER_KEY_FILE), 0o600);
      const s3Port = opts.basePort + 2 + opts.nodes + 2 * i;
      return { data, s3Port, meshPort: s3Port + 1, id: peerIdOf(await loadOrCreatePeerKey(data)) };
    }),
  );
  const gatewayIds = [gatewayId, ...moreGateways.map((g) => g.id)];
  const catalogFlags = opts.catalog ? ['--catalog', opts.catalog] : [];
  const procs: ChildProcess[] = [];
  const members: ClusterMember[] = [];
  const stop = async () => {
    await Promise.all(
      procs.map(
        (p) =>
          new Promise<void>((ok) => {
            if (p.exitCode !== null || p.signalCode !== null) return ok();
            p.once('exit', () => ok());
            p.kill('SIGTERM');
            setTimeout(() => p.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  };
  try {
    // Every identity is made first, so every address is known: all processes start at once, the
    // storage peers bootstrapped to the gateway and the gateway to them (each re-dials until the
    // others listen).
    const nodeEnv = opts.env ?? {};
    const nodes = await Promise.all(
      Array.from({ length: opts.nodes }, async (_, j) => {
        const data = join(dir, `node-${j + 1}`);
        const port = opts.basePort + 2 + j;
        const id = peerIdOf(await loadOrCreatePeerKey(data));
        return { data, port, addr: `/ip4/127.0.0.1/tcp/${port}/p2p/${id}` };
      }),
    );
    const gatewayAddr = `/ip4/127.0.0.1/tcp/${opts.basePort + 1}/p2p/${gatewayId}`;
    const started = nodes.map((n) =>
      start(
        [
          'node', '--data', n.data, '--listen-mesh', `/ip4/127.0.0.1/tcp/${n.port}`, '--bootstrap', gatewayAddr,
          '--swarm-key', swarmKeyFile, ...(opts.nodeAdmitPeers ? ['--admit-peers', opts.nodeAdmitPeers] : gatewayIds.flatMap((g) => ['--admit-peers', g])),
          '--log-level', 'info', ...(opts.nodeExtra ?? []),
        ],
        'storage',
        n.data,
        nodeEnv,
        procs,
        entry,
      ),
    );
    const gatewayArgs = (data: string, s3Port: number, meshPort: number, more: string[]) => [
      'serve',
      '--listen', `127.0.0.1:${s3Port}`,
      '--data', data,
      '--listen-mesh', `/ip4/127.0.0.1/tcp/${meshPort}`,
      ...more,
      ...nodes.flatMap((n) => ['--bootstrap', n.addr]),
      ...(opts.ec ? ['--ec', opts.ec] : []),
      ...(opts.repairAfter ? ['--repair-after', opts.repairAfter] : []),
      '--admit-peers', opts.admitPeers ?? 'auto',
      '--log-level', 'info',
      ...catalogFlags,
      ...(opts.extra ?? []),
    ];
    const gwStarted = start(gatewayArgs(gwData, opts.basePort, opts.basePort + 1, []), 'gateway', gwData, opts.env ?? {}, procs, entry);
    for (const s of await Promise.all(started)) members.push(s.info);
    const gw = await gwStarted;
    const gateways = [gw.info];
    // The others once the first has made the catalog's tables (migrations are not meant to race).
    for (const g of moreGateways) {
      const more = await start(gatewayArgs(g.data, g.s3Port, g.meshPort, ['--swarm-key', swarmKeyFile]), 'gateway', g.data, opts.env ?? {}, procs, entry);
      gateways.push(more.info);
    }
    members.unshift(...gateways);
    const endpoints = gateways.map((g) => g.endpoint!);
    writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ endpoint: gw.info.endpoint, endpoints, members }, null, 2) + '\n');
    return { members, endpoint: gw.info.endpoint!, endpoints, procs, stop, swarmKeyFile, gatewayId };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  const one = (n: string) => flags.get(n)?.at(-1);
  const known = new Set(['nodes', 'data', 'base-port', 'ec', 'repair-after', 'gateways', 'catalog']);
  for (const f of flags.keys()) {
    if (!known.has(f)) fail(`unknown option --${f}: use --nodes N --data DIR [--base-port P] [--ec K+M] [--repair-after 5s] [--gateways N --catalog postgres://...]`);
  }
  const gateways = Number(one('gateways') ?? 1);
  if (!Number.isInteger(gateways) || gateways < 1 || gateways > 16) fail(`--gateways ${one('gateways')}: give a number of gateways from 1 to 16`);
  const catalog = one('catalog');
  if (catalog !== undefined && !isPostgresUrl(catalog)) fail(`--catalog ${catalog}: use postgres://USER@HOST:PORT/DB (a database every gateway reaches)`);
  if (gateways > 1 && catalog === undefined) fail(`--gateways ${gateways}: several gateways share one catalog; add --catalog postgres://USER@HOST:PORT/DB`);
  const nodes = Number(one('nodes') ?? 6);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 64) fail(`--nodes ${one('nodes')}: give a number of storage peers from 1 to 64`);
  const data = one('data') ?? fail('--data DIR is required: the folder that holds every peer\'s data and cluster.json');
  const basePort = Number(one('base-port') ?? 9000);
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort > 65000 - nodes) fail(`--base-port ${one('base-port')}: use a port from 1024 to ${65000 - nodes}`);
  const cluster = await startCluster({ nodes, dataDir: data, basePort, ec: one('ec'), repairAfter: one('repair-after'), gateways, catalog }).catch((e: Error) =>
    fail(e.message),
  );
  process.stdout.write(
    `datamesh cluster: ${gateways} gateway${gateways > 1 ? 's' : ''} + ${nodes} storage peers\nS3 endpoint${gateways > 1 ? 's' : ''}: ${cluster.endpoints.join(' ')}\ncluster.json: ${join(resolve(data), 'cluster.json')}\nCtrl-C stops them all.\n`,
  );
  let stopping = false;
  const onSignal = () => {
    if (stopping) process.exit(130);
    stopping = true;
    void cluster.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  for (const p of cluster.procs) p.on('exit', (code, signal) => !stopping && process.stderr.write(`cluster: pid ${p.pid} exited (${code ?? signal})\n`));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) void main();
