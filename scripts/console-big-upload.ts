/**
 * A real large upload through the web console (not in CI): a `datamesh serve` process, headless
 * Chromium (Debian's chromium, driven by playwright-core) signed in to its console, and a sparse
 * file of --size bytes (default 5 GiB) picked in the "Upload files" input. The browser reads the
 * file itself and uploads it as a multipart upload straight to S3 with presigned part URLs (the
 * console's own code, console.js), so every byte goes through the store: encrypted, erasure-coded
 * and written as shards. Reports the time, the progress the page showed along the way, the
 * server's peak RSS (VmHWM) and its CPU time, and checks the stored object's size and multipart
 * ETag (computed here from the file's parts) before deleting it.
 *
 *   npx tsx scripts/console-big-upload.ts [--size 5GiB] [--keep] [--cancel-after SECONDS]
 *
 * With --cancel-after, the upload is cancelled (its row's Cancel button) after that many seconds
 * instead: reports how long the cancel took and checks that no object and no open upload remain.
 *
 * Needs /usr/bin/chromium and 1.5x --size of free disk under the temporary directory (the shards).
 */
import '../src/core/polyfill.ts';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statfsSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, S3Client } from '@aws-sdk/client-s3';
import { chromium } from 'playwright-core';
import { parseArgs } from '../src/server/config.ts';
import { parseSize } from '../src/core/sizes.ts';
import { ROOT, spawnServer } from '../src/server/testing/server.ts';
import { partSizeFor } from '../src/server/console/pages/uploads.ts';

const { flags } = parseArgs(process.argv.slice(2));
const SIZE = parseSize(flags.get('size')?.at(-1) ?? '5GiB');
const KEEP = flags.has('keep');
const CANCEL_AFTER = flags.has('cancel-after') ? Number(flags.get('cancel-after')!.at(-1)) : undefined;
const GiB = 1024 ** 3;

const work = mkdtempSync(join(tmpdir(), 'datamesh-big-upload-'));
const fs = statfsSync(work);
const free = fs.bavail * fs.bsize;
if (free < SIZE * 1.6) throw new Error(`${work} has ${(free / GiB).toFixed(1)} GiB free; the shards of a ${(SIZE / GiB).toFixed(1)} GiB upload need about 1.5x that`);

const file = join(work, 'big.bin');
// Sparse: the file takes no disk, and the browser still reads (zero) bytes for every part.
writeFileSync(file, '');
truncateSync(file, SIZE);

/** The multipart ETag S3 gives these bytes with the console's part size: md5 of the parts' md5s, "-N". */
function expectedEtag(): string {
  const partSize = partSizeFor(SIZE);
  const parts: Buffer[] = [];
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(partSize);
  for (let at = 0; at < SIZE; at += partSize) {
    const n = readSync(fd, buf, 0, Math.min(partSize, SIZE - at), at);
    parts.push(createHash('md5').update(buf.subarray(0, n)).digest());
  }
  closeSync(fd);
  return `${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}`;
}

const procStat = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rss: kb('VmRSS'), peak: kb('VmHWM'), cpuSeconds: (Number(f[11]) + Number(f[12])) / 100 };
};

class Cancelled extends Error {}

const server = await spawnServer(join(work, 'data'));
const pid = server.proc.pid!;
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
try {
  const s3 = new S3Client({ endpoint: server.url, region: 'us-east-1', credentials: ROOT, forcePathStyle: true });
  const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  page.setDefaultTimeout(120_000);
  await page.goto(`${server.url}/console`);
  await page.getByLabel('Access key ID').fill(ROOT.accessKeyId);
  await page.getByLabel('Secret access key').fill(ROOT.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL('**/console/buckets');
  await page.getByLabel('Bucket name').fill('big');
  await page.getByRole('button', { name: 'Create bucket' }).click();
  await page.getByRole('link', { name: 'big', exact: true }).click();
  await page.waitForURL('**/console/buckets/big');

  const before = procStat(pid);
  console.log(`uploading ${(SIZE / GiB).toFixed(2)} GiB from a sparse file through the console (server pid ${pid}, RSS ${(before.rss / 2 ** 20).toFixed(0)} MiB at start)`);
  const started = performance.now();
  await page.getByLabel('Upload files').setInputFiles(file);
  let maxRss = before.rss;
  const bar = page.getByRole('progressbar', { name: 'Upload of big.bin' });
  for (;;) {
    const state = await page.locator('#uploads').getAttribute('data-state');
    const s = procStat(pid);
    maxRss = Math.max(maxRss, s.rss);
    const pct = await bar.evaluate((el) => (el as unknown as { value: number }).value);
    const secs = (performance.now() - started) / 1000;
    console.log(`${secs.toFixed(0).padStart(5)} s  ${String(pct).padStart(3)}%  server RSS ${(s.rss / 2 ** 20).toFixed(0)} MiB`);
    if (state === 'finished') break;
    if (CANCEL_AFTER !== undefined && secs >= CANCEL_AFTER) {
      const asked = performance.now();
      await page.getByRole('button', { name: 'Cancel upload of big.bin' }).click();
      await page.locator('#upload-list li[data-state="cancelled"]').waitFor();
      const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'big' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'big', Key: 'big.bin' })).then(() => 'exists', (e: { name: string }) => e.name);
      const s = procStat(pid);
      console.log(
        `cancelled at ${pct}% after ${secs.toFixed(0)} s; the row said cancelled ${((performance.now() - asked) / 1000).toFixed(1)} s after the click; ` +
          `open multipart uploads: ${(open.Uploads ?? []).length}; object: ${head}; server peak RSS ${(s.peak / 2 ** 20).toFixed(0)} MiB`,
      );
      if ((open.Uploads ?? []).length !== 0 || head !== 'NotFound') process.exitCode = 1;
      break;
    }
    // Wakes at the end of the upload, or after 10 s for the next progress line.
    await page.locator('#uploads[data-state="finished"]').waitFor({ timeout: 10_000 }).catch(() => {});
  }
  if (CANCEL_AFTER !== undefined) throw new Cancelled();
  const seconds = (performance.now() - started) / 1000;
  const status = await page.locator('#upload-list li .upload-status').textContent();
  const after = procStat(pid);
  const head = await s3.send(new HeadObjectCommand({ Bucket: 'big', Key: 'big.bin' }));
  const etag = (head.ETag ?? '').replace(/"/g, '');
  const want = expectedEtag();
  const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'big' }));
  console.log(`row: ${status}`);
  console.log(`stored: ${head.ContentLength} bytes, ETag ${etag} (${etag === want ? 'matches' : `expected ${want}`}); open multipart uploads: ${(open.Uploads ?? []).length}`);
  console.log(
    `time ${seconds.toFixed(1)} s (${(SIZE / 2 ** 20 / seconds).toFixed(1)} MiB/s); server peak RSS ${(after.peak / 2 ** 20).toFixed(0)} MiB ` +
      `(max sampled ${(maxRss / 2 ** 20).toFixed(0)} MiB); server CPU ${(after.cpuSeconds - before.cpuSeconds).toFixed(1)} s ` +
      `(${((after.cpuSeconds - before.cpuSeconds) / (SIZE / GiB)).toFixed(1)} CPU s/GiB)`,
  );
  if (head.ContentLength !== SIZE || etag !== want) process.exitCode = 1;
  if (!KEEP) await s3.send(new DeleteObjectCommand({ Bucket: 'big', Key: 'big.bin' }));
} catch (e) {
  if (!(e instanceof Cancelled)) throw e;
} finally {
  await browser.close();
  server.proc.kill('SIGTERM');
  await server.exited;
  if (!KEEP) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}
