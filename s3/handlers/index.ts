/**
 * The dispatch table: per S3 operation its handler, its access class (what the service authorizes
 * on the bucket before the handler runs) and how it is counted (the request class; an operation of
 * class `owner` says which it counts as). Deletes and aborts are marked free of transfer: they free
 * space, so they stay allowed over a monthly transfer quota.
 */
import type { RequestClass } from '../../src/core/access.ts';
import type { OperationName } from '../router.ts';
import type { Handler } from '../context.ts';
import * as buckets from './buckets.ts';
import * as objects from './objects.ts';
import { copyObject } from './copy.ts';
import { listObjects, listObjectsV2 } from './list.ts';
import { deleteObjects } from './delete-objects.ts';
import * as tagging from './tagging.ts';
import * as multipart from './multipart.ts';
import { postObject } from './post-object.ts';
import * as access from './access.ts';
import * as versioning from './versioning.ts';
import * as objectLock from './object-lock.ts';
import * as lifecycle from './lifecycle.ts';
import { getObjectAttributes } from './attributes.ts';

export type Route<N extends OperationName> = {
  handler: Handler<N>;
  /** Deletes and aborts: false. */
  transfersData?: false;
  /** CreateBucket: the bucket does not exist yet, nothing to authorize. */
  creates?: true;
  /** A CORS preflight: never signed, answered from the bucket's CORS rules alone. */
  anonymous?: true;
} & ({ access: RequestClass } | { access: 'owner'; counts: RequestClass });

export const dispatch: { [N in OperationName]: Route<N> } = {
  ListBuckets: { handler: buckets.listBuckets, access: 'list' },
  CreateBucket: { handler: buckets.createBucket, access: 'owner', counts: 'write', creates: true },
  HeadBucket: { handler: buckets.headBucket, access: 'read' },
  DeleteBucket: { handler: buckets.deleteBucket, access: 'owner', counts: 'write', transfersData: false },
  GetBucketLocation: { handler: buckets.getBucketLocation, access: 'read' },
  GetBucketVersioning: { handler: versioning.getBucketVersioning, access: 'owner', counts: 'read' },
  GetBucketAcl: { handler: access.getBucketAcl, access: 'owner', counts: 'read' },
  PutBucketAcl: { handler: access.putBucketAcl, access: 'owner', counts: 'write' },
  GetBucketPolicy: { handler: access.getBucketPolicy, access: 'owner', counts: 'read' },
  PutBucketPolicy: { handler: access.putBucketPolicy, access: 'owner', counts: 'write' },
  DeleteBucketPolicy: { handler: access.deleteBucketPolicy, access: 'owner', counts: 'write', transfersData: false },
  GetBucketPolicyStatus: { handler: access.getBucketPolicyStatus, access: 'owner', counts: 'read' },
  GetBucketCors: { handler: access.getBucketCors, access: 'owner', counts: 'read' },
  PutBucketCors: { handler: access.putBucketCors, access: 'owner', counts: 'write' },
  DeleteBucketCors: { handler: access.deleteBucketCors, access: 'owner', counts: 'write', transfersData: false },
  GetBucketOwnershipControls: { handler: access.getBucketOwnershipControls, access: 'owner', counts: 'read' },
  PutBucketOwnershipControls: { handler: access.putBucketOwnershipControls, access: 'owner', counts: 'write' },
  DeleteBucketOwnershipControls: { handler: access.deleteBucketOwnershipControls, access: 'owner', counts: 'write', transfersData: false },
  GetPublicAccessBlock: { handler: access.getPublicAccessBlock, access: 'owner', counts: 'read' },
  PutPublicAccessBlock: { handler: access.putPublicAccessBlock, access: 'owner', counts: 'write' },
  DeletePublicAccessBlock: { handler: access.deletePublicAccessBlock, access: 'owner', counts: 'write', transfersData: false },
  OptionsObject: { handler: access.optionsObject, access: 'read', anonymous: true },
  ListObjects: { handler: listObjects, access: 'list' },
  ListObjectsV2: { handler: listObjectsV2, access: 'list' },
  ListMultipartUploads: { handler: multipart.listMultipartUploads, access: 'list' },
  DeleteObjects: { handler: deleteObjects, access: 'write', transfersData: false },
  PutObject: { handler: objects.putObject, access: 'write' },
  PostObject: { handler: postObject, access: 'write' },
  CopyObject: { handler: copyObject, access: 'write' },
  GetObject: { handler: objects.getObject, access: 'read' },
  HeadObject: { handler: objects.headObject, access: 'read' },
  DeleteObject: { handler: objects.deleteObject, access: 'write', transfersData: false },
  GetObjectAcl: { handler: access.getObjectAcl, access: 'owner', counts: 'read' },
  GetObjectAttributes: { handler: getObjectAttributes, access: 'read' },
  PutObjectAcl: { handler: access.putObjectAcl, access: 'owner', counts: 'write' },
  GetObjectTagging: { handler: tagging.getObjectTagging, access: 'read' },
  PutObjectTagging: { handler: tagging.putObjectTagging, access: 'write' },
  DeleteObjectTagging: { handler: tagging.deleteObjectTagging, access: 'write', transfersData: false },
  CreateMultipartUpload: { handler: multipart.createMultipartUpload, access: 'write' },
  UploadPart: { handler: multipart.uploadPart, access: 'write' },
  UploadPartCopy: { handler: multipart.uploadPartCopy, access: 'write' },
  CompleteMultipartUpload: { handler: multipart.completeMultipartUpload, access: 'write' },
  AbortMultipartUpload: { handler: multipart.abortMultipartUpload, access: 'write', transfersData: false },
  ListParts: { handler: multipart.listParts, access: 'list' },
  // versions, object lock, lifecycle (issue 16)
  PutBucketVersioning: { handler: versioning.putBucketVersioning, access: 'owner', counts: 'write' },
  ListObjectVersions: { handler: versioning.listObjectVersions, access: 'list' },
  GetObjectLockConfiguration: { handler: objectLock.getObjectLockConfiguration, access: 'owner', counts: 'read' },
  PutObjectLockConfiguration: { handler: objectLock.putObjectLockConfiguration, access: 'owner', counts: 'write' },
  GetBucketLifecycleConfiguration: { handler: lifecycle.getBucketLifecycleConfiguration, access: 'owner', counts: 'read' },
  PutBucketLifecycleConfiguration: { handler: lifecycle.putBucketLifecycleConfiguration, access: 'owner', counts: 'write' },
  DeleteBucketLifecycleConfiguration: { handler: lifecycle.deleteBucketLifecycleConfiguration, access: 'owner', counts: 'write', transfersData: false },
  GetObjectRetention: { handler: objectLock.getObjectRetention, access: 'owner', counts: 'read' },
  PutObjectRetention: { handler: objectLock.putObjectRetention, access: 'owner', counts: 'write' },
  GetObjectLegalHold: { handler: objectLock.getObjectLegalHold, access: 'owner', counts: 'read' },
  PutObjectLegalHold: { handler: objectLock.putObjectLegalHold, access: 'owner', counts: 'write' },
};

/** How an operation is counted and rate-limited. */
export const requestClassOf = (route: Route<OperationName>): RequestClass =>
  route.access === 'owner' ? route.counts : route.access;
