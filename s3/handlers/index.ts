/** The dispatch table: one handler per S3 operation. */
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
import * as versioning from './versioning.ts';
import * as objectLock from './object-lock.ts';
import * as lifecycle from './lifecycle.ts';

export const handlers: Record<OperationName, Handler> = {
  ListBuckets: buckets.listBuckets,
  CreateBucket: buckets.createBucket,
  HeadBucket: buckets.headBucket,
  DeleteBucket: buckets.deleteBucket,
  GetBucketLocation: buckets.getBucketLocation,
  GetBucketVersioning: versioning.getBucketVersioning,
  GetBucketAcl: buckets.getBucketAcl,
  ListObjects: listObjects,
  ListObjectsV2: listObjectsV2,
  ListMultipartUploads: multipart.listMultipartUploads,
  DeleteObjects: deleteObjects,
  PutObject: objects.putObject,
  PostObject: postObject,
  CopyObject: copyObject,
  GetObject: objects.getObject,
  HeadObject: objects.headObject,
  DeleteObject: objects.deleteObject,
  GetObjectAcl: objects.getObjectAcl,
  GetObjectTagging: tagging.getObjectTagging,
  PutObjectTagging: tagging.putObjectTagging,
  DeleteObjectTagging: tagging.deleteObjectTagging,
  CreateMultipartUpload: multipart.createMultipartUpload,
  UploadPart: multipart.uploadPart,
  UploadPartCopy: multipart.uploadPartCopy,
  CompleteMultipartUpload: multipart.completeMultipartUpload,
  AbortMultipartUpload: multipart.abortMultipartUpload,
  ListParts: multipart.listParts,
  // versions, object lock, lifecycle (issue 16)
  PutBucketVersioning: versioning.putBucketVersioning,
  ListObjectVersions: versioning.listObjectVersions,
  GetObjectLockConfiguration: objectLock.getObjectLockConfiguration,
  PutObjectLockConfiguration: objectLock.putObjectLockConfiguration,
  GetBucketLifecycleConfiguration: lifecycle.getBucketLifecycleConfiguration,
  PutBucketLifecycleConfiguration: lifecycle.putBucketLifecycleConfiguration,
  DeleteBucketLifecycleConfiguration: lifecycle.deleteBucketLifecycleConfiguration,
  GetObjectRetention: objectLock.getObjectRetention,
  PutObjectRetention: objectLock.putObjectRetention,
  GetObjectLegalHold: objectLock.getObjectLegalHold,
  PutObjectLegalHold: objectLock.putObjectLegalHold,
};
