/**
 * Throughput of every body digest over 64 MiB fed in 64 KiB pieces (the size Node's HTTP server
 * hands out). Run: npx tsx scripts/bench-checksums.ts [MiB]
 */
import { createHash, randomFillSync } from 'node:crypto';
import { createChecksum } from '../src/core/digest.ts';
import { CHECKSUM_ALGORITHMS } from '../src/core/object-store.ts';

const mib = Number(process.argv[2] ?? 64);
const piece = 64 * 1024;
const data = randomFillSync(Buffer.allocUnsafe(mib * 1024 * 1024));

function measure(name: string, make: () => { update(d: Uint8Array): unknown; digest(): unknown }): void {
  const run = (): number => {
    const h = make();
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < data.length; off += piece) h.update(data.subarray(off, off + piece));
    h.digest();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  run(); // warm-up (JIT, tables)
  const s = Math.min(run(), run());
  console.log(`${name.padEnd(10)} ${(data.length / s / 1e9).toFixed(2)} GB/s  (${mib} MiB in ${(s * 1000).toFixed(0)} ms)`);
}

measure('MD5', () => createHash('md5'));
for (const a of CHECKSUM_ALGORITHMS) measure(a, () => createChecksum(a));
