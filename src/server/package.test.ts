/**
 * The package as people install it (slow: it builds and installs the real thing). `npm pack`
 * holds the compiled dist/ and no test file; a fresh `npm install -g` of the tarball into a
 * temporary prefix gives a `datamesh` that answers --version and serves S3 with plain node, no
 * TypeScript loader anywhere; and SIGTERM to the `npm start` process stops the server gracefully.
 *
 * better-sqlite3 downloads a prebuilt binary at install; GitHub is out of reach here, so the test
 * hands prebuild-install the one this checkout built, through its documented local-prebuilds
 * directory (what an offline mirror does). Without it the install compiles SQLite: many minutes
 * on these shared machines.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { bytesOf, ROOT, whenServing } from './testing/server.ts';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'datamesh-package-'));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string> };
/** No npm_* variables of a surrounding `npm test`: the commands below run as a user's would. */
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_|^NODE_OPTIONS$|^INIT_CWD$/.test(k)));

let tarball: string;
let files: string[];

beforeAll(async () => {
  // npm pack runs `prepare` (scripts/build.mjs), which compiles dist/ from the sources.
  const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: REPO, env: cleanEnv, maxBuffer: 16 * 1024 * 1024 });
  const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
  tarball = join(dir, info.filename);
  files = info.files.map((f) => f.path);
}, 900_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function roundTrip(url: string): Promise<void> {
  const s3 = new S3Client({ endpoint: url, region: 'us-east-1', credentials: ROOT, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'installed' }));
  await s3.send(new PutObjectCommand({ Bucket: 'installed', Key: 'hello.txt', Body: 'hello from the installed package' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'installed', Key: 'hello.txt' }));
  expect((await bytesOf(got.Body)).toString()).toBe('hello from the installed package');
  s3.destroy();
}

describe('npm pack', () => {
  it('holds the compiled server, the codec worker, the LICENSE and the deploy files, and no test file or TypeScript source', () => {
    for (const f of ['package.json', 'LICENSE', 'README.md', 'dist/src/server/cli/bin.js', 'dist/src/server/main.js', 'dist/src/codec/codec-worker.mjs', 'dist/src/codec/core.mjs', 'scripts/deploy/Dockerfile', 'scripts/deploy/datamesh.service']) {
      expect(files, f).toContain(f);
    }
    expect(files.filter((f) => /\.test\.|(^|\/)testing\/|\.ts$|\.mts$|(^|\/)conformance\//.test(f))).toEqual([]);
    expect(files.every((f) => /^(dist\/|scripts\/deploy\/|package\.json$|LICENSE$|README\.md$)/.test(f))).toBe(true);
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(readFileSync(join(REPO, 'LICENSE'), 'utf8')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
  });
});

describe('npm install -g of the tarball', () => {
  const prefix = join(dir, 'prefix');
  const bin = join(prefix, 'bin', 'datamesh');
  const installed = join(prefix, 'lib', 'node_modules', 'datamesh');

  beforeAll(async () => {
    // better-sqlite3's prebuilt binary, as prebuild-install would download it (see the top).
    const sqlite = JSON.parse(readFileSync(join(REPO, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
    const prebuilds = join(dir, 'prebuilds');
    mkdirSync(prebuilds);
    const name = `better-sqlite3-v${sqlite.version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
    await run('tar', ['czf', join(prebuilds, name), '-C', join(REPO, 'node_modules/better-sqlite3'), 'build/Release/better_sqlite3.node']);
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], {
      cwd: dir,
      env: { ...cleanEnv, npm_config_better_sqlite3_local_prebuilds: prebuilds },
      maxBuffer: 16 * 1024 * 1024,
    });
  }, 900_000);

  it('has no TypeScript loader or compiler among what it installed', () => {
    expect(existsSync(join(installed, 'dist/src/server/cli/bin.js'))).toBe(true);
    for (const dev of ['tsx', 'typescript', 'vitest', 'esbuild']) expect(existsSync(join(installed, 'node_modules', dev)), dev).toBe(false);
  });

  it('answers --version and serves S3 with plain node; SIGTERM stops it gracefully', async () => {
    const env = { PATH: `${join(prefix, 'bin')}:/usr/bin:/bin`, HOME: dir };
    const v = await run(bin, ['--version'], { env });
    expect(v.stdout).toBe(`datamesh ${pkg.version}\n`);

    const proc = spawn(bin, ['serve', '--listen', '127.0.0.1:0', '--data', join(dir, 'data')], {
      env: { ...env, DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const s = await whenServing(proc);
    // the process is node running the compiled file, with no loader in its arguments
    const cmdline = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline.some((a) => /tsx|--import|--loader/.test(a))).toBe(false);
    expect(cmdline.some((a) => a.endsWith('dist/src/server/cli/bin.js') || a === bin)).toBe(true);
    await roundTrip(s.url);
    proc.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    expect(s.output()).toContain('stopped: database and data store closed');
  });
});

describe('npm start', () => {
  it('serves on plain node, and SIGTERM to the npm process stops the server gracefully', async () => {
    const npm = spawn('npm', ['start', '--', '--listen', '127.0.0.1:0', '--data', join(dir, 'start-data'), '--log-format', 'json'], {
      cwd: REPO,
      env: { ...cleanEnv, DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const s = await whenServing(npm);
    npm.kill('SIGTERM');
    await s.exited; // npm exits once the server has (its own code is npm's business)
    expect(s.output()).toMatch(/SIGTERM: finishing in-flight requests/);
    expect(s.output()).toContain('stopped: database and data store closed');
    // nothing serves there any more
    await expect(fetch(`${s.url}/_datamesh/health/live`)).rejects.toThrow();
  });
});
