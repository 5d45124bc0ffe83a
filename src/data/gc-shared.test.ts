/**
 * Shard collection over a shared catalog (PostgreSQL, two connections standing for two gateways):
 * a pending manifest (a PUT in flight) of a live gateway is never garbage to the other one, only
 * once its writer row has expired (the gateway died); and the collect lease is one gateway's at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type DB } from '../core/db.ts';
import { freshPgDatabase } from '../core/sql/testing/pg-server.ts';
import { EcRepo } from './schema.ts';

let pgdb: { url: string; stop(): void } | undefined;
let gwA: DB;
let gwB: DB;

beforeAll(async () => {
  pgdb = await freshPgDatabase(`gc_${process.pid}`);
  gwA = openCatalog(pgdb.url);
  gwB = openCatalog(pgdb.url);
}, 120_000);

afterAll(() => {
  gwA?.close();
  gwB?.close();
  pgdb?.stop();
});

const manifest = (id: string, writer: string) => ({ id, k: 4, m: 2, segment_size: 1 << 20, wrapped_key: Buffer.alloc(40, 1), created: Date.now(), writer });

describe('collection over a shared catalog', () => {
  it("never takes a live gateway's PUT in flight for garbage; takes it once that gateway is gone", () => {
    const a = new EcRepo(gwA);
    const b = new EcRepo(gwB);
    a.heartbeat('writer-a', 60_000);
    b.heartbeat('writer-b', 60_000);
    a.insertManifest(manifest('m-inflight', 'writer-a'));
    expect(b.garbage('writer-b', 100)).not.toContain('m-inflight');
    expect(a.garbage('writer-a', 100)).not.toContain('m-inflight');
    // A dies (SIGKILL): its row is not renewed and expires
    a.heartbeat('writer-a', -1);
    expect(b.garbage('writer-b', 100)).toContain('m-inflight');
    // released data is garbage to whoever collects
    b.insertManifest(manifest('m-old', 'writer-b'));
    b.release('m-old');
    expect(b.garbage('writer-b', 100)).toContain('m-old');
  });

  it('gives the collect lease to one gateway at a time', () => {
    const a = new EcRepo(gwA);
    const b = new EcRepo(gwB);
    expect(a.takeLease('collect', 'writer-a', 60_000)).toBe(true);
    expect(b.takeLease('collect', 'writer-b', 60_000)).toBe(false);
    expect(a.takeLease('collect', 'writer-a', 60_000)).toBe(true); // renewal
    a.dropLease('collect', 'writer-a');
    expect(b.takeLease('collect', 'writer-b', 60_000)).toBe(true);
    // an expired lease (its holder stalled or died) can be taken over
    b.takeLease('collect', 'writer-b', -1);
    expect(a.takeLease('collect', 'writer-a', 60_000)).toBe(true);
  });
});
