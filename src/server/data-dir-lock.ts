/**
 * One process per data directory. `serve`, `node` and every offline command that opens a data
 * directory take this lock first, before anything in the directory is read, migrated or collected,
 * and a second process is refused with a message naming the holder's PID.
 *
 * The lock is a kernel lock, not a PID file: DIR/datamesh.lock is a tiny SQLite database and the
 * holder keeps a write transaction open on it (SQLite's RESERVED lock, a POSIX fcntl() byte-range
 * lock). The kernel drops it the moment the holder exits, however it exits (SIGKILL, OOM kill, a
 * power cut), so a crash never leaves a stale lock behind, and there is no "is that PID still
 * alive?" guess to get wrong when the PID has been reused by another program. better-sqlite3 is
 * already the catalog's driver, so this needs no new native code; SQLite also tracks its locks per
 * inode within one process, so two opens in one process exclude each other as well.
 * The holder's PID is committed in the database before the lock is held, so a refused process can
 * read it (RESERVED still admits readers). Limits: fcntl locks are advisory (a program that ignores
 * them is not stopped) and on network file systems they are only as good as the server's lock
 * manager; keep data directories on local disks.
 */
import Database from 'better-sqlite3';
import type { Database as DB } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';

export const LOCK_FILE = 'datamesh.lock';

export class DataDirLockedError extends Error {
  readonly code = 'EDATADIRLOCKED';
  constructor(
    readonly dir: string,
    readonly holder: { pid: number; command: string; since: string } | undefined,
  ) {
    super(
      holder
        ? `the data directory ${dir} is in use by another datamesh process (pid ${holder.pid}${holder.pid === process.pid ? ', this process' : ''}, '${holder.command}' since ${holder.since}): stop it first, or give this one another --data`
        : `the data directory ${dir} is in use by another datamesh process: stop it first, or give this one another --data`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  readonly dir: string;
  /** Releases the lock (idempotent). Exiting the process releases it as well. */
  release(): void;
}

const isBusy = (e: unknown): boolean => /^SQLITE_(BUSY|LOCKED)/.test((e as { code?: string }).code ?? '');

/**
 * Takes the exclusive lock on `dir` (made when missing, mode 0700) for `command` (what the holder
 * is, for the refusal message). Throws DataDirLockedError when another process, or another open in
 * this one, holds it.
 */
export function lockDataDir(dir: string, command: string): DataDirLock {
  const abs = resolve(dir);
  mkdirSync(abs, { recursive: true, mode: 0o700 });
  const db = new Database(join(abs, LOCK_FILE), { timeout: 0 });
  try {
    // Rollback journal: a RESERVED lock (an open write transaction) admits readers, so the refused
    // process can read who holds it; nothing is ever written inside the held transaction.
    db.pragma('journal_mode = DELETE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER NOT NULL, command TEXT NOT NULL, since TEXT NOT NULL, token TEXT NOT NULL)');
    const token = randomBytes(8).toString('hex');
    const write = db.prepare(
      'INSERT INTO holder (id, pid, command, since, token) VALUES (1, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET pid = excluded.pid, command = excluded.command, since = excluded.since, token = excluded.token',
    );
    // Claim: record ourselves, then hold the lock and check that the record is still ours (a
    // process that started at the same instant may have written between the two steps; whoever
    // holds the lock at the end and finds itself recorded wins; the other is refused).
    db.exec('BEGIN IMMEDIATE');
    write.run(process.pid, command, new Date().toISOString(), token);
    // a refused process reading the holder at this instant makes the commit wait a moment
    db.pragma('busy_timeout = 2000');
    db.exec('COMMIT');
    db.pragma('busy_timeout = 0');
    db.exec('BEGIN IMMEDIATE');
    const row = db.prepare('SELECT token FROM holder WHERE id = 1').get() as { token: string } | undefined;
    if (row?.token !== token) {
      db.exec('ROLLBACK');
      throw new DataDirLockedError(abs, readHolder(db));
    }
  } catch (e) {
    if (e instanceof DataDirLockedError) {
      db.close();
      throw e;
    }
    if (isBusy(e)) {
      const holder = readHolder(db);
      db.close();
      throw new DataDirLockedError(abs, holder);
    }
    db.close();
    throw e;
  }
  let held = true;
  return {
    dir: abs,
    release() {
      if (!held) return;
      held = false;
      try {
        db.exec('ROLLBACK');
      } finally {
        db.close();
      }
    },
  };
}

function readHolder(db: DB): DataDirLockedError['holder'] {
  // The holder may be between its two steps for a moment: a few quick tries.
  for (let i = 0; i < 20; i++) {
    try {
      return db.prepare('SELECT pid, command, since FROM holder WHERE id = 1').get() as DataDirLockedError['holder'];
    } catch (e) {
      if (!isBusy(e)) return undefined;
    }
  }
  return undefined;
}
