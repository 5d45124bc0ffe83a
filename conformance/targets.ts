/**
 * The deployments the suite runs against. Every client suite runs once per target; results and the
 * table are keyed by target name.
 *
 * The local cluster (scripts/cluster.ts: a gateway and 6 storage peers, 4+2) runs by default next
 * to the single node: `npm run conformance -- --target cluster` runs it alone.
 * Another deployment is one more entry: a start() that returns a RunningTarget (harness/types.ts).
 */
import { join } from 'node:path';
import { startClusterTarget } from './harness/cluster.ts';
import { startNode } from './harness/server.ts';
import type { RunningTarget } from './harness/types.ts';

/** The base domain for virtual-hosted-style requests; clients resolve *.DOMAIN to 127.0.0.1 themselves (no DNS needed). */
export const VHOST_DOMAIN = 's3.localtest';

export interface Target {
  name: string;
  /** Part of a plain `npm run conformance`; the others run only when named with --target. */
  byDefault: boolean;
  start(): Promise<RunningTarget>;
}

export function targets(logDir: string): Target[] {
  return [
    {
      name: 'single-node',
      byDefault: true,
      start: () => startNode({ name: 'single-node', domain: VHOST_DOMAIN, logFile: join(logDir, 'conformance-single-node.log') }),
    },
    {
      name: 'cluster',
      byDefault: true,
      start: () => startClusterTarget({ name: 'cluster', nodes: 6, ec: '4+2', domain: VHOST_DOMAIN }),
    },
  ];
}
