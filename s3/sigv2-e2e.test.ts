/**
 * SigV2 through the real server with the clients that still send it: boto3 with
 * signature_version='s3' (header) and its default generate_presigned_url, aws-cli v1's default
 * `s3 presign`, s3cmd with signature_v2 = True, and curl with a hand-made header or URL. Also the
 * s3:signatureversion condition key as a bucket policy sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, GetObjectCommand, PutBucketPolicyCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ROOT, startTestServer, type TestServer } from '../src/server/testing/server.ts';

const run = promisify(execFile);
let server: TestServer;
let s3: S3Client;
let dir: string;
const B = 'sigv2';
const KEY = 'dir/hello wörld+1.txt';
const BODY = 'hello from sigv2\n';

/** A clean environment: the server's own credentials, no user configuration, no CA bundle. */
const env = (): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: dir,
  AWS_ACCESS_KEY_ID: ROOT.accessKeyId,
  AWS_SECRET_ACCESS_KEY: ROOT.secretAccessKey,
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_CONFIG_FILE: join(dir, 'aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: join(dir, 'aws-credentials'),
  AWS_EC2_METADATA_DISABLED: 'true',
});

async function python(script: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('python3', ['-c', script, server.url, B, ...args], { env: env(), timeout: 60_000 });
  return stdout.trim();
}

async function curl(args: string[]): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-s', '-g', '-w', '\n%{http_code}', ...args], { timeout: 30_000 });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

/** A SigV2 Authorization header made by hand, as the AWS documentation describes it. */
function v2Header(method: string, resource: string, headers: Record<string, string> = {}): Record<string, string> {
  const date = new Date().toUTCString();
  const amz = Object.keys(headers)
    .filter((h) => h.startsWith('x-amz-'))
    .sort()
    .map((h) => `${h}:${headers[h]}\n`)
    .join('');
  const toSign = `${method}\n${headers['content-md5'] ?? ''}\n${headers['content-type'] ?? ''}\n${date}\n${amz}${resource}`;
  const sig = createHmac('sha1', ROOT.secretAccessKey).update(toSign).digest('base64');
  return { ...headers, date, authorization: `AWS ${ROOT.accessKeyId}:${sig}` };
}

const v2Url = (resource: string, expires: number): string => {
  const sig = createHmac('sha1', ROOT.secretAccessKey).update(`GET\n\n\n${expires}\n${resource}`).digest('base64');
  return `${server.url}${resource}${resource.includes('?') ? '&' : '?'}AWSAccessKeyId=${ROOT.accessKeyId}&Expires=${expires}&Signature=${encodeURIComponent(sig)}`;
};

beforeAll(async () => {
  server = await startTestServer(['--domain', 's3.sigv2.test']);
  s3 = server.client();
  dir = await mkdtemp(join(tmpdir(), 'sigv2-'));
  await s3.send(new CreateBucketCommand({ Bucket: B }));
  await s3.send(new PutObjectCommand({ Bucket: B, Key: KEY, Body: BODY }));
});
afterAll(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

const BOTO3_V2 = `
import sys, boto3, hashlib
from botocore.config import Config
url, b = sys.argv[1], sys.argv[2]
s3 = boto3.client('s3', endpoint_url=url, config=Config(signature_version='s3', s3={'addressing_style': 'path'}))
s3.put_object(Bucket=b, Key='boto/a b+c.txt', Body=b'v2 body', ContentType='text/plain', Metadata={'who': 'boto3'})
o = s3.get_object(Bucket=b, Key='boto/a b+c.txt')
assert o['Body'].read() == b'v2 body' and o['Metadata'] == {'who': 'boto3'}, o
assert o['ContentType'] == 'text/plain'
h = s3.head_object(Bucket=b, Key='boto/a b+c.txt')
assert h['ContentLength'] == 7
keys = [c['Key'] for c in s3.list_objects_v2(Bucket=b, Prefix='boto/')['Contents']]
assert keys == ['boto/a b+c.txt'], keys
s3.copy_object(Bucket=b, Key='boto/copy', CopySource={'Bucket': b, 'Key': 'boto/a b+c.txt'})
s3.put_object_tagging(Bucket=b, Key='boto/copy', Tagging={'TagSet': [{'Key': 't', 'Value': 'v'}]})
assert s3.get_object_tagging(Bucket=b, Key='boto/copy')['TagSet'] == [{'Key': 't', 'Value': 'v'}]
u = s3.create_multipart_upload(Bucket=b, Key='boto/mp')['UploadId']
part = b'x' * (5 * 1024 * 1024)
e1 = s3.upload_part(Bucket=b, Key='boto/mp', UploadId=u, PartNumber=1, Body=part)['ETag']
e2 = s3.upload_part(Bucket=b, Key='boto/mp', UploadId=u, PartNumber=2, Body=b'tail')['ETag']
assert [p['PartNumber'] for p in s3.list_parts(Bucket=b, Key='boto/mp', UploadId=u)['Parts']] == [1, 2]
s3.complete_multipart_upload(Bucket=b, Key='boto/mp', UploadId=u, MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': e1}, {'PartNumber': 2, 'ETag': e2}]})
assert s3.head_object(Bucket=b, Key='boto/mp', PartNumber=2)['ContentLength'] == 4
s3.get_bucket_acl(Bucket=b)
s3.delete_objects(Bucket=b, Delete={'Objects': [{'Key': 'boto/copy'}, {'Key': 'boto/mp'}]})
s3.delete_object(Bucket=b, Key='boto/a b+c.txt')
print('ok')
`;

describe('SigV2 with real clients', () => {
  it("boto3 with signature_version='s3' (the Authorization: AWS header): objects, copy, tagging, multipart, acl, deletes", async () => {
    expect(await python(BOTO3_V2)).toBe('ok');
  });

  it("boto3's default generate_presigned_url, and a SigV2 one (signature_version='s3'), fetched with curl", async () => {
    const script = `
import sys, boto3
from botocore.config import Config
url, b, k = sys.argv[1], sys.argv[2], sys.argv[3]
print(boto3.client('s3', endpoint_url=url).generate_presigned_url('get_object', Params={'Bucket': b, 'Key': k}, ExpiresIn=600))
v2 = boto3.client('s3', endpoint_url=url, config=Config(signature_version='s3'))
print(v2.generate_presigned_url('get_object', Params={'Bucket': b, 'Key': k, 'ResponseContentType': 'text/x-test'}, ExpiresIn=600))
print(v2.generate_presigned_url('put_object', Params={'Bucket': b, 'Key': 'boto-put.txt', 'Metadata': {'via': 'v2-url'}}, ExpiresIn=600))
`;
    const [byDefault, v2Get, v2Put] = (await python(script, KEY)).split('\n') as [string, string, string];
    const got = await curl([byDefault]);
    expect(got).toEqual({ status: 200, body: BODY });
    expect(v2Get).toContain('AWSAccessKeyId=');
    const typed = await curl(['-D', '-', v2Get]);
    expect(typed.status).toBe(200);
    expect(typed.body).toMatch(/content-type: text\/x-test/i);
    expect(v2Put).toContain('Signature=');
    const file = join(dir, 'put.txt');
    await writeFile(file, 'put through a SigV2 URL');
    expect((await curl(['-T', file, v2Put])).status).toBe(200);
    const back = await s3.send(new GetObjectCommand({ Bucket: B, Key: 'boto-put.txt' }));
    expect(await back.Body!.transformToString()).toBe('put through a SigV2 URL');
    expect(back.Metadata).toEqual({ via: 'v2-url' }); // botocore signs x-amz-meta-* into the query: applied as headers
    const other = v2Put.replace('boto-put.txt', 'elsewhere.txt');
    expect((await curl(['-T', file, other])).status).toBe(403);
  });

  it("aws-cli v1's default `s3 presign` (SigV2), fetched with curl", async () => {
    const { stdout } = await run('python3', ['-m', 'awscli', '--endpoint-url', server.url, 's3', 'presign', `s3://${B}/${KEY}`, '--expires-in', '600'], { env: env(), timeout: 60_000 });
    const url = stdout.trim();
    expect(url).toContain('AWSAccessKeyId=');
    expect(await curl([url])).toEqual({ status: 200, body: BODY });
  });

  it('s3cmd with signature_v2 = True: mb, put, ls, get, del', async () => {
    const host = new URL(server.url).host;
    const cfg = join(dir, 's3cfg');
    await writeFile(
      cfg,
      `[default]\naccess_key = ${ROOT.accessKeyId}\nsecret_key = ${ROOT.secretAccessKey}\nhost_base = ${host}\nhost_bucket = ${host}\nuse_https = False\nsignature_v2 = True\n`,
    );
    const s3cmd = (...args: string[]) => run('s3cmd', ['-c', cfg, ...args], { env: env(), timeout: 60_000 });
    const src = join(dir, 's3cmd-src.txt');
    await writeFile(src, 's3cmd v2 payload');
    await s3cmd('mb', 's3://sigv2-s3cmd');
    await s3cmd('put', src, 's3://sigv2-s3cmd/some key/ü.txt');
    expect((await s3cmd('ls', '-r', 's3://sigv2-s3cmd')).stdout).toContain('s3://sigv2-s3cmd/some key/ü.txt');
    await s3cmd('get', 's3://sigv2-s3cmd/some key/ü.txt', join(dir, 's3cmd-back.txt'), '--force');
    const back = await run('cat', [join(dir, 's3cmd-back.txt')]);
    expect(back.stdout).toBe('s3cmd v2 payload');
    await s3cmd('del', 's3://sigv2-s3cmd/some key/ü.txt');
    await s3cmd('rb', 's3://sigv2-s3cmd');
  });

  it('curl with a hand-made SigV2 header and query string; tampering and expiry are refused', async () => {
    const h = v2Header('PUT', `/${B}/curl.txt`, { 'content-type': 'text/plain', 'x-amz-meta-by': 'curl' });
    const put = await curl(['-X', 'PUT', '--data-binary', 'curl body', ...Object.entries(h).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${server.url}/${B}/curl.txt`]);
    expect(put.status).toBe(200);
    const get = await curl([v2Url(`/${B}/curl.txt`, Math.floor(Date.now() / 1000) + 60)]);
    expect(get).toEqual({ status: 200, body: 'curl body' });

    const bad = await curl(['-X', 'PUT', '--data-binary', 'x', ...Object.entries(h).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${server.url}/${B}/other.txt`]);
    expect(bad.status).toBe(403);
    expect(bad.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(bad.body).toContain('<StringToSign>PUT\n\ntext/plain\n');

    const expired = await curl([v2Url(`/${B}/curl.txt`, Math.floor(Date.now() / 1000) - 5)]);
    expect(expired.status).toBe(403);
    expect(expired.body).toContain('<Code>AccessDenied</Code>');
    expect(expired.body).toContain('<Message>Request has expired</Message>');
  });
});

describe('virtual-hosted style', () => {
  it('the bucket from the Host is signed in the resource (/bucket/key)', async () => {
    const host = `${B}.s3.sigv2.test:${new URL(server.url).port}`;
    const path = `/dir/${encodeURIComponent('hello wörld+1.txt')}`;
    const h = v2Header('GET', `/${B}${path}`);
    const ok = await curl(['-H', `Host: ${host}`, ...Object.entries(h).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${server.url}${path}`]);
    expect(ok).toEqual({ status: 200, body: BODY });
    const pathStyle = v2Header('GET', path); // signed without the bucket: refused
    const bad = await curl(['-H', `Host: ${host}`, ...Object.entries(pathStyle).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), `${server.url}${path}`]);
    expect(bad.status).toBe(403);
  });
});

describe('s3:signatureversion', () => {
  it('a bucket policy denying "AWS" refuses SigV2 requests and lets SigV4 through', async () => {
    const bucket = 'sigv2-policy';
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v4 ok' }));
    const policy = {
      Version: '2012-10-17',
      Statement: [
        { Sid: 'NoV2', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { StringEquals: { 's3:signatureversion': 'AWS' } } },
      ],
    };
    await s3.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
    const v2 = await curl([v2Url(`/${bucket}/k`, Math.floor(Date.now() / 1000) + 60)]);
    expect(v2.status).toBe(403);
    expect(v2.body).toContain('<Code>AccessDenied</Code>');
    const v4 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }));
    expect(await v4.Body!.transformToString()).toBe('v4 ok');
  });
});
