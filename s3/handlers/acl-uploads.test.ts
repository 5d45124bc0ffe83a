/**
 * ACLs asked for on uploads that make the object later: CreateMultipartUpload's x-amz-acl and
 * x-amz-grant-* (set on the object at Complete) and a POST form's `acl` field (covered by a
 * policy condition like every field). Through the real server with the SDK and anonymous fetch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeletePublicAccessBlockCommand,
  GetObjectAclCommand,
  PutBucketOwnershipControlsCommand,
  UploadPartCommand,
  type CreateMultipartUploadCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { outcome, startTestServer, type TestServer } from '../../src/server/testing/server.ts';

let server: TestServer;
let s3: S3Client;
const B = 'acl-uploads';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

beforeAll(async () => {
  server = await startTestServer();
  s3 = server.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'acl-enforced' })); // the default: BucketOwnerEnforced
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  // as on AWS, ACLs need ownership other than BucketOwnerEnforced, and public ones no public access block
  await s3.send(new PutBucketOwnershipControlsCommand({ Bucket: B, OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerPreferred' }] } }));
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: B }));
});
afterAll(() => server.stop());

const anonymousGet = async (key: string) => (await fetch(`${server.url}/${B}/${key}`)).status;
const allUsersRead = async (key: string) =>
  (await s3.send(new GetObjectAclCommand({ Bucket: B, Key: key }))).Grants?.some((g) => g.Grantee?.URI === ALL_USERS && g.Permission === 'READ');

async function multipartWith(key: string, acl: Partial<CreateMultipartUploadCommandInput>) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: key, ...acl }));
  // not readable before Complete: the ACL waits for the object
  expect(await anonymousGet(key)).toBe(403);
  const p = await s3.send(new UploadPartCommand({ Bucket: B, Key: key, UploadId, PartNumber: 1, Body: 'one small part' }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: B, Key: key, UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
}

describe('ACLs on CreateMultipartUpload', () => {
  it('a canned ACL is the completed object ACL', async () => {
    await multipartWith('canned', { ACL: 'public-read' });
    expect(await allUsersRead('canned')).toBe(true);
    expect(await anonymousGet('canned')).toBe(200);
  });

  it('x-amz-grant-read is the completed object ACL', async () => {
    await multipartWith('granted', { GrantRead: `uri="${ALL_USERS}"` });
    expect(await allUsersRead('granted')).toBe(true);
    expect(await anonymousGet('granted')).toBe(200);
  });

  it('without one the object stays private; a bad canned ACL is refused at once', async () => {
    await multipartWith('private', {});
    expect(await allUsersRead('private')).toBe(false);
    expect(await anonymousGet('private')).toBe(403);
    expect(await outcome(s3.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'bad', ACL: 'everyone' as 'private' })))).toMatch(/^400 /);
    expect(await outcome(s3.send(new CreateMultipartUploadCommand({ Bucket: 'acl-enforced', Key: 'k', ACL: 'public-read' })))).toBe(
      '400 AccessControlListNotSupported',
    );
  });
});

describe('ACLs on POST forms', () => {
  const postForm = async (key: string, fields: Record<string, string>, conditions: unknown[]) => {
    const form = await createPresignedPost(s3, { Bucket: B, Key: key, Expires: 600, Fields: fields, Conditions: conditions as never });
    const fd = new FormData();
    for (const [k, v] of Object.entries(form.fields)) fd.append(k, v);
    fd.append('file', new Blob(['posted']), 'f.txt');
    return fetch(form.url, { method: 'POST', body: fd });
  };

  it('the acl field, allowed by the policy, is the object ACL', async () => {
    const r = await postForm('posted-public', { acl: 'public-read' }, [{ acl: 'public-read' }]);
    expect(r.status).toBe(204);
    expect(await allUsersRead('posted-public')).toBe(true);
    expect(await anonymousGet('posted-public')).toBe(200);
  });

  it('an acl the policy does not allow is refused and nothing is stored', async () => {
    const form = await createPresignedPost(s3, { Bucket: B, Key: 'posted-denied', Expires: 600, Conditions: [['eq', '$acl', 'private']] });
    const fd = new FormData();
    for (const [k, v] of Object.entries(form.fields)) fd.append(k, v);
    fd.append('acl', 'public-read');
    fd.append('file', new Blob(['posted']), 'f.txt');
    const r = await fetch(form.url, { method: 'POST', body: fd });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('Policy Condition failed');
    expect(await anonymousGet('posted-denied')).toBe(403);
  });
});
