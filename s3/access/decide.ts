/**
 * The one place where access is decided. Every S3 request, signed or anonymous, is checked here
 * against its bucket's ownership controls, public access block, ACLs and bucket policy, in AWS's
 * order (docs: "How Amazon S3 authorizes a request"):
 *   1. an explicit Deny in the bucket policy refuses, whoever asks (the owner may still manage the
 *      policy itself, so a bad policy can always be repaired);
 *   2. the bucket owner may do everything;
 *   3. an Allow in the bucket policy grants (RestrictPublicBuckets ignores public statements for
 *      anyone outside the owner);
 *   4. otherwise the ACL decides: the object's ACL for object reads and ACP calls, the bucket's
 *      ACL for listing and writing (ACLs are switched off by BucketOwnerEnforced; IgnorePublicAcls
 *      skips grants to the public groups);
 *   5. nothing granted: AccessDenied.
 * Pure: the caller brings the bucket's settings and the request's condition keys.
 */
import { aclAllows, type Acl, type Permission } from './acl.ts';
import { evaluatePolicy, type Policy, type Principal } from './policy.ts';
import type { ConditionContext } from './conditions.ts';

export type ObjectOwnership = 'BucketOwnerEnforced' | 'BucketOwnerPreferred' | 'ObjectWriter';

export interface PublicAccessBlock {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export const NO_PUBLIC_ACCESS_BLOCK: PublicAccessBlock = {
  BlockPublicAcls: false,
  IgnorePublicAcls: false,
  BlockPublicPolicy: false,
  RestrictPublicBuckets: false,
};

/** What an operation needs: the policy action, and the ACL permission on the bucket or the object. */
export interface AccessNeed {
  action: string;
  /** Where the ACL permission is looked up. */
  on: 'bucket' | 'object';
  /**
   * The resource a policy statement must name: the bucket (arn:aws:s3:::B) or the object
   * (arn:aws:s3:::B/KEY, for a request that names a key). ListBucket with a prefix is still the bucket.
   */
  arn: 'bucket' | 'object';
  /** Undefined: only the owner or a policy can grant it (ACLs never do). */
  permission?: Permission;
}

/** Operation name -> what it needs. Operations not listed are owner-only. */
export const ACCESS: Record<string, AccessNeed> = {
  HeadBucket: { action: 's3:ListBucket', on: 'bucket', arn: 'bucket', permission: 'READ' },
  ListObjects: { action: 's3:ListBucket', on: 'bucket', arn: 'bucket', permission: 'READ' },
  ListObjectsV2: { action: 's3:ListBucket', on: 'bucket', arn: 'bucket', permission: 'READ' },
  ListObjectVersions: { action: 's3:ListBucketVersions', on: 'bucket', arn: 'bucket', permission: 'READ' },
  ListMultipartUploads: { action: 's3:ListBucketMultipartUploads', on: 'bucket', arn: 'bucket', permission: 'READ' },
  GetBucketLocation: { action: 's3:GetBucketLocation', on: 'bucket', arn: 'bucket' },
  GetBucketVersioning: { action: 's3:GetBucketVersioning', on: 'bucket', arn: 'bucket' },
  PutBucketVersioning: { action: 's3:PutBucketVersioning', on: 'bucket', arn: 'bucket' },
  GetBucketAcl: { action: 's3:GetBucketAcl', on: 'bucket', arn: 'bucket', permission: 'READ_ACP' },
  PutBucketAcl: { action: 's3:PutBucketAcl', on: 'bucket', arn: 'bucket', permission: 'WRITE_ACP' },
  GetBucketPolicy: { action: 's3:GetBucketPolicy', on: 'bucket', arn: 'bucket' },
  PutBucketPolicy: { action: 's3:PutBucketPolicy', on: 'bucket', arn: 'bucket' },
  DeleteBucketPolicy: { action: 's3:DeleteBucketPolicy', on: 'bucket', arn: 'bucket' },
  GetBucketPolicyStatus: { action: 's3:GetBucketPolicyStatus', on: 'bucket', arn: 'bucket' },
  GetBucketCors: { action: 's3:GetBucketCORS', on: 'bucket', arn: 'bucket' },
  PutBucketCors: { action: 's3:PutBucketCORS', on: 'bucket', arn: 'bucket' },
  DeleteBucketCors: { action: 's3:PutBucketCORS', on: 'bucket', arn: 'bucket' },
  GetBucketOwnershipControls: { action: 's3:GetBucketOwnershipControls', on: 'bucket', arn: 'bucket' },
  PutBucketOwnershipControls: { action: 's3:PutBucketOwnershipControls', on: 'bucket', arn: 'bucket' },
  DeleteBucketOwnershipControls: { action: 's3:PutBucketOwnershipControls', on: 'bucket', arn: 'bucket' },
  GetPublicAccessBlock: { action: 's3:GetBucketPublicAccessBlock', on: 'bucket', arn: 'bucket' },
  PutPublicAccessBlock: { action: 's3:PutBucketPublicAccessBlock', on: 'bucket', arn: 'bucket' },
  DeletePublicAccessBlock: { action: 's3:PutBucketPublicAccessBlock', on: 'bucket', arn: 'bucket' },
  DeleteBucket: { action: 's3:DeleteBucket', on: 'bucket', arn: 'bucket' },
  PutObject: { action: 's3:PutObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  PostObject: { action: 's3:PutObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  CopyObject: { action: 's3:PutObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  CreateMultipartUpload: { action: 's3:PutObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  UploadPart: { action: 's3:PutObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  UploadPartCopy: { action: 's3:PutObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  CompleteMultipartUpload: { action: 's3:PutObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  AbortMultipartUpload: { action: 's3:AbortMultipartUpload', on: 'bucket', arn: 'object', permission: 'WRITE' },
  ListParts: { action: 's3:ListMultipartUploadParts', on: 'bucket', arn: 'object', permission: 'READ' },
  DeleteObject: { action: 's3:DeleteObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  DeleteObjects: { action: 's3:DeleteObject', on: 'bucket', arn: 'object', permission: 'WRITE' },
  GetObject: { action: 's3:GetObject', on: 'object', arn: 'object', permission: 'READ' },
  HeadObject: { action: 's3:GetObject', on: 'object', arn: 'object', permission: 'READ' },
  GetObjectAttributes: { action: 's3:GetObjectAttributes', on: 'object', arn: 'object', permission: 'READ' },
  GetObjectAcl: { action: 's3:GetObjectAcl', on: 'object', arn: 'object', permission: 'READ_ACP' },
  PutObjectAcl: { action: 's3:PutObjectAcl', on: 'object', arn: 'object', permission: 'WRITE_ACP' },
  GetObjectTagging: { action: 's3:GetObjectTagging', on: 'object', arn: 'object', permission: 'READ' },
  PutObjectTagging: { action: 's3:PutObjectTagging', on: 'object', arn: 'object' },
  DeleteObjectTagging: { action: 's3:DeleteObjectTagging', on: 'object', arn: 'object' },
  // versions, object lock, lifecycle (issue 16): a read of a version (?versionId=) is GetObject;
  // the bucket's lock and lifecycle settings are owner-only (no ACL permission grants them)
  GetObjectLockConfiguration: { action: 's3:GetBucketObjectLockConfiguration', on: 'bucket', arn: 'bucket' },
  PutObjectLockConfiguration: { action: 's3:PutBucketObjectLockConfiguration', on: 'bucket', arn: 'bucket' },
  GetBucketLifecycleConfiguration: { action: 's3:GetLifecycleConfiguration', on: 'bucket', arn: 'bucket' },
  PutBucketLifecycleConfiguration: { action: 's3:PutLifecycleConfiguration', on: 'bucket', arn: 'bucket' },
  DeleteBucketLifecycleConfiguration: { action: 's3:PutLifecycleConfiguration', on: 'bucket', arn: 'bucket' },
  GetObjectRetention: { action: 's3:GetObjectRetention', on: 'object', arn: 'object' },
  PutObjectRetention: { action: 's3:PutObjectRetention', on: 'object', arn: 'object' },
  GetObjectLegalHold: { action: 's3:GetObjectLegalHold', on: 'object', arn: 'object' },
  PutObjectLegalHold: { action: 's3:PutObjectLegalHold', on: 'object', arn: 'object' },
};

/** The policy management calls the owner can always make, so that a bad policy can be repaired. */
const OWNER_ALWAYS = new Set(['GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy']);

export interface BucketAccess {
  /** The owner's canonical id. */
  owner: string;
  acl: Acl;
  policy?: Policy;
  ownership: ObjectOwnership;
  publicAccessBlock: PublicAccessBlock;
}

export interface AccessRequest {
  principal: Principal;
  operation: string;
  bucket: string;
  key?: string;
  settings: BucketAccess;
  /** The object's ACL, for object-level operations on an existing object. */
  objectAcl?: Acl;
  conditions: ConditionContext;
}

export type AccessDecision = { allowed: true; by: 'owner' | 'policy' | 'acl' } | { allowed: false; reason: 'explicit-deny' | 'no-grant' };

export function decide(r: AccessRequest): AccessDecision {
  const need: AccessNeed = ACCESS[r.operation] ?? { action: `s3:${r.operation}`, on: 'bucket', arn: r.key === undefined ? 'bucket' : 'object' };
  const s = r.settings;
  const isOwner = r.principal.kind === 'account' && r.principal.canonicalId === s.owner;
  const resource = need.arn === 'object' && (r.key !== undefined || need.on === 'object')
    ? `arn:aws:s3:::${r.bucket}/${r.key ?? ''}`
    : `arn:aws:s3:::${r.bucket}`;
  const verdict = s.policy
    ? evaluatePolicy(
        s.policy,
        { principal: r.principal, action: need.action, resource, conditions: r.conditions },
        { ignorePublic: s.publicAccessBlock.RestrictPublicBuckets && !isOwner },
      )
    : 'none';
  if (isOwner && OWNER_ALWAYS.has(r.operation)) return { allowed: true, by: 'owner' };
  if (verdict === 'deny') return { allowed: false, reason: 'explicit-deny' };
  if (isOwner) return { allowed: true, by: 'owner' };
  if (verdict === 'allow') return { allowed: true, by: 'policy' };
  if (need.permission && s.ownership !== 'BucketOwnerEnforced') {
    const ignorePublic = s.publicAccessBlock.IgnorePublicAcls;
    const acl = need.on === 'object' ? r.objectAcl : s.acl;
    if (acl && aclAllows(acl, r.principal, need.permission, ignorePublic)) return { allowed: true, by: 'acl' };
  }
  return { allowed: false, reason: 'no-grant' };
}
