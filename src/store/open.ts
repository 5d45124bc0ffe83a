/**
 * Builds the data path for this process: the node's identity, its local shard store, the shard
 * network (this node alone, or the libp2p mesh) and the encrypted erasure-coded data store over it.
 */
import { join } from 'node:path';
import type { Config } from '../config.ts';
import type { DB } from '../db.ts';
import type { Logger } from '../log.ts';
import { createEcDataStore } from './ec-data-store.ts';
import type { EcDataStore } from './ec-types.ts';
import { LocalShardStore } from '../../mesh/local-shards.ts';
import { LocalNetwork } from '../../mesh/local-network.ts';
import { parseEc } from '../../mesh/codec/erasure.ts';
import { loadOrCreatePeerKey, peerIdOf } from '../../mesh/identity.ts';
import { ConfigError } from '../config.ts';

export interface OpenedData {
  store: EcDataStore;
  /** This node's peer id: the location of the shards it holds. */
  nodeId: string;
  shards: LocalShardStore;
  close(): Promise<void>;
}

export async function openDataStore(opts: { config: Config; db: DB; masterKey: Buffer; dataDir: string; log: Logger }): Promise<OpenedData> {
  const { config, db, masterKey, dataDir, log } = opts;
  let ec;
  try {
    ec = parseEc(config.ec);
  } catch (e) {
    throw new ConfigError(`--ec ${config.ec}: ${(e as Error).message}`);
  }
  const nodeId = peerIdOf(await loadOrCreatePeerKey(dataDir));
  const shards = new LocalShardStore(join(dataDir, 'shards'), { capacity: config.capacity, fsync: config.fsync });
  const network = new LocalNetwork(nodeId, shards);
  const store = createEcDataStore({
    db,
    network,
    masterKey,
    ec,
    segmentSize: config.segmentSize,
    inlineThreshold: config.inlineThreshold,
    log,
    localShards: shards,
    dataDir,
  });
  const stopScrub = config.scrubInterval > 0 ? store.startBackgroundScrub(config.scrubInterval) : () => {};
  const stopCollector = store.startCollector(config.collectInterval);
  return {
    store,
    nodeId,
    shards,
    async close() {
      stopScrub();
      stopCollector();
      await store.close();
    },
  };
}
