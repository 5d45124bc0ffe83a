/**
 * rclone with an s3 remote of provider Other (its defaults otherwise): copy, sync, check with MD5,
 * lsjson, delete, purge, and copyto of a file over the multipart cutoff.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { check, checkEqual, checkSameSet, checkSameTree } from '../harness/check.ts';
import { clientEnv, exec, type ExecResult } from '../harness/exec.ts';
import { MiB, digestFile, readTree, treeDigests, writeDataFile, writeTree, type TreeSpec } from '../harness/fixtures.ts';
import type { ClientSuite, ScenarioContext } from '../harness/types.ts';
import { versionLine } from './cli-common.ts';

const REMOTE = 'dm';

export function rcloneConfig(ctx: ScenarioContext): string {
  return [
    `[${REMOTE}]`,
    'type = s3',
    'provider = Other',
    `access_key_id = ${ctx.target.credentials.accessKeyId}`,
    `secret_access_key = ${ctx.target.credentials.secretAccessKey}`,
    `endpoint = ${ctx.target.endpoint}`,
    `region = ${ctx.target.region}`,
    '',
  ].join('\n');
}

/** rclone with the scenario's own config file; AWS_CA_BUNDLE and every other AWS_* variable removed. */
async function rclone(ctx: ScenarioContext, args: string[], opts: { allowFailure?: boolean } = {}): Promise<ExecResult> {
  const conf = join(ctx.dir, 'rclone.conf');
  await writeFile(conf, rcloneConfig(ctx), { flag: 'w' });
  const env = clientEnv({ HOME: ctx.dir, RCLONE_CONFIG: conf });
  return exec('rclone', ['--config', conf, ...args], { env, signal: ctx.signal, cwd: ctx.dir, allowFailure: opts.allowFailure });
}

interface LsEntry {
  Path: string;
  Size: number;
  IsDir: boolean;
  Hashes?: { md5?: string };
}

/** Versions (issue 16): rclone turns versioning on and lists an old version as name-vTIMESTAMP.ext. */
async function versionsScenario(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('rclone-ver');
  await rclone(ctx, ['mkdir', `${REMOTE}:${b}`]);
  await rclone(ctx, ['backend', 'versioning', `${REMOTE}:${b}`, 'Enabled']);
  const file = join(ctx.dir, 'v.txt');
  await writeFile(file, 'first\n');
  await rclone(ctx, ['copyto', file, `${REMOTE}:${b}/v.txt`]);
  await writeFile(file, 'second version\n');
  await rclone(ctx, ['copyto', file, `${REMOTE}:${b}/v.txt`]);
  const plain = await lsjson(ctx, `${REMOTE}:${b}`);
  checkEqual(plain.map((e) => `${e.Path}:${e.Size}`).join(','), 'v.txt:15', 'lsjson without --s3-versions');
  const all = JSON.parse((await rclone(ctx, ['lsjson', '-R', '--files-only', '--s3-versions', `${REMOTE}:${b}`])).stdout) as LsEntry[];
  const sizes = all.map((e) => e.Size).sort((x, y) => x - y);
  checkEqual(sizes.join(','), '6,15', 'lsjson --s3-versions sizes (old and current version)');
  check(all.some((e) => /^v-v\d{4}-\d{2}-\d{2}-\d{6}-\d{3}\.txt$/.test(e.Path)), `lsjson --s3-versions names no old version v-vYYYY-MM-DD-HHMMSS-mmm.txt: ${all.map((e) => e.Path).join(', ')}`);
}

async function lsjson(ctx: ScenarioContext, path: string): Promise<LsEntry[]> {
  const r = await rclone(ctx, ['lsjson', '-R', '--files-only', '--hash', path]);
  return JSON.parse(r.stdout) as LsEntry[];
}

const TREE: TreeSpec = {
  'one.txt': 'one\n',
  'two.txt': 'two two\n',
  'nested/three.md': '# three\n',
  'nested/deep/four.bin': { size: 200_000, seed: 'rclone-four' },
  'spaces and ü/five.txt': 'five\n',
};

async function copy(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('rclone-copy');
  await rclone(ctx, ['mkdir', `${REMOTE}:${b}`]);
  await writeTree(join(ctx.dir, 'src'), TREE);
  await rclone(ctx, ['copy', join(ctx.dir, 'src'), `${REMOTE}:${b}/dir`]);
  await rclone(ctx, ['copy', `${REMOTE}:${b}/dir`, join(ctx.dir, 'back')]);
  checkSameTree(await readTree(join(ctx.dir, 'back')), await treeDigests(TREE), 'tree copied up and back with rclone copy');
}

async function syncAndCheck(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('rclone-sync');
  await rclone(ctx, ['mkdir', `${REMOTE}:${b}`]);
  const src = join(ctx.dir, 'src');
  await writeTree(src, TREE);
  await rclone(ctx, ['sync', src, `${REMOTE}:${b}/dir`]);
  // Change one file, remove one, add one: sync must mirror exactly.
  const next: TreeSpec = { ...TREE, 'one.txt': 'one, changed\n', 'added/six.txt': 'six\n' };
  delete next['two.txt'];
  await writeTree(src, { 'one.txt': next['one.txt']!, 'added/six.txt': next['added/six.txt']! });
  await rm(join(src, 'two.txt'));
  await rclone(ctx, ['sync', src, `${REMOTE}:${b}/dir`]);
  const listed = await lsjson(ctx, `${REMOTE}:${b}/dir`);
  checkSameSet(listed.map((e) => e.Path), Object.keys(next), 'remote files after the second rclone sync');
  // check compares MD5s (local and s3 share MD5): it must pass, and catch a same-size change.
  const ok = await rclone(ctx, ['check', src, `${REMOTE}:${b}/dir`]);
  check(!/no common hash/i.test(ok.stderr), `rclone check did not compare hashes: ${ok.stderr.trim()}`);
  check(/0 differences found/.test(ok.stderr), `rclone check: expected "0 differences found", got: ${ok.stderr.trim()}`);
  await writeFile(join(src, 'one.txt'), 'ONE, CHANGED\n'); // same size, different bytes
  const bad = await rclone(ctx, ['check', src, `${REMOTE}:${b}/dir`], { allowFailure: true });
  check(bad.code !== 0 && /1 differences found/.test(bad.stderr), `rclone check should report the same-size change by MD5; got exit ${bad.code}: ${bad.stderr.trim()}`);
}

async function lsjsonScenario(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('rclone-lsjson');
  await rclone(ctx, ['mkdir', `${REMOTE}:${b}`]);
  await writeTree(join(ctx.dir, 'src'), TREE);
  await rclone(ctx, ['copy', join(ctx.dir, 'src'), `${REMOTE}:${b}`]);
  const listed = await lsjson(ctx, `${REMOTE}:${b}`);
  checkSameSet(listed.map((e) => e.Path), Object.keys(TREE), 'rclone lsjson -R paths');
  for (const e of listed) {
    const local = await digestFile(join(ctx.dir, 'src', e.Path));
    checkEqual(e.Size, local.bytes, `lsjson Size of ${e.Path}`);
    checkEqual(e.Hashes?.md5, local.md5, `lsjson md5 of ${e.Path}`);
  }
}

async function deleteScenario(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('rclone-delete');
  await rclone(ctx, ['mkdir', `${REMOTE}:${b}`]);
  await writeTree(join(ctx.dir, 'src'), TREE);
  await rclone(ctx, ['copy', join(ctx.dir, 'src'), `${REMOTE}:${b}`]);
  await rclone(ctx, ['delete', `${REMOTE}:${b}`, '--include', '*.txt']);
  const listed = await lsjson(ctx, `${REMOTE}:${b}`);
  checkSameSet(listed.map((e) => e.Path), Object.keys(TREE).filter((k) => !k.endsWith('.txt')), 'files left after rclone delete --include *.txt');
}

async function purge(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('rclone-purge');
  await rclone(ctx, ['mkdir', `${REMOTE}:${b}`]);
  await writeTree(join(ctx.dir, 'src'), TREE);
  await rclone(ctx, ['copy', join(ctx.dir, 'src'), `${REMOTE}:${b}`]);
  await rclone(ctx, ['purge', `${REMOTE}:${b}/nested`]);
  const listed = await lsjson(ctx, `${REMOTE}:${b}`);
  checkSameSet(listed.map((e) => e.Path), Object.keys(TREE).filter((k) => !k.startsWith('nested/')), 'files left after rclone purge BUCKET/nested');
  await rclone(ctx, ['purge', `${REMOTE}:${b}`]);
  const buckets = await rclone(ctx, ['lsjson', '--dirs-only', `${REMOTE}:`]);
  const names = (JSON.parse(buckets.stdout) as LsEntry[]).map((e) => e.Path);
  check(!names.includes(b), `the bucket ${b} is still listed after rclone purge`);
}

async function copytoMultipart(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('rclone-copyto');
  await rclone(ctx, ['mkdir', `${REMOTE}:${b}`]);
  const file = join(ctx.dir, 'up', 'copy.bin');
  const sent = await writeDataFile(file, 12 * MiB, 'rclone-12');
  await rclone(ctx, ['copyto', '--s3-upload-cutoff', '5M', '--s3-chunk-size', '5M', file, `${REMOTE}:${b}/big/copy.bin`]);
  const [entry] = await lsjson(ctx, `${REMOTE}:${b}/big`);
  checkEqual(entry?.Size, 12 * MiB, 'lsjson Size of the multipart upload');
  checkEqual(entry?.Hashes?.md5, sent.md5, 'rclone md5 of the multipart upload (from its X-Amz-Meta-Md5chksum)');
  await rclone(ctx, ['copyto', `${REMOTE}:${b}/big/copy.bin`, join(ctx.dir, 'back.bin')]);
  checkEqual((await digestFile(join(ctx.dir, 'back.bin'))).sha256, sent.sha256, 'sha256 of the 12 MiB file copied back');
  const ok = await rclone(ctx, ['check', join(ctx.dir, 'up'), `${REMOTE}:${b}/big`]);
  check(!/no common hash/i.test(ok.stderr) && /0 differences found/.test(ok.stderr), `rclone check of the multipart upload: ${ok.stderr.trim()}`);
}

export const rcloneSuite: ClientSuite = {
  name: 'rclone',
  async detect() {
    const line = await versionLine('rclone', ['version']);
    if (!line) return { missing: 'rclone is not installed: apt-get install -y rclone' };
    return { version: line.replace(/^rclone\s+/, '') };
  },
  scenarios: [
    { name: 'copy up and back', op: 'put / get', run: copy },
    { name: 'sync with changes and deletions, check (MD5)', op: 'sync', also: ['checksums'], run: syncAndCheck },
    { name: 'lsjson -R --hash', op: 'list', run: lsjsonScenario },
    { name: 'delete --include', op: 'delete', run: deleteScenario },
    { name: 'purge a prefix and a bucket', op: 'buckets', run: purge },
    { name: 'copyto 12 MiB over --s3-upload-cutoff 5M (multipart)', op: 'multipart', run: copytoMultipart },
    { name: 'backend versioning Enabled, lsjson --s3-versions lists the old version', op: 'versioning', run: versionsScenario },
  ],
};
