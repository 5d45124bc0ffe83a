/**
 * A bucket's access settings as the decision needs them, read from the store's bucket
 * configuration rows, with S3's defaults where a row is absent. Parsed policies are cached by their
 * text, so a request costs a map lookup, not a JSON parse.
 */
import type { BucketConfigName } from '../../src/core/object-store.ts';
import { cannedAcl, canonicalIdOf, decodeAcl, type Acl } from './acl.ts';
import { NO_PUBLIC_ACCESS_BLOCK, type BucketAccess, type ObjectOwnership, type PublicAccessBlock } from './decide.ts';
import { parsePolicy, type Policy } from './policy.ts';

export interface SettingsSource {
  getBucket(name: string): { owner: string };
  getBucketConfig(bucket: string, name: BucketConfigName): string | undefined;
}

const policyCache = new Map<string, Policy>();
const POLICY_CACHE_MAX = 1000;

/** A bucket's ACL and public access block documents parsed, by their text (the decision only reads them). */
const parsedCache = new Map<string, unknown>();
function cachedParse<T>(text: string, parse: (text: string) => T): T {
  let v = parsedCache.get(text) as T | undefined;
  if (v === undefined) {
    if (parsedCache.size >= POLICY_CACHE_MAX) parsedCache.delete(parsedCache.keys().next().value!);
    parsedCache.set(text, (v = parse(text)));
  }
  return v;
}

function cachedPolicy(text: string, bucket: string): Policy {
  const key = `${bucket}\0${text}`;
  let p = policyCache.get(key);
  if (!p) {
    p = parsePolicy(text, bucket);
    if (policyCache.size >= POLICY_CACHE_MAX) policyCache.delete(policyCache.keys().next().value!);
    policyCache.set(key, p);
  }
  return p;
}

/**
 * Buckets made before access control existed have no rows: they behave as they always did (owner
 * only, ACLs honoured, no public access block). New buckets get AWS's defaults since 2023, written
 * at CreateBucket: BucketOwnerEnforced and a public access block with all four settings on.
 */
export const LEGACY_OWNERSHIP: ObjectOwnership = 'ObjectWriter';

export function loadBucketAccess(store: SettingsSource, bucket: string): BucketAccess {
  const b = store.getBucket(bucket);
  const owner = canonicalIdOf(b.owner);
  const aclText = store.getBucketConfig(bucket, 'acl');
  const policyText = store.getBucketConfig(bucket, 'policy');
  const ownership = (store.getBucketConfig(bucket, 'ownership') as ObjectOwnership | undefined) ?? LEGACY_OWNERSHIP;
  const pabText = store.getBucketConfig(bucket, 'public-access-block');
  return {
    owner,
    acl: aclText ? cachedParse(aclText, decodeAcl) : cannedAcl('private', owner),
    ...(policyText ? { policy: cachedPolicy(policyText, bucket) } : {}),
    ownership,
    publicAccessBlock: pabText ? cachedParse(pabText, (t) => JSON.parse(t) as PublicAccessBlock) : NO_PUBLIC_ACCESS_BLOCK,
  };
}

/** An object's ACL: its stored one, or owner-only. */
export const objectAclOf = (owner: string, stored: string | undefined): Acl => (stored ? decodeAcl(stored) : cannedAcl('private', canonicalIdOf(owner)));
