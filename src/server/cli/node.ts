/**
 * `datamesh node --data DIR --listen-mesh MULTIADDR --bootstrap MULTIADDR... --swarm-key FILE
 *   --admit-peers GATEWAY_ID,... [--capacity 100GiB]`: a storage-only mesh peer. It holds shards for gateways (verifying every id), never sees a key,
 * and prints its peer id and multiaddrs (give them to other processes' --bootstrap).
 */
import { join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { ConfigError, configFromArgs, SETTINGS } from '../config.ts';
import { meshSecret } from '../open-data.ts';
import { parseAdmitPeers } from '../../../mesh/admission.ts';
import { createLogger } from '../../core/log.ts';
import { LocalShardStore } from '../../../mesh/local-shards.ts';
import type { CommandContext } from './types.ts';
import { DataDirLockedError, lockDataDir } from '../data-dir-lock.ts';

export async function nodeCommand({ values, io }: CommandContext, flags: readonly string[]): Promise<number> {
  const config = configFromArgs(values, io.env, SETTINGS.filter((s) => flags.includes(s.flag)));
  const log = createLogger(config.logLevel, config.logFormat);
  const { createMeshNode } = await import('../../../mesh/node.ts');
  const dataDir = resolve(config.data);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // One process per data directory, before the shard store is opened (or migrated). The kernel
  // releases it when this process exits.
  try {
    lockDataDir(dataDir, 'node');
  } catch (e) {
    if (!(e instanceof DataDirLockedError)) throw e;
    io.stderr.write(`datamesh: ${e.message}\n`);
    return 1;
  }
  const swarm = await meshSecret({ dataDir, given: config.swarmKey, create: false });
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
    log,
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
  return 0;
}
