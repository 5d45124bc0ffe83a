/**
 * The encrypted, erasure-coded DataStore: createEcDataStore joins the manifest tables (ec-schema),
 * the codec (src/codec) and a ShardNetwork. Write, read, GC and scrub live in ec-writer,
 * ec-reader, ec-gc and ec-scrub; this file wires them, checks the master key and describes
 * manifests for `datamesh admin inspect`.
 */
import { randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { Errors } from '../core/errors.ts';
import type { EcContext, EcDataStore, EcDataStoreOptions, ManifestDescription, ScrubResult } from './types.ts';
import { silentLog } from '../core/log.ts';
import { EcRepo } from './schema.ts';
import { SEGMENTS_IN_FLIGHT, writeBody } from './writer.ts';
import { loadManifest, readManifest } from './reader.ts';
import { collectGarbage, collectUnclaimed, LEASE_MS, sharedCatalog, sweepOrphans } from './gc.ts';
import { repairPeers, scrubAll } from './scrub.ts';
import { Auditor } from './audit.ts';
import { checkEc } from '../codec/erasure.ts';
import { deriveKek, makeKeyCheck, verifyKeyCheck } from '../codec/crypto.ts';
import { codecPool } from '../codec/codec-pool.ts';
import { StripeBufferPool } from './buffers.ts';

export type * from './types.ts';

export const DEFAULT_SEGMENT_SIZE = 4 * 1024 * 1024;
export const DEFAULT_INLINE_THRESHOLD = 4096;
const KEY_CHECK = 'key-check';

/** Stores a key-check value on first open; refuses a master key that cannot open it. */
export function checkMasterKey(repo: EcRepo, kek: Buffer, dataDir: string): void {
  const check = repo.meta(KEY_CHECK);
  if (!check) return repo.setMeta(KEY_CHECK, makeKeyCheck(kek));
  if (!verifyKeyCheck(kek, check)) {
    throw Errors.internal(
      `the master key does not match the one this data directory was created with (${dataDir}): set DATAMESH_MASTER_KEY to the original key or restore ${dataDir}/master.key`,
    );
  }
}

export function createEcDataStore(opts: EcDataStoreOptions): EcDataStore {
  checkEc(opts.ec);
  const segmentSize = opts.segmentSize ?? DEFAULT_SEGMENT_SIZE;
  if (!Number.isInteger(segmentSize) || segmentSize < 1 || segmentSize > 256 * 1024 * 1024) {
    throw Errors.invalidArgument(`segment size ${segmentSize} must be a whole number of bytes between 1 and 256 MiB (default 4 MiB)`);
  }
  const inlineThreshold = Math.min(opts.inlineThreshold ?? DEFAULT_INLINE_THRESHOLD, segmentSize - 1);
  const repo = new EcRepo(opts.db);
  const kek = deriveKek(opts.masterKey);
  checkMasterKey(repo, kek, opts.dataDir ?? dirname(opts.db.name));

  const ctx: EcContext = {
    repo,
    network: opts.network,
    kek,
    ec: { k: opts.ec.k, m: opts.ec.m },
    segmentSize,
    inlineThreshold,
    segmentsInFlight: opts.segmentsInFlight ?? SEGMENTS_IN_FLIGHT,
    log: opts.log ?? silentLog,
    localShards: opts.localShards,
    writer: randomUUID(),
    openedAt: Date.now(),
    counters: { degradedReads: 0, badShards: 0, shardsRebuilt: 0 },
    codec: opts.codec ?? codecPool(),
    buffers: new StripeBufferPool(segmentSize, opts.ec.k, opts.ec.m, opts.stripeBudget),
    hedgeAfterMs: opts.hedgeAfterMs ?? 2000,
    ...(opts.collectGate ? { collectGate: opts.collectGate } : {}),
  };

  // On a shared catalog this process's writer row says its pending manifests are PUTs in flight.
  let heartbeat: NodeJS.Timeout | undefined;
  if (sharedCatalog(ctx)) {
    repo.heartbeat(ctx.writer, LEASE_MS);
    heartbeat = setInterval(() => {
      try {
        repo.heartbeat(ctx.writer, LEASE_MS);
      } catch (err) {
        ctx.log.warn({ err }, 'could not renew this gateway\'s writer row in the catalog; will retry');
      }
    }, LEASE_MS / 4);
    heartbeat.unref();
  }

  let closed = false;
  let collecting: Promise<{ manifests: number; shards: number }> | undefined;
  let scrubbing: Promise<ScrubResult> | undefined;
  const stoppers = new Set<() => void>();
  const open = () => {
    if (closed) throw Errors.serviceUnavailable('the data store is closed: the server is shutting down; retry against a running node');
  };

  const describe = (manifestId: string): ManifestDescription => {
    const man = loadManifest(ctx, manifestId);
    const count = man.inline ? 0 : Math.ceil(man.size / man.segment_size);
    const plans = count > 0 ? repo.plans(man.id, 0, count - 1) : [];
    return {
      size: man.size,
      ec: { k: man.k, m: man.m },
      state: man.state,
      inline: man.inline !== null,
      segments: plans.map((p) => ({
        index: p.idx,
        size: p.size,
        shards: p.shards.map((s, index) => {
          const path = s.peer === ctx.network.self ? ctx.network.localPath(s.id) : undefined;
          return { index, id: s.id, location: s.peer, ...(path === undefined ? {} : { path }) };
        }),
      })),
    };
  };

  const scrub: EcDataStore['scrub'] = (scrubOpts = {}) => {
    open();
    if (scrubbing) return scrubbing;
    scrubbing = scrubAll(ctx, scrubOpts).finally(() => {
      scrubbing = undefined;
    });
    return scrubbing;
  };

  return {
    counters: ctx.counters,
    write(body, writeOpts) {
      open();
      return writeBody(ctx, body, writeOpts);
    },
    read(manifestId, readOpts) {
      open();
      return readManifest(ctx, manifestId, readOpts);
    },
    commit(manifestId) {
      const man = loadManifest(ctx, manifestId);
      if (man.state === 'live') return;
      if (man.state !== 'pending' || !repo.commit(manifestId)) {
        throw Errors.internal(`manifest ${manifestId} cannot be committed: it was released (its data is garbage); write the body again`);
      }
    },
    release(manifestId) {
      repo.release(manifestId);
    },
    collect() {
      open();
      collecting ??= collectGarbage(ctx).finally(() => {
        collecting = undefined;
      });
      return collecting;
    },
    startCollector(intervalMs) {
      // Released data goes only once it has stayed released for a whole interval, so a GET that
      // began before an overwrite or delete can finish reading it.
      let seen = new Set<string>();
      const timer = setInterval(() => {
        if (collecting) return;
        const previous = seen;
        seen = new Set(repo.garbage(ctx.writer, 100_000));
        collecting = collectGarbage(ctx, { sweep: false, ready: (id) => previous.has(id) })
          .catch((err: unknown) => {
            ctx.log.error({ err }, 'collecting released data failed; will retry');
            return { manifests: 0, shards: 0 };
          })
          .finally(() => {
            collecting = undefined;
          });
      }, intervalMs);
      timer.unref();
      return () => clearInterval(timer);
    },
    repairPeers(dead, opts) {
      open();
      return repairPeers(ctx, dead, opts);
    },
    createAuditor(auditOpts) {
      open();
      const auditor = new Auditor(ctx, auditOpts);
      const stop = () => {
        void auditor.stop();
        stoppers.delete(stop);
      };
      stoppers.add(stop);
      return auditor;
    },
    redundancy: (upPeers) => repo.redundancy(upPeers),
    segmentsOnPeersCount: (peers) => repo.countSegmentsOnPeers(peers),
    shardsByPeer: () => repo.shardsByPeer(),
    describe,
    scrub,
    startBackgroundScrub(intervalMs) {
      const abort = new AbortController();
      const tick = () => {
        if (closed || scrubbing) return;
        const started = Date.now();
        scrub({ signal: abort.signal }).then(
          (r) => ctx.log.info({ ...r, ms: Date.now() - started }, 'background scrub done'),
          (err: unknown) => {
            if (!abort.signal.aborted) ctx.log.error({ err }, 'background scrub failed');
          },
        );
      };
      const timer = setInterval(tick, intervalMs);
      timer.unref();
      const stop = () => {
        clearInterval(timer);
        abort.abort();
        stoppers.delete(stop);
      };
      stoppers.add(stop);
      return stop;
    },
    collectUnclaimed(peers, graceMs) {
      open();
      return collectUnclaimed(ctx, peers, graceMs);
    },
    sweepOrphans() {
      open();
      return sweepOrphans(ctx);
    },
    async ready() {
      return !closed;
    },
    async close() {
      closed = true;
      for (const stop of [...stoppers]) stop();
      await Promise.allSettled([collecting, scrubbing]);
      if (heartbeat) {
        clearInterval(heartbeat);
        try {
          repo.dropWriter(ctx.writer);
        } catch {
          // the catalog is gone: the row expires by itself
        }
      }
    },
  };
}
