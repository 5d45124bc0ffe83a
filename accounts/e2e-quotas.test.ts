/**
 * Issue 5 end to end: every quota kind through the real server and real clients, enforced with
 * the error a client expects, and lifted as soon as usage drops. Accounts are made with
 * `datamesh admin user create ... --json`; usage is read back with `datamesh admin user info`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bytesOf, signRequest } from '../src/server/testing/server.ts';
import { admin, bytes, createUser, failure, refusal, startE2eServer, userInfo, type Creds, type E2eServer } from './testing/e2e.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
let server: E2eServer;

beforeAll(async () => {
  server = await startE2eServer(['--segment-size', '64KiB']);
});
afterAll(() => server.stop());

/** A new account with these quota flags, its S3 client and a bucket of its own. */
async function account(name: string, ...flags: string[]): Promise<{ s3: S3Client; creds: Creds; bucket: string }> {
  const creds = await createUser(server, name, ...flags);
  const s3 = server.client(creds);
  const bucket = `${name}-data`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return { s3, creds, bucket };
}

const usage = async (name: string) => (await userInfo(server, name)).usage;

/** Sends a PUT whose aws-chunked body has no declared length (Transfer-Encoding: chunked, no x-amz-decoded-content-length). */
async function putUnknownLength(creds: Creds, bucket: string, key: string, body: Buffer): Promise<Response> {
  const signed = await signRequest(server, {
    method: 'PUT',
    path: `/${bucket}/${key}`,
    payload: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
    headers: { 'content-encoding': 'aws-chunked' },
    credentials: creds,
  });
  const headers = { ...signed.headers };
  delete headers.host;
  const CHUNK = 256 * KiB;
  async function* frames() {
    for (let i = 0; i < body.length; i += CHUNK) {
      const c = body.subarray(i, i + CHUNK);
      yield Buffer.concat([Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n')]);
    }
    yield Buffer.from('0\r\n\r\n');
  }
  return fetch(signed.url, { method: 'PUT', headers, body: Readable.toWeb(Readable.from(frames())) as ReadableStream, duplex: 'half' } as RequestInit);
}

const errorOf = async (r: Response) => {
  const text = await r.text();
  return { status: r.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1], message: /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? '' };
};

describe('max-storage', () => {
  it('refuses a PutObject over the quota with QuotaExceeded naming the quota, limit, usage and request; a delete lifts it', async () => {
    const { s3, bucket } = await account('st-put', '--max-storage', '1MiB');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: bytes(600 * KiB, 1) }));
    const r = await refusal(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: bytes(600 * KiB, 2) })));
    expect(r.status).toBe(403);
    expect(r.code).toBe('QuotaExceeded');
    expect(r.message).toMatch(/storage quota/);
    expect(r.message).toContain(`limit ${MiB} bytes`);
    expect(r.message).toContain(`used ${600 * KiB} bytes`);
    expect(r.message).toContain(`needs ${600 * KiB} more`);
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'b' })))).toBe('404 NotFound');
    expect(await usage('st-put')).toEqual({ bytes: 600 * KiB, objects: 1, buckets: 1, reservedBytes: 0 });

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' }));
    expect((await usage('st-put')).bytes).toBe(0);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: bytes(600 * KiB, 2) }));
    expect(await usage('st-put')).toEqual({ bytes: 600 * KiB, objects: 1, buckets: 1, reservedBytes: 0 });
  });

  it('checks CopyObject, UploadPart and UploadPartCopy; open parts count until an abort gives them back at once', async () => {
    const { s3, bucket } = await account('st-mp', '--max-storage', '12MiB');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src', Body: bytes(5 * MiB, 3) }));
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy1', CopySource: `${bucket}/src` }));
    expect((await usage('st-mp')).bytes).toBe(10 * MiB);
    const copy = await refusal(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'copy2', CopySource: `${bucket}/src` })));
    expect(`${copy.status} ${copy.code}`).toBe('403 QuotaExceeded');
    expect(copy.message).toMatch(/storage quota.*limit 12582912 bytes.*used 10485760 bytes.*needs 5242880 more/);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'copy1' }));
    expect((await usage('st-mp')).bytes).toBe(5 * MiB);

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const p1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 1, Body: bytes(5 * MiB, 4) }));
    // the open part counts, and the upload's own row: key 'mp', metadata '{"user":{}}', tags '{}'
    const row = 2 + 11 + 2;
    expect(await usage('st-mp')).toMatchObject({ bytes: 10 * MiB + row, objects: 1, reservedBytes: 0 });
    expect(await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, Body: bytes(5 * MiB, 5) })))).toBe(
      '403 QuotaExceeded',
    );
    expect(
      await failure(s3.send(new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${bucket}/src` }))),
    ).toBe('403 QuotaExceeded');
    const p2 = await s3.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp', UploadId, PartNumber: 2, CopySource: `${bucket}/src`, CopySourceRange: `bytes=0-${MiB - 1}` }),
    );
    expect(await usage('st-mp')).toMatchObject({ bytes: 11 * MiB + row, reservedBytes: 0 });

    // Abort gives the space back at once.
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'mp', UploadId }));
    expect(await usage('st-mp')).toEqual({ bytes: 5 * MiB, objects: 1, buckets: 1, reservedBytes: 0 });
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    expect(p1.ETag && p2.CopyPartResult?.ETag).toBeTruthy();

    // Completing keeps the parts' bytes as the object's.
    const up = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'mp' }));
    const q1 = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 1, Body: bytes(5 * MiB, 6) }));
    const q2 = await s3.send(
      new UploadPartCopyCommand({ Bucket: bucket, Key: 'mp', UploadId: up.UploadId, PartNumber: 2, CopySource: `${bucket}/src`, CopySourceRange: `bytes=0-${MiB - 1}` }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: 'mp',
        UploadId: up.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: q1.ETag }, { PartNumber: 2, ETag: q2.CopyPartResult!.ETag }] },
      }),
    );
    expect(await usage('st-mp')).toEqual({ bytes: 11 * MiB, objects: 2, buckets: 1, reservedBytes: 0 });
  });

  it('8 concurrent 2 MiB uploads against 10 MiB: at most 5 succeed, the rest QuotaExceeded, usage never over the quota', async () => {
    const { s3, bucket } = await account('st-race', '--max-storage', '10MiB');
    const body = bytes(2 * MiB, 7);
    let done = false;
    const seen: { bytes: number; reservedBytes: number }[] = [];
    const poll = (async () => {
      while (!done) seen.push(await usage('st-race'));
    })();
    const results = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: `k${i}`, Body: body }))),
    );
    done = true;
    await poll;
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const refused = await Promise.all(results.flatMap((r) => (r.status === 'rejected' ? [failure(Promise.reject(r.reason))] : [])));
    // A declared length reserves exactly its bytes: the first five to reserve fit, no more.
    expect(ok).toBe(5);
    expect(refused).toEqual(Array(8 - ok).fill('403 QuotaExceeded'));
    expect(seen.length).toBeGreaterThan(0);
    for (const u of seen) {
      expect(u.bytes).toBeLessThanOrEqual(10 * MiB);
      expect(u.bytes + u.reservedBytes).toBeLessThanOrEqual(10 * MiB);
    }
    expect(await usage('st-race')).toEqual({ bytes: ok * 2 * MiB, objects: ok, buckets: 1, reservedBytes: 0 });
  });
});

describe('max-objects', () => {
  it('refuses a new object by PutObject, CopyObject or CompleteMultipartUpload; overwrites are allowed; a delete lifts it', async () => {
    const { s3, bucket } = await account('objs', '--max-objects', '2');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o1', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o2', Body: 'two' }));
    const r = await refusal(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o3', Body: 'three' })));
    expect(`${r.status} ${r.code}`).toBe('403 QuotaExceeded');
    expect(r.message).toMatch(/object quota.*limit 2 objects.*has 2/);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o1', Body: 'one again' })); // overwrite: no new object
    expect(await failure(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'o3', CopySource: `${bucket}/o1` })))).toBe('403 QuotaExceeded');
    await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: 'o2', CopySource: `${bucket}/o1` })); // overwrite

    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'o3' }));
    const p = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'o3', UploadId, PartNumber: 1, Body: 'part' }));
    const complete = () =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: 'o3', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p.ETag }] } }));
    expect(await failure(complete())).toBe('403 QuotaExceeded');
    // two objects, the open upload's part, and its own row: key 'o3', metadata '{"user":{}}', tags '{}' (issue 12)
    expect(await usage('objs')).toMatchObject({ objects: 2, bytes: 9 + 9 + 4 + 2 + 11 + 2 });

    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'o2' }));
    await complete(); // the same upload completes once there is room
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'o1' }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'o4', Body: 'four' }));
    expect(await usage('objs')).toEqual({ objects: 2, bytes: 8, buckets: 1, reservedBytes: 0 });
  });
});

describe('max-uploads', () => {
  const meta = { note: 'x'.repeat(2000) }; // about 2 KiB: S3's limit on user metadata
  /** Opens up to `n` uploads with 2 KiB of metadata each; answers how many opened and the first refusal. */
  async function openMany(s3: S3Client, bucket: string, n: number) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      try {
        const r = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `u/${i}`, Metadata: meta }));
        ids.push(r.UploadId!);
      } catch (e) {
        if (i === 0) throw e;
        return { ids, refused: await refusal(Promise.reject(e)) };
      }
    }
    return { ids, refused: undefined };
  }

  it('200 uploads with 2 KiB metadata: refused past --max-uploads with QuotaExceeded; an abort makes room', async () => {
    const { s3, bucket } = await account('upl', '--max-objects', '5', '--max-uploads', '20');
    const { ids, refused } = await openMany(s3, bucket, 200);
    expect(ids).toHaveLength(20);
    expect(`${refused?.status} ${refused?.code}`).toBe('403 QuotaExceeded');
    expect(refused?.message).toMatch(/open multipart upload quota exceeded for account 'upl': limit 20 open uploads, it has 20/);
    expect((await userInfo(server, 'upl')).quota.maxUploads).toEqual({ limit: 20, source: 'account' });
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'u/0', UploadId: ids[0] }));
    await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'again', Metadata: meta }));
    expect(await failure(s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'more' })))).toBe('403 QuotaExceeded');
  });

  it('an open upload\'s key, metadata and tags count toward storage until it is aborted; the default limit is 1000', async () => {
    const { s3, bucket } = await account('uplb', '--max-storage', '16KiB');
    expect((await userInfo(server, 'uplb')).quota.maxUploads).toEqual({ limit: 1000, source: 'default' });
    const { ids, refused } = await openMany(s3, bucket, 200);
    expect(ids.length).toBeGreaterThanOrEqual(6);
    expect(ids.length).toBeLessThanOrEqual(8);
    expect(`${refused?.status} ${refused?.code}`).toBe('403 QuotaExceeded');
    expect(refused?.message).toMatch(/storage quota exceeded for account 'uplb': limit 16384 bytes/);
    const used = (await usage('uplb')).bytes;
    expect(used).toBeGreaterThan(ids.length * 2000);
    expect(used).toBeLessThanOrEqual(16 * KiB);
    for (const [i, UploadId] of ids.entries()) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: `u/${i}`, UploadId }));
    expect((await usage('uplb')).bytes).toBe(0);
  });
});

describe('max-buckets', () => {
  it('refuses CreateBucket over the quota with QuotaExceeded; deleting a bucket lifts it', async () => {
    const { s3, bucket } = await account('bkts', '--max-buckets', '1');
    const r = await refusal(s3.send(new CreateBucketCommand({ Bucket: 'bkts-second' })));
    expect(`${r.status} ${r.code}`).toBe('403 QuotaExceeded');
    expect(r.message).toMatch(/bucket quota.*limit 1 buckets.*has 1/);
    expect(await failure(s3.send(new HeadBucketCommand({ Bucket: 'bkts-second' })))).toBe('404 NotFound');
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    await s3.send(new CreateBucketCommand({ Bucket: 'bkts-second' }));
    expect((await usage('bkts')).buckets).toBe(1);
  });
});

describe('max-object-size', () => {
  it('refuses a declared, a streamed aws-chunked and an unknown-length upload over the limit with QuotaExceeded', async () => {
    const { s3, creds, bucket } = await account('osize', '--max-object-size', '1MiB');
    const r = await refusal(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: bytes(MiB + 1, 8) })));
    expect(`${r.status} ${r.code}`).toBe('403 QuotaExceeded');
    expect(r.message).toMatch(/object size quota/);
    expect(r.message).toContain(`limit ${MiB} bytes`);
    expect(r.message).toContain(`${MiB + 1} bytes`);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'fits', Body: bytes(MiB, 8) })); // exactly the limit

    // The SDK's streaming PUT: a stream with a declared length goes as aws-chunked with a checksum trailer.
    const streamed = await refusal(
      s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: Readable.from([bytes(MiB, 9), bytes(KiB, 10)]), ContentLength: MiB + KiB })),
    );
    expect(`${streamed.status} ${streamed.code}`).toBe('403 QuotaExceeded');

    // aws-chunked of unknown length: found while the bytes flow.
    const unknown = await errorOf(await putUnknownLength(creds, bucket, 'big', bytes(3 * MiB, 11)));
    expect(unknown.status).toBe(403);
    expect(unknown.code).toBe('QuotaExceeded');
    expect(unknown.message).toMatch(/object size quota/);
    const small = await putUnknownLength(creds, bucket, 'small', bytes(100 * KiB, 12));
    expect(small.status).toBe(200);
    expect((await bytesOf((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'small' }))).Body)).equals(bytes(100 * KiB, 12))).toBe(true);

    // lib-storage with a small stream sends one PutObject.
    const one = new Upload({ client: s3, params: { Bucket: bucket, Key: 'big', Body: Readable.from([bytes(2 * MiB, 13)]) } });
    expect(await failure(one.done())).toBe('403 QuotaExceeded');
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big' })))).toBe('404 NotFound');
    expect(await usage('osize')).toEqual({ bytes: MiB + 100 * KiB, objects: 2, buckets: 1, reservedBytes: 0 });
  });

  it('refuses an UploadPart over the limit, and a CompleteMultipartUpload whose parts add up past it (lib-storage)', async () => {
    const { s3, bucket } = await account('osize-mp', '--max-object-size', '8MiB');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'm' }));
    expect(await failure(s3.send(new UploadPartCommand({ Bucket: bucket, Key: 'm', UploadId, PartNumber: 1, Body: bytes(9 * MiB, 14) })))).toBe(
      '403 QuotaExceeded',
    );
    await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'm', UploadId }));

    // lib-storage: a 12 MiB stream of unknown length in 5 MiB parts; each part fits, the object does not.
    async function* stream() {
      for (let i = 0; i < 12; i++) yield bytes(MiB, 100 + i);
    }
    const up = new Upload({ client: s3, params: { Bucket: bucket, Key: 'm', Body: Readable.from(stream()) }, partSize: 5 * MiB, queueSize: 2 });
    const r = await refusal(up.done());
    expect(`${r.status} ${r.code}`).toBe('403 QuotaExceeded');
    expect(r.message).toMatch(/object size quota/);
    expect(r.message).toContain(`${12 * MiB} bytes`);
    // lib-storage aborted its upload: no parts are left counting against the account.
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).toEqual([]);
    expect(await usage('osize-mp')).toEqual({ bytes: 0, objects: 0, buckets: 1, reservedBytes: 0 });

    await admin(server, 'quota', 'set', 'osize-mp', '--max-object-size', '16MiB');
    const again = new Upload({ client: s3, params: { Bucket: bucket, Key: 'm', Body: Readable.from(stream()) }, partSize: 5 * MiB, queueSize: 2 });
    await again.done();
    expect(await usage('osize-mp')).toEqual({ bytes: 12 * MiB, objects: 1, buckets: 1, reservedBytes: 0 });
  });
});

describe('max-requests-per-minute', () => {
  it('answers 503 SlowDown with Retry-After over the rate; lifting the limit lets requests through', async () => {
    // A bucket of 3 tokens refilled at one per 20 s: CreateBucket took one, two more are left.
    const { s3, bucket } = await account('rate', '--max-requests-per-minute', '3');
    for (let i = 0; i < 2; i++) await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    const r = await refusal(s3.send(new ListObjectsV2Command({ Bucket: bucket })));
    expect(`${r.status} ${r.code}`).toBe('503 SlowDown');
    expect(r.message).toMatch(/request rate quota of 3 requests a minute/);
    expect(Number(r.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    await admin(server, 'quota', 'set', 'rate', '--max-requests-per-minute', 'none');
    for (let i = 0; i < 10; i++) await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  });
});

describe('max-monthly-transfer', () => {
  it('refuses data transfer over the monthly quota with QuotaExceeded; listings and deletes stay allowed', async () => {
    const { s3, bucket } = await account('xfer', '--max-monthly-transfer', '100KiB');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a', Body: bytes(60 * KiB, 15) }));
    // Admitted under the quota, but stopped as its bytes pass it: nothing stored.
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'a2', Body: bytes(150 * KiB, 16) })))).toBe('403 QuotaExceeded');
    const get = await refusal(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'a' })));
    expect(`${get.status} ${get.code}`).toBe('403 QuotaExceeded');
    expect(get.message).toMatch(/monthly transfer quota: limit 100 KiB \(102400 bytes\)/);
    expect(await failure(s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'x' })))).toBe('403 QuotaExceeded');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    expect(listed.Contents?.map((o) => o.Key)).toEqual(['a']);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'a' }));
    expect((await usage('xfer')).objects).toBe(0);

    await admin(server, 'quota', 'set', 'xfer', '--max-monthly-transfer', '1MiB');
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'b', Body: 'x' }));
  });

  it('is enforced as bytes flow: concurrent GETs admitted under the quota stop within one segment of it', async () => {
    const { s3, bucket } = await account('xfer-flow', '--max-monthly-transfer', '3MiB');
    const object = bytes(2 * MiB, 17);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'big', Body: object })); // 1 MiB left
    const gets = await Promise.allSettled(
      Array.from({ length: 5 }, async () => bytesOf((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'big' }))).Body)),
    );
    expect(gets.filter((g) => g.status === 'fulfilled').length).toBe(0);
    const report = JSON.parse(await admin(server, 'usage', 'xfer-flow', '--json')) as { usage: Array<{ ingressBytes: number; egressBytes: number }> };
    const moved = report.usage[0]!.ingressBytes + report.usage[0]!.egressBytes;
    // Each of the five stops within one segment (64 KiB here) past the quota; before, they moved 10 MiB.
    expect(moved).toBeLessThanOrEqual(3 * MiB + 5 * 64 * KiB + 64 * KiB);
  });
});
