/**
 * The chaos soak: a local cluster (scripts/cluster.ts) under a mixed S3 load from several accounts
 * while a seeded fault schedule SIGKILLs and restarts storage peers (never more than m at once),
 * SIGKILLs and restarts the gateway, fills a peer's disk (restarts it with a tiny --capacity, then
 * gives the space back), slows a peer (SIGSTOP/SIGCONT in quick turns) and pauses one (SIGSTOP,
 * later SIGCONT). Every operation goes into a history with its result; after the faults stop and
 * every process is back, each key is read once more, and scripts/soak-checker.ts reports lost
 * acknowledged writes, never-written or torn reads, resurrected deletes and reads against the
 * order of acknowledged writes (all must be 0; the exit code is 1 otherwise).
 *
 *   npm run soak -- --minutes 2 [--nodes 6] [--seed 42] [--workers 4] [--data DIR] [--out FILE]
 *
 * The fault schedule is a function of the seed alone (replay one with the same --seed); the load is
 * seeded too but interleaves with real time. History and faults go to FILE (JSON lines), default
 * DIR/soak-history.jsonl.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createCipheriv } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { parseArgs } from '../src/server/config.ts';
import { createAdminClient } from '../accounts/client.ts';
import { freePortRange, startCluster, type ClusterMember } from './cluster.ts';
import { ABSENT, ANY, check, type HistoryOp, type Outcome } from './soak-checker.ts';

const ROOT = { accessKeyId: 'DMSOAKROOTACCESSKEY1', secretAccessKey: 'soak-root-secret-key-0123456789abcdefghij' };
const EC = { k: 4, m: 2 };
const MiB = 1024 * 1024;

// ---------- seeded randomness ----------
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    // mulberry32
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const between = (r: () => number, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

/** The bytes of value `id` (size in its name): a keystream, so any slice can be checked. */
export function valueBytes(id: string, size: number): Buffer {
  const key = createHash('sha256').update(id).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

// ---------- the fault schedule ----------
export type FaultKind = 'kill-peer' | 'pause-peer' | 'slow-peer' | 'fill-peer' | 'kill-gateway';
export interface Fault {
  at: number;
  kind: FaultKind;
  /** 1-based storage peer index (0 for the gateway). */
  target: number;
  /** How long the fault lasts (ms) before the peer is restarted / resumed / given space back. */
  duration: number;
}

/**
 * The faults of a run: a function of the seed, the length and the cluster's shape only. At most
 * `m` storage peers are under a fault at any moment (a pause, a slowdown and a full disk count as
 * well as a kill); the gateway is killed on its own.
 */
export function faultSchedule(seed: number, ms: number, nodes: number, m: number): Fault[] {
  const r = rng(seed ^ 0x5eed);
  const faults: Fault[] = [];
  const busy: { until: number; target: number }[] = [];
  let t = 8_000;
  while (t < ms - 15_000) {
    const kind = pick<FaultKind>(r, ['kill-peer', 'kill-peer', 'kill-peer', 'pause-peer', 'pause-peer', 'slow-peer', 'slow-peer', 'fill-peer', 'fill-peer', 'kill-gateway']);
    const duration = kind === 'kill-gateway' ? between(r, 500, 3_000) : between(r, 3_000, 20_000);
    const end = Math.min(t + duration, ms - 10_000);
    if (kind === 'kill-gateway') faults.push({ at: t, kind, target: 0, duration: end - t });
    else {
      const live = busy.filter((b) => b.until > t);
      const free = Array.from({ length: nodes }, (_, i) => i + 1).filter((i) => !live.some((b) => b.target === i));
      if (live.length < m && free.length > 0) {
        const target = pick(r, free);
        faults.push({ at: t, kind, target, duration: end - t });
        busy.push({ until: end + 2_000, target }); // + the restart's own time
      }
    }
    t += between(r, 3_000, 9_000);
  }
  return faults;
}

// ---------- processes ----------
interface Proc {
  member: ClusterMember;
  proc: ChildProcess;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** Starts the process again with its arguments (plus `extra`), and resolves once it is ready. */
function respawn(p: Proc, extra: string[] = []): Promise<void> {
  const ready = p.member.role === 'gateway' ? /serving S3 at/ : /storage node .* listening/;
  const proc = spawn(process.execPath, [...p.args, ...extra], { env: p.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = createWriteStream(`${p.member.dataDir}.log`, { flags: 'a' });
  proc.stdout!.pipe(log);
  p.proc = proc;
  return new Promise((ok, no) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        proc.stdout!.off('data', onData);
        ok();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', (code, signal) => no(new Error(`${p.member.role} ${p.member.dataDir} exited (${code ?? signal}) on restart: ${out.slice(-1500)}`)));
  });
}

function kill(p: Proc, signal: NodeJS.Signals): Promise<void> {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return Promise.resolve();
  const gone = new Promise<void>((ok) => p.proc.once('exit', () => ok()));
  p.proc.kill(signal);
  return gone;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((ok) => {
    const t = setTimeout(ok, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), ok()), { once: true });
  });

// ---------- main ----------
async function main() {
  const { flags } = parseArgs(process.argv.slice(2));
  const one = (n: string) => flags.get(n)?.at(-1);
  const known = new Set(['minutes', 'nodes', 'seed', 'workers', 'data', 'out', 'keep']);
  const fail = (m: string): never => {
    process.stderr.write(`soak: ${m}\n`);
    process.exit(2);
  };
  for (const f of flags.keys()) if (!known.has(f)) fail(`unknown option --${f}: use --minutes N [--nodes 6] [--seed S] [--workers 4] [--data DIR] [--out FILE]`);
  const minutes = Number(one('minutes') ?? 2);
  if (!(minutes > 0)) fail(`--minutes ${one('minutes')}: give a positive number of minutes`);
  const nodes = Number(one('nodes') ?? 6);
  if (!Number.isInteger(nodes) || nodes < EC.k + EC.m || nodes > 32) fail(`--nodes ${one('nodes')}: give ${EC.k + EC.m} to 32 storage peers (the cluster runs ${EC.k}+${EC.m})`);
  const seed = Number(one('seed') ?? Math.floor(Math.random() * 2 ** 31));
  if (!Number.isInteger(seed)) fail(`--seed ${one('seed')}: give an integer`);
  const workers = Number(one('workers') ?? 4);
  const dir = resolve(one('data') ?? mkdtempSync(join(tmpdir(), 'datamesh-soak-')));
  const out = resolve(one('out') ?? join(dir, 'soak-history.jsonl'));
  const ms = minutes * 60_000;
  const schedule = faultSchedule(seed, ms, nodes, EC.m);
  process.stdout.write(`soak: seed ${seed}, ${minutes} min, ${nodes} storage peers, ${EC.k}+${EC.m}, ${workers} workers, ${schedule.length} faults scheduled; data ${dir}\n`);

  const env = { DATAMESH_ROOT_ACCESS_KEY: ROOT.accessKeyId, DATAMESH_ROOT_SECRET_KEY: ROOT.secretAccessKey };
  const basePort = await freePortRange(nodes + 2);
  const cluster = await startCluster({
    nodes,
    dataDir: dir,
    basePort,
    ec: `${EC.k}+${EC.m}`,
    repairAfter: '30s',
    env,
    extra: ['--segment-size', '1MiB'],
  });
  const fullEnv = { ...process.env, ...env };
  // members[0] is the gateway, procs[i] its process (storage peers first, the gateway last)
  const procs: Proc[] = cluster.members.map((member) => {
    const proc = cluster.procs.find((p) => p.pid === member.pid)!;
    return { member, proc, args: proc.spawnargs.slice(1), env: fullEnv };
  });
  const gateway = procs[0]!;
  const peers = procs.slice(1);
  const history: (HistoryOp & { worker?: number; account?: string; error?: string })[] = [];
  const faultLog: (Fault & { started: number; ended?: number; error?: string })[] = [];
  const t0 = Date.now();
  const now = () => Date.now() - t0;

  // accounts: root and two users, each with its own bucket
  const admin = createAdminClient({ endpoint: cluster.endpoint, ...ROOT });
  const accounts = [{ name: 'root', ...ROOT }];
  for (const name of ['alice', 'bob']) {
    const key = await admin.request<{ accessKeyId: string; secretAccessKey: string }>('POST', '/users', { body: { name } });
    accounts.push({ name, accessKeyId: key.accessKeyId, secretAccessKey: key.secretAccessKey });
  }
  const clientOf = (a: (typeof accounts)[number]) =>
    new S3Client({
      endpoint: cluster.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: a.accessKeyId, secretAccessKey: a.secretAccessKey },
      forcePathStyle: true,
      maxAttempts: 2,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, requestTimeout: 60_000, throwOnRequestTimeout: true }),
    });
  const clients = accounts.map((a) => ({ account: a.name, bucket: `soak-${a.name}`, s3: clientOf(a) }));
  for (const c of clients) await c.s3.send(new CreateBucketCommand({ Bucket: c.bucket }));

  // ---------- the load ----------
  const stopLoad = new AbortController();
  const etags = new Map<string, string>(); // ETag -> value id
  const sizes = new Map<string, number>(); // value id -> size
  let counter = 0;
  const lists = { ok: 0, failed: 0 };
  const hot = 4;
  const cold = 40;
  const classify = (e: unknown): { outcome: Outcome; value?: string; error: string } => {
    const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
    const status = err.$metadata?.httpStatusCode;
    if (err.name === 'NoSuchKey' || status === 404) return { outcome: 'ok', value: ABSENT, error: 'NoSuchKey' };
    if (status !== undefined && status >= 400 && status < 500) return { outcome: 'fail', error: `${status} ${err.name}` };
    return { outcome: 'unknown', error: `${status ?? '-'} ${err.name}: ${String(err.message).slice(0, 200)}` };
  };
  const sizeOf = (r: () => number): number => {
    const c = r();
    if (c < 0.1) return between(r, 0, 16);
    if (c < 0.35) return between(r, 17, 4096); // inline
    if (c < 0.7) return between(r, 4097, 256 * 1024);
    if (c < 0.93) return between(r, 256 * 1024, 1.5 * MiB); // one or two segments
    return between(r, 1.5 * MiB, 4.5 * MiB);
  };
  const newValue = (worker: number, size: number) => {
    const id = `v${worker}-${++counter}-${size}`;
    sizes.set(id, size);
    return id;
  };
  const record = (h: HistoryOp & { worker?: number; account?: string; error?: string }) => history.push(h);

  async function read(c: (typeof clients)[number], key: string, worker: number, r: () => number, final = false) {
    const ck = `${c.bucket}/${key}`;
    const invoke = now();
    const ranged = !final && r() < 0.35;
    try {
      let range: [number, number] | undefined;
      let res;
      if (ranged) {
        const a = between(r, 0, 2 * MiB);
        range = [a, a + between(r, 0, 1.5 * MiB)];
        res = await c.s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: key, Range: `bytes=${range[0]}-${range[1]}` }), { abortSignal: final ? undefined : AbortSignal.timeout(90_000) });
      } else res = await c.s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: key }));
      const body = Buffer.from(await res.Body!.transformToByteArray());
      const value = res.Metadata?.value;
      let torn = value === undefined || !sizes.has(value);
      if (!torn) {
        const full = valueBytes(value!, sizes.get(value!)!);
        const start = range ? Math.min(range[0], full.length) : 0;
        const expect = range ? full.subarray(start, Math.min(range[1] + 1, full.length)) : full;
        torn = !expect.equals(body);
      }
      record({ kind: 'read', key: ck, value: value ?? '<no value metadata>', torn, op: ranged ? 'GET range' : 'GET', invoke, complete: now(), outcome: 'ok', worker, account: c.account, final });
    } catch (e) {
      const k = classify(e);
      // 416 on a range past the end is a legal answer for a shorter value: not a read of anything
      if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) return;
      record({ kind: 'read', key: ck, ...(k.value !== undefined ? { value: k.value } : {}), op: ranged ? 'GET range' : 'GET', invoke, complete: now(), outcome: k.outcome, worker, account: c.account, error: k.error, final });
    }
  }

  async function write(c: (typeof clients)[number], key: string, worker: number, r: () => number) {
    const ck = `${c.bucket}/${key}`;
    const invoke = now();
    const choice = r();
    let op = 'PUT';
    let value: string = ANY;
    try {
      if (choice < 0.12) {
        op = 'DELETE';
        value = ABSENT;
        await c.s3.send(new DeleteObjectCommand({ Bucket: c.bucket, Key: key }));
      } else if (choice < 0.22) {
        op = 'COPY';
        const src = `k${between(r, 0, hot + cold - 1)}`;
        const res = await c.s3.send(new CopyObjectCommand({ Bucket: c.bucket, Key: key, CopySource: `${c.bucket}/${src}` }));
        value = etags.get(res.CopyObjectResult?.ETag ?? '') ?? ANY;
      } else if (choice < 0.25) {
        op = 'MULTIPART';
        const size = 5 * MiB + between(r, 0, MiB);
        value = newValue(worker, size);
        const bytes = valueBytes(value, size);
        const up = await c.s3.send(new CreateMultipartUploadCommand({ Bucket: c.bucket, Key: key, Metadata: { value } }));
        const p1 = await c.s3.send(new UploadPartCommand({ Bucket: c.bucket, Key: key, UploadId: up.UploadId, PartNumber: 1, Body: bytes.subarray(0, 5 * MiB) }));
        const p2 = await c.s3.send(new UploadPartCommand({ Bucket: c.bucket, Key: key, UploadId: up.UploadId, PartNumber: 2, Body: bytes.subarray(5 * MiB) }));
        const done = await c.s3.send(
          new CompleteMultipartUploadCommand({ Bucket: c.bucket, Key: key, UploadId: up.UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }),
        );
        if (done.ETag) etags.set(done.ETag, value);
      } else {
        const size = sizeOf(r);
        value = newValue(worker, size);
        const res = await c.s3.send(new PutObjectCommand({ Bucket: c.bucket, Key: key, Body: valueBytes(value, size), Metadata: { value } }));
        if (res.ETag && size >= 16) etags.set(res.ETag, value); // tiny values share ETags: a copy of one is ANY
      }
      record({ kind: 'write', key: ck, value, op, invoke, complete: now(), outcome: 'ok', worker, account: c.account });
    } catch (e) {
      const k = classify(e);
      // a copy from a missing source, a delete: 4xx = nothing happened
      record({ kind: 'write', key: ck, value, op, invoke, complete: now(), outcome: op === 'COPY' && k.value === ABSENT ? 'fail' : k.outcome === 'ok' ? 'fail' : k.outcome, worker, account: c.account, error: k.error });
    }
  }

  async function worker(i: number) {
    const r = rng(seed * 31 + i);
    while (!stopLoad.signal.aborted) {
      const c = pick(r, clients);
      const key = r() < 0.5 ? `k${between(r, 0, hot - 1)}` : `k${between(r, 0, hot + cold - 1)}`;
      const what = r();
      const before = history.length;
      // an unavailable service is retried after a pause, as a client would (not in a tight loop)
      if (history.length > 0 && history[before - 1]!.outcome === 'unknown') await sleep(500);
      if (what < 0.45) await write(c, key, i, r);
      else if (what < 0.92) await read(c, key, i, r);
      else {
        try {
          await c.s3.send(new ListObjectsV2Command({ Bucket: c.bucket, MaxKeys: between(r, 1, 50) }));
          lists.ok++;
        } catch {
          lists.failed++; // a LIST checks nothing: only its load counts
        }
      }
    }
  }

  // ---------- the faults ----------
  // Restarts take longer on a loaded machine than the schedule planned: a fault whose target is
  // still under the previous one, or that would put more than m peers under a fault, is skipped.
  const active = new Set<number>();
  let skipped = 0;
  let gatewayUpAt = 0;
  async function inject(f: Fault) {
    const peerFaults = [...active].filter((t) => t !== 0).length;
    // the gateway serves a while between two kills (its restart is slow on a loaded machine)
    const gatewayRested = f.target !== 0 || now() - gatewayUpAt > 45_000;
    if (active.has(f.target) || (f.target !== 0 && peerFaults >= EC.m) || !gatewayRested) {
      skipped++;
      return;
    }
    active.add(f.target);
    const entry = { ...f, started: now() };
    faultLog.push(entry);
    const p = f.target === 0 ? gateway : peers[f.target - 1]!;
    try {
      switch (f.kind) {
        case 'kill-gateway':
        case 'kill-peer':
          await kill(p, 'SIGKILL');
          await sleep(f.duration);
          await respawn(p);
          if (f.target === 0) gatewayUpAt = now();
          break;
        case 'pause-peer':
          p.proc.kill('SIGSTOP');
          await sleep(f.duration);
          p.proc.kill('SIGCONT');
          break;
        case 'slow-peer': {
          // 150 ms stopped of every 250: the peer answers, slowly
          const end = Date.now() + f.duration;
          while (Date.now() < end) {
            p.proc.kill('SIGSTOP');
            await sleep(150);
            p.proc.kill('SIGCONT');
            await sleep(100);
          }
          break;
        }
        case 'fill-peer':
          // its disk is full: restarted with a capacity below what it holds; then the space returns
          await kill(p, 'SIGTERM');
          await respawn(p, ['--capacity', '64KiB']);
          await sleep(f.duration);
          await kill(p, 'SIGTERM');
          await respawn(p);
          break;
      }
    } catch (e) {
      (entry as { error?: string }).error = (e as Error).message.slice(0, 500);
      process.stderr.write(`soak: fault ${f.kind} on ${f.target === 0 ? 'the gateway' : `peer ${f.target}`} failed: ${(e as Error).message.slice(0, 300)}\n`);
    }
    (entry as { ended?: number }).ended = now();
    active.delete(f.target);
  }

  const faultsDone = Promise.all(
    schedule.map(async (f) => {
      await sleep(f.at);
      await inject(f);
    }),
  );
  const progress = setInterval(() => {
    const ok = history.filter((h) => h.outcome === 'ok').length;
    process.stdout.write(`soak: ${Math.round(now() / 1000)} s, ${history.length} operations (${ok} ok), ${faultLog.length} faults\n`);
  }, 30_000);
  const load = Promise.all(Array.from({ length: workers }, (_, i) => worker(i)));
  await sleep(ms);
  stopLoad.abort();
  await load;
  await faultsDone;

  // ---------- heal, then read every key once more ----------
  for (const p of procs) {
    if (p.proc.exitCode !== null || p.proc.signalCode !== null) await respawn(p).catch(() => undefined);
    else p.proc.kill('SIGCONT');
  }
  process.stdout.write(`soak: faults over; reading every key back\n`);
  const finalR = rng(seed + 7);
  for (const c of clients) {
    for (let i = 0; i < hot + cold; i++) {
      // a read that fails after the faults gets a few more chances while the mesh settles
      for (let attempt = 0; attempt < 5; attempt++) {
        const before = history.length;
        await read(c, `k${i}`, -1, finalR, true);
        const last = history[history.length - 1]!;
        if (history.length > before && last.outcome === 'ok') break;
        if (attempt < 4) history.length = before;
        await sleep(3_000);
      }
    }
  }
  clearInterval(progress);

  // ---------- the verdict ----------
  const result = check(history);
  const ops = history.filter((h) => !(h.kind === 'read' && (h as { final?: boolean }).final));
  const by = (o: Outcome) => ops.filter((h) => h.outcome === o).length;
  const faultCounts = new Map<string, number>();
  for (const f of faultLog) faultCounts.set(f.kind, (faultCounts.get(f.kind) ?? 0) + 1);
  const failedFaults = faultLog.filter((f) => f.error).length;
  writeFileSync(
    out,
    [JSON.stringify({ seed, minutes, nodes, workers, ec: EC, endpoint: cluster.endpoint }), ...faultLog.map((f) => JSON.stringify({ fault: f })), ...history.map((h) => JSON.stringify(h)), JSON.stringify({ result: { ...result, anomalies: result.anomalies.slice(0, 200) } })].join('\n') + '\n',
  );
  for (const a of result.anomalies.slice(0, 20)) process.stdout.write(`soak: ANOMALY ${a.kind} ${a.key}: ${a.detail} (read ${a.read.op} at ${a.read.invoke}-${a.read.complete} ms)\n`);
  const pass = result.lostAcknowledgedWrites + result.neverWrittenOrTorn + result.resurrectedDeletes + result.orderViolations === 0;
  process.stdout.write(
    `soak: seed ${seed}, ${minutes} min: ${ops.length + lists.ok + lists.failed} operations (${by('ok') + lists.ok} ok, ${by('fail')} refused, ${by('unknown') + lists.failed} unavailable), ` +
      `${faultLog.length} faults (${[...faultCounts].map(([k, n]) => `${n} ${k}`).join(', ')}${failedFaults ? `; ${failedFaults} failed` : ''}${skipped ? `; ${skipped} skipped: target busy, m peers already faulty, or the gateway just back` : ''}); ` +
      `checker: ${result.lostAcknowledgedWrites} lost acknowledged writes, ${result.neverWrittenOrTorn} never-written or torn reads, ` +
      `${result.resurrectedDeletes} resurrected deletes, ${result.orderViolations} order violations -> ${pass ? 'PASS' : 'FAIL'}; history ${out}\n`,
  );
  await cluster.stop();
  for (const p of procs) if (p.proc.exitCode === null && p.proc.signalCode === null) await kill(p, 'SIGKILL');
  if (pass && !one('data') && !flags.has('keep')) rmSync(dir, { recursive: true, force: true });
  process.exit(pass ? 0 : 1);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) void main();
