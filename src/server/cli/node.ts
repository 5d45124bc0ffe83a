/**
 * `datamesh node --data DIR --listen-mesh MULTIADDR --bootstrap MULTIADDR... --swarm-key FILE
 *   --admit-peers GATEWAY_ID,... [--capacity 100GiB]`: a storage-only mesh peer. It holds shards for gateways (verifying every id), never sees a key,
 * and prints its peer id and multiaddrs (give them to other processes' --bootstrap).
 */
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config.ts';
import { meshSecret } from '../open-data.ts';
import { parseAdmitPeers } from '../../../mesh/admission.ts';
import { createLogger } from '../../core/log.ts';
import { LocalShardStore } from '../../../mesh/local-shards.ts';
import { createMeshNode } from '../../../mesh/node.ts';

export const NODE_FLAGS = ['data', 'listen-mesh', 'bootstrap', 'capacity', 'log-level', 'fsync', 'swarm-key', 'admit-peers', 'orphan-grace'];

export async function nodeCommand(argv: string[]): Promise<void> {
  const config = loadConfig(argv, process.env, NODE_FLAGS);
  const log = createLogger(config.logLevel);
  const dataDir = resolve(config.data);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const swarm = meshSecret({ dataDir, given: config.swarmKey, create: false });
  const admitPeers = parseAdmitPeers(config.admitPeers);
  if (admitPeers.mode === 'manual')
    throw new ConfigError(
      '--admit-peers: a storage peer serves only the gateways it is told to: give their peer ids (--admit-peers 12D3KooW...,...) or auto (every peer that holds the network secret)',
    );
  const shards = new LocalShardStore(join(dataDir, 'shards'), { fsync: config.fsync });
  if (shards.migrated > 0) log.info({ shards: shards.migrated }, `moved ${shards.migrated} shards to the one-level layout DIR/shards/xx/<id>`);
  const node = await createMeshNode({
    dataDir,
    listen: config.listenMesh.length > 0 ? config.listenMesh : ['/ip4/127.0.0.1/tcp/0'],
    bootstrap: config.bootstrap,
    ...(config.capacity !== undefined ? { capacity: config.capacity } : {}),
    shards,
    role: 'storage',
    swarmKey: swarm.key,
    admitPeers,
    orphanGraceMs: config.orphanGrace,
    log: { debug: (m) => log.debug(m), info: (m) => log.info(m), warn: (m) => log.warn(m) },
  });
  log.info({ peerId: node.peerId, multiaddrs: node.multiaddrs, data: dataDir }, `datamesh storage node ${node.peerId} listening on ${node.multiaddrs.join(' ')}`);
  let signals = 0;
  const stop = (signal: string) => {
    if (++signals > 1) process.exit(130);
    log.info(`${signal}: stopping the storage node (send it again to exit at once)`);
    void node.stop().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
