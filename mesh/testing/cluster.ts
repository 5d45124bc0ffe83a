/**
 * Test support: real mesh nodes on loopback, each with its own temp directory and shard store.
 * Used by the mesh tests (not by the server).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalShardStore } from '../local-shards.ts';
import { createMeshNode, type MeshNode, type MeshNodeOptions } from '../node.ts';
import { generateSwarmKey } from '../swarm-key.ts';

export interface TestNodeOptions extends Partial<Omit<MeshNodeOptions, 'shards' | 'dataDir' | 'swarmKey'>> {
  /** Default: the test mesh's own key. */
  swarmKey?: Uint8Array;
  dataDir?: string;
  shards?: LocalShardStore;
}

export class TestMesh {
  readonly root = mkdtempSync(join(tmpdir(), 'datamesh-mesh-'));
  readonly nodes: MeshNode[] = [];
  /** The network secret every node of this test mesh shares (unless given another). */
  readonly swarmKey = generateSwarmKey();
  private seq = 0;

  /** A fresh directory under the test root. */
  dir(name = `node-${this.seq++}`): string {
    return join(this.root, name);
  }

  async start(opts: TestNodeOptions = {}): Promise<MeshNode> {
    const dataDir = opts.dataDir ?? this.dir();
    const node = await createMeshNode({
      role: 'storage',
      probeIntervalMs: 200,
      probeTimeoutMs: 2_000,
      downAfterFailures: 3,
      requestTimeoutMs: 5_000,
      redialIntervalMs: 500,
      // Tests of the mesh itself admit every peer that holds the secret; admission has its own tests.
      admitPeers: { mode: 'auto' },
      swarmKey: this.swarmKey,
      ...opts,
      dataDir,
      shards: opts.shards ?? new LocalShardStore(join(dataDir, 'shards'), { fsync: false }),
    });
    this.nodes.push(node);
    return node;
  }

  async stop(node: MeshNode): Promise<void> {
    await node.stop();
    this.nodes.splice(this.nodes.indexOf(node), 1);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.nodes.map((n) => n.stop()));
    this.nodes.length = 0;
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes (then throws `what`). */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
