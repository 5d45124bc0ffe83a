/**
 * The access decision as a table: (owner, another account, anonymous) x (ACL) x (bucket policy) x
 * (public access block) x (object ownership), for reads, lists and writes. Expected outcomes are
 * AWS's documented ones (How Amazon S3 authorizes a request; Blocking public access; Controlling
 * ownership of objects).
 */
import { describe, expect, it } from 'vitest';
import { cannedAcl, canonicalIdOf, type Acl } from './acl.ts';
import { decide, NO_PUBLIC_ACCESS_BLOCK, type BucketAccess, type ObjectOwnership, type PublicAccessBlock } from './decide.ts';
import { parsePolicy, type Principal } from './policy.ts';

const OWNER = canonicalIdOf('alice');
const alice: Principal = { kind: 'account', name: 'alice', canonicalId: OWNER };
const bob: Principal = { kind: 'account', name: 'bob', canonicalId: canonicalIdOf('bob') };
const anon: Principal = { kind: 'anonymous' };
const who = { owner: alice, other: bob, anonymous: anon } as const;

const policies = {
  none: undefined,
  publicRead: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' }] }),
  bobWrite: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::bob:root' }, Action: ['s3:PutObject', 's3:ListBucket'], Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] }] }),
  denyAll: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: ['arn:aws:s3:::b', 'arn:aws:s3:::b/*'] }] }),
} as const;

const acls = {
  private: cannedAcl('private', OWNER),
  publicRead: cannedAcl('public-read', OWNER),
  publicReadWrite: cannedAcl('public-read-write', OWNER),
  authenticatedRead: cannedAcl('authenticated-read', OWNER),
} as const;

const pab = (on: boolean): PublicAccessBlock => (on ? { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } : NO_PUBLIC_ACCESS_BLOCK);

function settings(acl: Acl, policy: keyof typeof policies, block: boolean, ownership: ObjectOwnership): BucketAccess {
  const text = policies[policy];
  return { owner: OWNER, acl, policy: text ? parsePolicy(text, 'b') : undefined, ownership, publicAccessBlock: pab(block) };
}

type Row = [who: keyof typeof who, op: string, bucketAcl: keyof typeof acls, objectAcl: keyof typeof acls, policy: keyof typeof policies, block: boolean, ownership: ObjectOwnership, allowed: boolean];

const rows: Row[] = [
  // the owner
  ['owner', 'GetObject', 'private', 'private', 'none', false, 'BucketOwnerEnforced', true],
  ['owner', 'PutObject', 'private', 'private', 'none', true, 'ObjectWriter', true],
  ['owner', 'GetObject', 'private', 'private', 'denyAll', false, 'BucketOwnerEnforced', false],
  ['owner', 'DeleteBucketPolicy', 'private', 'private', 'denyAll', false, 'BucketOwnerEnforced', true],
  ['owner', 'PutBucketPolicy', 'private', 'private', 'denyAll', false, 'BucketOwnerEnforced', true],
  // another account
  ['other', 'GetObject', 'private', 'private', 'none', false, 'ObjectWriter', false],
  ['other', 'ListObjectsV2', 'private', 'private', 'none', false, 'ObjectWriter', false],
  ['other', 'PutObject', 'private', 'private', 'bobWrite', false, 'ObjectWriter', true],
  ['other', 'ListObjects', 'private', 'private', 'bobWrite', false, 'ObjectWriter', true],
  ['other', 'GetObject', 'private', 'private', 'bobWrite', false, 'ObjectWriter', false],
  ['other', 'PutObject', 'private', 'private', 'bobWrite', true, 'ObjectWriter', true], // not public: PAB leaves it
  ['other', 'GetObject', 'private', 'authenticatedRead', 'none', false, 'ObjectWriter', true],
  ['other', 'GetObject', 'private', 'authenticatedRead', 'none', false, 'BucketOwnerEnforced', false],
  ['other', 'GetObject', 'private', 'authenticatedRead', 'none', true, 'ObjectWriter', false],
  ['other', 'ListObjectsV2', 'authenticatedRead', 'private', 'none', false, 'BucketOwnerPreferred', true],
  ['other', 'PutObject', 'publicReadWrite', 'private', 'none', false, 'ObjectWriter', true],
  ['other', 'PutObject', 'publicReadWrite', 'private', 'denyAll', false, 'ObjectWriter', false],
  ['other', 'GetObject', 'private', 'private', 'publicRead', false, 'BucketOwnerEnforced', true],
  ['other', 'GetObject', 'private', 'private', 'publicRead', true, 'BucketOwnerEnforced', false],
  ['other', 'GetObjectAcl', 'private', 'publicRead', 'none', false, 'ObjectWriter', false],
  ['other', 'PutBucketPolicy', 'publicReadWrite', 'private', 'none', false, 'ObjectWriter', false],
  ['other', 'DeleteBucket', 'publicReadWrite', 'private', 'none', false, 'ObjectWriter', false],
  // nobody (anonymous)
  ['anonymous', 'GetObject', 'private', 'private', 'none', false, 'ObjectWriter', false],
  ['anonymous', 'GetObject', 'private', 'publicRead', 'none', false, 'ObjectWriter', true],
  ['anonymous', 'GetObject', 'private', 'publicRead', 'none', false, 'BucketOwnerEnforced', false],
  ['anonymous', 'GetObject', 'private', 'publicRead', 'none', true, 'ObjectWriter', false],
  ['anonymous', 'GetObject', 'private', 'authenticatedRead', 'none', false, 'ObjectWriter', false],
  ['anonymous', 'ListObjectsV2', 'publicRead', 'private', 'none', false, 'ObjectWriter', true],
  ['anonymous', 'ListObjectsV2', 'publicRead', 'private', 'none', true, 'ObjectWriter', false],
  ['anonymous', 'PutObject', 'publicRead', 'private', 'none', false, 'ObjectWriter', false],
  ['anonymous', 'PutObject', 'publicReadWrite', 'private', 'none', false, 'ObjectWriter', true],
  ['anonymous', 'GetObject', 'private', 'private', 'publicRead', false, 'BucketOwnerEnforced', true],
  ['anonymous', 'HeadObject', 'private', 'private', 'publicRead', false, 'BucketOwnerEnforced', true],
  ['anonymous', 'ListObjectsV2', 'private', 'private', 'publicRead', false, 'BucketOwnerEnforced', false],
  ['anonymous', 'GetObject', 'private', 'private', 'publicRead', true, 'BucketOwnerEnforced', false],
  ['anonymous', 'GetObject', 'private', 'publicRead', 'denyAll', false, 'ObjectWriter', false],
  ['anonymous', 'PutObject', 'private', 'private', 'bobWrite', false, 'ObjectWriter', false],
];

describe('the access decision', () => {
  it.each(rows)('%s %s (bucket ACL %s, object ACL %s, policy %s, block %s, %s) -> %s', (w, op, bucketAcl, objectAcl, policy, block, ownership, allowed) => {
    const d = decide({
      principal: who[w],
      operation: op,
      bucket: 'b',
      key: op.includes('Object') && !op.startsWith('List') ? 'k' : undefined,
      settings: settings(acls[bucketAcl], policy, block, ownership),
      objectAcl: acls[objectAcl],
      conditions: new Map(),
    });
    expect(d.allowed).toBe(allowed);
  });

  it('says why: an explicit deny is not a missing grant', () => {
    const base = { principal: bob, operation: 'GetObject', bucket: 'b', key: 'k', objectAcl: acls.private, conditions: new Map() };
    expect(decide({ ...base, settings: settings(acls.private, 'denyAll', false, 'ObjectWriter') })).toEqual({ allowed: false, reason: 'explicit-deny' });
    expect(decide({ ...base, settings: settings(acls.private, 'none', false, 'ObjectWriter') })).toEqual({ allowed: false, reason: 'no-grant' });
  });

  it('evaluates conditions against the request', () => {
    const policy = parsePolicy(
      JSON.stringify({
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*', Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } } },
          { Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: 'arn:aws:s3:::b/*', Condition: { Bool: { 'aws:SecureTransport': 'false' }, StringLike: { 's3:x-amz-acl': 'public*' } } },
        ],
      }),
      'b',
    );
    const s: BucketAccess = { owner: OWNER, acl: acls.private, policy, ownership: 'BucketOwnerEnforced', publicAccessBlock: NO_PUBLIC_ACCESS_BLOCK };
    const ask = (ip: string, extra: [string, string[]][] = []) =>
      decide({ principal: anon, operation: 'GetObject', bucket: 'b', key: 'k', settings: s, conditions: new Map([['aws:sourceip', [ip]], ['aws:securetransport', ['false']], ...extra]) }).allowed;
    expect(ask('127.0.0.1')).toBe(true);
    expect(ask('::ffff:127.0.0.9')).toBe(true);
    expect(ask('10.1.2.3')).toBe(false);
    expect(ask('127.0.0.1', [['s3:x-amz-acl', ['public-read']]])).toBe(false);
  });
});

describe('the resource a policy must name comes from the ACCESS table (arn)', () => {
  const only = (action: string, resource: string) =>
    parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::bob:root' }, Action: action, Resource: resource }] }), 'b');
  const ask = (operation: string, key: string | undefined, policy: ReturnType<typeof parsePolicy>) =>
    decide({
      principal: bob,
      operation,
      bucket: 'b',
      ...(key === undefined ? {} : { key }),
      settings: { owner: OWNER, acl: acls.private, policy, ownership: 'BucketOwnerEnforced', publicAccessBlock: NO_PUBLIC_ACCESS_BLOCK },
      conditions: new Map(),
    }).allowed;

  it('a listing is on the bucket even when the request names a key; a write of a key is on the object', () => {
    expect(ask('ListObjectsV2', 'some/prefix', only('s3:ListBucket', 'arn:aws:s3:::b'))).toBe(true);
    expect(ask('ListObjectsV2', 'some/prefix', only('s3:ListBucket', 'arn:aws:s3:::b/*'))).toBe(false);
    expect(ask('PutObject', 'k', only('s3:PutObject', 'arn:aws:s3:::b/*'))).toBe(true);
    expect(ask('PutObject', 'k', only('s3:PutObject', 'arn:aws:s3:::b'))).toBe(false);
    expect(ask('GetBucketAcl', undefined, only('s3:GetBucketAcl', 'arn:aws:s3:::b'))).toBe(true);
  });
});
