/**
 * The shard transfer alone: this process is a gateway mesh node, N storage peers run as child
 * processes (real `createMeshNode`s on loopback, same swarm key, same admission), and the gateway
 * puts then gets COUNT shards of SIZE bytes spread over the peers at CONCURRENCY. Prints MB/s and
 * the CPU seconds per GiB of shards of the gateway and of every peer (from /proc), so a change to
 * the transport, the muxer or the framing is measured without S3, the codec or the catalog around it.
 *
 *   npx tsx scripts/bench-mesh.ts [--peers 3] [--size 1MiB] [--count 256] [--concurrency 16] [--threads] [--fsync]
 *   --threads: each peer's CPU by thread role as well (main, codec workers, fs threads, GC).
 *   --cpu-prof DIR: the peers write CPU profiles into DIR (run this one with node --cpu-prof --import tsx).
 */
import '../src/core/polyfill.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseArgs, parseSize } from '../src/server/config.ts';
import { shardId } from '../src/codec/cid.ts';
import { LocalShardStore } from '../mesh/local-shards.ts';
import { createMeshNode } from '../mesh/node.ts';
import { generateSwarmKey } from '../mesh/swarm-key.ts';
import { cpuDelta, formatCpu, processCpu, snapshot, ThreadRoles } from './proc-cpu.ts';

const { flags } = parseArgs(process.argv.slice(2));
const flag = (n: string, d: string) => flags.get(n)?.at(-1) ?? d;

/** A storage peer: serves until killed; prints its peer id and addresses as one JSON line. */
async function peer(): Promise<void> {
  const dir = flag('peer', '');
  const node = await createMeshNode({
    dataDir: dir,
    role: 'storage',
    swarmKey: Buffer.from(flag('swarm-key', ''), 'hex'),
    admitPeers: { mode: 'auto' },
    shards: new LocalShardStore(join(dir, 'shards'), { fsync: flags.has('fsync') }),
  });
  process.stdout.write(JSON.stringify({ peerId: node.peerId, multiaddrs: node.multiaddrs }) + '\n');
  process.on('SIGTERM', () => void node.stop().then(() => process.exit(0)));
}

const selfCpu = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function startPeer(dir: string, swarmKey: Uint8Array): Promise<{ proc: ChildProcess; peerId: string; multiaddrs: string[] }> {
  return new Promise((ok, no) => {
    const prof = flags.get('cpu-prof')?.at(-1);
    const proc = spawn(process.execPath, [...(prof ? ['--cpu-prof', '--cpu-prof-dir', prof] : []), '--import', 'tsx', fileURLToPath(import.meta.url), '--peer', dir, '--swarm-key', Buffer.from(swarmKey).toString('hex')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) ok({ proc, ...(JSON.parse(line) as { peerId: string; multiaddrs: string[] }) });
    });
    proc.on('exit', (code) => no(new Error(`peer exited with ${code}`)));
  });
}

async function main(): Promise<void> {
  const peers = Number(flag('peers', '3'));
  const size = parseSize(flag('size', '1MiB'));
  const count = Number(flag('count', '256'));
  const conc = Number(flag('concurrency', '16'));
  const root = mkdtempSync(join(tmpdir(), 'datamesh-bench-mesh-'));
  const swarmKey = generateSwarmKey();
  const started = await Promise.all(Array.from({ length: peers }, (_, i) => startPeer(join(root, `peer-${i}`), swarmKey)));
  const gw = await createMeshNode({
    dataDir: join(root, 'gateway'),
    role: 'gateway',
    storesLocally: false,
    swarmKey,
    admitPeers: { mode: 'auto' },
    bootstrap: started.flatMap((p) => p.multiaddrs),
    shards: new LocalShardStore(join(root, 'gateway', 'shards'), { fsync: false }),
  });
  try {
    const ids = started.map((p) => p.peerId);
    for (let i = 0; ; i++) {
      await gw.probeAll();
      if (ids.every((id) => gw.peers().some((p) => p.id === id && p.state === 'up'))) break;
      if (i > 100) throw new Error('the peers did not come up');
      await new Promise((r) => setTimeout(r, 100));
    }
    const shards = Array.from({ length: count }, () => {
      const bytes = new Uint8Array(randomBytes(size));
      return { bytes, id: shardId(bytes) };
    });
    const gib = (size * count) / 2 ** 30;
    const roles = started.map((p) => new ThreadRoles(p.proc.pid!));
    for (const r of roles) r.observe();
    const phase = async (name: string, fn: (i: number) => Promise<unknown>) => {
      const before = [selfCpu(), ...started.map((p) => processCpu(p.proc.pid!))];
      const snaps = roles.map((r) => snapshot(r));
      const t0 = performance.now();
      const mono0 = process.hrtime.bigint() / 1000n;
      let next = 0;
      await Promise.all(Array.from({ length: conc }, async () => { while (next < count) { const i = next++; await fn(i); } }));
      const s = (performance.now() - t0) / 1000;
      if (flags.has('cpu-prof')) console.log(`${name}: monotonic µs ${mono0} to ${process.hrtime.bigint() / 1000n} (to cut the profiles)`);
      const after = [selfCpu(), ...started.map((p) => processCpu(p.proc.pid!))];
      const cpu = after.map((a, i) => (a - before[i]!) / gib);
      if (flags.has('threads')) roles.forEach((r, i) => console.log('  ' + formatCpu(`peer ${i + 1}`, cpuDelta(snaps[i]!, snapshot(r), r), gib, 2)));
      const peerCpu = cpu.slice(1);
      console.log(
        `${name.padEnd(4)} ${((size * count) / 1e6 / s).toFixed(0).padStart(5)} MB/s  CPU s/GiB: gateway ${cpu[0]!.toFixed(2)}  peers sum ${peerCpu.reduce((a, b) => a + b, 0).toFixed(2)} (max ${Math.max(...peerCpu).toFixed(2)})`,
      );
    };
    await phase('put', (i) => gw.network.put(ids[i % peers]!, shards[i]!.id, shards[i]!.bytes));
    await phase('get', async (i) => {
      const got = await gw.network.get(ids[i % peers]!, shards[i]!.id);
      if (got?.byteLength !== size) throw new Error(`shard ${i} came back wrong`);
    });
  } finally {
    await gw.stop();
    await Promise.all(started.map((p) => new Promise((r) => { p.proc.once('exit', r); p.proc.kill('SIGTERM'); })));
    if (!flags.has('keep')) rmSync(root, { recursive: true, force: true });
    else console.log(`kept ${root}`);
  }
}

if (flags.has('peer')) void peer();
else main().then(() => process.exit(0), (e: Error) => { console.error(`bench-mesh: ${e.stack}`); process.exit(1); });
