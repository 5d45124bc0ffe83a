/**
 * @aws-sdk/client-s3 scenarios on single objects and buckets: create/list/delete buckets, put/get
 * with the default CRC checksums (header and aws-chunked trailer), head and ranges, copy, tagging,
 * delete and listings. Each takes the addressing style so the same checks run virtual-hosted.
 */
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  paginateListObjectsV2,
  type ChecksumAlgorithm,
  type S3Client,
} from '@aws-sdk/client-s3';
import { check, checkEqual, checkSameSet } from '../harness/check.ts';
import { dataChunks, digestOf, type Digest } from '../harness/fixtures.ts';
import type { ScenarioContext } from '../harness/types.ts';
import { withSdk, type Sdk, type Style } from './sdk-common.ts';

export async function bodyDigest(body: unknown): Promise<Digest> {
  check(body, 'GetObject returned no Body');
  return digestOf(body as AsyncIterable<Uint8Array>);
}

export async function bodyText(body: unknown): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks).toString('utf8');
}

function md5hex(b: Buffer | string): string {
  return createHash('md5').update(b).digest('hex');
}

/** Fails unless every request of a virtual-hosted scenario went to BUCKET.DOMAIN (or DOMAIN for ListBuckets). */
export function checkHosts(sdk: Sdk, style: Style, bucket: string, domain: string): void {
  if (style !== 'virtual') return;
  const wrong = sdk.hosts.filter((h) => h !== `${bucket}.${domain}` && h !== domain);
  check(sdk.hosts.some((h) => h === `${bucket}.${domain}`), `no request used the virtual-hosted name ${bucket}.${domain} (hosts: ${[...new Set(sdk.hosts)].join(', ')})`);
  check(wrong.length === 0, `requests went to unexpected hosts: ${[...new Set(wrong)].join(', ')}`);
}

async function createBucket(s3: S3Client, bucket: string, signal: AbortSignal): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: signal });
}

export async function bucketsScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-buckets`);
    await createBucket(s3, bucket, ctx.signal);
    await s3.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal });
    const list = await s3.send(new ListBucketsCommand({}), { abortSignal: ctx.signal });
    check(list.Buckets?.some((b) => b.Name === bucket), `ListBuckets does not show the new bucket ${bucket}`);
    const loc = await s3.send(new GetBucketLocationCommand({ Bucket: bucket }), { abortSignal: ctx.signal });
    const where = (loc.LocationConstraint as string | undefined) ?? '';
    check(where === '' || where === 'us-east-1', `GetBucketLocation: expected empty or us-east-1, got ${where}`);
    let dup: unknown;
    await createBucket(s3, bucket, ctx.signal).catch((e) => (dup = e));
    check(dup === undefined || ['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes((dup as Error).name), `creating ${bucket} again: expected success or BucketAlreadyOwnedByYou, got ${(dup as Error)?.name}`);
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal });
    const gone = await s3.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal }).then(
      () => 200,
      (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
    );
    checkEqual(gone, 404, 'HeadBucket after DeleteBucket (HTTP status)');
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}

export async function putGetScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-putget`);
    await createBucket(s3, bucket, ctx.signal);
    // A string body: the SDK sends its default CRC32 in a header.
    const text = 'hello datamesh ✓\n';
    const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt', Body: text, ContentType: 'text/plain; charset=utf-8' }), { abortSignal: ctx.signal });
    checkEqual(put.ETag, `"${md5hex(text)}"`, 'PutObject ETag (MD5 of the content)');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'dir/hello.txt' }), { abortSignal: ctx.signal });
    checkEqual(await bodyText(got.Body), text, 'GetObject body');
    checkEqual(got.ContentType, 'text/plain; charset=utf-8', 'GetObject Content-Type');
    // A stream body of known length: the SDK sends aws-chunked with the CRC32 in a trailer.
    const size = 3 * 1024 * 1024 + 17;
    const expected = await digestOf(dataChunks(size, 'sdk-stream'));
    const put2 = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'stream.bin', Body: Readable.from(dataChunks(size, 'sdk-stream')), ContentLength: size }),
      { abortSignal: ctx.signal },
    );
    checkEqual(put2.ETag, `"${expected.md5}"`, 'PutObject (stream) ETag');
    const streamed = sdk.payloads.find((p) => p.includes('/stream.bin'));
    check(
      streamed?.includes('STREAMING-UNSIGNED-PAYLOAD-TRAILER x-amz-checksum-crc32'),
      `the SDK no longer sends a stream PUT as aws-chunked with a CRC32 trailer (sent: ${streamed}); update this scenario to the SDK's new default`,
    );
    const got2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'stream.bin', ChecksumMode: 'ENABLED' }), { abortSignal: ctx.signal });
    checkEqual(got2.ContentLength, size, 'GetObject Content-Length');
    checkEqual((await bodyDigest(got2.Body)).sha256, expected.sha256, 'GetObject body sha256');
    if (put2.ChecksumCRC32) checkEqual(got2.ChecksumCRC32, put2.ChecksumCRC32, 'stored CRC32 returned by GetObject');
    const missing = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'nope' }), { abortSignal: ctx.signal }).then(
      () => 'found',
      (e: Error) => e.name,
    );
    checkEqual(missing, 'NoSuchKey', 'GetObject of a missing key');
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}

export async function headRangeScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-head`);
    await createBucket(s3, bucket, ctx.signal);
    const body = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz'.repeat(300));
    await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'meta.txt', Body: body, Metadata: { owner: 'conformance', 'x-note': 'a b' }, CacheControl: 'max-age=60' }),
      { abortSignal: ctx.signal },
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'meta.txt' }), { abortSignal: ctx.signal });
    checkEqual(head.ContentLength, body.length, 'HeadObject Content-Length');
    checkEqual(head.ETag, `"${md5hex(body)}"`, 'HeadObject ETag');
    checkEqual(head.Metadata?.owner, 'conformance', 'HeadObject x-amz-meta-owner');
    checkEqual(head.Metadata?.['x-note'], 'a b', 'HeadObject x-amz-meta-x-note');
    checkEqual(head.CacheControl, 'max-age=60', 'HeadObject Cache-Control');
    const range = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta.txt', Range: 'bytes=100-1099' }), { abortSignal: ctx.signal });
    checkEqual(range.ContentRange, `bytes 100-1099/${body.length}`, 'ranged GetObject Content-Range');
    checkEqual(await bodyText(range.Body), body.subarray(100, 1100).toString(), 'ranged GetObject body');
    const suffix = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'meta.txt', Range: 'bytes=-10' }), { abortSignal: ctx.signal });
    checkEqual(await bodyText(suffix.Body), body.subarray(body.length - 10).toString(), 'suffix-range GetObject body');
    const notModified = await s3
      .send(new GetObjectCommand({ Bucket: bucket, Key: 'meta.txt', IfNoneMatch: head.ETag }), { abortSignal: ctx.signal })
      .then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode,
      );
    checkEqual(notModified, 304, 'GetObject If-None-Match: ETag (HTTP status)');
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}

export async function checksumsScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-checksums`);
    await createBucket(s3, bucket, ctx.signal);
    const size = 1024 * 1024 + 5;
    const algorithms: ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];
    const field = { CRC32: 'ChecksumCRC32', CRC32C: 'ChecksumCRC32C', CRC64NVME: 'ChecksumCRC64NVME', SHA1: 'ChecksumSHA1', SHA256: 'ChecksumSHA256' } as const;
    let whole = 0;
    for await (const c of dataChunks(size, 'sdk-checksums')) whole = crc32(c, whole);
    const crc32b64 = Buffer.from([whole >>> 24, (whole >>> 16) & 255, (whole >>> 8) & 255, whole & 255]).toString('base64');
    for (const algo of algorithms) {
      const key = `obj-${algo}`;
      const put = await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: Readable.from(dataChunks(size, 'sdk-checksums')), ContentLength: size, ChecksumAlgorithm: algo }),
        { abortSignal: ctx.signal },
      );
      const sent = put[field[algo as keyof typeof field]];
      check(sent, `PutObject with ChecksumAlgorithm ${algo}: the response carries no ${field[algo as keyof typeof field]}`);
      if (algo === 'CRC32') checkEqual(sent, crc32b64, 'CRC32 of the content (computed locally)');
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: 'ENABLED' }), { abortSignal: ctx.signal });
      checkEqual(head[field[algo as keyof typeof field]], sent, `HeadObject ${algo} checksum (x-amz-checksum-mode: ENABLED)`);
    }
    // A wrong checksum must be refused, and nothing stored.
    const bad = await s3
      .send(new PutObjectCommand({ Bucket: bucket, Key: 'bad', Body: 'some bytes', ChecksumCRC32: 'AAAAAA==' }), { abortSignal: ctx.signal })
      .then(
        () => 'stored',
        (e: Error) => e.name,
      );
    check(bad === 'BadDigest' || bad === 'InvalidRequest', `PutObject with a wrong x-amz-checksum-crc32: expected BadDigest, got ${bad}`);
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'bad' }), { abortSignal: ctx.signal }).then(
      () => 'found',
      (e: Error) => e.name,
    );
    checkEqual(head, 'NotFound', 'HeadObject after the refused PUT');
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}

export async function listScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-list`);
    await createBucket(s3, bucket, ctx.signal);
    const keys = [
      ...Array.from({ length: 12 }, (_, i) => `a/${String(i).padStart(2, '0')}.txt`),
      ...Array.from({ length: 9 }, (_, i) => `b/sub/${i}.txt`),
      'top.txt',
      'with space & plus+.txt',
      'ünïcode/ключ.txt',
    ];
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }), { abortSignal: ctx.signal })));
    const seen: string[] = [];
    let pages = 0;
    for await (const page of paginateListObjectsV2({ client: s3, pageSize: 5 }, { Bucket: bucket })) {
      pages++;
      for (const o of page.Contents ?? []) seen.push(o.Key!);
    }
    checkSameSet(seen, keys, 'ListObjectsV2 (pages of 5)');
    checkEqual(seen.length, keys.length, 'ListObjectsV2 key count (no duplicates)');
    checkEqual(pages, Math.ceil(keys.length / 5), 'ListObjectsV2 page count');
    const byteOrder = [...seen].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    checkEqual(seen.join(' | '), byteOrder.join(' | '), 'ListObjectsV2 order (UTF-8 byte order)');
    const delim = await paginatedPrefixes(s3, bucket, ctx.signal);
    checkSameSet(delim.prefixes, ['a/', 'b/', 'ünïcode/'], 'ListObjectsV2 delimiter=/ CommonPrefixes');
    checkSameSet(delim.keys, ['top.txt', 'with space & plus+.txt'], 'ListObjectsV2 delimiter=/ Contents');
    // v1 with a marker
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: 'a/', Marker: 'a/05.txt', MaxKeys: 100 }), { abortSignal: ctx.signal });
    checkSameSet(
      (v1.Contents ?? []).map((o) => o.Key!),
      keys.filter((k) => k.startsWith('a/') && k > 'a/05.txt'),
      'ListObjects (v1) prefix=a/ marker=a/05.txt',
    );
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}

async function paginatedPrefixes(s3: S3Client, bucket: string, signal: AbortSignal): Promise<{ prefixes: string[]; keys: string[] }> {
  const prefixes: string[] = [];
  const keys: string[] = [];
  for await (const page of paginateListObjectsV2({ client: s3, pageSize: 2 }, { Bucket: bucket, Delimiter: '/' })) {
    if (signal.aborted) break;
    for (const p of page.CommonPrefixes ?? []) prefixes.push(p.Prefix!);
    for (const o of page.Contents ?? []) keys.push(o.Key!);
  }
  return { prefixes, keys };
}

export async function deleteScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-delete`);
    await createBucket(s3, bucket, ctx.signal);
    const keys = Array.from({ length: 15 }, (_, i) => `k/${i}`);
    await Promise.all(keys.map((Key) => s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key }), { abortSignal: ctx.signal })));
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'k/0' }), { abortSignal: ctx.signal });
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'never-existed' }), { abortSignal: ctx.signal });
    // DeleteObjects: the current SDK sends a CRC checksum, no Content-MD5.
    const res = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(1, 11).map((Key) => ({ Key })) } }),
      { abortSignal: ctx.signal },
    );
    checkEqual(res.Errors?.length ?? 0, 0, 'DeleteObjects errors');
    checkSameSet((res.Deleted ?? []).map((d) => d.Key!), keys.slice(1, 11), 'DeleteObjects Deleted');
    const left: string[] = [];
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket })) for (const o of page.Contents ?? []) left.push(o.Key!);
    checkSameSet(left, keys.slice(11), 'keys left after the deletes');
    const nonEmpty = await s3.send(new DeleteBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal }).then(
      () => 'deleted',
      (e: Error) => e.name,
    );
    checkEqual(nonEmpty, 'BucketNotEmpty', 'DeleteBucket on a non-empty bucket');
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}

export async function copyScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const src = ctx.bucket(`sdk-${style}-copysrc`);
    const dst = ctx.bucket(`sdk-${style}-copydst`);
    await createBucket(s3, src, ctx.signal);
    await createBucket(s3, dst, ctx.signal);
    const body = 'copy me — with metadata';
    await s3.send(new PutObjectCommand({ Bucket: src, Key: 'orig name.txt', Body: body, Metadata: { color: 'blue' }, ContentType: 'text/plain' }), { abortSignal: ctx.signal });
    const copy = await s3.send(new CopyObjectCommand({ Bucket: dst, Key: 'copied.txt', CopySource: `${src}/${encodeURIComponent('orig name.txt')}` }), { abortSignal: ctx.signal });
    checkEqual(copy.CopyObjectResult?.ETag, `"${md5hex(body)}"`, 'CopyObject ETag');
    const got = await s3.send(new GetObjectCommand({ Bucket: dst, Key: 'copied.txt' }), { abortSignal: ctx.signal });
    checkEqual(await bodyText(got.Body), body, 'copied object body');
    checkEqual(got.Metadata?.color, 'blue', 'copied metadata (COPY directive)');
    await s3.send(
      new CopyObjectCommand({ Bucket: src, Key: 'orig name.txt', CopySource: `${src}/${encodeURIComponent('orig name.txt')}`, MetadataDirective: 'REPLACE', Metadata: { color: 'red' }, ContentType: 'text/markdown' }),
      { abortSignal: ctx.signal },
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: src, Key: 'orig name.txt' }), { abortSignal: ctx.signal });
    checkEqual(head.Metadata?.color, 'red', 'metadata after CopyObject onto itself with REPLACE');
    checkEqual(head.ContentType, 'text/markdown', 'Content-Type after REPLACE');
    if (style === 'virtual') check(sdk.hosts.some((h) => h === `${dst}.${ctx.target.domain}`), `CopyObject did not use ${dst}.${ctx.target.domain}`);
  });
}

export async function taggingScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-tagging`);
    await createBucket(s3, bucket, ctx.signal);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 't.txt', Body: 'tagged', Tagging: 'project=datamesh&stage=test' }), { abortSignal: ctx.signal });
    const first = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't.txt' }), { abortSignal: ctx.signal });
    checkSameSet((first.TagSet ?? []).map((t) => `${t.Key}=${t.Value}`), ['project=datamesh', 'stage=test'], 'tags set by PutObject x-amz-tagging');
    await s3.send(new PutObjectTaggingCommand({ Bucket: bucket, Key: 't.txt', Tagging: { TagSet: [{ Key: 'k', Value: 'v w' }] } }), { abortSignal: ctx.signal });
    const second = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't.txt' }), { abortSignal: ctx.signal });
    checkSameSet((second.TagSet ?? []).map((t) => `${t.Key}=${t.Value}`), ['k=v w'], 'tags after PutObjectTagging');
    await s3.send(new DeleteObjectTaggingCommand({ Bucket: bucket, Key: 't.txt' }), { abortSignal: ctx.signal });
    const third = await s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: 't.txt' }), { abortSignal: ctx.signal });
    checkEqual(third.TagSet?.length ?? 0, 0, 'tags after DeleteObjectTagging');
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}
