/**
 * Access control end to end: the real server, two accounts and anonymous callers (plain fetch, no
 * signature). Bucket policies, ACLs, ownership controls, public access blocks and CORS, with
 * AWS's defaults for new buckets (ACLs off, public access blocked).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  GetPublicAccessBlockCommand,
  GetBucketOwnershipControlsCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createUser, failure, startE2eServer, userInfo, type E2eServer } from './testing/e2e.ts';

let server: E2eServer;
let alice: S3Client;
let bob: S3Client;
const anon = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, init);
const policy = (bucket: string, statement: object) => JSON.stringify({ Version: '2012-10-17', Statement: [statement] });

beforeAll(async () => {
  server = await startE2eServer();
  alice = server.client(await createUser(server, 'alice'));
  bob = server.client(await createUser(server, 'bob'));
  await alice.send(new CreateBucketCommand({ Bucket: 'pol' }));
  await alice.send(new PutObjectCommand({ Bucket: 'pol', Key: 'public/a.txt', Body: 'hello world' }));
  await alice.send(new PutObjectCommand({ Bucket: 'pol', Key: 'private/b.txt', Body: 'secret' }));
});
afterAll(async () => server?.stop());

describe('a new bucket', () => {
  it('is closed to other accounts and to anonymous callers, with AWS’s defaults', async () => {
    expect(await failure(bob.send(new GetObjectCommand({ Bucket: 'pol', Key: 'public/a.txt' })))).toBe('403 AccessDenied');
    expect((await anon('/pol/public/a.txt')).status).toBe(403);
    expect((await anon('/pol')).status).toBe(403);
    expect((await anon('/')).status).toBe(403);
    const pab = await alice.send(new GetPublicAccessBlockCommand({ Bucket: 'pol' }));
    expect(pab.PublicAccessBlockConfiguration).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
    const own = await alice.send(new GetBucketOwnershipControlsCommand({ Bucket: 'pol' }));
    expect(own.OwnershipControls?.Rules?.[0]?.ObjectOwnership).toBe('BucketOwnerEnforced');
    const acl = await alice.send(new GetBucketAclCommand({ Bucket: 'pol' }));
    expect(acl.Grants).toHaveLength(1);
    expect(acl.Grants?.[0]?.Permission).toBe('FULL_CONTROL');
    expect(acl.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('bucket policies', () => {
  const publicRead = policy('pol', { Sid: 'pub', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/public/*' });

  it('refuses a malformed policy with the reason, and a public one while public policies are blocked', async () => {
    expect(await failure(alice.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: '{"Statement": [' })))).toBe('400 MalformedPolicy');
    expect(await failure(alice.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: policy('pol', { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::other/*' }) })))).toBe('400 MalformedPolicy');
    expect(await failure(alice.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: publicRead })))).toBe('403 AccessDenied');
    expect(await failure(alice.send(new GetBucketPolicyCommand({ Bucket: 'pol' })))).toBe('404 NoSuchBucketPolicy');
  });

  it('opens what it names to anonymous callers once the public access block allows it', async () => {
    await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'pol' }));
    await alice.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: publicRead }));
    expect((await alice.send(new GetBucketPolicyCommand({ Bucket: 'pol' }))).Policy).toBe(publicRead);
    expect((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: 'pol' }))).PolicyStatus?.IsPublic).toBe(true);
    const r = await anon('/pol/public/a.txt');
    expect(r.status).toBe(200);
    expect(await r.text()).toBe('hello world');
    expect((await anon('/pol/private/b.txt')).status).toBe(403);
    expect((await anon('/pol?list-type=2')).status).toBe(403);
    expect((await anon('/pol/public/a.txt', { method: 'PUT', body: 'x' })).status).toBe(403);
    expect((await bob.send(new GetObjectCommand({ Bucket: 'pol', Key: 'public/a.txt' }))).$metadata.httpStatusCode).toBe(200);
    // RestrictPublicBuckets: public statements stop granting, without deleting the policy
    await alice.send(new PutPublicAccessBlockCommand({ Bucket: 'pol', PublicAccessBlockConfiguration: { RestrictPublicBuckets: true } }));
    expect((await anon('/pol/public/a.txt')).status).toBe(403);
    await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'pol' }));
    expect((await anon('/pol/public/a.txt')).status).toBe(200);
  });

  it('lets another account write where the owner grants it, counting the bytes against the owner', async () => {
    const before = (await userInfo(server, 'alice')).usage.bytes;
    await alice.send(new PutBucketPolicyCommand({
      Bucket: 'pol',
      Policy: policy('pol', { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::bob:root' }, Action: ['s3:PutObject', 's3:GetObject'], Resource: 'arn:aws:s3:::pol/drop/*' }),
    }));
    await bob.send(new PutObjectCommand({ Bucket: 'pol', Key: 'drop/from-bob', Body: Buffer.alloc(1000, 7) }));
    expect(await failure(bob.send(new PutObjectCommand({ Bucket: 'pol', Key: 'elsewhere', Body: 'x' })))).toBe('403 AccessDenied');
    const got = await bob.send(new GetObjectCommand({ Bucket: 'pol', Key: 'drop/from-bob' }));
    expect((await got.Body!.transformToByteArray()).length).toBe(1000);
    expect((await userInfo(server, 'alice')).usage.bytes).toBe(before + 1000);
    expect((await anon('/pol/public/a.txt')).status).toBe(403); // the public statement was replaced
  });

  it('an explicit Deny stops even the owner, who can still remove the policy', async () => {
    await alice.send(new PutBucketPolicyCommand({
      Bucket: 'pol',
      Policy: policy('pol', { Effect: 'Deny', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/private/*' }),
    }));
    expect(await failure(alice.send(new GetObjectCommand({ Bucket: 'pol', Key: 'private/b.txt' })))).toBe('403 AccessDenied');
    await alice.send(new DeleteBucketPolicyCommand({ Bucket: 'pol' }));
    expect((await alice.send(new GetObjectCommand({ Bucket: 'pol', Key: 'private/b.txt' }))).$metadata.httpStatusCode).toBe(200);
  });
});

describe('ACLs', () => {
  it('are refused on a BucketOwnerEnforced bucket, and at creation without an ownership that allows them', async () => {
    expect(await failure(alice.send(new PutObjectCommand({ Bucket: 'pol', Key: 'x', Body: 'x', ACL: 'public-read' })))).toBe('400 AccessControlListNotSupported');
    await alice.send(new PutObjectCommand({ Bucket: 'pol', Key: 'x', Body: 'x', ACL: 'bucket-owner-full-control' }));
    expect(await failure(alice.send(new CreateBucketCommand({ Bucket: 'acl-bad', ACL: 'public-read' })))).toBe('400 InvalidBucketAclWithObjectOwnership');
  });

  it('grant what they say on an ObjectWriter bucket once public ACLs are not blocked', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'acl', ObjectOwnership: 'ObjectWriter' }));
    expect(await failure(alice.send(new PutObjectCommand({ Bucket: 'acl', Key: 'o', Body: 'pub', ACL: 'public-read' })))).toBe('403 AccessDenied');
    await alice.send(new DeletePublicAccessBlockCommand({ Bucket: 'acl' }));
    await alice.send(new PutObjectCommand({ Bucket: 'acl', Key: 'o', Body: 'pub', ACL: 'public-read' }));
    await alice.send(new PutObjectCommand({ Bucket: 'acl', Key: 'p', Body: 'priv' }));
    expect(await (await anon('/acl/o')).text()).toBe('pub');
    expect((await anon('/acl/p')).status).toBe(403);
    const acl = await alice.send(new GetObjectAclCommand({ Bucket: 'acl', Key: 'o' }));
    expect(acl.Grants?.map((g) => `${g.Grantee?.URI ?? g.Grantee?.Type}:${g.Permission}`).sort()).toEqual(['CanonicalUser:FULL_CONTROL', 'http://acs.amazonaws.com/groups/global/AllUsers:READ']);
    // grant bob read on p by canonical id; the object ACL decides for him
    const bobId = (await userInfo(server, 'bob')).canonicalId as string;
    await alice.send(new PutObjectAclCommand({ Bucket: 'acl', Key: 'p', GrantRead: `id="${bobId}"` }));
    expect((await bob.send(new GetObjectCommand({ Bucket: 'acl', Key: 'p' }))).$metadata.httpStatusCode).toBe(200);
    expect(await failure(bob.send(new GetObjectAclCommand({ Bucket: 'acl', Key: 'p' })))).toBe('403 AccessDenied');
    // a bucket ACL lets another account list
    expect(await failure(bob.send(new GetBucketAclCommand({ Bucket: 'acl' })))).toBe('403 AccessDenied');
    await alice.send(new PutBucketAclCommand({ Bucket: 'acl', ACL: 'authenticated-read' }));
    expect((await bob.send(new ListObjectsV2Command({ Bucket: 'acl' }))).KeyCount).toBe(2);
    expect((await anon('/acl?list-type=2')).status).toBe(403);
    // IgnorePublicAcls turns the public grants off without removing them
    await alice.send(new PutPublicAccessBlockCommand({ Bucket: 'acl', PublicAccessBlockConfiguration: { IgnorePublicAcls: true } }));
    expect((await anon('/acl/o')).status).toBe(403);
  });
});

describe('CORS', () => {
  it('answers preflights from the bucket’s rules and adds the headers to actual responses', async () => {
    expect((await anon('/pol/public/a.txt', { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'GET' } })).status).toBe(403);
    await alice.send(new PutBucketCorsCommand({
      Bucket: 'pol',
      CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['http://app.example'], AllowedMethods: ['GET', 'PUT'], AllowedHeaders: ['*'], ExposeHeaders: ['ETag'], MaxAgeSeconds: 60 }] },
    }));
    const pre = await anon('/pol/public/a.txt', { method: 'OPTIONS', headers: { Origin: 'http://app.example', 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'content-type' } });
    expect(pre.status).toBe(200);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(pre.headers.get('access-control-allow-methods')).toContain('PUT');
    expect((await anon('/pol/public/a.txt', { method: 'OPTIONS', headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' } })).status).toBe(403);
    await alice.send(new PutBucketPolicyCommand({ Bucket: 'pol', Policy: policy('pol', { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::pol/public/*' }) }));
    const got = await anon('/pol/public/a.txt', { headers: { Origin: 'http://app.example' } });
    expect(got.status).toBe(200);
    expect(got.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(got.headers.get('access-control-expose-headers')).toBe('ETag');
    expect((await anon('/pol/public/a.txt', { headers: { Origin: 'http://evil.example' } })).headers.get('access-control-allow-origin')).toBeNull();
  });
});
