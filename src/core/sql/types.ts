/**
 * The catalog's database as the code uses it: the synchronous subset of better-sqlite3's API.
 * Two implementations: SQLite (better-sqlite3 itself, the embedded default) and PostgreSQL
 * (./postgres.ts: the `pg` driver in a worker thread, the caller blocking on each statement), so
 * several gateways can share one catalog. `dialect` says which, for the few statements and
 * migrations that differ.
 */
export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
  /** SQLite only; use `INSERT ... RETURNING id` for portable code. */
  lastInsertRowid: number | bigint;
}

export interface SqlStatement<P extends unknown[] = unknown[], R = unknown> {
  get(...params: P): R | undefined;
  all(...params: P): R[];
  run(...params: P): RunResult;
  iterate(...params: P): IterableIterator<R>;
  /** Rows become their first column's value. */
  pluck(toggle?: boolean): this;
  /** Rows become arrays of their columns' values, in the SELECT's order. */
  raw(toggle?: boolean): this;
}

/** db.transaction(fn) as better-sqlite3 has it: call it (or .immediate()/.deferred()) to run fn in a transaction. */
export interface SqlTransaction<F extends (...args: never[]) => unknown> {
  (...args: Parameters<F>): ReturnType<F>;
  immediate(...args: Parameters<F>): ReturnType<F>;
  deferred(...args: Parameters<F>): ReturnType<F>;
}

export interface SqlDb {
  readonly dialect: Dialect;
  readonly open: boolean;
  /** SQLite: the file; PostgreSQL: the URL without its password. */
  readonly name: string;
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqlStatement<P, R>;
  exec(sql: string): unknown;
  transaction<F extends (...args: never[]) => unknown>(fn: F): SqlTransaction<F>;
  /** SQLite's PRAGMA; PostgreSQL answers undefined. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): unknown;
}
