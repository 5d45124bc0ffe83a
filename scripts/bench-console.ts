/**
 * Console benchmark: the time to render the object browser (GET /console/buckets/B, one page of
 * the listing as HTML) on a bucket of 10,000 objects, signed in as root. The console lists through
 * a signed S3 request to its own server, so this includes that round trip and the XML parse.
 * Target: under 300 ms on these 2-core machines.
 *
 *   npx tsx scripts/bench-console.ts [--objects 10000] [--runs 20] [--concurrency 16]
 */
import '../src/core/polyfill.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { loadConfig, parseArgs } from '../src/server/config.ts';
import { startServer } from '../src/server/main.ts';
import { createLogger } from '../src/core/log.ts';
import { ROOT } from '../src/server/testing/server.ts';
import { PAGE_SIZE } from '../src/server/console/pages/objects.ts';

const { flags } = parseArgs(process.argv.slice(2));
const flag = (n: string, d: string) => flags.get(n)?.at(-1) ?? d;
const OBJECTS = Number(flag('objects', '10000'));
const RUNS = Number(flag('runs', '20'));
const CONC = Number(flag('concurrency', '16'));

const dataDir = mkdtempSync(join(tmpdir(), 'datamesh-bench-console-'));
const server = await startServer(loadConfig(['--listen', '127.0.0.1:0', '--data', dataDir, '--log-level', 'silent'], {}), {
  env: { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey },
  log: createLogger('silent'),
});
try {
  const s3 = new S3Client({ endpoint: server.url, region: server.config.region, credentials: ROOT, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  const filled = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      for (let i = next++; i < OBJECTS; i = next++) {
        // Flat keys, plus a tenth in folders: the browser shows both objects and common prefixes.
        const key = i % 10 === 0 ? `folder-${String(i % 100).padStart(2, '0')}/obj-${String(i).padStart(6, '0')}` : `obj-${String(i).padStart(6, '0')}.txt`;
        await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: `object ${i}` }));
      }
    }),
  );
  console.log(`filled bucket with ${OBJECTS} objects in ${((performance.now() - filled) / 1000).toFixed(1)} s`);

  const signIn = await fetch(`${server.url}/console/sign-in`, {
    method: 'POST',
    redirect: 'manual',
    headers: { origin: server.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ accessKeyId: ROOT.accessKeyId, secretAccessKey: ROOT.secretAccessKey }).toString(),
  });
  const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!;

  const time = async (path: string): Promise<{ ms: number; rows: number; bytes: number }> => {
    const t = performance.now();
    const r = await fetch(`${server.url}${path}`, { headers: { cookie } });
    const html = await r.text();
    const ms = performance.now() - t;
    if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
    return { ms, rows: (html.match(/<tr/g) ?? []).length - 1, bytes: html.length };
  };
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return { median: s[Math.floor(s.length / 2)]!, p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))]!, max: s.at(-1)! };
  };
  const report = async (label: string, path: string) => {
    await time(path); // warm
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await time(path));
    const st = stats(runs.map((r) => r.ms));
    console.log(
      `${label}: median ${st.median.toFixed(1)} ms, p95 ${st.p95.toFixed(1)} ms, max ${st.max.toFixed(1)} ms (${runs[0]!.rows} rows, ${(runs[0]!.bytes / 1024).toFixed(0)} KiB of HTML, ${RUNS} runs)`,
    );
    return st;
  };

  console.log(`object browser on a bucket of ${OBJECTS} objects, ${PAGE_SIZE} rows a page:`);
  const first = await report('  first page', '/console/buckets/bench');
  await report('  a page in the middle', `/console/buckets/bench?after=${encodeURIComponent('obj-005000.txt')}`);
  await report('  a folder', `/console/buckets/bench?prefix=${encodeURIComponent('folder-50/')}`);

  // Paging through the whole bucket, as a user clicking "Next page" would.
  const walk = performance.now();
  let pages = 0;
  let path: string | undefined = '/console/buckets/bench';
  while (path) {
    const r = await fetch(`${server.url}${path}`, { headers: { cookie } });
    const html = await r.text();
    pages++;
    const m = /rel="next" href="([^"]+)"/.exec(html);
    path = m ? m[1]!.replace(/&amp;/g, '&') : undefined;
  }
  console.log(`  every page (${pages} pages): ${(performance.now() - walk).toFixed(0)} ms`);
  console.log(first.median < 300 ? `PASS: first page median ${first.median.toFixed(1)} ms < 300 ms` : `OVER TARGET: first page median ${first.median.toFixed(1)} ms >= 300 ms`);
} finally {
  await server.close(500);
  rmSync(dataDir, { recursive: true, force: true });
}
