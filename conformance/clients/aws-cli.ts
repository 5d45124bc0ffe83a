/**
 * aws-cli, both generations found on the machine: v2 (Debian's /usr/bin/aws) and v1 (pip's, e.g.
 * under the pyenv prefix). Default settings, configured only through the environment and
 * --endpoint-url, with an isolated HOME and config files so the user's configuration is not used.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { check, checkEqual, checkSameSet, checkSameTree } from '../harness/check.ts';
import { clientEnv, exec, type ExecResult } from '../harness/exec.ts';
import { MiB, digestFile, readTree, treeDigests, writeDataFile, writeTree, type TreeSpec } from '../harness/fixtures.ts';
import type { ClientSuite, Scenario, ScenarioContext } from '../harness/types.ts';
import { whichAll, versionLine } from './cli-common.ts';
import { curl } from './curl.ts';
import { multipartEtag } from './sdk-js-multipart.ts';

interface AwsSetup {
  bin: string;
}

/** Runs `aws --endpoint-url … args` with credentials from the environment only. */
export async function aws(ctx: ScenarioContext, args: string[], opts: { allowFailure?: boolean } = {}): Promise<ExecResult> {
  const { bin } = ctx.setup as AwsSetup;
  const home = join(ctx.dir, 'home');
  await mkdir(home, { recursive: true });
  const env = clientEnv({
    HOME: home,
    AWS_CONFIG_FILE: join(home, '.aws', 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, '.aws', 'credentials'),
    AWS_ACCESS_KEY_ID: ctx.target.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: ctx.target.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: ctx.target.region,
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  return exec(bin, ['--endpoint-url', ctx.target.endpoint, ...args], { env, signal: ctx.signal, cwd: ctx.dir, allowFailure: opts.allowFailure });
}

async function awsJson<T>(ctx: ScenarioContext, args: string[]): Promise<T> {
  const r = await aws(ctx, [...args, '--output', 'json']);
  const text = r.stdout.trim();
  return (text ? JSON.parse(text) : {}) as T;
}

/** `s3 ls --recursive` lines -> key -> size. */
export function parseLsRecursive(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^\S+\s+\S+\s+(\d+)\s(.*)$/.exec(line);
    if (m) out.set(m[2]!, Number(m[1]));
  }
  return out;
}

async function listKeys(ctx: ScenarioContext, bucket: string): Promise<string[]> {
  const r = await awsJson<{ Contents?: { Key: string }[] }>(ctx, ['s3api', 'list-objects-v2', '--bucket', bucket]);
  return (r.Contents ?? []).map((c) => c.Key);
}

async function buckets(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-mb');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const ls = await aws(ctx, ['s3', 'ls']);
  check(ls.stdout.split('\n').some((l) => l.trim().endsWith(` ${b}`)), `aws s3 ls does not list the new bucket ${b}:\n${ls.stdout}`);
  await aws(ctx, ['s3', 'rb', `s3://${b}`]);
  const after = await aws(ctx, ['s3', 'ls']);
  check(!after.stdout.includes(b), `aws s3 ls still lists ${b} after s3 rb`);
}

async function cpLarge(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-cp');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const file = join(ctx.dir, 'big.bin');
  const sent = await writeDataFile(file, 100 * MiB, 'awscli-100');
  const t0 = Date.now();
  await aws(ctx, ['s3', 'cp', file, `s3://${b}/dir/big.bin`]);
  const up = Date.now() - t0;
  const head = await awsJson<{ ContentLength: number; ETag: string }>(ctx, ['s3api', 'head-object', '--bucket', b, '--key', 'dir/big.bin']);
  checkEqual(head.ContentLength, 100 * MiB, 'head-object ContentLength');
  check(/-\d+"$/.test(head.ETag), `s3 cp of 100 MiB should go multipart: ETag ${head.ETag} has no -N suffix`);
  const t1 = Date.now();
  await aws(ctx, ['s3', 'cp', `s3://${b}/dir/big.bin`, join(ctx.dir, 'back.bin')]);
  const down = Date.now() - t1;
  await rm(file);
  checkEqual((await digestFile(join(ctx.dir, 'back.bin'))).sha256, sent.sha256, 'sha256 of the 100 MiB file copied back');
  ctx.note(`100 MiB: upload ${(100 / (up / 1000)).toFixed(0)} MiB/s, download ${(100 / (down / 1000)).toFixed(0)} MiB/s`);
}

const TREE: TreeSpec = {
  'a.txt': 'alpha\n',
  'b.txt': 'bravo\n',
  'sub/c.txt': 'charlie\n',
  'sub/deeper/d.bin': { size: 300_000, seed: 'sync-d' },
  'with space/e f.txt': 'echo foxtrot\n',
  'big.bin': { size: 9 * MiB, seed: 'sync-big' },
};

async function sync(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-sync');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const local = join(ctx.dir, 'local');
  await writeTree(local, TREE);
  await aws(ctx, ['s3', 'sync', local, `s3://${b}/tree`]);
  checkSameSet(await listKeys(ctx, b), Object.keys(TREE).map((k) => `tree/${k}`), 'keys after the first sync up');
  // Change one file (new size), delete one, add one; sync up with --delete.
  const changed: TreeSpec = { ...TREE, 'a.txt': 'alpha, second version\n', 'new/n.txt': 'november\n' };
  delete changed['b.txt'];
  await rm(join(local, 'b.txt'));
  await writeTree(local, { 'a.txt': changed['a.txt']!, 'new/n.txt': changed['new/n.txt']! });
  await aws(ctx, ['s3', 'sync', local, `s3://${b}/tree`, '--delete']);
  checkSameSet(await listKeys(ctx, b), Object.keys(changed).map((k) => `tree/${k}`), 'keys after sync up --delete');
  // Down into an empty directory: the same tree.
  const copy = join(ctx.dir, 'copy');
  await aws(ctx, ['s3', 'sync', `s3://${b}/tree`, copy]);
  checkSameTree(await readTree(copy), await treeDigests(changed), 'tree synced down');
  // Remote changes, then sync down with --delete removes and adds locally.
  await aws(ctx, ['s3', 'rm', `s3://${b}/tree/sub/c.txt`]);
  await writeFile(join(ctx.dir, 'r.txt'), 'remote only\n');
  await aws(ctx, ['s3', 'cp', join(ctx.dir, 'r.txt'), `s3://${b}/tree/remote/r.txt`]);
  await aws(ctx, ['s3', 'sync', `s3://${b}/tree`, copy, '--delete']);
  const expected: TreeSpec = { ...changed, 'remote/r.txt': 'remote only\n' };
  delete expected['sub/c.txt'];
  checkSameTree(await readTree(copy), await treeDigests(expected), 'tree after sync down --delete');
  // The synced-down copy and the bucket agree: syncing it back up transfers nothing.
  const again = await aws(ctx, ['s3', 'sync', copy, `s3://${b}/tree`, '--delete']);
  const transfers = again.stdout.split(/[\r\n]+/).filter((l) => /^(upload|delete|copy):/.test(l.trim()));
  checkEqual(transfers.join('; '), '', 'sync up of the just-synced copy (nothing changed) should transfer nothing');
}

async function lsRecursive(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-ls');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const spec: TreeSpec = {};
  for (let i = 0; i < 25; i++) spec[`p${i % 3}/f${i}.txt`] = 'x'.repeat(i);
  spec['top level.txt'] = 'top';
  await writeTree(join(ctx.dir, 'ls'), spec);
  await aws(ctx, ['s3', 'cp', join(ctx.dir, 'ls'), `s3://${b}/`, '--recursive']);
  const listed = parseLsRecursive((await aws(ctx, ['s3', 'ls', '--recursive', `s3://${b}`])).stdout);
  checkSameSet(listed.keys(), Object.keys(spec), 'aws s3 ls --recursive keys');
  for (const [k, v] of Object.entries(spec)) checkEqual(listed.get(k), (v as string).length, `size of ${k} in s3 ls --recursive`);
  const prefixed = parseLsRecursive((await aws(ctx, ['s3', 'ls', '--recursive', `s3://${b}/p1/`])).stdout);
  checkSameSet(prefixed.keys(), Object.keys(spec).filter((k) => k.startsWith('p1/')), 'aws s3 ls --recursive s3://BUCKET/p1/');
}

async function rmRecursive(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-rm');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const spec: TreeSpec = {};
  for (let i = 0; i < 30; i++) spec[`${i < 20 ? 'gone' : 'kept'}/f${i}.txt`] = `file ${i}`;
  await writeTree(join(ctx.dir, 'rm'), spec);
  await aws(ctx, ['s3', 'cp', join(ctx.dir, 'rm'), `s3://${b}/`, '--recursive']);
  await aws(ctx, ['s3', 'rm', '--recursive', `s3://${b}/gone/`]);
  checkSameSet(await listKeys(ctx, b), Object.keys(spec).filter((k) => k.startsWith('kept/')), 'keys left after s3 rm --recursive gone/');
  await aws(ctx, ['s3', 'rm', '--recursive', `s3://${b}`]);
  checkSameSet(await listKeys(ctx, b), [], 'keys left after s3 rm --recursive of the bucket');
  await aws(ctx, ['s3', 'rb', `s3://${b}`]);
}

async function presign(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-presign');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const file = join(ctx.dir, 'p.bin');
  const sent = await writeDataFile(file, 700_000, 'awscli-presign');
  await aws(ctx, ['s3', 'cp', file, `s3://${b}/shared/p.bin`]);
  const url = (await aws(ctx, ['s3', 'presign', `s3://${b}/shared/p.bin`, '--expires-in', '600'])).stdout.trim();
  check(url.startsWith(ctx.target.endpoint), `aws s3 presign printed an unexpected URL: ${url}`);
  const out = join(ctx.dir, 'fetched.bin');
  const r = await curl(['-o', out, url], ctx.signal);
  checkEqual(r.status, 200, 'curl of the aws s3 presign URL (HTTP status)');
  checkEqual((await digestFile(out)).sha256, sent.sha256, 'sha256 of the object fetched through the presigned URL');
}

async function tagging(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-tagging');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  await aws(ctx, ['s3api', 'put-object', '--bucket', b, '--key', 't.txt', '--body', await small(ctx, 'tag me')]);
  await aws(ctx, ['s3api', 'put-object-tagging', '--bucket', b, '--key', 't.txt', '--tagging', 'TagSet=[{Key=team,Value=storage},{Key=env,Value=ci}]']);
  const tags = await awsJson<{ TagSet: { Key: string; Value: string }[] }>(ctx, ['s3api', 'get-object-tagging', '--bucket', b, '--key', 't.txt']);
  checkSameSet(tags.TagSet.map((t) => `${t.Key}=${t.Value}`), ['team=storage', 'env=ci'], 'get-object-tagging TagSet');
}

async function small(ctx: ScenarioContext, text: string): Promise<string> {
  const p = join(ctx.dir, `small-${Buffer.from(text).toString('hex').slice(0, 16)}.txt`);
  await writeFile(p, text);
  return p;
}

async function copyObject(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-copy');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  await aws(ctx, ['s3api', 'put-object', '--bucket', b, '--key', 'src.txt', '--body', await small(ctx, 'copy source'), '--metadata', 'origin=cli']);
  const res = await awsJson<{ CopyObjectResult: { ETag: string } }>(ctx, ['s3api', 'copy-object', '--bucket', b, '--key', 'dst/copy.txt', '--copy-source', `${b}/src.txt`]);
  check(res.CopyObjectResult?.ETag, 'copy-object returned no CopyObjectResult.ETag');
  const head = await awsJson<{ ContentLength: number; ETag: string; Metadata: Record<string, string> }>(ctx, ['s3api', 'head-object', '--bucket', b, '--key', 'dst/copy.txt']);
  checkEqual(head.ETag, res.CopyObjectResult.ETag, 'head-object ETag of the copy');
  checkEqual(head.ContentLength, 'copy source'.length, 'head-object ContentLength of the copy');
  checkEqual(head.Metadata?.origin, 'cli', 'metadata carried by copy-object');
  await aws(ctx, ['s3', 'cp', `s3://${b}/dst/copy.txt`, join(ctx.dir, 'copy.txt')]);
  checkEqual((await digestFile(join(ctx.dir, 'copy.txt'))).bytes, 'copy source'.length, 'downloaded copy size');
}

async function multipartApi(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-mpu');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const { UploadId } = await awsJson<{ UploadId: string }>(ctx, ['s3api', 'create-multipart-upload', '--bucket', b, '--key', 'parts.bin']);
  check(UploadId, 'create-multipart-upload returned no UploadId');
  const p1 = join(ctx.dir, 'p1');
  const p2 = join(ctx.dir, 'p2');
  const d1 = await writeDataFile(p1, 5 * MiB, 'awscli-p1');
  const d2 = await writeDataFile(p2, 1234, 'awscli-p2');
  const e1 = await awsJson<{ ETag: string }>(ctx, ['s3api', 'upload-part', '--bucket', b, '--key', 'parts.bin', '--upload-id', UploadId, '--part-number', '1', '--body', p1]);
  const e2 = await awsJson<{ ETag: string }>(ctx, ['s3api', 'upload-part', '--bucket', b, '--key', 'parts.bin', '--upload-id', UploadId, '--part-number', '2', '--body', p2]);
  checkEqual(e1.ETag, `"${d1.md5}"`, 'upload-part 1 ETag');
  const uploads = await awsJson<{ Uploads?: { UploadId: string; Key: string }[] }>(ctx, ['s3api', 'list-multipart-uploads', '--bucket', b]);
  check(uploads.Uploads?.some((u) => u.UploadId === UploadId && u.Key === 'parts.bin'), 'list-multipart-uploads does not show the open upload');
  const parts = await awsJson<{ Parts?: { PartNumber: number; Size: number; ETag: string }[] }>(ctx, ['s3api', 'list-parts', '--bucket', b, '--key', 'parts.bin', '--upload-id', UploadId]);
  checkEqual(parts.Parts?.map((p) => `${p.PartNumber}:${p.Size}:${p.ETag}`).join(','), `1:${5 * MiB}:${e1.ETag},2:1234:${e2.ETag}`, 'list-parts');
  const mpu = JSON.stringify({ Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] });
  const done = await awsJson<{ ETag: string }>(ctx, ['s3api', 'complete-multipart-upload', '--bucket', b, '--key', 'parts.bin', '--upload-id', UploadId, '--multipart-upload', mpu]);
  checkEqual(done.ETag, multipartEtag([d1.md5, d2.md5]), 'complete-multipart-upload ETag');
  const head = await awsJson<{ ContentLength: number }>(ctx, ['s3api', 'head-object', '--bucket', b, '--key', 'parts.bin']);
  checkEqual(head.ContentLength, 5 * MiB + 1234, 'head-object ContentLength of the completed upload');
  const other = await awsJson<{ UploadId: string }>(ctx, ['s3api', 'create-multipart-upload', '--bucket', b, '--key', 'aborted.bin']);
  await aws(ctx, ['s3api', 'abort-multipart-upload', '--bucket', b, '--key', 'aborted.bin', '--upload-id', other.UploadId]);
  const left = await awsJson<{ Uploads?: unknown[] }>(ctx, ['s3api', 'list-multipart-uploads', '--bucket', b]);
  checkEqual(left.Uploads?.length ?? 0, 0, 'open uploads after complete + abort');
}

async function headObject(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-head');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const body = await small(ctx, 'head object body');
  await aws(ctx, ['s3api', 'put-object', '--bucket', b, '--key', 'h.txt', '--body', body, '--content-type', 'text/plain', '--metadata', 'a=1,b=two']);
  const head = await awsJson<{ ContentLength: number; ETag: string; ContentType: string; Metadata: Record<string, string> }>(ctx, ['s3api', 'head-object', '--bucket', b, '--key', 'h.txt']);
  checkEqual(head.ContentLength, 'head object body'.length, 'head-object ContentLength');
  checkEqual(head.ETag, `"${(await digestFile(body)).md5}"`, 'head-object ETag');
  checkEqual(head.ContentType, 'text/plain', 'head-object ContentType');
  checkEqual(JSON.stringify(head.Metadata), JSON.stringify({ a: '1', b: 'two' }), 'head-object Metadata');
  const missing = await aws(ctx, ['s3api', 'head-object', '--bucket', b, '--key', 'missing'], { allowFailure: true });
  check(missing.code !== 0 && /404|Not Found/i.test(missing.stderr), `head-object of a missing key: expected a 404 error, got exit ${missing.code}: ${missing.stderr.trim()}`);
}

// ---- versions, object lock, lifecycle (issue 16)

async function versions(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-ver');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  await aws(ctx, ['s3api', 'put-bucket-versioning', '--bucket', b, '--versioning-configuration', 'Status=Enabled']);
  const v1 = await awsJson<{ VersionId: string }>(ctx, ['s3api', 'put-object', '--bucket', b, '--key', 'k.txt', '--body', await small(ctx, 'version one')]);
  const v2 = await awsJson<{ VersionId: string }>(ctx, ['s3api', 'put-object', '--bucket', b, '--key', 'k.txt', '--body', await small(ctx, 'version two!')]);
  check(v1.VersionId && v2.VersionId && v1.VersionId !== v2.VersionId, `put-object returned version ids ${v1.VersionId} and ${v2.VersionId}`);
  await aws(ctx, ['s3', 'rm', `s3://${b}/k.txt`]);
  const list = await awsJson<{ Versions?: { VersionId: string; Size: number }[]; DeleteMarkers?: { IsLatest: boolean }[] }>(ctx, [
    's3api', 'list-object-versions', '--bucket', b,
  ]);
  checkEqual(list.Versions?.map((v) => `${v.VersionId}:${v.Size}`).join(','), `${v2.VersionId}:12,${v1.VersionId}:11`, 'list-object-versions Versions');
  checkEqual(list.DeleteMarkers?.length, 1, 'delete markers after s3 rm');
  const out = join(ctx.dir, 'v1.txt');
  await aws(ctx, ['s3api', 'get-object', '--bucket', b, '--key', 'k.txt', '--version-id', v1.VersionId, out]);
  checkEqual((await digestFile(out)).bytes, 11, 'get-object --version-id of the first version');
}

async function objectLock(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-lock');
  await aws(ctx, ['s3api', 'create-bucket', '--bucket', b, '--object-lock-enabled-for-bucket']);
  const v = await awsJson<{ VersionId: string }>(ctx, ['s3api', 'put-object', '--bucket', b, '--key', 'locked.txt', '--body', await small(ctx, 'keep me')]);
  const until = new Date(Date.now() + 3600_000).toISOString();
  await aws(ctx, ['s3api', 'put-object-retention', '--bucket', b, '--key', 'locked.txt', '--version-id', v.VersionId, '--retention', `Mode=COMPLIANCE,RetainUntilDate=${until}`]);
  const r = await awsJson<{ Retention: { Mode: string } }>(ctx, ['s3api', 'get-object-retention', '--bucket', b, '--key', 'locked.txt']);
  checkEqual(r.Retention?.Mode, 'COMPLIANCE', 'get-object-retention Mode');
  const del = await aws(ctx, ['s3api', 'delete-object', '--bucket', b, '--key', 'locked.txt', '--version-id', v.VersionId, '--bypass-governance-retention'], { allowFailure: true });
  check(del.code !== 0 && /AccessDenied/.test(del.stderr), `delete-object of a COMPLIANCE-locked version: expected AccessDenied, got exit ${del.code}: ${del.stderr.trim()}`);
}

async function lifecycle(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('awscli-life');
  await aws(ctx, ['s3', 'mb', `s3://${b}`]);
  const conf = JSON.stringify({
    Rules: [
      { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 7 }, NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
      { ID: 'uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } },
    ],
  });
  await aws(ctx, ['s3api', 'put-bucket-lifecycle-configuration', '--bucket', b, '--lifecycle-configuration', conf]);
  const got = await awsJson<{ Rules: { ID: string }[] }>(ctx, ['s3api', 'get-bucket-lifecycle-configuration', '--bucket', b]);
  checkEqual(got.Rules?.map((r) => r.ID).join(','), 'logs,uploads', 'get-bucket-lifecycle-configuration rule ids');
  const put = await awsJson<{ Expiration?: string }>(ctx, ['s3api', 'put-object', '--bucket', b, '--key', 'logs/a.log', '--body', await small(ctx, 'log line')]);
  check(/rule-id="logs"/.test(put.Expiration ?? ''), `put-object Expiration: expected rule-id="logs", got ${put.Expiration}`);
  await aws(ctx, ['s3api', 'delete-bucket-lifecycle', '--bucket', b]);
}

function scenarios(): Scenario[] {
  return [
    { name: 's3 mb / ls / rb', op: 'buckets', run: buckets },
    { name: 's3 cp 100 MiB up and down (multipart)', op: 'large upload', also: ['put / get', 'multipart'], timeoutMs: 300_000, run: cpLarge },
    { name: 's3 sync up and down with changes and --delete', op: 'sync', timeoutMs: 180_000, run: sync },
    { name: 's3 ls --recursive', op: 'list', run: lsRecursive },
    { name: 's3 rm --recursive', op: 'delete', run: rmRecursive },
    { name: 's3 presign, fetched with curl', op: 'presigned URL', run: presign },
    { name: 's3api put/get-object-tagging', op: 'tagging', run: tagging },
    { name: 's3api copy-object', op: 'copy', run: copyObject },
    { name: 's3api multipart: create, upload-part, list-multipart-uploads, list-parts, complete, abort', op: 'multipart', run: multipartApi },
    { name: 's3api put-object, head-object', op: 'head', also: ['put / get'], run: headObject },
    { name: 's3api put-bucket-versioning, list-object-versions, get-object --version-id', op: 'versioning', run: versions },
    { name: 's3api create-bucket --object-lock-enabled-for-bucket, put-object-retention', op: 'object lock', run: objectLock },
    { name: 's3api put-bucket-lifecycle-configuration', op: 'lifecycle', run: lifecycle },
  ];
}

/** The aws-cli of the given major version, found on PATH (`which -a aws`). */
export function awsCliSuite(major: 1 | 2): ClientSuite {
  return {
    name: `aws-cli v${major}`,
    async detect() {
      const candidates = await whichAll('aws');
      if (major === 2 && !candidates.includes('/usr/bin/aws')) candidates.push('/usr/bin/aws');
      for (const bin of candidates) {
        const line = await versionLine(bin, ['--version']);
        const m = line ? /^aws-cli\/(\d+)\.(\S+)/.exec(line) : null;
        if (m && Number(m[1]) === major) return { version: `${m[1]}.${m[2]}`, setup: { bin } satisfies AwsSetup };
      }
      return {
        missing:
          major === 2
            ? 'aws-cli v2 not found (looked at `which -a aws` and /usr/bin/aws): apt-get install -y awscli'
            : 'aws-cli v1 not found on PATH: pip install awscli',
      };
    },
    scenarios: scenarios(),
  };
}
