/**
 * The catalog on PostgreSQL (and what speaks its protocol: CockroachDB, YugabyteDB), behind the same
 * synchronous SqlDb as SQLite. The `pg` driver runs in a worker thread (./pg-worker.mjs); each
 * statement is posted to it and the caller blocks on a shared flag (Atomics.wait) until the answer
 * is there: one loopback round trip per statement. So the catalog code keeps its synchronous
 * transactions: nothing is awaited inside one, and no transaction is ever held open while bytes
 * stream. Transactions run at SERIALIZABLE; a serialization failure (SQLSTATE 40001, a deadlock
 * 40P01) rolls back and runs the function again, a bounded number of times with jitter.
 * The async catalog (statements in flight concurrently) is the follow-up.
 *
 * SQL text is written once for both: `?` and `@name` placeholders become $1..$n here, and
 * `json_each(?)` (a JSON array parameter) becomes json_array_elements_text. Everything else the
 * code sends is portable SQL; the migrations are per dialect.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { RunResult, SqlDb, SqlStatement, SqlTransaction } from './types.ts';

export interface PostgresOptions {
  /** Longest a statement may run (server-side statement_timeout), ms. Default 30 s. */
  statementTimeoutMs?: number;
  /** Serialization failures retried per transaction. Default 10. */
  retries?: number;
}

interface Reply {
  rows?: Record<string, unknown>[];
  rowCount?: number;
  ok?: boolean;
  error?: { message: string; code?: string; detail?: string };
}

/** An error from PostgreSQL, with its SQLSTATE as `code`. */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

const RETRYABLE = new Set(['40001', '40P01']);

export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

export function openPostgres(url: string, opts: PostgresOptions = {}): SqlDb {
  return new PostgresDb(url, opts);
}

class PostgresDb implements SqlDb {
  readonly dialect = 'postgres' as const;
  open = true;
  readonly name: string;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  private readonly texts = new Map<string, Translated>();
  private readonly waitMs: number;
  private readonly retries: number;
  private depth = 0;

  constructor(
    private readonly url: string,
    opts: PostgresOptions,
  ) {
    this.name = redact(url);
    const statementTimeoutMs = opts.statementTimeoutMs ?? 30_000;
    this.waitMs = statementTimeoutMs + 30_000;
    this.retries = opts.retries ?? 10;
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(new URL('./pg-worker.mjs', import.meta.url), {
      workerData: { url, port: port2, flag: this.flag.buffer, statementTimeoutMs },
      transferList: [port2],
    });
    this.worker.unref();
    this.port.unref();
    // Connect now: a wrong URL or a server that is down fails the start, not the first request.
    this.call({ op: 'exec', text: 'SELECT 1' });
  }

  call(msg: { op: 'exec' | 'query' | 'close'; text?: string; values?: unknown[] }): Reply {
    if (!this.open) throw new PostgresError('the catalog database is closed', undefined);
    Atomics.store(this.flag, 0, 0);
    this.port.postMessage(msg);
    if (Atomics.wait(this.flag, 0, 0, this.waitMs) === 'timed-out') {
      throw new PostgresError(`the catalog database ${redact(this.url)} did not answer within ${this.waitMs} ms`, undefined);
    }
    // The flag is raised after the reply was posted; on a loaded machine the message may need a
    // moment more to become visible on this side of the port.
    let m = receiveMessageOnPort(this.port);
    for (let i = 0; m === undefined && i < 1000; i++) {
      Atomics.wait(this.nap, 0, 0, 1);
      m = receiveMessageOnPort(this.port);
    }
    const reply = m?.message as Reply | undefined;
    if (!reply) throw new PostgresError('the catalog worker answered nothing', undefined);
    if (reply.error) {
      const hint = reply.error.code === undefined ? ` (catalog ${redact(this.url)})` : '';
      throw new PostgresError(`${reply.error.message}${reply.error.detail ? `: ${reply.error.detail}` : ''}${hint}`, reply.error.code);
    }
    return reply;
  }

  query(sql: string, params: unknown[]): Reply {
    let t = this.texts.get(sql);
    if (!t) {
      t = translate(sql);
      this.texts.set(sql, t);
    }
    return this.call({ op: 'query', text: t.text, values: bind(t, params) });
  }

  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqlStatement<P, R> {
    return new PostgresStatement(this, sql) as unknown as SqlStatement<P, R>;
  }

  exec(sql: string): this {
    this.call({ op: 'exec', text: sql });
    return this;
  }

  pragma(): undefined {
    return undefined;
  }

  transaction<F extends (...args: never[]) => unknown>(fn: F): SqlTransaction<F> {
    const run = (...args: Parameters<F>): ReturnType<F> => this.runTransaction(fn, args);
    return Object.assign(run, { immediate: run, deferred: run }) as SqlTransaction<F>;
  }

  private runTransaction<F extends (...args: never[]) => unknown>(fn: F, args: Parameters<F>): ReturnType<F> {
    if (this.depth > 0) {
      // nested: a savepoint, as better-sqlite3 does
      const sp = `sp${this.depth}`;
      this.exec(`SAVEPOINT ${sp}`);
      this.depth++;
      try {
        const r = fn(...args) as ReturnType<F>;
        this.exec(`RELEASE SAVEPOINT ${sp}`);
        return r;
      } catch (e) {
        this.exec(`ROLLBACK TO SAVEPOINT ${sp}`);
        throw e;
      } finally {
        this.depth--;
      }
    }
    for (let attempt = 0; ; attempt++) {
      this.exec('BEGIN ISOLATION LEVEL SERIALIZABLE');
      this.depth = 1;
      try {
        const r = fn(...args) as ReturnType<F>;
        this.exec('COMMIT');
        return r;
      } catch (e) {
        try {
          this.exec('ROLLBACK');
        } catch {
          // the connection is gone: the transaction is too
        }
        const code = (e as { code?: string }).code;
        if (!RETRYABLE.has(code ?? '') || attempt >= this.retries) throw e;
        // another gateway's transaction won: run again after a short random pause
        Atomics.wait(this.nap, 0, 0, Math.random() * Math.min(100, 2 ** attempt * 2));
      } finally {
        this.depth = 0;
      }
    }
  }

  close(): void {
    if (!this.open) return;
    try {
      this.call({ op: 'close' });
    } finally {
      this.open = false;
      void this.worker.terminate();
      this.port.close();
    }
  }
}

class PostgresStatement implements SqlStatement {
  private plucked = false;
  private rawRows = false;
  constructor(
    private readonly db: PostgresDb,
    private readonly sql: string,
  ) {}

  pluck(toggle = true): this {
    this.plucked = toggle;
    if (toggle) this.rawRows = false;
    return this;
  }

  raw(toggle = true): this {
    this.rawRows = toggle;
    if (toggle) this.plucked = false;
    return this;
  }

  private rows(params: unknown[]): unknown[] {
    const rows = (this.db.query(this.sql, params).rows ?? []).map(fromWorker);
    if (this.plucked) return rows.map((r) => Object.values(r)[0]);
    return this.rawRows ? rows.map((r) => Object.values(r)) : rows;
  }

  get(...params: unknown[]): unknown {
    return this.rows(params)[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.rows(params);
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.rows(params)[Symbol.iterator]();
  }

  run(...params: unknown[]): RunResult {
    return { changes: this.db.query(this.sql, params).rowCount ?? 0, lastInsertRowid: 0 };
  }
}

/** bytea arrives as a Uint8Array (structured clone); the code expects Buffers, as better-sqlite3 gives. */
function fromWorker(row: Record<string, unknown>): Record<string, unknown> {
  for (const k in row) {
    const v = row[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return row;
}

interface Translated {
  text: string;
  /** Positional (`?`): null; named (`@name`): the name of each $i. */
  names: string[] | null;
  count: number;
}

/** `?` -> $1..$n, `@name` -> one $i per name, json_each(?) -> json_array_elements_text($i::json); strings and comments untouched. */
export function translate(sql: string): Translated {
  let out = '';
  let count = 0;
  const names: string[] = [];
  for (let i = 0; i < sql.length; ) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '?') {
      out += `$${++count}`;
      i++;
    } else if (c === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))![0];
      let n = names.indexOf(m);
      if (n < 0) n = names.push(m) - 1;
      out += `$${n + 1}`;
      i += 1 + m.length;
    } else {
      out += c;
      i++;
    }
  }
  out = out.replace(/json_each\((\$\d+)\)/g, 'json_array_elements_text($1::json) AS value');
  return { text: out, names: names.length > 0 ? names : null, count: names.length > 0 ? names.length : count };
}

function bind(t: Translated, params: unknown[]): unknown[] {
  if (t.names) {
    const o = (params[0] ?? {}) as Record<string, unknown>;
    return t.names.map((n) => normalize(o[n]));
  }
  const flat = params.length === 1 && Array.isArray(params[0]) ? (params[0] as unknown[]) : params;
  return flat.map(normalize);
}

function normalize(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]*):[^@]*@/, '$1:***@');
}
