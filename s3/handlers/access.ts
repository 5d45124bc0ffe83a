/**
 * Access control and CORS on the wire: bucket and object ACLs, bucket policies and their status,
 * ownership controls, public access blocks, CORS rules and preflight requests. The decisions
 * themselves are made in s3/access/decide.ts; these handlers read and write the settings.
 */
import { DomainError, Errors, type ErrorCode } from '../../src/core/errors.ts';
import type { Handler, S3Context } from '../context.ts';
import { xmlResult } from '../context.ts';
import {
  aclFromGrantHeaders,
  aclFromXml,
  aclXml,
  cannedAcl,
  canonicalIdOf,
  encodeAcl,
  hasGrantHeaders,
  isPublicAcl,
  type Acl,
} from '../access/acl.ts';
import { corsHeaders, corsXml, matchCors, parseCors, requestedHeaders } from '../access/cors.ts';
import type { ObjectOwnership, PublicAccessBlock } from '../access/decide.ts';
import { isPublicPolicy, MAX_POLICY_BYTES, parsePolicy } from '../access/policy.ts';
import { loadBucketAccess, objectAclOf } from '../access/settings.ts';
import { parseXml, readSmallBody, text, xmlDocument } from '../xml.ts';

/** canonical id -> account name, learnt from every account seen (ids are derived, so never stale). */
const names = new Map<string, string>();
export const rememberAccount = (account: string): string => {
  const id = canonicalIdOf(account);
  names.set(id, account);
  return id;
};
const displayName = (id: string): string => names.get(id) ?? id;
/** A grantee by canonical id (64 hex digits) or, as a convenience, by account name. */
const resolveGrantee = (id: string): string | undefined => (/^[0-9a-f]{64}$/.test(id) ? id : id !== '' ? rememberAccount(id) : undefined);

const OWNERSHIPS: readonly ObjectOwnership[] = ['BucketOwnerEnforced', 'BucketOwnerPreferred', 'ObjectWriter'];
const PAB_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;
export const ALL_BLOCKED: PublicAccessBlock = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

const notFound = (code: ErrorCode, message: string, bucket: string) => new DomainError(code, message, { BucketName: bucket });

/** An ACL that gives nothing beyond the owners' full control: what BucketOwnerEnforced still accepts. */
const ownerOnly = (acl: Acl, bucketOwner: string): boolean =>
  acl.grants.every((g) => g.grantee.type === 'CanonicalUser' && (g.grantee.id === acl.owner || g.grantee.id === bucketOwner) && g.permission === 'FULL_CONTROL');

/**
 * The ACL a request asks for (x-amz-acl, x-amz-grant-* or, for the ACL calls, a body), checked
 * against the bucket's ownership controls and public access block; undefined when it asks for none.
 */
export async function requestedAcl(ctx: S3Context, owner: string, opts: { body: boolean }): Promise<Acl | undefined> {
  const { headers, op } = ctx;
  const canned = headers['x-amz-acl'];
  const grants = hasGrantHeaders(headers);
  let acl: Acl | undefined;
  const bucketAccess = op.bucket === undefined || op.name === 'CreateBucket' ? undefined : loadBucketAccess(ctx.store, op.bucket);
  const bucketOwner = bucketAccess?.owner ?? owner;
  if (canned !== undefined && grants) throw Errors.invalidRequest('Specifying both Canned ACLs and Header Grants is not allowed');
  if (canned !== undefined) acl = cannedAcl(canned, owner, bucketOwner);
  else if (grants) acl = aclFromGrantHeaders(headers, owner, resolveGrantee);
  else if (opts.body) {
    const xml = (await readSmallBody(ctx.body.source, 64 * 1024)).toString('utf8');
    if (xml.trim() === '') throw new DomainError('MissingSecurityHeader', 'Your request was missing a required header: x-amz-acl, an x-amz-grant-* header or an AccessControlPolicy body.');
    acl = aclFromXml(parseXml(xml, 'AccessControlPolicy'), owner, resolveGrantee);
  }
  if (!acl || !bucketAccess) return acl;
  if (bucketAccess.ownership === 'BucketOwnerEnforced' && !ownerOnly(acl, bucketOwner)) {
    throw new DomainError('AccessControlListNotSupported', 'The bucket does not allow ACLs: its object ownership is BucketOwnerEnforced.');
  }
  if (bucketAccess.publicAccessBlock.BlockPublicAcls && isPublicAcl(acl)) throw Errors.accessDenied('Access Denied: the bucket blocks public ACLs (BlockPublicAcls).');
  return acl;
}

export const getBucketAcl: Handler<'GetBucketAcl'> = ({ store, op }) => {
  const s = loadBucketAccess(store, op.bucket);
  return xmlResult(xmlDocument('AccessControlPolicy', aclXml(s.acl, displayName)));
};

export const putBucketAcl: Handler<'PutBucketAcl'> = async (ctx) => {
  const owner = loadBucketAccess(ctx.store, ctx.op.bucket).owner;
  const acl = (await requestedAcl(ctx, owner, { body: true }))!;
  ctx.store.putBucketConfig(ctx.op.bucket, 'acl', encodeAcl(acl));
  return { status: 200 };
};

export const getObjectAcl: Handler<'GetObjectAcl'> = ({ store, op }) => {
  const { owner, acl } = store.getObjectAcl(op.bucket, op.key);
  rememberAccount(owner);
  return xmlResult(xmlDocument('AccessControlPolicy', aclXml(objectAclOf(owner, acl), displayName)));
};

export const putObjectAcl: Handler<'PutObjectAcl'> = async (ctx) => {
  const { owner } = ctx.store.getObjectAcl(ctx.op.bucket, ctx.op.key);
  const acl = (await requestedAcl(ctx, canonicalIdOf(owner), { body: true }))!;
  ctx.store.putObjectAcl(ctx.op.bucket, ctx.op.key, encodeAcl(acl));
  return { status: 200 };
};

export const getBucketPolicy: Handler<'GetBucketPolicy'> = ({ store, op }) => {
  const policy = store.getBucketConfig(op.bucket, 'policy');
  if (policy === undefined) throw notFound('NoSuchBucketPolicy', 'The bucket policy does not exist', op.bucket);
  return { status: 200, headers: { 'Content-Type': 'application/json' }, body: policy };
};

export const putBucketPolicy: Handler<'PutBucketPolicy'> = async ({ store, op, body }) => {
  const text = (await readSmallBody(body.source, MAX_POLICY_BYTES + 1)).toString('utf8');
  const policy = parsePolicy(text, op.bucket);
  if (loadBucketAccess(store, op.bucket).publicAccessBlock.BlockPublicPolicy && isPublicPolicy(policy)) {
    throw Errors.accessDenied('Access Denied: the bucket blocks public policies (BlockPublicPolicy).');
  }
  store.putBucketConfig(op.bucket, 'policy', text);
  return { status: 204 };
};

export const deleteBucketPolicy: Handler<'DeleteBucketPolicy'> = ({ store, op }) => {
  store.putBucketConfig(op.bucket, 'policy', undefined);
  return { status: 204 };
};

export const getBucketPolicyStatus: Handler<'GetBucketPolicyStatus'> = ({ store, op }) => {
  const s = loadBucketAccess(store, op.bucket);
  if (!s.policy) throw notFound('NoSuchBucketPolicy', 'The bucket policy does not exist', op.bucket);
  return xmlResult(xmlDocument('PolicyStatus', { IsPublic: isPublicPolicy(s.policy) ? 'TRUE' : 'FALSE' }));
};

export const getBucketCors: Handler<'GetBucketCors'> = ({ store, op }) => {
  const xml = store.getBucketConfig(op.bucket, 'cors');
  if (xml === undefined) throw notFound('NoSuchCORSConfiguration', 'The CORS configuration does not exist', op.bucket);
  return xmlResult(xmlDocument('CORSConfiguration', corsXml(parseCors(xml))));
};

export const putBucketCors: Handler<'PutBucketCors'> = async ({ store, op, body }) => {
  const xml = (await readSmallBody(body.source, 64 * 1024)).toString('utf8');
  const rules = parseCors(xml);
  store.putBucketConfig(op.bucket, 'cors', xmlDocument('CORSConfiguration', corsXml(rules)));
  return { status: 200 };
};

export const deleteBucketCors: Handler<'DeleteBucketCors'> = ({ store, op }) => {
  store.putBucketConfig(op.bucket, 'cors', undefined);
  return { status: 204 };
};

export const getBucketOwnershipControls: Handler<'GetBucketOwnershipControls'> = ({ store, op }) => {
  const o = store.getBucketConfig(op.bucket, 'ownership');
  if (o === undefined) throw notFound('OwnershipControlsNotFoundError', 'The bucket ownership controls were not found', op.bucket);
  return xmlResult(xmlDocument('OwnershipControls', { Rule: { ObjectOwnership: o } }));
};

export function parseOwnership(value: string | undefined): ObjectOwnership {
  if (!OWNERSHIPS.includes(value as ObjectOwnership)) {
    throw Errors.invalidArgument(`Invalid object ownership ${String(value)}; use one of ${OWNERSHIPS.join(', ')}.`, 'ObjectOwnership', value ?? '');
  }
  return value as ObjectOwnership;
}

export const putBucketOwnershipControls: Handler<'PutBucketOwnershipControls'> = async ({ store, op, body }) => {
  const doc = parseXml((await readSmallBody(body.source, 16 * 1024)).toString('utf8'), 'OwnershipControls');
  const ownership = parseOwnership(text((doc as Record<string, unknown>).Rule, 'ObjectOwnership'));
  if (ownership === 'BucketOwnerEnforced') {
    const s = loadBucketAccess(store, op.bucket);
    if (!ownerOnly(s.acl, s.owner)) throw new DomainError('InvalidBucketAclWithObjectOwnership', 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting; reset the bucket ACL to private first.');
  }
  store.putBucketConfig(op.bucket, 'ownership', ownership);
  return { status: 200 };
};

export const deleteBucketOwnershipControls: Handler<'DeleteBucketOwnershipControls'> = ({ store, op }) => {
  store.putBucketConfig(op.bucket, 'ownership', undefined);
  return { status: 204 };
};

export const getPublicAccessBlock: Handler<'GetPublicAccessBlock'> = ({ store, op }) => {
  const pab = store.getBucketConfig(op.bucket, 'public-access-block');
  if (pab === undefined) throw notFound('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', op.bucket);
  const p = JSON.parse(pab) as PublicAccessBlock;
  return xmlResult(xmlDocument('PublicAccessBlockConfiguration', Object.fromEntries(PAB_FIELDS.map((f) => [f, p[f] ? 'true' : 'false']))));
};

export const putPublicAccessBlock: Handler<'PutPublicAccessBlock'> = async ({ store, op, body }) => {
  const doc = parseXml((await readSmallBody(body.source, 16 * 1024)).toString('utf8'), 'PublicAccessBlockConfiguration');
  const p = {} as PublicAccessBlock;
  for (const f of PAB_FIELDS) {
    const v = text(doc, f);
    if (v !== undefined && v !== 'true' && v !== 'false') throw new DomainError('MalformedXML', `${f} must be true or false, not ${v}.`);
    p[f] = v === 'true';
  }
  store.putBucketConfig(op.bucket, 'public-access-block', JSON.stringify(p));
  return { status: 200 };
};

export const deletePublicAccessBlock: Handler<'DeletePublicAccessBlock'> = ({ store, op }) => {
  store.putBucketConfig(op.bucket, 'public-access-block', undefined);
  return { status: 204 };
};

const corsForbidden = (message: string) => new DomainError('AccessForbidden', message, { Method: 'OPTIONS', ResourceType: 'BUCKET' });

/** A CORS preflight: unauthenticated, answered from the bucket's rules (403 when none matches). */
export const optionsObject: Handler<'OptionsObject'> = ({ store, op, headers }) => {
  const origin = headers.origin;
  const method = headers['access-control-request-method'];
  if (!origin || !method) throw Errors.invalidRequest('Insufficient information. Origin request header needed.');
  const xml = store.getBucketConfig(op.bucket, 'cors');
  if (xml === undefined) throw corsForbidden('CORSResponse: CORS is not enabled for this bucket.');
  const wanted = requestedHeaders(headers['access-control-request-headers']);
  const rule = matchCors(parseCors(xml), origin, method, wanted);
  if (!rule) throw corsForbidden('CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource\'s CORS spec.');
  return { status: 200, headers: corsHeaders(rule, origin, { method, headers: wanted }) };
};

/** The CORS headers for an actual (non-preflight) request with an Origin, when a rule matches. */
export function actualCorsHeaders(store: S3Context['store'], bucket: string, origin: string, method: string): Record<string, string> {
  let xml: string | undefined;
  try {
    xml = store.getBucketConfig(bucket, 'cors');
  } catch {
    return {};
  }
  if (xml === undefined) return {};
  const rule = matchCors(parseCors(xml), origin, method);
  return rule ? corsHeaders(rule, origin) : {};
}
