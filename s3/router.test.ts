import { describe, expect, it } from 'vitest';
import { route, addressOf, type OperationName } from './router.ts';
import { dispatch, requestClassOf, type Route } from './handlers/index.ts';

const req = (method: string, url: string, headers: Record<string, string> = {}, host = 'localhost:9000') => {
  const q = url.indexOf('?');
  return {
    method,
    host,
    rawPath: q < 0 ? url : url.slice(0, q),
    query: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
    headers,
  };
};

// Request shapes from the AWS S3 API reference, one row per operation.
const table: [string, string, Record<string, string>, OperationName, string?, string?][] = [
  ['GET', '/', {}, 'ListBuckets'],
  ['PUT', '/b1', {}, 'CreateBucket', 'b1'],
  ['HEAD', '/b1', {}, 'HeadBucket', 'b1'],
  ['DELETE', '/b1', {}, 'DeleteBucket', 'b1'],
  ['GET', '/b1?location', {}, 'GetBucketLocation', 'b1'],
  ['GET', '/b1?versioning', {}, 'GetBucketVersioning', 'b1'],
  ['GET', '/b1?acl', {}, 'GetBucketAcl', 'b1'],
  ['GET', '/b1', {}, 'ListObjects', 'b1'],
  ['GET', '/b1/', {}, 'ListObjects', 'b1'],
  ['GET', '/b1?prefix=a&delimiter=/&marker=x', {}, 'ListObjects', 'b1'],
  ['GET', '/b1?list-type=2&continuation-token=abc', {}, 'ListObjectsV2', 'b1'],
  ['GET', '/b1?uploads', {}, 'ListMultipartUploads', 'b1'],
  ['POST', '/b1?delete', {}, 'DeleteObjects', 'b1'],
  ['POST', '/b1', {}, 'PostObject', 'b1'],
  ['PUT', '/b1/k', {}, 'PutObject', 'b1', 'k'],
  ['PUT', '/b1/a/b/c.txt', {}, 'PutObject', 'b1', 'a/b/c.txt'],
  ['PUT', '/b1/k?x-id=PutObject', {}, 'PutObject', 'b1', 'k'],
  ['PUT', '/b1/k', { 'x-amz-copy-source': '/b0/src' }, 'CopyObject', 'b1', 'k'],
  ['GET', '/b1/k', {}, 'GetObject', 'b1', 'k'],
  ['GET', '/b1/k?partNumber=2', {}, 'GetObject', 'b1', 'k'],
  ['GET', '/b1/k?response-content-type=text/plain', {}, 'GetObject', 'b1', 'k'],
  ['HEAD', '/b1/k', {}, 'HeadObject', 'b1', 'k'],
  ['DELETE', '/b1/k', {}, 'DeleteObject', 'b1', 'k'],
  ['GET', '/b1/k?acl', {}, 'GetObjectAcl', 'b1', 'k'],
  ['GET', '/b1/k?tagging', {}, 'GetObjectTagging', 'b1', 'k'],
  ['PUT', '/b1/k?tagging', {}, 'PutObjectTagging', 'b1', 'k'],
  ['DELETE', '/b1/k?tagging', {}, 'DeleteObjectTagging', 'b1', 'k'],
  ['POST', '/b1/k?uploads', {}, 'CreateMultipartUpload', 'b1', 'k'],
  ['PUT', '/b1/k?partNumber=1&uploadId=U', {}, 'UploadPart', 'b1', 'k'],
  ['PUT', '/b1/k?partNumber=1&uploadId=U', { 'x-amz-copy-source': 'b0/src' }, 'UploadPartCopy', 'b1', 'k'],
  ['POST', '/b1/k?uploadId=U', {}, 'CompleteMultipartUpload', 'b1', 'k'],
  ['DELETE', '/b1/k?uploadId=U', {}, 'AbortMultipartUpload', 'b1', 'k'],
  ['GET', '/b1/k?uploadId=U', {}, 'ListParts', 'b1', 'k'],
  ['GET', '/b1/k?uploadId=U&max-parts=2&part-number-marker=1', {}, 'ListParts', 'b1', 'k'],
];

describe('route: path-style requests', () => {
  it.each(table)('%s %s -> %s', (method, url, headers, name, bucket, key) => {
    const op = route(req(method, url, headers));
    expect(op.name).toBe(name);
    expect(op.bucket).toBe(bucket);
    expect(op.key).toBe(key);
    expect(op.virtualHost).toBe(false);
  });
});

describe('route: virtual-hosted-style requests', () => {
  it.each(table.filter((r) => r[4] !== undefined))('%s %s -> %s', (method, url, headers, name, bucket, key) => {
    // move the bucket from the path to the host
    const vurl = url.replace(`/${bucket}`, '') || '/';
    const op = route(req(method, vurl.startsWith('/') ? vurl : '/' + vurl, headers, `${bucket}.s3.example.test:9000`), 's3.example.test');
    expect(op.name).toBe(name);
    expect(op.bucket).toBe(bucket);
    expect(op.key).toBe(key);
    expect(op.virtualHost).toBe(true);
  });

  it('the bare domain is path-style', () => {
    const op = route(req('GET', '/b1/k', {}, 's3.example.test'), 's3.example.test');
    expect(op).toMatchObject({ name: 'GetObject', bucket: 'b1', key: 'k', virtualHost: false });
  });
});

describe('keys are percent-decoded exactly once', () => {
  it.each([
    ['/b/a%20b', 'a b'],
    ['/b/a+b', 'a+b'],
    ['/b/a%2Bb', 'a+b'],
    ['/b/%E2%82%AC', '€'],
    ['/b/dir%2Ffile', 'dir/file'],
    ['/b/a%25b', 'a%b'],
    ['/b//leading', '/leading'],
    ['/b/trailing/', 'trailing/'],
  ])('%s -> %s', (path, key) => {
    expect(addressOf(req('GET', path)).key).toBe(key);
  });

  it('bad percent-encoding is InvalidURI', () => {
    expect(() => route(req('GET', '/b/%E2%82'))).toThrow(expect.objectContaining({ code: 'InvalidURI' }));
  });
});

describe('unsupported requests are clear errors', () => {
  it.each([
    ['PUT', '/b1?website', 'NotImplemented'],
    ['GET', '/b1?lifecycle', 'NotImplemented'],
    ['PUT', '/b1?versioning', 'NotImplemented'],
    ['GET', '/b1/k?retention', 'NotImplemented'],
    ['POST', '/', 'MethodNotAllowed'],
    ['POST', '/b1?website', 'NotImplemented'],
    ['GET', '/b1/k?policy', 'NotImplemented'],
    ['PATCH', '/b1/k', 'MethodNotAllowed'],
    ['POST', '/b1/k', 'MethodNotAllowed'],
  ])('%s %s -> %s', (method, url, code) => {
    expect(() => route(req(method, url))).toThrow(expect.objectContaining({ code }));
  });
});

describe('access control and CORS sub-resources', () => {
  it.each([
    ['PUT', '/b1?acl', 'PutBucketAcl'],
    ['GET', '/b1?acl', 'GetBucketAcl'],
    ['PUT', '/b1/k?acl', 'PutObjectAcl'],
    ['GET', '/b1?policy', 'GetBucketPolicy'],
    ['PUT', '/b1?policy', 'PutBucketPolicy'],
    ['DELETE', '/b1?policy', 'DeleteBucketPolicy'],
    ['GET', '/b1?policyStatus', 'GetBucketPolicyStatus'],
    ['PUT', '/b1?cors', 'PutBucketCors'],
    ['DELETE', '/b1?cors', 'DeleteBucketCors'],
    ['GET', '/b1?ownershipControls', 'GetBucketOwnershipControls'],
    ['PUT', '/b1?publicAccessBlock', 'PutPublicAccessBlock'],
    ['OPTIONS', '/b1/any/key', 'OptionsObject'],
    ['OPTIONS', '/b1', 'OptionsObject'],
  ])('%s %s -> %s', (method, url, name) => {
    expect(route(req(method, url)).name).toBe(name);
  });
});

describe('operations carry their typed parameters', () => {
  it('uploads carry the upload id, copies the copy source', () => {
    const copy = route(req('PUT', '/b1/k?partNumber=1&uploadId=U', { 'x-amz-copy-source': 'b0/src' }));
    expect(copy).toMatchObject({ name: 'UploadPartCopy', bucket: 'b1', key: 'k', uploadId: 'U', copySource: 'b0/src' });
    expect(route(req('GET', '/b1/k?uploadId=V'))).toMatchObject({ name: 'ListParts', uploadId: 'V' });
    expect(route(req('PUT', '/b1/k', { 'x-amz-copy-source': '/b0/src' }))).toMatchObject({ name: 'CopyObject', copySource: '/b0/src' });
  });
});

describe('the dispatch table gives every operation its classes', () => {
  // How requests were counted before the table said it: by the name's prefix.
  const byPrefix = (name: string) => (name.startsWith('List') ? 'list' : name.startsWith('Get') || name.startsWith('Head') || name === 'OptionsObject' ? 'read' : 'write');
  it.each(Object.entries(dispatch))('%s', (name, r) => {
    expect(requestClassOf(r as Route<OperationName>)).toBe(byPrefix(name));
    expect(r.transfersData ?? true).toBe(!name.startsWith('Delete') && name !== 'AbortMultipartUpload');
  });

  it('only the owner may delete a bucket or read ACLs and configuration', () => {
    const owner = Object.entries(dispatch).filter(([, r]) => r.access === 'owner').map(([n]) => n);
    expect(owner.sort()).toEqual([
      'CreateBucket', 'DeleteBucket', 'DeleteBucketCors', 'DeleteBucketOwnershipControls', 'DeleteBucketPolicy', 'DeletePublicAccessBlock',
      'GetBucketAcl', 'GetBucketCors', 'GetBucketOwnershipControls', 'GetBucketPolicy', 'GetBucketPolicyStatus', 'GetBucketVersioning',
      'GetObjectAcl', 'GetPublicAccessBlock', 'PutBucketAcl', 'PutBucketCors', 'PutBucketOwnershipControls', 'PutBucketPolicy',
      'PutObjectAcl', 'PutPublicAccessBlock',
    ]);
  });
});
