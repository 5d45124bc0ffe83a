/**
 * The requests-per-minute bucket kept in a real PostgreSQL catalog: two limiters on one database are
 * two gateways, and together they grant the limit, not twice it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCatalog, type DB } from '../src/core/db.ts';
import { freshPgDatabase } from '../src/core/sql/testing/pg-server.ts';
import { migrateAccounts } from './schema.ts';
import { createSharedRateLimiter } from './rate-limit.ts';

let pgdb: { url: string; stop(): void } | undefined;
let a: DB;
let b: DB;

beforeAll(async () => {
  pgdb = await freshPgDatabase(`ratelimit_${process.pid}`);
  a = openCatalog(pgdb.url);
  b = openCatalog(pgdb.url);
  migrateAccounts(a);
}, 120_000);

afterAll(() => {
  a?.close();
  b?.close();
  pgdb?.stop();
});

describe('shared rate limiter (PostgreSQL)', () => {
  it('two gateways on one catalog together grant exactly the limit, then refill at its rate', () => {
    let t = 1_000_000;
    const ga = createSharedRateLimiter(a, () => t);
    const gb = createSharedRateLimiter(b, () => t);
    let granted = 0;
    for (let i = 0; i < 20; i++) {
      if (ga.take(7, 10).ok) granted++;
      if (gb.take(7, 10).ok) granted++;
    }
    expect(granted).toBe(10);
    expect(gb.take(7, 10)).toEqual({ ok: false, retryAfterSeconds: 6 });
    expect(ga.take(8, 10).ok).toBe(true); // another account has its own bucket
    t += 6_000; // one token back, for either gateway
    expect(gb.take(7, 10).ok).toBe(true);
    expect(ga.take(7, 10).ok).toBe(false);
    t -= 3_000; // a gateway whose clock lags refills nothing
    expect(ga.take(7, 10).ok).toBe(false);
    ga.forget(7);
    expect(gb.take(7, 10).ok).toBe(true);
    expect(ga.take(7, 0)).toEqual({ ok: false, retryAfterSeconds: 60 });
  });
});
