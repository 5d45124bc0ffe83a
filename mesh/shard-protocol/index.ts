/**
 * The /datamesh/shard/1.0.0 protocol as a libp2p service:
 *   services: { shards: shardProtocol({ host }) }
 * then libp2p.services.shards.request(peerId, { op: 'get', id }, undefined, { signal }).
 */
import { ShardProtocolService, type ShardProtocolComponents, type ShardProtocolInit } from './service.ts';

export { ShardProtocolService } from './service.ts';
export type { ShardProtocolComponents, ShardProtocolInit } from './service.ts';
export { ShardHost, type ShardHostInit } from './host.ts';
export { OwnerIndex } from './owners.ts';
export * from './messages.ts';

export function shardProtocol(init: ShardProtocolInit = {}): (components: ShardProtocolComponents) => ShardProtocolService {
  return (components) => new ShardProtocolService(components, init);
}
