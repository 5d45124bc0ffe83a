/**
 * What one catalog copy costs (src/data/catalog-sync.ts ships a whole snapshot every
 * --catalog-sync-interval when the catalog changed): a catalog of N objects, each 4 MiB segment
 * worth of manifest rows (1 segment, 6 shards, 4+2), built through the real Catalog and EcRepo
 * tables; then the image (sqlite3_serialize), gzip, sealing, Reed-Solomon 4+2 and the shard writes
 * to a local shard store, timed. Run: npx tsx scripts/bench-catalog-sync.ts [N ...]
 */
import '../src/core/polyfill.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { openDatabase } from '../src/core/db.ts';
import { Catalog } from '../src/store/catalog.ts';
import { EcRepo } from '../src/data/schema.ts';
import { LocalShardStore } from '../mesh/local-shards.ts';
import { LocalNetwork } from '../mesh/local-network.ts';
import { writeSnapshot } from '../src/data/catalog-snapshot.ts';
import { shardId } from '../src/codec/cid.ts';

const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length > 0 ? sizes : [10_000, 100_000]) {
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-bench-catalog-'));
  const db = openDatabase(join(dir, 'datamesh.db'));
  const catalog = new Catalog(db);
  const repo = new EcRepo(db);
  catalog.insertBucket({ name: 'bench', owner: 'alice', region: 'us-east-1', created: new Date() });
  const peers = Array.from({ length: 6 }, () => `12D3KooW${randomBytes(33).toString('base64url').slice(0, 44)}`);
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = randomUUID();
      repo.insertManifest({ id, k: 4, m: 2, segment_size: 4 << 20, wrapped_key: randomBytes(61), created: Date.now(), writer: 'bench' });
      repo.insertSegment(id, 0, 4 << 20, 1 << 20, peers.map(() => shardId(randomBytes(16))), peers);
      repo.finish(id, 4 << 20, null);
      repo.commit(id);
      catalog.putObject(
        {
          bucket: 'bench', key: `photos/2026/${String(i).padStart(8, '0')}.jpg`, size: 4 << 20, etag: `"${randomBytes(16).toString('hex')}"`,
          lastModified: Date.now(), meta: { contentType: 'image/jpeg', user: {} }, checksums: { CRC32: randomBytes(4).toString('base64') },
          tags: {}, owner: 'alice',
        } as unknown as Parameters<Catalog['putObject']>[0],
        [{ manifestId: id, size: 4 << 20, etag: 'x', checksums: {} }] as unknown as Parameters<Catalog['putObject']>[1],
      );
    }
  })();
  const shards = new LocalShardStore(join(dir, 'shards'), { fsync: false });
  const network = new LocalNetwork('local', shards);
  const t0 = performance.now();
  const image = db.serialize();
  const t1 = performance.now();
  const head = await writeSnapshot({
    masterKey: randomBytes(32), network, gateway: 'local', meta: { seq: 1, gen: 1, time: Date.now(), peerKey: '' },
    image, ec: { k: 4, m: 2 }, segmentSize: 4 << 20, peers: ['local'], place: (ids) => ids.map(() => 'local'),
  });
  const t2 = performance.now();
  console.log(
    `${String(n).padStart(7)} objects: image ${(image.length / 1e6).toFixed(1)} MB in ${(t1 - t0).toFixed(0)} ms (event loop blocked); ` +
      `gzip+seal+4+2+write ${(head.size / 1e6).toFixed(1)} MB -> ${head.segments.length} segments in ${(t2 - t1).toFixed(0)} ms; head ${(JSON.stringify(head).length / 1e3).toFixed(1)} KB`,
  );
  db.close();
  rmSync(dir, { recursive: true, force: true });
}
