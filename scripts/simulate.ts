/**
 * The mesh at scale, in process (no sockets): places the shards of many segments on many peers
 * with the REAL placement code (mesh/placement.ts: placeShards with the load the gateway sees,
 * replaceShards for repair), loses one peer and repairs it, and models audits. Prints placement
 * evenness (max/mean shards per peer), the data moved after the loss relative to what the lost
 * peer held, the audit cost, and the gateway's time and memory per 1M shards placed.
 *
 *   npm run simulate -- --peers 1000 --objects 100000 [--ec 4+2] [--shard-size 1MiB]
 *       [--audit-interval 10m] [--link-mbps 100] [--compare]   (--compare: plain rendezvous too)
 *
 * One object is one segment here (n shards); a larger object is more segments, which changes
 * nothing per shard. Memory is the model's (shard ids and a peer index per shard): the gateway
 * itself keeps shard locations in SQLite, on disk, not in its heap.
 */
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { parseArgs } from '../src/server/config.ts';
import { parseDuration, parseSize } from '../src/core/sizes.ts';
import { parseEc } from '../src/codec/erasure.ts';
import { placeShards, replaceShards } from '../mesh/placement.ts';

export interface SimulateOptions {
  peers: number;
  objects: number;
  k: number;
  m: number;
  shardSize: number;
  auditIntervalMs: number;
  linkMbps: number;
  compare?: boolean;
  random?: () => number;
}

export interface SimulateResult {
  shards: number;
  evenness: { maxOverMean: number; minOverMean: number; mean: number };
  /** Plain rendezvous hashing, without the load (with --compare). */
  rendezvousOnly?: { maxOverMean: number };
  placeMsPer1M: number;
  modelMBPer1M: number;
  loss: { held: number; rebuilt: number; movedOverHeld: number; othersMoved: number; distinctAfter: boolean; maxOverMeanAfter: number; repairMsPer1M: number };
  audit: { perPeerBytesPerSec: number; perPeerLinkShare: number; gatewayBytesPerSec: number; roundsToCatch: { lostAll: number; lostTenth: number } };
}

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const randomString = (alphabet: string, length: number): string => {
  // one flat string (a loop of += would leave a rope of `length` pieces in the heap)
  return String.fromCharCode(...Array.from(randomBytes(length), (b) => alphabet.charCodeAt(b % alphabet.length)));
};

/** CPU time of this process (the machine is shared: wall time would measure the neighbours). */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Heap in use after a full collection. */
function heapNow(): number {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
  return process.memoryUsage().heapUsed;
}

function spread(counts: Iterable<number>): { maxOverMean: number; minOverMean: number; mean: number } {
  const all = [...counts];
  const mean = all.reduce((a, b) => a + b, 0) / all.length;
  return { maxOverMean: Math.max(...all) / mean, minOverMean: Math.min(...all) / mean, mean };
}

/** Audits until `failuresToDistrust` of the last `window` fail, when a fraction `lost` of the challenged shards is gone (mean over trials). */
function auditsToCatch(lost: number, random: () => number, window = 10, failuresToDistrust = 3, trials = 2000): number {
  let total = 0;
  for (let t = 0; t < trials; t++) {
    const recent: boolean[] = [];
    let rounds = 0;
    for (;;) {
      rounds++;
      recent.push(random() < lost);
      if (recent.length > window) recent.shift();
      if (recent.filter(Boolean).length >= failuresToDistrust) break;
    }
    total += rounds;
  }
  return total / trials;
}

export function simulate(o: SimulateOptions): SimulateResult {
  const random = o.random ?? Math.random;
  const n = o.k + o.m;
  const peers = Array.from({ length: o.peers }, () => `12D3KooW${randomString(B58, 44)}`);
  const index = new Map(peers.map((p, i) => [p, i]));
  const total = o.objects * n;

  // -- placement, with the load the gateway sees (shards held) --
  const heapBefore = heapNow();
  const ids: string[] = new Array<string>(total);
  for (let i = 0; i < total; i++) ids[i] = `bafkrei${randomString(B32, 52)}`;
  const where = new Uint32Array(total);
  const load = new Uint32Array(o.peers);
  const heapAfter = heapNow();
  const started = cpuMs();
  for (let s = 0; s < o.objects; s++) {
    const seg = ids.slice(s * n, s * n + n);
    const placed = placeShards(seg, peers, { load: (p) => load[index.get(p)!]! });
    for (let j = 0; j < n; j++) {
      const pi = index.get(placed[j]!)!;
      where[s * n + j] = pi;
      load[pi]!++;
    }
  }
  const placeMs = cpuMs() - started;
  const evenness = spread(load);

  let rendezvousOnly: SimulateResult['rendezvousOnly'];
  if (o.compare) {
    const plain = new Uint32Array(o.peers);
    for (let s = 0; s < o.objects; s++) for (const p of placeShards(ids.slice(s * n, s * n + n), peers)) plain[index.get(p)!]!++;
    rendezvousOnly = { maxOverMean: spread(plain).maxOverMean };
  }

  // -- one peer lost: its shards rebuilt onto live peers by the repair's placement --
  const lostPeer = 0;
  const alive = peers.filter((_, i) => i !== lostPeer);
  const held = load[lostPeer]!;
  let rebuilt = 0;
  let distinctAfter = true;
  const repairStarted = cpuMs();
  for (let s = 0; s < o.objects; s++) {
    const base = s * n;
    const moving: number[] = [];
    for (let j = 0; j < n; j++) if (where[base + j] === lostPeer) moving.push(j);
    if (moving.length === 0) continue;
    const seg = ids.slice(base, base + n);
    const names = Array.from(where.subarray(base, base + n), (pi) => peers[pi]!);
    const to = replaceShards(seg, names, moving, [alive]);
    for (const [x, j] of moving.entries()) {
      const pi = index.get(to[x]!)!;
      where[base + j] = pi;
      load[pi]!++;
      rebuilt++;
    }
    distinctAfter &&= new Set(where.subarray(base, base + n)).size === n;
  }
  const repairMs = cpuMs() - repairStarted;
  load[lostPeer] = 0;
  const after = spread(Array.from(load).filter((_, i) => i !== lostPeer));

  // -- audits: one shard per peer per interval --
  const perPeerBytesPerSec = o.shardSize / (o.auditIntervalMs / 1000);
  const linkBytesPerSec = (o.linkMbps * 1e6) / 8;

  return {
    shards: total,
    evenness,
    ...(rendezvousOnly ? { rendezvousOnly } : {}),
    placeMsPer1M: (placeMs / total) * 1e6,
    modelMBPer1M: ((heapAfter - heapBefore) / total) * 1e6 / 1e6,
    loss: {
      held,
      rebuilt,
      movedOverHeld: held === 0 ? 0 : rebuilt / held,
      othersMoved: 0, // repair writes only the lost peer's shards: no other shard changes peer
      distinctAfter,
      maxOverMeanAfter: after.maxOverMean,
      repairMsPer1M: rebuilt === 0 ? 0 : (repairMs / rebuilt) * 1e6,
    },
    audit: {
      perPeerBytesPerSec,
      perPeerLinkShare: perPeerBytesPerSec / linkBytesPerSec,
      gatewayBytesPerSec: perPeerBytesPerSec * o.peers,
      roundsToCatch: { lostAll: auditsToCatch(1, random), lostTenth: auditsToCatch(0.1, random) },
    },
  };
}

function main(): void {
  const { flags } = parseArgs(process.argv.slice(2));
  const flag = (name: string, d: string) => flags.get(name)?.at(-1) ?? d;
  const { k, m } = parseEc(flag('ec', '4+2'));
  const o: SimulateOptions = {
    peers: Number(flag('peers', '1000')),
    objects: Number(flag('objects', '100000')),
    k,
    m,
    shardSize: parseSize(flag('shard-size', '1MiB')),
    auditIntervalMs: parseDuration(flag('audit-interval', '10m')),
    linkMbps: Number(flag('link-mbps', '100')),
    compare: flags.has('compare'),
  };
  if (!(o.peers >= 1 && o.objects >= 1)) {
    process.stderr.write('simulate: --peers and --objects take whole numbers of at least 1, e.g. --peers 1000 --objects 100000\n');
    process.exit(2);
  }
  const r = simulate(o);
  const pct = (x: number) => `${(x * 100).toFixed(3)}%`;
  const kb = (x: number) => `${(x / 1e3).toFixed(1)} KB/s`;
  process.stdout.write(
    `peers ${o.peers}, objects ${o.objects} (one segment each, ${k}+${m}): ${r.shards} shards, mean ${r.evenness.mean.toFixed(1)} a peer\n` +
      `placement evenness: max/mean ${r.evenness.maxOverMean.toFixed(3)}, min/mean ${r.evenness.minOverMean.toFixed(3)}` +
      (r.rendezvousOnly ? ` (plain rendezvous: max/mean ${r.rendezvousOnly.maxOverMean.toFixed(3)})` : '') +
      '\n' +
      `gateway: ${(r.placeMsPer1M / 1000).toFixed(1)} CPU s of placement per 1M shards; model memory ${r.modelMBPer1M.toFixed(0)} MB per 1M shards\n` +
      `one peer lost (held ${r.loss.held} shards): ${r.loss.rebuilt} rebuilt = ${r.loss.movedOverHeld.toFixed(3)}x its share, ${r.loss.othersMoved} other shards moved; ` +
      `segments distinct after: ${r.loss.distinctAfter ? 'yes' : 'NO'}; max/mean after ${r.loss.maxOverMeanAfter.toFixed(3)}; repair (scan of every segment + placement) ${(r.loss.repairMsPer1M / 1000).toFixed(1)} CPU s per 1M shards rebuilt\n` +
      `audits every ${flag('audit-interval', '10m')} of a ${(o.shardSize / 1048576).toFixed(2)} MiB shard: ${kb(r.audit.perPeerBytesPerSec)} a peer (${pct(r.audit.perPeerLinkShare)} of ${o.linkMbps} Mbit/s), ` +
      `${kb(r.audit.gatewayBytesPerSec)} at the gateway; audits to untrust a peer that lost all its shards ${r.audit.roundsToCatch.lostAll.toFixed(1)}, a tenth ${r.audit.roundsToCatch.lostTenth.toFixed(1)}\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) main();
