/**
 * Protocol ids, limits and default timings of the datamesh libp2p mesh. One place, so the
 * services, the node and the tests agree.
 */

/** The shard transfer protocol: put, get, has, delete and stat of content-addressed shards. */
export const SHARD_PROTOCOL = '/datamesh/shard/1.0.0';
/** Our private Kademlia DHT: never the public IPFS one. */
export const KAD_PROTOCOL = '/datamesh/kad/1.0.0';
/** Prefix of the ping and identify protocols, so a datamesh peer is never mistaken for an IPFS node. */
export const PROTOCOL_PREFIX = 'datamesh';

/** The largest shard a peer accepts or serves (above any segment size / k the codec uses). */
export const MAX_SHARD_BYTES = 64 * 1024 * 1024;
/** The largest JSON header of one message. */
export const MAX_HEADER_BYTES = 16 * 1024;
/** The largest length-prefixed message (header + shard bytes). */
export const MAX_MESSAGE_BYTES = MAX_SHARD_BYTES + MAX_HEADER_BYTES + 16;

/**
 * Yamux's first receive window of a stream (its default is 256 KiB): a shard of a 4 MiB segment
 * (1 MiB at 4+2) and its header go out as one frame, without waiting for a window update.
 */
export const STREAM_WINDOW_BYTES = 2 * 1024 * 1024;

/** Signed by the gateway's peer key, with the shard id appended, to delete a shard it stored. */
export const DELETE_SIGNATURE_DOMAIN = 'datamesh-delete:';

/** Default time for one shard request (connect + transfer). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Time a peer gives a remote to send its whole request before aborting the stream. */
export const DEFAULT_INBOUND_TIMEOUT_MS = 60_000;
/** Default liveness probe interval; tests use a few hundred ms. */
export const DEFAULT_PROBE_INTERVAL_MS = 5_000;
/** Consecutive failed probes before a peer is marked down. */
export const DEFAULT_DOWN_AFTER_FAILURES = 3;
/** How often the bootstrap addresses are re-dialled when not connected. */
export const DEFAULT_REDIAL_INTERVAL_MS = 10_000;

/** Shard-protocol streams per connection (libp2p's registrar limit). */
export const MAX_INBOUND_STREAMS = 32;
export const MAX_OUTBOUND_STREAMS = 32;
/** Idle shard-protocol streams a node keeps to one peer, for its next requests. */
export const MAX_IDLE_STREAMS_PER_PEER = 8;
/** Time a shard-protocol stream may wait for its next request before the serving side closes it. */
export const DEFAULT_STREAM_IDLE_MS = 30_000;
/** Inbound shard requests one peer may have in flight, over all its connections. */
export const MAX_INBOUND_STREAMS_PER_PEER = 16;
/**
 * Bytes of inbound shard bodies a node holds at once, all peers together: a request's body is
 * read only once it fits, so the memory that stalled peers can pin is bounded by this.
 */
export const MAX_INBOUND_BYTES = 256 * 1024 * 1024;

/** Catalog head records: each storage peer keeps the newest signed head of every gateway's catalog copy. */
export const CATALOG_HEAD_PROTOCOL = '/datamesh/catalog-head/1.0.0';
/** The largest head record (it names every shard of one catalog snapshot). */
export const MAX_HEAD_BYTES = 4 * 1024 * 1024;
