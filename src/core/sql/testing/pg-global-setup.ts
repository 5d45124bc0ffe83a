/**
 * vitest globalSetup: with DATAMESH_TEST_CATALOG=postgres (and no DATAMESH_TEST_PG_URL given),
 * starts a throwaway PostgreSQL for the run and stops it at the end.
 */
import { startPgServer, type PgServer } from './pg-server.ts';

let server: PgServer | undefined;

export async function setup(): Promise<void> {
  if (process.env.DATAMESH_TEST_CATALOG !== 'postgres' || process.env.DATAMESH_TEST_PG_URL) return;
  server = await startPgServer();
  process.env.DATAMESH_TEST_PG_URL = server.url;
}

export function teardown(): void {
  server?.stop();
  server = undefined;
}
