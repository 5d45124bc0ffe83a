/**
 * The seam between the store and accounts for quotas. The catalog keeps each account's usage
 * (bytes, objects, buckets, bytes reserved by uploads in flight) in the same SQLite transactions
 * that change objects, and asks accounts/ only for the limits. An undefined limit is no limit.
 */
export interface Limits {
  maxStorage?: number;
  maxObjects?: number;
  maxBuckets?: number;
  maxObjectSize?: number;
  /** Open multipart uploads at once (each one's key, metadata and tags count toward maxStorage). */
  maxUploads?: number;
}

export type LimitsLookup = (account: string) => Limits;

export const noLimits: LimitsLookup = () => ({});

export interface Usage {
  /** Bytes of live objects plus, for open multipart uploads, their parts and their key, metadata and tags. */
  bytes: number;
  objects: number;
  buckets: number;
  /** Bytes reserved by uploads in flight, not yet committed. */
  reservedBytes: number;
}
