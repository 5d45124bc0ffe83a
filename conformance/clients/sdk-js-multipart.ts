/**
 * @aws-sdk/client-s3 multipart scenarios: the explicit calls (create, upload parts, list parts and
 * uploads, complete, abort) with the md5-of-md5s ETag checked, and lib-storage's Upload of a stream
 * of unknown length (200 MiB generated on the fly, verified by hash on the way back).
 */
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { check, checkEqual, checkSameSet } from '../harness/check.ts';
import { MiB, dataChunks, dataStream, digestOf } from '../harness/fixtures.ts';
import type { ScenarioContext } from '../harness/types.ts';
import { withSdk, type Style } from './sdk-common.ts';
import { bodyDigest, checkHosts } from './sdk-js-objects.ts';

/** Collects a generated part into one buffer (parts are small: 5 MiB). */
async function part(size: number, seed: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of dataChunks(size, seed)) chunks.push(c);
  return Buffer.concat(chunks);
}

/** The S3 multipart ETag: md5 of the concatenated binary part MD5s, then -N. */
export function multipartEtag(partMd5Hex: readonly string[]): string {
  const md5 = createHash('md5');
  for (const h of partMd5Hex) md5.update(Buffer.from(h, 'hex'));
  return `"${md5.digest('hex')}-${partMd5Hex.length}"`;
}

export async function multipartScenario(ctx: ScenarioContext, style: Style): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const o = { abortSignal: ctx.signal };
    const bucket = ctx.bucket(`sdk-${style}-multipart`);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }), o);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp.bin', ContentType: 'application/x-test' }), o);
    check(UploadId, 'CreateMultipartUpload returned no UploadId');
    const p1 = await part(5 * MiB, 'mp-1');
    const p2 = await part(MiB + 3, 'mp-2');
    const r1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, PartNumber: 1, Body: p1 }), o);
    const r2 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp.bin', UploadId, PartNumber: 2, Body: p2 }), o);
    const md5s = [p1, p2].map((p) => createHash('md5').update(p).digest('hex'));
    checkEqual(r1.ETag, `"${md5s[0]}"`, 'UploadPart 1 ETag');
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }), o);
    check(uploads.Uploads?.some((u) => u.UploadId === UploadId && u.Key === 'mp.bin'), 'ListMultipartUploads does not show the open upload');
    const parts = await s3.send(new ListPartsCommand({ Bucket: bucket, Key: 'mp.bin', UploadId }), o);
    checkEqual(parts.Parts?.map((p) => `${p.PartNumber}:${p.Size}`).join(','), `1:${p1.length},2:${p2.length}`, 'ListParts numbers and sizes');
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp.bin',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: r1.ETag, ChecksumCRC32: r1.ChecksumCRC32 }, { PartNumber: 2, ETag: r2.ETag, ChecksumCRC32: r2.ChecksumCRC32 }] },
      }),
      o,
    );
    checkEqual(done.ETag, multipartEtag(md5s), 'CompleteMultipartUpload ETag (md5 of part MD5s, -2)');
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp.bin' }), o);
    checkEqual(got.ETag, done.ETag, 'GetObject ETag of the multipart object');
    checkEqual(got.ContentType, 'application/x-test', 'Content-Type given at CreateMultipartUpload');
    const expected = await digestOf([p1, p2]);
    checkEqual((await bodyDigest(got.Body)).sha256, expected.sha256, 'multipart object sha256');
    const part2 = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'mp.bin', PartNumber: 2 }), o);
    checkEqual(part2.ContentLength, p2.length, 'GetObject partNumber=2 Content-Length');
    await part2.Body?.transformToByteArray();

    // UploadPartCopy with a range, then abort a second upload.
    const second = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'copy.bin' }), o);
    const pc = await s3.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'copy.bin', UploadId: second.UploadId, PartNumber: 1, CopySource: `${bucket}/mp.bin`, CopySourceRange: `bytes=0-${5 * MiB - 1}` }),
      o,
    );
    checkEqual(pc.CopyPartResult?.ETag, `"${md5s[0]}"`, 'UploadPartCopy ETag of the first 5 MiB');
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'copy.bin', UploadId: second.UploadId }), o);
    const after = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }), o);
    checkSameSet((after.Uploads ?? []).map((u) => u.UploadId!), [], 'open uploads after complete + abort');
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}

/** lib-storage Upload of `size` generated bytes from a stream of unknown length; verified by hash. */
export async function uploadStreamScenario(ctx: ScenarioContext, style: Style, size: number): Promise<void> {
  await withSdk(ctx.target, style, async (sdk) => {
    const { s3 } = sdk;
    const bucket = ctx.bucket(`sdk-${style}-upload`);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }), { abortSignal: ctx.signal });
    const { stream, digest } = dataStream(size, `upload-${size}`);
    const abortController = new AbortController();
    const onAbort = () => abortController.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const t0 = Date.now();
    try {
      const upload = new Upload({ client: s3, params: { Bucket: bucket, Key: 'big.bin', Body: stream }, abortController });
      const res = await upload.done();
      check(res.ETag && /-\d+"$/.test(res.ETag), `Upload of ${size} bytes: expected a multipart ETag ("…-N"), got ${res.ETag}`);
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
    const up = Date.now() - t0;
    const sent = await digest;
    checkEqual(sent.bytes, size, 'bytes generated');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big.bin' }), { abortSignal: ctx.signal });
    checkEqual(head.ContentLength, size, 'HeadObject Content-Length');
    const t1 = Date.now();
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big.bin' }), { abortSignal: ctx.signal });
    const back = await bodyDigest(got.Body);
    const down = Date.now() - t1;
    checkEqual(back.bytes, size, 'bytes downloaded');
    checkEqual(back.sha256, sent.sha256, 'sha256 of the downloaded object');
    const mibs = (ms: number) => ((size / MiB) / (ms / 1000)).toFixed(0);
    ctx.note(`${size / MiB} MiB: upload ${mibs(up)} MiB/s, download ${mibs(down)} MiB/s`);
    checkHosts(sdk, style, bucket, ctx.target.domain);
  });
}
