/**
 * The one switch that runs the store, accounts and S3 tests against PostgreSQL:
 * DATAMESH_TEST_CATALOG=postgres (vitest's globalSetup, ./pg-global-setup.ts, starts a real server
 * and hands its URL down in DATAMESH_TEST_PG_URL). Every test database is a fresh database on it.
 */
import { createHash } from 'node:crypto';
import { openCatalog, type DB } from '../../db.ts';
import { openPostgres } from '../postgres.ts';

export const testOnPostgres = (): boolean => process.env.DATAMESH_TEST_CATALOG === 'postgres';

const made = new Set<string>();

/** What to open for a test whose SQLite file would be `file`: the file, or a fresh PostgreSQL database (the same one for the same file). */
export function testCatalog(file: string): string {
  if (!testOnPostgres()) return file;
  const admin = process.env.DATAMESH_TEST_PG_URL;
  if (!admin) throw new Error('DATAMESH_TEST_CATALOG=postgres needs DATAMESH_TEST_PG_URL (vitest globalSetup src/core/sql/testing/pg-global-setup.ts starts one)');
  const name = `t_${createHash('sha256').update(`${process.pid}:${file}`).digest('hex').slice(0, 24)}`;
  if (!made.has(name)) {
    const db = openPostgres(admin);
    try {
      db.exec(`CREATE DATABASE ${name}`);
    } finally {
      db.close();
    }
    made.add(name);
  }
  return admin.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
}

/** openCatalog(testCatalog(file)). */
export const openTestCatalog = (file: string): DB => openCatalog(testCatalog(file));

/** Server flags that put a test server's catalog where the switch says. */
export const testCatalogFlags = (dataDir: string): string[] => (testOnPostgres() ? ['--catalog', testCatalog(`${dataDir}/datamesh.db`)] : []);
