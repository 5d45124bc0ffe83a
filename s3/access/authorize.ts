/**
 * The service's side of access control: who is asking (an account or nobody), and the one call
 * that decides a request against its bucket's settings (s3/access/decide.ts). Throws AccessDenied.
 */
import { Errors } from '../../src/core/errors.ts';
import type { BucketInfo, ObjectStore } from '../../src/core/object-store.ts';
import { canonicalIdOf } from './acl.ts';
import { ACCESS, decide } from './decide.ts';
import type { ConditionContext } from './conditions.ts';
import type { Principal } from './policy.ts';
import { conditionContext, type RequestFacts } from './request-context.ts';
import { loadBucketAccess, objectAclOf } from './settings.ts';

/** What a request without a bucket policy gives the decision: no condition key is ever read. */
const NO_CONDITIONS: ConditionContext = new Map();

/** No Authorization header and no signature in the query: an anonymous request. */
export function isAnonymous(headers: Record<string, string>, query: URLSearchParams): boolean {
  return (
    headers.authorization === undefined &&
    !query.has('X-Amz-Algorithm') &&
    !query.has('X-Amz-Signature') &&
    !query.has('X-Amz-Credential') &&
    !query.has('Signature') &&
    !query.has('AWSAccessKeyId')
  );
}

export const principalOf = (account: string | undefined): Principal =>
  account ? { kind: 'account', name: account, canonicalId: canonicalIdOf(account) } : { kind: 'anonymous' };

/**
 * Decides `operation` on bucket (and key) for `account` (undefined: anonymous). Returns the bucket;
 * throws NoSuchBucket or AccessDenied.
 */
export function authorizeRequest(
  store: ObjectStore,
  r: { account: string | undefined; operation: string; bucket: string; key?: string; versionId?: string; facts: Omit<RequestFacts, 'account' | 'existingTags'> },
): BucketInfo {
  const bucket = store.getBucket(r.bucket);
  const settings = loadBucketAccess(store, r.bucket);
  const principal = principalOf(r.account);
  const need = ACCESS[r.operation];
  const key = r.key;
  const isOwner = principal.kind === 'account' && principal.canonicalId === settings.owner;
  let objectAcl;
  if (need?.on === 'object' && key !== undefined && !isOwner) {
    try {
      const o = store.getObjectAcl(r.bucket, key, r.versionId); // ACLs are per version (?versionId=)
      objectAcl = objectAclOf(o.owner, o.acl);
    } catch {
      // no such object: a policy may still let the caller learn that (404), else 403
    }
  }
  const decision = decide({
    principal,
    operation: r.operation,
    bucket: r.bucket,
    ...(key === undefined ? {} : { key }),
    settings,
    ...(objectAcl ? { objectAcl } : {}),
    // the condition keys matter only to a bucket policy: none, none to gather
    conditions: !settings.policy ? NO_CONDITIONS : conditionContext({
      ...r.facts,
      account: r.account,
      ...(key === undefined ? {} : {
        existingTags: () => {
          try {
            return store.getObjectTagging(r.bucket, key);
          } catch {
            return undefined;
          }
        },
      }),
    }),
  });
  if (!decision.allowed) throw Errors.accessDenied();
  return bucket;
}
