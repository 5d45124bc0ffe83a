/**
 * Access control lists as S3 keeps them: an owner and up to 100 grants, set by a canned ACL
 * (x-amz-acl), by x-amz-grant-* headers, or by an AccessControlPolicy body. Pure: parsing,
 * rendering and the question "does this ACL give this principal this permission?".
 */
import { canonicalIdOf } from '../../src/core/canonical-id.ts';
import { DomainError, Errors } from '../../src/core/errors.ts';
import type { Principal } from './policy.ts';
import { list, text, type XmlObject } from '../xml.ts';

export type Permission = 'READ' | 'WRITE' | 'READ_ACP' | 'WRITE_ACP' | 'FULL_CONTROL';
export const PERMISSIONS: readonly Permission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

export const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
export const AUTHENTICATED_USERS = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';
export const LOG_DELIVERY = 'http://acs.amazonaws.com/groups/s3/LogDelivery';
const GROUPS = new Set([ALL_USERS, AUTHENTICATED_USERS, LOG_DELIVERY]);

export type Grantee = { type: 'CanonicalUser'; id: string } | { type: 'Group'; uri: string };
export interface Grant {
  grantee: Grantee;
  permission: Permission;
}
/** The owner is a canonical id. */
export interface Acl {
  owner: string;
  grants: Grant[];
}

export const CANNED_ACLS = ['private', 'public-read', 'public-read-write', 'authenticated-read', 'bucket-owner-read', 'bucket-owner-full-control', 'log-delivery-write', 'aws-exec-read'] as const;
export type CannedAcl = (typeof CANNED_ACLS)[number];

export { canonicalIdOf };

const full = (id: string): Grant => ({ grantee: { type: 'CanonicalUser', id }, permission: 'FULL_CONTROL' });
const group = (uri: string, permission: Permission): Grant => ({ grantee: { type: 'Group', uri }, permission });

/** The grants a canned ACL stands for; `bucketOwner` matters for the bucket-owner-* ACLs on objects. */
export function cannedAcl(name: string, owner: string, bucketOwner = owner): Acl {
  const grants: Grant[] = [full(owner)];
  switch (name) {
    case 'private':
    case 'aws-exec-read':
      break;
    case 'public-read':
      grants.push(group(ALL_USERS, 'READ'));
      break;
    case 'public-read-write':
      grants.push(group(ALL_USERS, 'READ'), group(ALL_USERS, 'WRITE'));
      break;
    case 'authenticated-read':
      grants.push(group(AUTHENTICATED_USERS, 'READ'));
      break;
    case 'bucket-owner-read':
      if (bucketOwner !== owner) grants.push({ grantee: { type: 'CanonicalUser', id: bucketOwner }, permission: 'READ' });
      break;
    case 'bucket-owner-full-control':
      if (bucketOwner !== owner) grants.push(full(bucketOwner));
      break;
    case 'log-delivery-write':
      grants.push(group(LOG_DELIVERY, 'WRITE'), group(LOG_DELIVERY, 'READ_ACP'));
      break;
    default:
      throw Errors.invalidArgument(`${name} is not a canned ACL; use one of ${CANNED_ACLS.join(', ')}.`, 'x-amz-acl', name);
  }
  return { owner, grants };
}

const GRANT_HEADERS: Record<string, Permission> = {
  'x-amz-grant-read': 'READ',
  'x-amz-grant-write': 'WRITE',
  'x-amz-grant-read-acp': 'READ_ACP',
  'x-amz-grant-write-acp': 'WRITE_ACP',
  'x-amz-grant-full-control': 'FULL_CONTROL',
};

/** Resolves a grantee given by canonical id, account name or group URI; throws for unknown ones. */
export type ResolveGrantee = (id: string) => string | undefined;

function granteeFrom(kind: string, value: string, resolve: ResolveGrantee): Grantee {
  switch (kind.toLowerCase()) {
    case 'id': {
      const id = resolve(value);
      if (!id) throw new DomainError('InvalidArgument', `Invalid id: no account has the canonical id ${value}.`, { ArgumentName: 'CanonicalUser/ID', ArgumentValue: value });
      return { type: 'CanonicalUser', id };
    }
    case 'uri':
      if (!GROUPS.has(value)) throw Errors.invalidArgument(`Invalid group uri ${value}.`, 'Group/URI', value);
      return { type: 'Group', uri: value };
    case 'emailaddress':
      throw new DomainError('UnresolvableGrantByEmailAddress', 'The email address you provided does not match any account on record; grant by id="CANONICAL_ID" instead.');
    default:
      throw Errors.invalidArgument(`Invalid grantee ${kind}; use id="CANONICAL_ID" or uri="GROUP_URI".`, 'x-amz-grant', kind);
  }
}

/** True when any x-amz-grant-* header is present. */
export const hasGrantHeaders = (headers: Record<string, string | undefined>): boolean => Object.keys(GRANT_HEADERS).some((h) => headers[h] !== undefined);

/** x-amz-grant-read: id="...", uri="..." (comma separated) -> an ACL with the owner's full control. */
export function aclFromGrantHeaders(headers: Record<string, string | undefined>, owner: string, resolve: ResolveGrantee): Acl {
  const grants: Grant[] = [];
  for (const [header, permission] of Object.entries(GRANT_HEADERS)) {
    const value = headers[header];
    if (value === undefined) continue;
    for (const part of value.split(',')) {
      const m = /^\s*([A-Za-z]+)\s*=\s*"?([^"]*)"?\s*$/.exec(part);
      if (!m) throw Errors.invalidArgument(`${header} must be a list of id="..." or uri="..." grantees.`, header, value);
      grants.push({ grantee: granteeFrom(m[1]!, m[2]!, resolve), permission });
    }
  }
  return { owner, grants };
}

/** Parses an AccessControlPolicy body (already parsed XML). The owner in the body must be the owner. */
export function aclFromXml(doc: Record<string, unknown>, owner: string, resolve: ResolveGrantee): Acl {
  const ownerId = text(doc.Owner, 'ID');
  if (ownerId !== undefined && ownerId !== owner && resolve(ownerId) !== owner) {
    throw Errors.accessDenied('The Owner in an AccessControlPolicy must be the current owner.');
  }
  const grants: Grant[] = [];
  for (const g of list(doc.AccessControlList, 'Grant')) {
    const grantee = (g as Record<string, unknown>).Grantee;
    const permission = text(g, 'Permission') as Permission | undefined;
    if (!permission || !PERMISSIONS.includes(permission)) throw new DomainError('MalformedACLError', `The XML you provided was not well-formed or did not validate against our published schema: invalid Permission ${String(permission)}.`);
    const id = text(grantee, 'ID');
    const uri = text(grantee, 'URI');
    const email = text(grantee, 'EmailAddress');
    if (id !== undefined) grants.push({ grantee: granteeFrom('id', id, resolve), permission });
    else if (uri !== undefined) grants.push({ grantee: granteeFrom('uri', uri, resolve), permission });
    else if (email !== undefined) granteeFrom('emailaddress', email, resolve);
    else throw new DomainError('MalformedACLError', 'The XML you provided was not well-formed or did not validate against our published schema: a Grant needs a Grantee with ID or URI.');
  }
  if (grants.length > 100) throw new DomainError('MalformedACLError', 'An ACL can have at most 100 grants.');
  return { owner, grants };
}

/** The AccessControlPolicy document for GetBucketAcl / GetObjectAcl. */
export function aclXml(acl: Acl, displayName: (id: string) => string): XmlObject {
  return {
    Owner: { ID: acl.owner, DisplayName: displayName(acl.owner) },
    AccessControlList: {
      Grant: acl.grants.map((g) => ({
        Grantee:
          g.grantee.type === 'CanonicalUser'
            ? { '@xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', '@xsi:type': 'CanonicalUser', ID: g.grantee.id, DisplayName: displayName(g.grantee.id) }
            : { '@xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', '@xsi:type': 'Group', URI: g.grantee.uri },
        Permission: g.permission,
      })),
    },
  };
}

const isPublicGrant = (g: Grant): boolean => g.grantee.type === 'Group' && (g.grantee.uri === ALL_USERS || g.grantee.uri === AUTHENTICATED_USERS);

/** Does the ACL grant anything to everyone or to every account? (BlockPublicAcls refuses such ACLs.) */
export const isPublicAcl = (acl: Acl): boolean => acl.grants.some(isPublicGrant);

/** Does `acl` give `p` the permission? `ignorePublic` (IgnorePublicAcls) skips grants to the public groups. */
export function aclAllows(acl: Acl, p: Principal, permission: Permission, ignorePublic = false): boolean {
  return acl.grants.some((g) => {
    if (g.permission !== permission && g.permission !== 'FULL_CONTROL') return false;
    if (ignorePublic && isPublicGrant(g)) return false;
    if (g.grantee.type === 'CanonicalUser') return p.kind === 'account' && p.canonicalId === g.grantee.id;
    if (g.grantee.uri === ALL_USERS) return true;
    if (g.grantee.uri === AUTHENTICATED_USERS) return p.kind === 'account';
    return false;
  });
}

/** Serialised for the catalog. */
export const encodeAcl = (acl: Acl): string => JSON.stringify(acl);
export const decodeAcl = (text: string): Acl => JSON.parse(text) as Acl;
