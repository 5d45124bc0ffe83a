/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, location, versioning, ACL. */
import { DomainError } from '../../src/core/errors.ts';
import type { Handler } from '../context.ts';
import { xmlResult } from '../context.ts';
import { ownerXml, validateBucketName } from '../headers.ts';
import { parseXml, readSmallBody, text, xmlDocument } from '../xml.ts';


export const listBuckets: Handler = ({ store, account, region, op }) => {
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

export const createBucket: Handler = async ({ store, account, region, op, body, headers }) => {
  const name = op.bucket!;
  validateBucketName(name);
  const xml = (await readSmallBody(body.source)).toString('utf8');
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
  store.createBucket(name, account, region);
  if (lock === 'true') store.enableObjectLock(name); // object lock (issue 16): also turns versioning on
  return { status: 200, headers: { Location: `/${name}` } };
};

export const headBucket: Handler = ({ op, region, authorizeBucket }) => {
  authorizeBucket(op.bucket!);
  return { status: 200, headers: { 'x-amz-bucket-region': region } };
};

export const deleteBucket: Handler = async ({ store, op, authorizeBucket }) => {
  authorizeBucket(op.bucket!);
  await store.deleteBucket(op.bucket!);
  return { status: 204 };
};

export const getBucketLocation: Handler = ({ store, op, authorizeBucket }) => {
  authorizeBucket(op.bucket!);
  const b = store.getBucket(op.bucket!);
  // us-east-1 is answered as an empty LocationConstraint, as S3 does.
  return xmlResult(xmlDocument('LocationConstraint', { '#text': b.region === 'us-east-1' ? '' : b.region }));
};

export const aclResult = (account: string) =>
  xmlResult(
    xmlDocument('AccessControlPolicy', {
      Owner: ownerXml(account),
      AccessControlList: {
        Grant: {
          Grantee: { '@xmlns:xsi': 'http://www.w3.org/2001/XMLSchema-instance', '@xsi:type': 'CanonicalUser', ...ownerXml(account) },
          Permission: 'FULL_CONTROL',
        },
      },
    }),
  );

export const getBucketAcl: Handler = ({ op, account, authorizeBucket }) => {
  authorizeBucket(op.bucket!);
  return aclResult(account);
};
