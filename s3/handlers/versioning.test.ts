/**
 * Versions, conditional writes, object lock and lifecycle end to end (issue 16): the real server,
 * @aws-sdk/client-s3 with its default settings, accounts made with `datamesh admin`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLegalHoldCommand,
  GetObjectLockConfigurationCommand,
  GetObjectRetentionCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLegalHoldCommand,
  PutObjectLockConfigurationCommand,
  PutObjectRetentionCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { bytesOf, outcome, runAdminCli, startTestServer, type TestServer } from '../../src/server/testing/server.ts';

let server: TestServer;
let root: S3Client;
let alice: S3Client;

async function admin(...args: string[]): Promise<string> {
  const r = await runAdminCli(server, ...args);
  expect(r.err, `datamesh admin ${args.join(' ')}`).toBe('');
  return r.out;
}

beforeAll(async () => {
  server = await startTestServer(['--lifecycle-day', '1s', '--lifecycle-interval', '0']);
  root = server.client();
  const k = JSON.parse(await admin('user', 'create', 'alice', '--json')) as { accessKeyId: string; secretAccessKey: string };
  alice = server.client({ credentials: { accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey } });
});
afterAll(() => server.stop());

const text = async (p: Promise<{ Body?: unknown }>) => (await bytesOf((await p).Body)).toString();
const headersOf = (e: unknown) => ((e as { $response?: { headers: Record<string, string> } }).$response?.headers ?? {});

describe('versioning', () => {
  const B = 'ver';
  beforeAll(async () => {
    await root.send(new CreateBucketCommand({ Bucket: B }));
  });

  it('Get/PutBucketVersioning, versions on PUT, GET/HEAD by version id, delete markers', async () => {
    expect((await root.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBeUndefined();
    const unversioned = await root.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'zero' }));
    expect(unversioned.VersionId).toBeUndefined();
    await root.send(new PutBucketVersioningCommand({ Bucket: B, VersioningConfiguration: { Status: 'Enabled' } }));
    expect((await root.send(new GetBucketVersioningCommand({ Bucket: B }))).Status).toBe('Enabled');
    const v1 = await root.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'one' }));
    const v2 = await root.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'two' }));
    expect(v1.VersionId).toMatch(/^[0-9A-Z]{32}$/);
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect(await text(root.send(new GetObjectCommand({ Bucket: B, Key: 'k' })))).toBe('two');
    expect(await text(root.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: v1.VersionId })))).toBe('one');
    expect(await text(root.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: 'null' })))).toBe('zero');
    expect((await root.send(new HeadObjectCommand({ Bucket: B, Key: 'k', VersionId: v1.VersionId }))).ContentLength).toBe(3);
    expect(await outcome(root.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: '0'.repeat(32) })))).toBe('404 NoSuchVersion');
    // datamesh admin inspect BUCKET KEY --version-id V: that version's manifest
    const inspected = JSON.parse(await admin('inspect', B, 'k', '--version-id', v1.VersionId!, '--json')) as { versionId: string; size: number };
    expect(inspected).toMatchObject({ versionId: v1.VersionId, size: 3 });

    const del = await root.send(new DeleteObjectCommand({ Bucket: B, Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    const e = await root.send(new GetObjectCommand({ Bucket: B, Key: 'k' })).catch((x: unknown) => x);
    expect((e as { name: string }).name).toBe('NoSuchKey');
    expect(headersOf(e)['x-amz-delete-marker']).toBe('true');
    expect(headersOf(e)['x-amz-version-id']).toBe(del.VersionId);
    const h = await root.send(new HeadObjectCommand({ Bucket: B, Key: 'k' })).catch((x: unknown) => x);
    expect(headersOf(h)['x-amz-delete-marker']).toBe('true');
    expect(await outcome(root.send(new GetObjectCommand({ Bucket: B, Key: 'k', VersionId: del.VersionId })))).toBe('405 MethodNotAllowed');
    expect((await root.send(new ListObjectsV2Command({ Bucket: B }))).KeyCount).toBe(0);

    const list = await root.send(new ListObjectVersionsCommand({ Bucket: B }));
    expect(list.DeleteMarkers?.map((d) => [d.Key, d.VersionId, d.IsLatest])).toEqual([['k', del.VersionId, true]]);
    expect(list.Versions?.map((v) => [v.VersionId, v.IsLatest, v.Size])).toEqual([
      [v2.VersionId, false, 3],
      [v1.VersionId, false, 3],
      ['null', false, 4],
    ]);
    // undelete: remove the marker
    const undo = await root.send(new DeleteObjectCommand({ Bucket: B, Key: 'k', VersionId: del.VersionId }));
    expect(undo).toMatchObject({ DeleteMarker: true, VersionId: del.VersionId });
    expect(await text(root.send(new GetObjectCommand({ Bucket: B, Key: 'k' })))).toBe('two');
  });

  it('pages ListObjectVersions with key and version-id markers, prefix and delimiter', async () => {
    for (const k of ['p/a', 'p/b', 'p/d/x']) {
      await root.send(new PutObjectCommand({ Bucket: B, Key: k, Body: '1' }));
      await root.send(new PutObjectCommand({ Bucket: B, Key: k, Body: '2' }));
    }
    const seen: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const r = await root.send(new ListObjectVersionsCommand({ Bucket: B, Prefix: 'p/', Delimiter: '/', MaxKeys: 1, KeyMarker, VersionIdMarker }));
      seen.push(...(r.Versions ?? []).map((v) => v.Key!), ...(r.CommonPrefixes ?? []).map((p) => p.Prefix!));
      if (!r.IsTruncated) break;
      KeyMarker = r.NextKeyMarker;
      VersionIdMarker = r.NextVersionIdMarker;
    }
    expect(seen).toEqual(['p/a', 'p/a', 'p/b', 'p/b', 'p/d/']);
  });

  it('CopyObject from a version, tagging a version, DeleteObjects with version ids', async () => {
    const v1 = await root.send(new PutObjectCommand({ Bucket: B, Key: 'c', Body: 'old' }));
    await root.send(new PutObjectCommand({ Bucket: B, Key: 'c', Body: 'new' }));
    const copy = await root.send(new CopyObjectCommand({ Bucket: B, Key: 'c2', CopySource: `${B}/c?versionId=${v1.VersionId}` }));
    expect(copy.CopySourceVersionId).toBe(v1.VersionId);
    expect(copy.VersionId).toMatch(/^[0-9A-Z]{32}$/);
    expect(await text(root.send(new GetObjectCommand({ Bucket: B, Key: 'c2' })))).toBe('old');

    await root.send(new PutObjectTaggingCommand({ Bucket: B, Key: 'c', VersionId: v1.VersionId, Tagging: { TagSet: [{ Key: 't', Value: '1' }] } }));
    const tags = await root.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'c', VersionId: v1.VersionId }));
    expect(tags).toMatchObject({ VersionId: v1.VersionId, TagSet: [{ Key: 't', Value: '1' }] });
    expect((await root.send(new GetObjectTaggingCommand({ Bucket: B, Key: 'c' }))).TagSet).toEqual([]);

    const r = await root.send(
      new DeleteObjectsCommand({ Bucket: B, Delete: { Objects: [{ Key: 'c', VersionId: v1.VersionId }, { Key: 'c2' }] } }),
    );
    expect(r.Deleted).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Key: 'c', VersionId: v1.VersionId }),
        expect.objectContaining({ Key: 'c2', DeleteMarker: true, DeleteMarkerVersionId: expect.any(String) }),
      ]),
    );
    expect(await outcome(root.send(new GetObjectCommand({ Bucket: B, Key: 'c', VersionId: v1.VersionId })))).toBe('404 NoSuchVersion');
  });

  it('Suspended writes null versions; MFA delete is refused clearly', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'susp' }));
    await root.send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Enabled' } }));
    const v = await root.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'v' }));
    await root.send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Suspended' } }));
    expect((await root.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'n1' }))).VersionId).toBe('null');
    await root.send(new PutObjectCommand({ Bucket: 'susp', Key: 'k', Body: 'n2' }));
    const list = await root.send(new ListObjectVersionsCommand({ Bucket: 'susp' }));
    expect(list.Versions?.map((x) => x.VersionId)).toEqual(['null', v.VersionId]);
    const mfa = await root
      .send(new PutBucketVersioningCommand({ Bucket: 'susp', VersioningConfiguration: { Status: 'Enabled', MFADelete: 'Enabled' } }))
      .catch((e: unknown) => e as Error & { $metadata: { httpStatusCode: number } });
    expect(mfa).toMatchObject({ name: 'NotImplemented', message: expect.stringContaining('MFA delete') });
  });
});

describe('conditional writes', () => {
  it('If-None-Match and If-Match on PutObject and CompleteMultipartUpload: 412', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'cond' }));
    const first = await root.send(new PutObjectCommand({ Bucket: 'cond', Key: 'k', Body: 'a', IfNoneMatch: '*' }));
    expect(await outcome(root.send(new PutObjectCommand({ Bucket: 'cond', Key: 'k', Body: 'b', IfNoneMatch: '*' })))).toBe('412 PreconditionFailed');
    expect(await outcome(root.send(new PutObjectCommand({ Bucket: 'cond', Key: 'k', Body: 'b', IfMatch: '"0123"' })))).toBe('412 PreconditionFailed');
    await root.send(new PutObjectCommand({ Bucket: 'cond', Key: 'k', Body: 'b', IfMatch: first.ETag }));
    const up = await root.send(new CreateMultipartUploadCommand({ Bucket: 'cond', Key: 'k' }));
    const part = await root.send(new UploadPartCommand({ Bucket: 'cond', Key: 'k', UploadId: up.UploadId, PartNumber: 1, Body: 'x' }));
    const complete = (c: { IfNoneMatch?: string; IfMatch?: string }) =>
      root.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'cond',
          Key: 'k',
          UploadId: up.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
          ...c,
        }),
      );
    expect(await outcome(complete({ IfNoneMatch: '*' }))).toBe('412 PreconditionFailed');
    expect(await outcome(complete({ IfMatch: '"ffff"' }))).toBe('412 PreconditionFailed');
    await root.send(new PutBucketVersioningCommand({ Bucket: 'cond', VersioningConfiguration: { Status: 'Enabled' } }));
    await root.send(new DeleteObjectCommand({ Bucket: 'cond', Key: 'k' })); // a delete marker: the key is absent
    const done = await complete({ IfNoneMatch: '*' });
    expect(done.VersionId).toMatch(/^[0-9A-Z]{32}$/);
  });
});

describe('object lock', () => {
  const future = (s = 3600) => new Date(Date.now() + s * 1000);

  it('a COMPLIANCE-locked version survives DELETE by root (even allowed to bypass) and user delete of its owner', async () => {
    await alice.send(new CreateBucketCommand({ Bucket: 'vault', ObjectLockEnabledForBucket: true }));
    expect((await alice.send(new GetBucketVersioningCommand({ Bucket: 'vault' }))).Status).toBe('Enabled');
    const v = await alice.send(new PutObjectCommand({ Bucket: 'vault', Key: 'k', Body: 'c', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: future() }));
    const h = await alice.send(new HeadObjectCommand({ Bucket: 'vault', Key: 'k' }));
    expect(h.ObjectLockMode).toBe('COMPLIANCE');
    await admin('user', 'set', 'alice', '--allow-bypass-governance');
    expect(await outcome(alice.send(new DeleteObjectCommand({ Bucket: 'vault', Key: 'k', VersionId: v.VersionId, BypassGovernanceRetention: true })))).toBe(
      '403 AccessDenied',
    );
    expect(
      await outcome(alice.send(new PutObjectRetentionCommand({ Bucket: 'vault', Key: 'k', VersionId: v.VersionId, Retention: { Mode: 'GOVERNANCE', RetainUntilDate: future(60) }, BypassGovernanceRetention: true }))),
    ).toBe('403 AccessDenied');
    // root: its own locked bucket
    await root.send(new CreateBucketCommand({ Bucket: 'rootvault', ObjectLockEnabledForBucket: true }));
    const rv = await root.send(new PutObjectCommand({ Bucket: 'rootvault', Key: 'k', Body: 'r', ObjectLockMode: 'COMPLIANCE', ObjectLockRetainUntilDate: future() }));
    await admin('user', 'set', 'root', '--allow-bypass-governance');
    expect(await outcome(root.send(new DeleteObjectCommand({ Bucket: 'rootvault', Key: 'k', VersionId: rv.VersionId, BypassGovernanceRetention: true })))).toBe(
      '403 AccessDenied',
    );
    // the owner cannot be deleted while it owns the bucket that holds the version
    const del = await runAdminCli(server, 'user', 'delete', 'alice');
    expect(del.code).toBe(1);
    expect(await text(alice.send(new GetObjectCommand({ Bucket: 'vault', Key: 'k', VersionId: v.VersionId })))).toBe('c');
    const r = await alice.send(new GetObjectRetentionCommand({ Bucket: 'vault', Key: 'k' }));
    expect(r.Retention?.Mode).toBe('COMPLIANCE');
    await admin('user', 'set', 'root', '--deny-bypass-governance');
  });

  it('GOVERNANCE yields to x-amz-bypass-governance-retention only for an allowed account; legal hold to nobody', async () => {
    await root.send(new CreateBucketCommand({ Bucket: 'gov', ObjectLockEnabledForBucket: true }));
    await root.send(
      new PutObjectLockConfigurationCommand({
        Bucket: 'gov',
        ObjectLockConfiguration: { ObjectLockEnabled: 'Enabled', Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } } },
      }),
    );
    const conf = await root.send(new GetObjectLockConfigurationCommand({ Bucket: 'gov' }));
    expect(conf.ObjectLockConfiguration?.Rule?.DefaultRetention).toEqual({ Mode: 'GOVERNANCE', Days: 1 });
    const v = await root.send(new PutObjectCommand({ Bucket: 'gov', Key: 'k', Body: 'g' })); // default retention applies
    expect((await root.send(new GetObjectRetentionCommand({ Bucket: 'gov', Key: 'k' }))).Retention?.Mode).toBe('GOVERNANCE');
    expect(await outcome(root.send(new DeleteObjectCommand({ Bucket: 'gov', Key: 'k', VersionId: v.VersionId })))).toBe('403 AccessDenied');
    expect(await outcome(root.send(new DeleteObjectCommand({ Bucket: 'gov', Key: 'k', VersionId: v.VersionId, BypassGovernanceRetention: true })))).toBe(
      '403 AccessDenied',
    ); // root is not allowed (the flag was denied above)
    await admin('user', 'set', 'root', '--allow-bypass-governance');
    await root.send(new PutObjectLegalHoldCommand({ Bucket: 'gov', Key: 'k', VersionId: v.VersionId, LegalHold: { Status: 'ON' } }));
    expect((await root.send(new GetObjectLegalHoldCommand({ Bucket: 'gov', Key: 'k' }))).LegalHold?.Status).toBe('ON');
    expect(await outcome(root.send(new DeleteObjectCommand({ Bucket: 'gov', Key: 'k', VersionId: v.VersionId, BypassGovernanceRetention: true })))).toBe(
      '403 AccessDenied',
    );
    await root.send(new PutObjectLegalHoldCommand({ Bucket: 'gov', Key: 'k', VersionId: v.VersionId, LegalHold: { Status: 'OFF' } }));
    await root.send(new DeleteObjectCommand({ Bucket: 'gov', Key: 'k', VersionId: v.VersionId, BypassGovernanceRetention: true }));
    expect(await outcome(root.send(new HeadObjectCommand({ Bucket: 'gov', Key: 'k', VersionId: v.VersionId })))).toBe('404 NotFound');
    // lock headers on a bucket without object lock: a clear 400
    expect(await outcome(root.send(new PutObjectCommand({ Bucket: 'ver', Key: 'x', Body: 'x', ObjectLockLegalHoldStatus: 'ON' })))).toBe('400 InvalidRequest');
    await admin('user', 'set', 'root', '--deny-bypass-governance');
  });
});

describe('lifecycle (a 1 s lifecycle day)', () => {
  it('expires current and noncurrent versions and incomplete uploads; usage follows; locked versions stay', async () => {
    const L = 'life';
    await alice.send(new CreateBucketCommand({ Bucket: L }));
    await alice.send(new PutBucketVersioningCommand({ Bucket: L, VersioningConfiguration: { Status: 'Enabled' } }));
    await alice.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: L,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: 'all',
              Status: 'Enabled',
              Filter: { Prefix: '' },
              Expiration: { Days: 1 },
              NoncurrentVersionExpiration: { NoncurrentDays: 1 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            },
            { ID: 'markers', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { ExpiredObjectDeleteMarker: true } },
          ],
        },
      }),
    );
    const rules = await alice.send(new GetBucketLifecycleConfigurationCommand({ Bucket: L }));
    expect(rules.Rules?.map((r) => r.ID)).toEqual(['all', 'markers']);
    const put = await alice.send(new PutObjectCommand({ Bucket: L, Key: 'a', Body: '12345' }));
    expect(put.Expiration).toMatch(/^expiry-date=".+", rule-id="all"$/);
    await alice.send(new PutObjectCommand({ Bucket: L, Key: 'a', Body: '123' }));
    expect((await alice.send(new HeadObjectCommand({ Bucket: L, Key: 'a' }))).Expiration).toContain('rule-id="all"');
    await alice.send(new CreateMultipartUploadCommand({ Bucket: L, Key: 'up' }));
    const before = JSON.parse(await admin('user', 'info', 'alice', '--json')) as { usage: { bytes: number; objects: number } };
    expect(before.usage.bytes).toBeGreaterThanOrEqual(8);

    // a COMPLIANCE-locked version under a rule that would expire it
    await alice.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'vault',
        LifecycleConfiguration: { Rules: [{ ID: 'x', Status: 'Enabled', Filter: {}, Expiration: { Days: 1 }, NoncurrentVersionExpiration: { NoncurrentDays: 1 } }] },
      }),
    );
    const counts = await server.lifecycle.runOnce(Date.now() + 5_000); // the pass as it runs 5 lifecycle days later
    expect(counts).toMatchObject({ uploadsAborted: 1, noncurrentExpired: 2 });
    expect(counts.keptLocked).toBeGreaterThanOrEqual(1);
    const left = await alice.send(new ListObjectVersionsCommand({ Bucket: L }));
    expect(left.Versions ?? []).toEqual([]);
    expect(left.DeleteMarkers ?? []).toEqual([]);
    expect((await alice.send(new ListMultipartUploadsCommand({ Bucket: L }))).Uploads ?? []).toEqual([]);
    const vault = await alice.send(new ListObjectVersionsCommand({ Bucket: 'vault' }));
    expect(vault.Versions?.map((v) => v.Size)).toEqual([1]); // the locked version is still there
    const after = JSON.parse(await admin('user', 'info', 'alice', '--json')) as { usage: { bytes: number; objects: number } };
    expect(after.usage).toMatchObject({ bytes: 1, objects: 1 });
    const metrics = (await server.metrics.render()).body;
    expect(metrics).toMatch(/datamesh_lifecycle_actions_total\{action="uploads_aborted"\} [1-9]/);
  });
});
