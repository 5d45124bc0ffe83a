/**
 * The local-cluster target: one gateway and N storage peers started by scripts/cluster.ts
 * (startCluster), every process on loopback, data in a temp dir. Opt-in (`--target cluster`) until
 * the cluster launcher is part of the default run.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningTarget } from './types.ts';

function peakRssOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

export async function startClusterTarget(opts: { name: string; nodes: number; ec: string; domain: string }): Promise<RunningTarget> {
  const { startCluster, freePortRange } = await import('../../scripts/cluster.ts');
  const dataDir = mkdtempSync(join(tmpdir(), 'datamesh-conformance-cluster-'));
  const credentials = { accessKeyId: `CONF${randomBytes(8).toString('hex').toUpperCase()}`, secretAccessKey: randomBytes(24).toString('base64url') };
  // The launcher takes consecutive ports from the base: S3, the gateway's mesh port, one per peer.
  const basePort = await freePortRange(opts.nodes + 2);
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  try {
    cluster = await startCluster({
      nodes: opts.nodes,
      dataDir,
      basePort,
      ec: opts.ec,
      extra: ['--domain', opts.domain],
      env: { DATAMESH_ROOT_ACCESS_KEY: credentials.accessKeyId, DATAMESH_ROOT_SECRET_KEY: credentials.secretAccessKey },
    });
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const url = new URL(cluster.endpoint);
  const pids = cluster.members.map((m) => m.pid);
  let peak = 0;
  const sample = () => (peak = Math.max(peak, ...pids.map(peakRssOf)));
  return {
    name: opts.name,
    endpoint: cluster.endpoint.replace(/\/$/, ''),
    port: Number(url.port),
    domain: opts.domain,
    region: 'us-east-1',
    credentials,
    logFile: `${dataDir} (run with CLUSTER_VERBOSE=1 for the nodes' logs)`,
    peakRss: () => sample() || undefined,
    async stop() {
      sample();
      await cluster.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
