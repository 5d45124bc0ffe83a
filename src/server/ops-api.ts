/**
 * Operations endpoints of the admin API (behind its SigV4 admin authentication):
 *   GET  /objects/:bucket/:key+   the object's manifest, as `datamesh admin inspect` prints it
 *   POST /scrub                   verify every shard, rebuild what is missing; answers the summary
 *   GET  /scrub                   progress of the running (or last) scrub
 *   GET  /mesh                    peers, redundancy of the stored data, the repair queue
 *   POST /mesh/peers/:id/admit    let a pending (or evicted) mesh peer take shards
 *   POST /mesh/peers/:id/evict    take a peer out of placement and rebuild its shards elsewhere
 */
import type { Hono } from 'hono';
import type { AdminEnv } from './admin-api.ts';
import type { EcDataStore, ScrubResult } from '../data/types.ts';
import type { Store } from '../store/store.ts';
import type { MeshView } from './open-data.ts';

export interface InspectResult {
  bucket: string;
  key: string;
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

export function inspectObject(store: Store, data: EcDataStore, bucket: string, key: string): InspectResult {
  const info = store.headObject(bucket, key);
  const pieces = store.objectPieces(bucket, key);
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
  return { bucket, key, size: info.size, etag: info.etag, ec, inline, segments };
}

export interface ScrubState {
  running: boolean;
  done: number;
  total: number;
  last?: ScrubResult & { finished: string };
}

export function mountOpsApi(
  app: Hono<AdminEnv>,
  deps: { store: Store; data: EcDataStore; view: () => MeshView; setAdmission: (peer: string, action: 'admit' | 'evict') => { peer: string; admission: string } },
): void {
  const state: ScrubState = { running: false, done: 0, total: 0 };
  let current: Promise<ScrubResult> | undefined;

  app.get('/objects/:bucket/:key{.+}', (c) => c.json(inspectObject(deps.store, deps.data, c.req.param('bucket'), c.req.param('key'))));

  app.post('/scrub', async (c) => {
    current ??= (async () => {
      state.running = true;
      state.done = 0;
      try {
        const r = await deps.data.scrub({
          onProgress: (done, total) => {
            state.done = done;
            state.total = total;
          },
        });
        state.last = { ...r, finished: new Date().toISOString() };
        return r;
      } finally {
        state.running = false;
        current = undefined;
      }
    })();
    return c.json(await current);
  });

  app.get('/scrub', (c) => c.json(state));

  app.get('/mesh', (c) => c.json(deps.view()));
  app.post('/mesh/peers/:peer/admit', (c) => c.json(deps.setAdmission(c.req.param('peer'), 'admit')));
  app.post('/mesh/peers/:peer/evict', (c) => c.json(deps.setAdmission(c.req.param('peer'), 'evict')));
}
