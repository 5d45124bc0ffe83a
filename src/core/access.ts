/**
 * The classes of a request, declared once: s3/'s dispatch table gives each operation both, the
 * service authorizes by the access class and admits by the request class, accounts/ meters and
 * rate-limits by the request class.
 */

/** How a request is counted and limited: reads and writes move data, listings do not. */
export type RequestClass = 'read' | 'write' | 'list';

/**
 * What a request does to a bucket, for authorization: read, write or list its objects, or
 * `owner`: what only the bucket's owner may ever do (delete it, read its ACLs and configuration).
 */
export type AccessClass = RequestClass | 'owner';

/** What the service tells admission about one request. */
export interface Admission {
  /** The operation's name (S3's, e.g. PutObject). */
  operation: string;
  requestClass: RequestClass;
  /** False for deletes and aborts: they free space, so they stay allowed over a transfer quota. */
  transfersData: boolean;
}

/** The seam between SigV4 and accounts: an access key's secret and account, if the key is active. */
export type SecretLookup = (accessKey: string) => { secret: string; account: string } | undefined;
