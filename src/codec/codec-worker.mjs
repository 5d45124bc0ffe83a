// A codec worker thread: runs sealStripe / openStripe / hashing from core.mjs off the event
// loop. Messages: { id, op, job } -> { id, result } | { id, error }. Buffers named in the job
// travel by transfer (no copy) and are transferred back in the result.
import { parentPort } from 'node:worker_threads';
import { hashShard, openStripe, sealStripe } from './core.mjs';

const ops = {
  async seal(job) {
    const { shardSize, ids } = await sealStripe(job);
    return { result: { shardSize, ids, plain: job.plain, sealed: job.sealed, parity: job.parity }, transfer: [job.plain, job.sealed, job.parity] };
  },
  async open(job) {
    const { plain, size } = openStripe(job);
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
