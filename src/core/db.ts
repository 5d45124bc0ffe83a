/**
 * Opens the catalog database and applies each module's migrations: SQLite (better-sqlite3, the
 * embedded default) or PostgreSQL (./sql/postgres.ts, for several gateways over one catalog).
 * Every module that keeps tables (catalog, data store, accounts...) owns a list of migrations
 * and calls migrate(db, 'module', [...]); versions are tracked per module, so modules evolve apart.
 * Where the dialects differ a module gives one list per dialect.
 */
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SqlDb } from './sql/types.ts';
import { isPostgresUrl, openPostgres } from './sql/postgres.ts';

export type DB = SqlDb;
export type { SqlStatement, Dialect } from './sql/types.ts';
export { isPostgresUrl };
/** A SQLite catalog: better-sqlite3's whole API (serialize, backup...) as well. */
export type SqliteDb = SqliteDatabase & DB;
export const isSqlite = (db: DB): db is SqliteDb => db.dialect === 'sqlite';

/** The catalog: `postgres://...` opens PostgreSQL, anything else is a SQLite file. */
export function openCatalog(spec: string): DB {
  if (isPostgresUrl(spec)) {
    const db = openPostgres(spec);
    db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
    return db;
  }
  return openDatabase(spec);
}

/** A SQLite database (the catalog's default, and every peer's local tables). */
export function openDatabase(file: string): SqliteDb {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    ownerOnly(file);
  }
  const db = Object.assign(new Database(file), { dialect: 'sqlite' as const }) as unknown as SqliteDb;
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  return db;
}

/**
 * The database holds account secrets (sealed) and every object's metadata: its files are the
 * owner's only. Created 0600 (SQLite gives its -wal and -shm files the database file's mode), and
 * an existing file from an older version is narrowed to 0600.
 */
function ownerOnly(file: string): void {
  closeSync(openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if (existsSync(f)) chmodSync(f, 0o600);
    } catch {
      // not ours to change (another owner): SQLite reports what it cannot open
    }
  }
}

/** Applies the migrations of `module` that this database has not seen yet, each in a transaction. */
export function migrate(db: DB, module: string, all: readonly string[] | Readonly<Record<SqlDb['dialect'], readonly string[]>>): void {
  const migrations = Array.isArray(all) ? (all as readonly string[]) : (all as Record<SqlDb['dialect'], readonly string[]>)[db.dialect];
  const row = db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(module) as
    | { version: number }
    | undefined;
  const current = row?.version ?? 0;
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.prepare(
        'INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version',
      ).run(module, v + 1);
    })();
  }
}
