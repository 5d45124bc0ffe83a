/**
 * A real, throwaway PostgreSQL server for tests and the local cluster: Debian's postgresql package,
 * `initdb` into a temporary directory and `pg_ctl start` on a loopback port, as an unprivileged
 * user (initdb refuses root: under root it runs as `nobody`). stop() ends it and deletes the directory.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgServer {
  /** postgres://datamesh@127.0.0.1:PORT/postgres */
  url: string;
  port: number;
  dir: string;
  /** A URL for database `name` on this server. */
  urlOf(name: string): string;
  stop(): void;
}

/** The bin directory of the newest installed PostgreSQL, or undefined. */
export function pgBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => ok(port));
    });
  });
}

export async function startPgServer(opts: { port?: number } = {}): Promise<PgServer> {
  const bin = pgBin();
  if (!bin) throw new Error('PostgreSQL is not installed: apt-get install -y postgresql (Debian), then run again');
  const dir = mkdtempSync(join(tmpdir(), 'datamesh-pg-'));
  const root = process.getuid?.() === 0;
  const nobody = root ? Number(execFileSync('id', ['-u', 'nobody']).toString().trim()) : undefined;
  if (nobody !== undefined) chownSync(dir, nobody, Number(execFileSync('id', ['-g', 'nobody']).toString().trim()));
  const as = (cmd: string, args: string[]) =>
    root ? execFileSync('runuser', ['-u', 'nobody', '--', cmd, ...args], { stdio: 'pipe' }) : execFileSync(cmd, args, { stdio: 'pipe' });
  const data = join(dir, 'data');
  as(join(bin, 'initdb'), ['-D', data, '-U', 'datamesh', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync']);
  const port = opts.port ?? (await freePort());
  const settings = [
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
    '-c max_connections=300',
    // a test server: speed over durability
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
  ].join(' ');
  as(join(bin, 'pg_ctl'), ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const urlOf = (name: string) => `postgres://datamesh@127.0.0.1:${port}/${name}`;
  return {
    url: urlOf('postgres'),
    port,
    dir,
    urlOf,
    stop() {
      try {
        as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * A fresh database `name` for one test file: on DATAMESH_TEST_PG_URL's server when given, else on
 * a throwaway server of its own (stopped by stop()).
 */
export async function freshPgDatabase(name: string): Promise<{ url: string; stop(): void }> {
  const { openPostgres } = await import('../postgres.ts');
  const given = process.env.DATAMESH_TEST_PG_URL;
  const server = given ? undefined : await startPgServer();
  const admin = openPostgres(given ?? server!.url);
  try {
    admin.exec(`DROP DATABASE IF EXISTS ${name}`);
    admin.exec(`CREATE DATABASE ${name}`);
  } finally {
    admin.close();
  }
  return { url: (given ?? server!.url).replace(/\/[^/]*$/, `/${name}`), stop: () => server?.stop() };
}
