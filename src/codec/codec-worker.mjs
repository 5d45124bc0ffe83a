// A codec worker thread: runs sealStripe / openStripe / hashing from core.mjs off the event
// loop. Messages: { id, op, job } -> { id, result } | { id, error }. Buffers named in the job
// travel by transfer (no copy) and are transferred back in the result.
import { parentPort } from 'node:worker_threads';
import { createHash } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { hashShard, openStripe, sealStripe } from './core.mjs';

// AES-GCM through node:crypto returns a fresh buffer per 64 KiB piece (copied into the stripe
// at once): garbage that V8 frees only after ~50 MiB of it has piled up outside its heap, per
// worker. A scavenge after every 4 MiB sealed or opened frees it early: a worker's peak RSS over
// 1 GiB of AES-GCM went from ~98 to ~70 MiB here (~45 of it the bare process); 16 concurrent
// 1 GiB GETs peaked at 346 MiB with it after opens, 407 without. It costs GET ~0.4 CPU s/GiB.
const SCAVENGE_EVERY = 4 * 1024 * 1024;
let scavenge = () => {};
try {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc');
  if (typeof gc === 'function') scavenge = () => gc({ type: 'minor' });
} catch {
  // no gc here: the garbage waits for V8's own collections
}
let sinceScavenge = 0;
const processed = (bytes) => {
  sinceScavenge += bytes;
  if (sinceScavenge < SCAVENGE_EVERY) return;
  sinceScavenge = 0;
  scavenge();
};

/** Request bodies' MD5s in progress here, by session (CodecPool.md5): fed in order, one batch a message. */
const md5s = new Map();

const ops = {
  async md5(job) {
    let h = md5s.get(job.session);
    if (!h) md5s.set(job.session, (h = createHash('md5')));
    h.update(new Uint8Array(job.bytes, 0, job.length)); // shared: the caller refills it once told
    return { result: null, transfer: [] };
  },
  async md5End(job) {
    const h = md5s.get(job.session);
    md5s.delete(job.session);
    return { result: { digest: job.drop ? null : (h ?? createHash('md5')).digest() }, transfer: [] };
  },
  async seal(job) {
    const { shardSize, ids } = await sealStripe(job);
    processed(job.length);
    // ArrayBuffers go back (they were transferred here); shared ones stay with the caller, who
    // keeps its own handles: a SharedArrayBuffer sent back arrives as a new handle, and V8 counts
    // each as fresh external memory (10 MiB a segment), which set off a full mark-compact on the
    // main thread every few segments
    const own = (b) => (b instanceof ArrayBuffer ? b : null);
    return { result: { shardSize, ids, plain: own(job.plain), sealed: own(job.sealed), parity: own(job.parity) }, transfer: [job.plain, job.sealed, job.parity] };
  },
  async open(job) {
    const { plain, size } = openStripe(job);
    processed(job.sealedLength);
    return { result: { plain, size }, transfer: [plain] };
  },
  async hash(job) {
    const ids = job.buffers.map((b, i) => hashShard(b instanceof ArrayBuffer ? new Uint8Array(b) : b, job.like?.[i]));
    const back = job.buffers.map((b) => (b instanceof ArrayBuffer ? b : null)); // copies stay here
    return { result: { ids, buffers: back }, transfer: back };
  },
};

parentPort.on('message', async ({ id, op, job }) => {
  try {
    const { result, transfer } = await ops[op](job);
    parentPort.postMessage({ id, result }, transfer.filter((b) => b instanceof ArrayBuffer));
  } catch (e) {
    parentPort.postMessage({ id, error: { name: e?.name ?? 'Error', message: e?.message ?? String(e) } });
  }
});
