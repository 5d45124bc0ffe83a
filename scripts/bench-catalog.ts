/**
 * The catalog's cost per statement and per S3 request, SQLite against PostgreSQL (the `pg` driver in
 * a worker thread, the caller blocking on Atomics.wait), side by side in one run: wall time and
 * this process's CPU (both threads) per statement, then per small PUT and GET through a real server.
 *
 *   npx tsx scripts/bench-catalog.ts [--statements 2000] [--requests 200]
 */
import '../src/core/polyfill.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, GetObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { parseArgs } from '../src/server/config.ts';
import { openCatalog } from '../src/core/db.ts';
import { startPgServer } from '../src/core/sql/testing/pg-server.ts';

const { flags } = parseArgs(process.argv.slice(2));
const STATEMENTS = Number(flags.get('statements')?.at(-1) ?? 2000);
const REQUESTS = Number(flags.get('requests')?.at(-1) ?? 200);

function per<T>(n: number, fn: (i: number) => T): { wallUs: number; cpuUs: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  const c = process.cpuUsage(c0);
  return { wallUs: ((performance.now() - t0) * 1000) / n, cpuUs: (c.user + c.system) / n };
}

async function perAsync(n: number, fn: (i: number) => Promise<unknown>): Promise<{ wallUs: number; cpuUs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  const c = process.cpuUsage(c0);
  return { wallUs: ((performance.now() - t0) * 1000) / n, cpuUs: (c.user + c.system) / n };
}

const fmt = (name: string, r: { wallUs: number; cpuUs: number }) => `${name.padEnd(34)} ${r.wallUs.toFixed(0).padStart(7)} µs wall ${r.cpuUs.toFixed(0).padStart(7)} µs CPU`;

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-bench-catalog-'));
  const pg = await startPgServer();
  try {
    const out: string[] = [];
    for (const [name, spec] of [['sqlite', join(dir, 'c.db')], ['postgres', pg.url]] as const) {
      const db = openCatalog(spec);
      db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)');
      const ins = db.prepare('INSERT INTO kv (k, v) VALUES (?, ?)');
      const get = db.prepare('SELECT v FROM kv WHERE k = ?');
      out.push(fmt(`${name}: INSERT (autocommit)`, per(STATEMENTS, (i) => ins.run(`k${i}`, i))));
      out.push(fmt(`${name}: SELECT by key`, per(STATEMENTS, (i) => get.get(`k${i}`))));
      const tx = db.transaction((i: number) => {
        get.get(`k${i}`);
        db.prepare('UPDATE kv SET v = v + 1 WHERE k = ?').run(`k${i}`);
      });
      out.push(fmt(`${name}: transaction (read+update)`, per(STATEMENTS / 4, (i) => tx.immediate(i))));
      db.close();
    }
    const { startTestServer } = await import('../src/server/testing/server.ts');
    for (const [name, flagsFor] of [['sqlite', () => [] as string[]], ['postgres', () => ['--catalog', pg.urlOf('s3')]]] as const) {
      if (name === 'postgres') {
        const admin = openCatalog(pg.url);
        admin.exec('CREATE DATABASE s3');
        admin.close();
      }
      const server = await startTestServer(flagsFor());
      const s3 = server.client();
      await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
      const body = Buffer.alloc(4096, 7);
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'warm', Body: body }));
      out.push(fmt(`${name}: S3 PUT 4 KiB (server+client)`, await perAsync(REQUESTS, (i) => s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `k${i}`, Body: body })))));
      out.push(
        fmt(`${name}: S3 GET 4 KiB (server+client)`, await perAsync(REQUESTS, async (i) => (await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: `k${i}` }))).Body!.transformToByteArray())),
      );
      await server.stop();
    }
    console.log(out.join('\n'));
  } finally {
    pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main();
