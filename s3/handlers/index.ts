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

export type Route<N extends OperationName> = {
  handler: Handler<N>;
  /** Deletes and aborts: false. */
  transfersData?: false;
  /** CreateBucket: the bucket does not exist yet, nothing to authorize. */
  creates?: true;
} & ({ access: RequestClass } | { access: 'owner'; counts: RequestClass });

export const dispatch: { [N in OperationName]: Route<N> } = {
  ListBuckets: { handler: buckets.listBuckets, access: 'list' },
  CreateBucket: { handler: buckets.createBucket, access: 'owner', counts: 'write', creates: true },
  HeadBucket: { handler: buckets.headBucket, access: 'read' },
  DeleteBucket: { handler: buckets.deleteBucket, access: 'owner', counts: 'write', transfersData: false },
  GetBucketLocation: { handler: buckets.getBucketLocation, access: 'read' },
  GetBucketVersioning: { handler: buckets.getBucketVersioning, access: 'owner', counts: 'read' },
  GetBucketAcl: { handler: buckets.getBucketAcl, access: 'owner', counts: 'read' },
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
  GetObjectAcl: { handler: objects.getObjectAcl, access: 'owner', counts: 'read' },
  GetObjectTagging: { handler: tagging.getObjectTagging, access: 'read' },
  PutObjectTagging: { handler: tagging.putObjectTagging, access: 'write' },
  DeleteObjectTagging: { handler: tagging.deleteObjectTagging, access: 'write', transfersData: false },
  CreateMultipartUpload: { handler: multipart.createMultipartUpload, access: 'write' },
  UploadPart: { handler: multipart.uploadPart, access: 'write' },
  UploadPartCopy: { handler: multipart.uploadPartCopy, access: 'write' },
  CompleteMultipartUpload: { handler: multipart.completeMultipartUpload, access: 'write' },
  AbortMultipartUpload: { handler: multipart.abortMultipartUpload, access: 'write', transfersData: false },
  ListParts: { handler: multipart.listParts, access: 'list' },
};

/** How an operation is counted and rate-limited. */
export const requestClassOf = (route: Route<OperationName>): RequestClass =>
  route.access === 'owner' ? route.counts : route.access;
