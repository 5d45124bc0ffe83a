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

/**
 * A bucket's policy, ACL and public access block documents parsed, by kind and text (the decision
 * only reads them; a policy's parse also depends on its bucket). Bounded: the oldest go first.
 */
const parsed = new Map<string, unknown>();
const PARSED_MAX = 2000; // the two caches of 1000 it replaces
function cachedParse<T>(key: string, parse: () => T): T {
  let v = parsed.get(key) as T | undefined;
  if (v === undefined) {
    if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
    parsed.set(key, (v = parse()));
  }
  return v;
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
    acl: aclText ? cachedParse(`acl\0${aclText}`, () => decodeAcl(aclText)) : cannedAcl('private', owner),
    ...(policyText ? { policy: cachedParse(`policy\0${bucket}\0${policyText}`, () => parsePolicy(policyText, bucket)) } : {}),
    ownership,
    publicAccessBlock: pabText ? cachedParse(`pab\0${pabText}`, () => JSON.parse(pabText) as PublicAccessBlock) : NO_PUBLIC_ACCESS_BLOCK,
  };
}

/** An object's ACL: its stored one, or owner-only. */
export const objectAclOf = (owner: string, stored: string | undefined): Acl => (stored ? decodeAcl(stored) : cannedAcl('private', canonicalIdOf(owner)));
