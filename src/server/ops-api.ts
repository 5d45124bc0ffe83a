/**
 * Operations endpoints of the admin API (behind its SigV4 admin authentication):
 *   GET  /objects/:bucket/:key+   the object's manifest, as `datamesh admin inspect` prints it (?versionId=V: that version's)
 *   POST /jobs {kind: "scrub"}    start a background job (or join the running scrub): 202 and the job
 *   GET  /jobs                    the jobs of this process, newest first
 *   GET  /jobs/:id?wait=SECONDS   one job; waits up to SECONDS (at most 30) for it to finish
 *   POST /scrub                   the same as POST /jobs {kind: "scrub"}
 *   GET  /scrub                   progress of the running (or last) scrub
 *   GET  /mesh                    peers, redundancy of the stored data, the repair queue
 *   POST /mesh/peers/:id/admit    let a pending (or evicted) mesh peer take shards
 *   POST /mesh/peers/:id/evict    take a peer out of placement and rebuild its shards elsewhere
 *   GET  /info                    version, uptime, data directory, capacity and usage, mesh role and peers
 *
 * A job belongs to the server, not to the request that started it: a client that disconnects
 * (Ctrl-C, a dropped network, an HTTP timeout) never stops it, and any client can follow it again.
 *   POST /catalog/sync            ship the catalog to the mesh now; answers the catalog state once it is durable
 */
import { randomBytes } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import type { Hono } from 'hono';
import { DomainError, Errors } from '../core/errors.ts';
import { packageInfo } from './version.ts';
import type { AdminEnv } from './admin-api.ts';
import type { EcDataStore, ScrubResult } from '../data/types.ts';
import type { Store } from '../store/store.ts';
import type { MeshView } from './open-data.ts';

export interface InspectResult {
  bucket: string;
  key: string;
  versionId?: string;
  size: number;
  etag: string;
  ec: { k: number; m: number };
  inline: boolean;
  segments: {
    index: number;
    part?: number;
    size: number;
    shards: { index: number; id: string; location: string; path?: string }[];
  }[];
}

export function inspectObject(store: Store, data: EcDataStore, bucket: string, key: string, versionId?: string): InspectResult {
  const info = store.headVersion(bucket, key, { operator: true, ...(versionId === undefined ? {} : { versionId }) }); // no bytes: no SSE-C key needed
  const pieces = store.objectPieces(bucket, key, versionId);
  const segments: InspectResult['segments'] = [];
  let ec = { k: 0, m: 0 };
  let inline = pieces.length > 0;
  for (const p of pieces) {
    const d = data.describe(p.manifestId);
    ec = { k: d.ec.k, m: d.ec.m };
    inline &&= d.inline;
    for (const s of d.segments) {
      segments.push({ index: segments.length, ...(pieces.length > 1 ? { part: p.partNumber } : {}), size: s.size, shards: s.shards });
    }
  }
  return { bucket, key, ...(info.versionId !== undefined ? { versionId: info.versionId } : {}), size: info.size, etag: info.etag, ec, inline, segments };
}

export interface ScrubState {
  running: boolean;
  done: number;
  total: number;
  last?: ScrubResult & { finished: string };
}

export type JobState = 'running' | 'succeeded' | 'failed';

export interface JobView {
  id: string;
  kind: 'scrub';
  state: JobState;
  started: string;
  finished?: string;
  progress: { done: number; total: number };
  result?: ScrubResult;
  error?: string;
}

export interface InfoView {
  version: string;
  node: string;
  uptimeSeconds: number;
  started: string;
  dataDir: string;
  /** --capacity (bytes of shards this node accepts), null when unlimited. */
  capacity: number | null;
  /** The file system that holds the data directory. */
  disk: { totalBytes: number; freeBytes: number } | null;
  /** Live objects and their bytes (plus open multipart parts), over every account. */
  usage: { accounts: number; buckets: number; objects: number; bytes: number };
  mesh: { role: 'single' | 'gateway'; self: string; peers: { up: number; suspect: number; down: number } };
  jobs: { running: number };
}

/** How many finished jobs are remembered (the running ones always are). */
const KEEP_FINISHED = 50;
const MAX_WAIT_SECONDS = 30;

interface Job extends JobView {
  done: Promise<void>;
}

const view = ({ done: _done, ...job }: Job): JobView => structuredClone(job);

export interface OpsDeps {
  store: Store;
  data: EcDataStore;
  view: () => MeshView;
  syncCatalog?: () => Promise<boolean>;
  setAdmission?: (peer: string, action: 'admit' | 'evict') => { peer: string; admission: string };
  about?: { dataDir: string; capacity?: number; startedAt: number; role: 'single' | 'gateway'; accounts: () => string[] };
}

export function mountOpsApi(app: Hono<AdminEnv>, deps: OpsDeps): void {
  const state: ScrubState = { running: false, done: 0, total: 0 };
  const jobs: Job[] = [];

  const startScrub = (): Job => {
    const running = jobs.find((j) => j.kind === 'scrub' && j.state === 'running');
    if (running) return running;
    const job = {
      id: `scrub-${randomBytes(4).toString('hex')}`,
      kind: 'scrub',
      state: 'running',
      started: new Date().toISOString(),
      progress: { done: 0, total: 0 },
    } as Job;
    state.running = true;
    state.done = 0;
    job.done = deps.data
      .scrub({
        onProgress: (done, total) => {
          state.done = job.progress.done = done;
          state.total = job.progress.total = total;
        },
      })
      .then(
        (r) => {
          job.state = 'succeeded';
          job.result = r;
          state.last = { ...r, finished: new Date().toISOString() };
        },
        (e: unknown) => {
          job.state = 'failed';
          job.error = (e as Error).message;
        },
      )
      .finally(() => {
        job.finished = new Date().toISOString();
        state.running = false;
      });
    jobs.unshift(job);
    const finished = jobs.filter((j) => j.state !== 'running');
    for (const old of finished.slice(KEEP_FINISHED)) jobs.splice(jobs.indexOf(old), 1);
    return job;
  };

  app.get('/objects/:bucket/:key{.+}', (c) =>
    c.json(inspectObject(deps.store, deps.data, c.req.param('bucket'), c.req.param('key'), c.req.query('versionId') || undefined)),
  );

  app.post('/jobs', (c) => {
    const body = c.get('json') as { kind?: unknown } | undefined;
    if (body?.kind !== 'scrub') throw Errors.invalidArgument('the body needs "kind": "scrub" (the one kind of job there is)');
    return c.json(view(startScrub()), 202);
  });
  app.post('/scrub', (c) => c.json(view(startScrub()), 202));
  app.get('/jobs', (c) => c.json({ jobs: jobs.map(view) }));
  app.get('/jobs/:id', async (c) => {
    const job = jobs.find((j) => j.id === c.req.param('id'));
    if (!job) throw new DomainError('NotFound', `no job '${c.req.param('id')}' on this server: 'datamesh admin jobs' lists them (finished jobs are kept until ${KEEP_FINISHED} newer ones finished, or the server restarts)`);
    const wait = Math.min(MAX_WAIT_SECONDS, Math.max(0, Number(c.req.query('wait') ?? 0) || 0));
    if (wait > 0 && job.state === 'running') {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([job.done, new Promise<void>((ok) => (timer = setTimeout(ok, wait * 1000)))]);
      clearTimeout(timer);
    }
    return c.json(view(job));
  });

  app.get('/scrub', (c) => c.json(state));

  app.get('/mesh', (c) => c.json(deps.view()));
  app.post('/mesh/peers/:peer/admit', (c) => c.json(setAdmission(c.req.param('peer'), 'admit')));
  app.post('/mesh/peers/:peer/evict', (c) => c.json(setAdmission(c.req.param('peer'), 'evict')));
  const setAdmission = (peer: string, action: 'admit' | 'evict') => {
    if (!deps.setAdmission) throw Errors.invalidArgument('this server is not on a mesh (start it with --listen-mesh or --bootstrap): there are no peers to admit or evict');
    return deps.setAdmission(peer, action);
  };

  app.post('/catalog/sync', async (c) => {
    if (!deps.syncCatalog) {
      throw Errors.invalidArgument('this node keeps no catalog copy in the mesh: it runs without --listen-mesh/--bootstrap, or with --catalog-sync-interval 0');
    }
    const durable = await deps.syncCatalog();
    const catalog = deps.view().catalog;
    if (!durable) throw Errors.serviceUnavailable(`the catalog copy is not durable in the mesh: ${catalog?.lastError ?? 'see the server log'}; check the storage peers with datamesh admin mesh`);
    return c.json(catalog);
  });

  app.get('/info', async (c) => c.json(await info(deps, jobs)));
}

async function info(deps: OpsDeps, jobs: Job[]): Promise<InfoView> {
  const about = deps.about ?? { dataDir: '', startedAt: Date.now(), role: 'single' as const, accounts: () => [] };
  const mesh = deps.view();
  const peers = { up: 0, suspect: 0, down: 0 };
  for (const p of mesh.peers) peers[p.state] += 1;
  const usage = { accounts: 0, buckets: 0, objects: 0, bytes: 0 };
  for (const account of about.accounts()) {
    const u = deps.store.usage(account);
    usage.accounts++;
    usage.buckets += u.buckets;
    usage.objects += u.objects;
    usage.bytes += u.bytes;
  }
  const fs = about.dataDir ? await statfs(about.dataDir).catch(() => undefined) : undefined;
  return {
    version: packageInfo().version,
    node: process.version,
    uptimeSeconds: Math.round((Date.now() - about.startedAt) / 1000),
    started: new Date(about.startedAt).toISOString(),
    dataDir: about.dataDir,
    capacity: about.capacity ?? null,
    disk: fs ? { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize } : null,
    usage,
    mesh: { role: about.role, self: mesh.self, peers },
    jobs: { running: jobs.filter((j) => j.state === 'running').length },
  };
}
