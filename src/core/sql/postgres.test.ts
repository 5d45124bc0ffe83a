/**
 * The PostgreSQL SqlDb against a real server (a throwaway one, or DATAMESH_TEST_PG_URL's): the
 * synchronous API, placeholders, types as better-sqlite3 gives them, transactions that roll back,
 * and a serialization failure between two connections retried until both increments land.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgres, translate, type PostgresError } from './postgres.ts';
import { freshPgDatabase } from './testing/pg-server.ts';
import type { SqlDb } from './types.ts';

let pgdb: { url: string; stop(): void } | undefined;
let url: string;
let db: SqlDb;

beforeAll(async () => {
  pgdb = await freshPgDatabase(`sqldb_${process.pid}`);
  url = pgdb.url;
  db = openPostgres(url);
  db.exec('CREATE TABLE t (k TEXT COLLATE "C" PRIMARY KEY, n BIGINT NOT NULL, b BYTEA)');
}, 120_000);

afterAll(() => {
  db?.close();
  pgdb?.stop();
});

describe('PostgreSQL behind the synchronous SqlDb', () => {
  it('translates ? and @name placeholders, leaving strings and comments alone', () => {
    expect(translate("SELECT '?' AS q, ? AS a, ? AS b -- ?\n").text).toBe("SELECT '?' AS q, $1 AS a, $2 AS b -- ?\n");
    const t = translate('INSERT INTO t (k, n) VALUES (@k, @n) ON CONFLICT (k) DO UPDATE SET n = t.n + @n');
    expect(t.text).toBe('INSERT INTO t (k, n) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET n = t.n + $2');
    expect(t.names).toEqual(['k', 'n']);
  });

  it('answers get/all/run/pluck with numbers and Buffers, as better-sqlite3 does', () => {
    const ins = db.prepare('INSERT INTO t (k, n, b) VALUES (?, ?, ?)');
    expect(ins.run('a', 2 ** 40, Buffer.from([1, 2, 3])).changes).toBe(1);
    ins.run('b', 7, null);
    const row = db.prepare('SELECT k, n, b FROM t WHERE k = ?').get('a') as { k: string; n: number; b: Buffer };
    expect(row).toEqual({ k: 'a', n: 2 ** 40, b: Buffer.from([1, 2, 3]) });
    expect(Buffer.isBuffer(row.b)).toBe(true);
    expect(db.prepare('SELECT COUNT(*) AS c, SUM(n) AS s FROM t').get()).toEqual({ c: 2, s: 2 ** 40 + 7 });
    expect(db.prepare('SELECT k FROM t ORDER BY k').pluck().all()).toEqual(['a', 'b']);
    expect(db.prepare('SELECT k FROM t WHERE k = ?').get('zzz')).toBeUndefined();
    expect(db.prepare('UPDATE t SET n = n + 1 WHERE k IN (SELECT value FROM json_each(?))').run(JSON.stringify(['a', 'b'])).changes).toBe(2);
  });

  it('rolls a failed transaction back whole and reports the SQLSTATE', () => {
    const tx = db.transaction(() => {
      db.prepare('UPDATE t SET n = 0 WHERE k = ?').run('b');
      db.prepare('INSERT INTO t (k, n) VALUES (?, ?)').run('a', 1); // duplicate key
    });
    expect(() => tx()).toThrow(expect.objectContaining({ code: '23505' }) as PostgresError);
    expect(db.prepare('SELECT n FROM t WHERE k = ?').pluck().get('b')).toBe(8);
  });

  it('retries a transaction that loses a serialization race to another connection', () => {
    const other = openPostgres(url);
    try {
      db.prepare('INSERT INTO t (k, n) VALUES (?, 0)').run('ctr');
      let attempts = 0;
      const bump = db.transaction(() => {
        attempts++;
        const n = db.prepare('SELECT n FROM t WHERE k = ?').pluck().get('ctr') as number;
        // the first time, another gateway commits a change to the same row in between
        if (attempts === 1) other.transaction(() => other.prepare('UPDATE t SET n = n + 100 WHERE k = ?').run('ctr'))();
        db.prepare('UPDATE t SET n = ? WHERE k = ?').run(n + 1, 'ctr');
      });
      bump();
      expect(attempts).toBe(2);
      expect(db.prepare('SELECT n FROM t WHERE k = ?').pluck().get('ctr')).toBe(101);
    } finally {
      other.close();
    }
  });

  it('names the database when it cannot connect', () => {
    expect(() => openPostgres('postgres://nobody:secret@127.0.0.1:1/none')).toThrow(/ECONNREFUSED|connect/);
    expect(() => openPostgres('postgres://nobody:secret@127.0.0.1:1/none')).not.toThrow(/secret/);
  });
});
