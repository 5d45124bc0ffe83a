/**
 * Plain curl with presigned URLs made by @aws-sdk/s3-request-presigner: PUT a file, GET it back,
 * and check that a tampered or expired URL is refused.
 */
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { check, checkEqual } from '../harness/check.ts';
import { clientEnv, exec } from '../harness/exec.ts';
import { MiB, digestFile, writeDataFile } from '../harness/fixtures.ts';
import type { ClientSuite, ScenarioContext } from '../harness/types.ts';
import { withSdk } from './sdk-common.ts';
import { packageVersion } from './sdk-js.ts';

const env = () => clientEnv({ HOME: '/nonexistent', CURL_HOME: '/nonexistent' });

/** curl -s with the status code on the last line of stdout. */
export async function curl(args: string[], signal: AbortSignal): Promise<{ status: number; body: string }> {
  const r = await exec('curl', ['-sS', '-w', '\n%{http_code}', ...args], { env: env(), signal });
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}

async function presignedPutGet(ctx: ScenarioContext): Promise<void> {
  await withSdk(ctx.target, 'path', async ({ s3 }) => {
    const bucket = ctx.bucket('curl-presign');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal });
    const file = join(ctx.dir, 'up.bin');
    const sent = await writeDataFile(file, 3 * MiB + 11, 'curl-put');
    const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: 'from curl/up.bin' }), { expiresIn: 600 });
    const put = await curl(['-T', file, putUrl], ctx.signal);
    checkEqual(put.status, 200, `curl -T presigned PUT (HTTP status; body: ${put.body.slice(0, 300)})`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'from curl/up.bin' }), { abortSignal: ctx.signal });
    checkEqual(head.ETag, `"${sent.md5}"`, 'ETag of the object PUT by curl');
    const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'from curl/up.bin' }), { expiresIn: 600 });
    const out = join(ctx.dir, 'down.bin');
    const get = await curl(['-o', out, getUrl], ctx.signal);
    checkEqual(get.status, 200, 'curl presigned GET (HTTP status)');
    checkEqual((await digestFile(out)).sha256, sent.sha256, 'sha256 of the file fetched with curl');
    const range = await curl(['-r', '0-99', '-o', join(ctx.dir, 'range.bin'), getUrl], ctx.signal);
    checkEqual(range.status, 206, 'curl -r 0-99 on the presigned GET (HTTP status)');
    checkEqual((await digestFile(join(ctx.dir, 'range.bin'))).bytes, 100, 'bytes of the ranged presigned GET');
  });
}

async function presignedRefusals(ctx: ScenarioContext): Promise<void> {
  await withSdk(ctx.target, 'path', async ({ s3 }) => {
    const bucket = ctx.bucket('curl-refuse');
    await s3.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'secret' }), { abortSignal: ctx.signal });
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), { expiresIn: 600 });
    const tampered = url.replace(/X-Amz-Signature=([0-9a-f])/, (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    check(tampered !== url, 'could not tamper with the presigned URL');
    const bad = await curl([tampered], ctx.signal);
    checkEqual(bad.status, 403, 'tampered presigned URL (HTTP status)');
    check(bad.body.includes('SignatureDoesNotMatch'), `tampered presigned URL: expected SignatureDoesNotMatch, got ${bad.body.slice(0, 300)}`);
    const old = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: 'k' }), { expiresIn: 60, signingDate: new Date(Date.now() - 3600_000) });
    const expired = await curl([old], ctx.signal);
    checkEqual(expired.status, 403, 'expired presigned URL (HTTP status)');
    check(/AccessDenied|expired/i.test(expired.body), `expired presigned URL: expected AccessDenied (expired), got ${expired.body.slice(0, 300)}`);
    const ok = await curl([url], ctx.signal);
    checkEqual(ok.body, 'secret', 'body from the untouched presigned URL');
  });
}

export const curlSuite: ClientSuite = {
  name: 'curl',
  async detect() {
    const r = await exec('curl', ['--version'], { env: env(), allowFailure: true }).catch(() => undefined);
    if (!r || r.code !== 0) return { missing: 'curl is not installed: apt-get install -y curl' };
    const version = /^curl (\S+)/.exec(r.stdout)?.[1] ?? 'unknown';
    return { version: `${version} (presigner ${packageVersion('@aws-sdk/s3-request-presigner')})` };
  },
  scenarios: [
    { name: 'presigned PUT, GET and range GET', op: 'presigned URL', also: ['put / get'], run: presignedPutGet },
    { name: 'tampered and expired presigned URLs refused', op: 'presigned URL', run: presignedRefusals },
  ],
};
