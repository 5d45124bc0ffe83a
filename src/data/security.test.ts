import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chunked, collectBytes, ecFixture, label, type EcFixture } from './testing/ec.ts';
import { deriveKek, unwrapKey } from '../codec/crypto.ts';

let f: EcFixture | undefined;
afterEach(async () => {
  await f?.cleanup();
  f = undefined;
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Needles: windows of the plaintext every `step` bytes (any leak of a run of plaintext hits one). */
function windows(data: Buffer, size = 24, step = 256): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i + size <= data.length; i += step) out.push(data.subarray(i, i + size));
  return out;
}

describe('nothing readable at rest', () => {
  it('no file under the data directory holds plaintext, a data key, the KEK or the master key', async () => {
    f = ecFixture({ segmentSize: 64 * 1024 });
    const marker = Buffer.from('datamesh-recognisable-plaintext-');
    const bodies = [
      Buffer.concat([marker, randomBytes(300 * 1024), marker]), // sharded, several segments
      Buffer.concat([marker, randomBytes(1000)]), // inline in SQLite
      Buffer.alloc(100 * 1024, marker.toString()), // repetitive text, sharded
    ];
    const ids: string[] = [];
    for (const body of bodies) {
      const w = await f.store.write(chunked(body, 4096), {});
      f.store.commit(w.manifestId);
      ids.push(w.manifestId);
      expect((await collectBytes(f.store.read(w.manifestId, { start: 0, end: body.length, label }))).equals(body)).toBe(true);
    }
    const kek = deriveKek(f.masterKey);
    const wrapped = f.db.prepare('SELECT id, wrapped_key FROM ec_manifests').all() as { id: string; wrapped_key: Buffer }[];
    const dataKeys = wrapped.map((r) => unwrapKey(kek, r.wrapped_key, r.id));
    expect(dataKeys).toHaveLength(3);
    const needles = [marker, ...bodies.flatMap((b) => windows(b)), ...dataKeys, kek, f.masterKey];

    const check = () => {
      const files = filesUnder(f!.dir);
      expect(files.some((p) => p.endsWith('meta.db'))).toBe(true);
      expect(files.filter((p) => p.includes('/shards/')).length).toBeGreaterThan(6);
      for (const file of files) {
        const content = readFileSync(file);
        for (const needle of needles) expect(content.includes(needle), `${file} holds a secret`).toBe(false);
      }
      return files;
    };
    const withWal = check();
    expect(withWal.some((p) => p.endsWith('meta.db-wal'))).toBe(true);
    f.db.pragma('wal_checkpoint(TRUNCATE)');
    check();
  });
});
