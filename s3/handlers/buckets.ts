/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, location, versioning, ACL. */
import { DomainError, isDomainError } from '../../src/core/errors.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { ownerXml, validateBucketName } from '../headers.ts';
import { parseXml, readSmallBody, text, xmlDocument } from '../xml.ts';
import { canonicalIdOf, encodeAcl } from '../access/acl.ts';
import { ALL_BLOCKED, parseOwnership, requestedAcl } from './access.ts';


export const listBuckets: Handler<'ListBuckets'> = ({ store, account, region, op }) => {
  const prefix = op.query.get('prefix') ?? '';
  const buckets = store.listBuckets(account).filter((b) => b.name.startsWith(prefix));
  return xmlResult(
    xmlDocument('ListAllMyBucketsResult', {
      Owner: ownerXml(account),
      Buckets: { Bucket: buckets.map((b) => ({ Name: b.name, CreationDate: b.created.toISOString(), BucketRegion: b.region })) },
      Prefix: op.query.get('prefix') ?? undefined,
    }),
    { 'x-amz-bucket-region': region },
  );
};

export const createBucket: Handler<'CreateBucket'> = async (ctx) => {
  const { store, account, region, op, body, headers } = ctx;
  const name = op.bucket;
  validateBucketName(name);
  const xml = (await readSmallBody(body.source, 64 * 1024)).toString('utf8');
  if (xml.trim() !== '') {
    const conf = parseXml(xml, 'CreateBucketConfiguration');
    const constraint = text(conf, 'LocationConstraint');
    if (constraint !== undefined && constraint !== '' && constraint !== region) {
      throw new DomainError(
        'InvalidLocationConstraint',
        `The location constraint '${constraint}' is not this server's region; use '${region}' or leave it out.`,
        { LocationConstraint: constraint },
      );
    }
  }
  const lock = headers['x-amz-bucket-object-lock-enabled']?.trim().toLowerCase();
  if (lock !== undefined && lock !== 'true' && lock !== 'false') {
    throw new DomainError('InvalidArgument', `x-amz-bucket-object-lock-enabled must be true or false, not '${lock}'.`);
  }
  // AWS's defaults since 2023: ACLs off (BucketOwnerEnforced) unless x-amz-object-ownership says
  // otherwise, and every public access block setting on.
  const ownership = headers['x-amz-object-ownership'] === undefined ? 'BucketOwnerEnforced' : parseOwnership(headers['x-amz-object-ownership']);
  const acl = await requestedAcl(ctx, canonicalIdOf(account), { body: false });
  if (acl && ownership === 'BucketOwnerEnforced' && acl.grants.some((g) => g.grantee.type !== 'CanonicalUser' || g.grantee.id !== acl.owner)) {
    throw new DomainError('InvalidBucketAclWithObjectOwnership', 'Bucket cannot have ACLs set with ObjectOwnership\'s BucketOwnerEnforced setting; send x-amz-object-ownership: ObjectWriter (or BucketOwnerPreferred) with the ACL.');
  }
  try {
    store.createBucket(name, account, region);
  } catch (e) {
    // AWS: the owner re-creating its bucket gets 200 OK in us-east-1 (the legacy region, settings
    // untouched) and 409 BucketAlreadyOwnedByYou in every other region.
    if (region === 'us-east-1' && isDomainError(e) && e.code === 'BucketAlreadyOwnedByYou') return { status: 200, headers: { Location: `/${name}` } };
    throw e;
  }
  store.putBucketConfig(name, 'ownership', ownership);
  store.putBucketConfig(name, 'public-access-block', JSON.stringify(ALL_BLOCKED));
  if (acl) store.putBucketConfig(name, 'acl', encodeAcl(acl));
  if (lock === 'true') store.enableObjectLock(name); // object lock (issue 16): also turns versioning on
  return { status: 200, headers: { Location: `/${name}` } };
};

export const headBucket: Handler<'HeadBucket'> = ({ op, region }) => {
  return { status: 200, headers: { 'x-amz-bucket-region': region } };
};

export const deleteBucket: Handler<'DeleteBucket'> = async ({ store, op }) => {
  await store.deleteBucket(op.bucket);
  return { status: 204 };
};

export const getBucketLocation: Handler<'GetBucketLocation'> = ({ store, op }) => {
  const b = store.getBucket(op.bucket);
  // us-east-1 is answered as an empty LocationConstraint, as S3 does.
  return xmlResult(xmlDocument('LocationConstraint', { '#text': b.region === 'us-east-1' ? '' : b.region }));
};

