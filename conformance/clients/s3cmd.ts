/**
 * s3cmd with a generated .s3cfg (path-style host_base/host_bucket, http, SigV4): mb, put, get,
 * ls, del, rb and sync.
 */
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { check, checkEqual, checkSameSet, checkSameTree } from '../harness/check.ts';
import { clientEnv, exec, type ExecResult } from '../harness/exec.ts';
import { MiB, digestFile, readTree, treeDigests, writeDataFile, writeTree, type TreeSpec } from '../harness/fixtures.ts';
import type { ClientSuite, ScenarioContext } from '../harness/types.ts';
import { versionLine } from './cli-common.ts';

export function s3cfg(ctx: ScenarioContext): string {
  const host = `127.0.0.1:${ctx.target.port}`;
  return [
    '[default]',
    `access_key = ${ctx.target.credentials.accessKeyId}`,
    `secret_key = ${ctx.target.credentials.secretAccessKey}`,
    `host_base = ${host}`,
    `host_bucket = ${host}`,
    'use_https = False',
    'signature_v2 = False',
    `bucket_location = ${ctx.target.region}`,
    '',
  ].join('\n');
}

async function s3cmd(ctx: ScenarioContext, args: string[], opts: { allowFailure?: boolean } = {}): Promise<ExecResult> {
  const cfg = join(ctx.dir, '.s3cfg');
  await writeFile(cfg, s3cfg(ctx));
  return exec('s3cmd', ['-c', cfg, ...args], { env: clientEnv({ HOME: ctx.dir }), signal: ctx.signal, cwd: ctx.dir, allowFailure: opts.allowFailure });
}

/** `s3cmd ls [-r]` -> { objects: key -> size, dirs: [prefix] } relative to s3://bucket/. */
export function parseS3cmdLs(stdout: string, bucket: string): { objects: Map<string, number>; dirs: string[] } {
  const objects = new Map<string, number>();
  const dirs: string[] = [];
  const base = `s3://${bucket}/`;
  for (const line of stdout.split('\n')) {
    const dir = /^\s*DIR\s+(s3:\/\/.*)$/.exec(line);
    if (dir && dir[1]!.startsWith(base)) dirs.push(dir[1]!.slice(base.length));
    const obj = /^\S+\s+\S+\s+(\d+)\s+(s3:\/\/.*)$/.exec(line);
    if (obj && obj[2]!.startsWith(base)) objects.set(obj[2]!.slice(base.length), Number(obj[1]));
  }
  return { objects, dirs };
}

async function buckets(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('s3cmd-mb');
  await s3cmd(ctx, ['mb', `s3://${b}`]);
  const ls = await s3cmd(ctx, ['ls']);
  check(ls.stdout.split('\n').some((l) => l.trim().endsWith(`s3://${b}`)), `s3cmd ls does not list s3://${b}:\n${ls.stdout}`);
  await s3cmd(ctx, ['rb', `s3://${b}`]);
  const after = await s3cmd(ctx, ['ls']);
  check(!after.stdout.includes(`s3://${b}`), `s3cmd ls still lists s3://${b} after rb`);
}

async function putGet(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('s3cmd-put');
  await s3cmd(ctx, ['mb', `s3://${b}`]);
  const small = join(ctx.dir, 'small.txt');
  await writeFile(small, 'small file for s3cmd\n');
  const big = join(ctx.dir, 'big.bin');
  const bigDigest = await writeDataFile(big, 20 * MiB, 's3cmd-20'); // over s3cmd's 15 MiB multipart chunk: goes multipart
  await s3cmd(ctx, ['put', small, `s3://${b}/docs/small.txt`]);
  await s3cmd(ctx, ['put', big, `s3://${b}/big.bin`]);
  await s3cmd(ctx, ['get', `s3://${b}/docs/small.txt`, join(ctx.dir, 'small.back')]);
  await s3cmd(ctx, ['get', `s3://${b}/big.bin`, join(ctx.dir, 'big.back')]);
  checkEqual((await digestFile(join(ctx.dir, 'small.back'))).sha256, (await digestFile(small)).sha256, 'small file got back');
  checkEqual((await digestFile(join(ctx.dir, 'big.back'))).sha256, bigDigest.sha256, '20 MiB file got back (multipart put)');
  const info = await s3cmd(ctx, ['info', `s3://${b}/big.bin`]);
  check(/File size:\s+20971520/.test(info.stdout), `s3cmd info: expected File size 20971520:\n${info.stdout}`);
}

async function ls(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('s3cmd-ls');
  await s3cmd(ctx, ['mb', `s3://${b}`]);
  const spec: TreeSpec = { 'a.txt': 'a', 'dir1/b.txt': 'bb', 'dir1/sub/c.txt': 'ccc', 'dir2/d.txt': 'dddd' };
  await writeTree(join(ctx.dir, 'ls'), spec);
  await s3cmd(ctx, ['put', '--recursive', join(ctx.dir, 'ls') + '/', `s3://${b}/`]);
  const top = parseS3cmdLs((await s3cmd(ctx, ['ls', `s3://${b}/`])).stdout, b);
  checkSameSet(top.dirs, ['dir1/', 'dir2/'], 's3cmd ls DIR entries');
  checkSameSet(top.objects.keys(), ['a.txt'], 's3cmd ls objects at the top');
  const all = parseS3cmdLs((await s3cmd(ctx, ['ls', '--recursive', `s3://${b}`])).stdout, b);
  checkSameSet(all.objects.keys(), Object.keys(spec), 's3cmd ls --recursive');
  for (const [k, v] of Object.entries(spec)) checkEqual(all.objects.get(k), (v as string).length, `s3cmd ls size of ${k}`);
}

async function del(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('s3cmd-del');
  await s3cmd(ctx, ['mb', `s3://${b}`]);
  const spec: TreeSpec = { 'x.txt': 'x', 'p/1.txt': '1', 'p/2.txt': '2', 'q/3.txt': '3' };
  await writeTree(join(ctx.dir, 'del'), spec);
  await s3cmd(ctx, ['put', '--recursive', join(ctx.dir, 'del') + '/', `s3://${b}/`]);
  await s3cmd(ctx, ['del', `s3://${b}/x.txt`]);
  await s3cmd(ctx, ['del', '--recursive', `s3://${b}/p/`]);
  const left = parseS3cmdLs((await s3cmd(ctx, ['ls', '--recursive', `s3://${b}`])).stdout, b);
  checkSameSet(left.objects.keys(), ['q/3.txt'], 'objects left after s3cmd del and del --recursive');
  const rb = await s3cmd(ctx, ['rb', `s3://${b}`], { allowFailure: true });
  check(rb.code !== 0 && /BucketNotEmpty/.test(rb.stderr), `s3cmd rb of a non-empty bucket should fail with BucketNotEmpty; got exit ${rb.code}: ${rb.stderr.trim()}`);
  await s3cmd(ctx, ['del', '--recursive', '--force', `s3://${b}`]);
  await s3cmd(ctx, ['rb', `s3://${b}`]);
}

const TREE: TreeSpec = { 'r.txt': 'root\n', 'n/s.txt': 'nested\n', 'n/t.bin': { size: 150_000, seed: 's3cmd-t' }, 'u v.txt': 'space\n' };

async function sync(ctx: ScenarioContext): Promise<void> {
  const b = ctx.bucket('s3cmd-sync');
  await s3cmd(ctx, ['mb', `s3://${b}`]);
  const src = join(ctx.dir, 'src');
  await writeTree(src, TREE);
  await s3cmd(ctx, ['sync', src + '/', `s3://${b}/mirror/`]);
  const next: TreeSpec = { ...TREE, 'r.txt': 'root, v2 with more bytes\n', 'w/new.txt': 'new\n' };
  delete next['n/s.txt'];
  await rm(join(src, 'n', 's.txt'));
  await writeTree(src, { 'r.txt': next['r.txt']!, 'w/new.txt': next['w/new.txt']! });
  await s3cmd(ctx, ['sync', '--delete-removed', src + '/', `s3://${b}/mirror/`]);
  const listed = parseS3cmdLs((await s3cmd(ctx, ['ls', '--recursive', `s3://${b}`])).stdout, b);
  checkSameSet(listed.objects.keys(), Object.keys(next).map((k) => `mirror/${k}`), 'objects after s3cmd sync --delete-removed');
  const down = join(ctx.dir, 'down');
  await s3cmd(ctx, ['sync', `s3://${b}/mirror/`, down + '/']);
  checkSameTree(await readTree(down), await treeDigests(next), 'tree synced down with s3cmd');
}

export const s3cmdSuite: ClientSuite = {
  name: 's3cmd',
  async detect() {
    const line = await versionLine('s3cmd', ['--version']);
    if (!line) return { missing: 's3cmd is not installed: apt-get install -y s3cmd' };
    return { version: line.replace(/^s3cmd version\s+/, '') };
  },
  scenarios: [
    { name: 'mb / ls / rb', op: 'buckets', run: buckets },
    { name: 'put / get (small and 20 MiB multipart), info', op: 'put / get', also: ['multipart', 'head'], run: putGet },
    { name: 'ls and ls --recursive', op: 'list', run: ls },
    { name: 'del, del --recursive, rb of a non-empty bucket', op: 'delete', run: del },
    { name: 'sync up with --delete-removed, sync down', op: 'sync', run: sync },
  ],
};
