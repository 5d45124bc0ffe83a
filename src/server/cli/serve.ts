/**
 * `datamesh serve`: the S3 server (and the admin API) in this process, stopped gracefully by
 * SIGTERM / SIGINT; `datamesh config print`: the configuration serve would use.
 */
import { DataDirLockedError } from '../data-dir-lock.ts';
import { ConfigError, configFromArgs, printable } from '../config.ts';
import type { CommandContext } from './types.ts';

export async function configPrintCommand({ values, io }: CommandContext): Promise<number> {
  io.stdout.write(JSON.stringify(printable(configFromArgs(values, io.env)), null, 2) + '\n');
  return 0;
}

export async function serveCommand({ values, io }: CommandContext): Promise<number> {
  const config = configFromArgs(values, io.env);
  const { startServer } = await import('../main.ts');
  let server: Awaited<ReturnType<typeof startServer>>;
  const fail = (message: string, code: number) => {
    io.stderr.write(`datamesh: ${message}\n`);
    return code;
  };
  try {
    server = await startServer(config, { env: io.env });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') return fail(`--listen ${config.listen}: the address is in use; stop the other server or pick another port`, 2);
    if (err.code === 'EACCES') return fail(`--listen ${config.listen}: permission denied; use a port above 1023`, 2);
    if (e instanceof ConfigError) return fail(e.message, 2);
    if (e instanceof DataDirLockedError) return fail(e.message, 1);
    return fail(`cannot start: ${err.message}`, 1);
  }
  const creds = server.rootCredentials;
  if (creds.generated) {
    io.stderr.write(
      `\nGenerated root credentials (shown once; kept in ${config.data}/root-credentials.json, mode 0600):\n` +
        `  AWS_ACCESS_KEY_ID=${creds.accessKey}\n  AWS_SECRET_ACCESS_KEY=${creds.secretKey}\n\n`,
    );
  }
  if (server.masterKeyGenerated) {
    io.stderr.write(
      `Generated the master key ${config.data}/master.key (mode 0600): every object is encrypted under it.\n` +
        `  Back it up now, off this machine: without it no data can be decrypted.\n\n`,
    );
  }
  let signals = 0;
  const stop = (signal: 'SIGINT' | 'SIGTERM') => {
    signals++;
    if (signals > 1) {
      io.stderr.write(`datamesh: ${signal} again: exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    io.stderr.write(`datamesh: ${signal}: finishing in-flight requests for up to ${config.shutdownGrace} ms (send it again to exit at once)\n`);
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        io.stderr.write(`datamesh: the shutdown failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  // SIGHUP re-reads the TLS certificate and key (a renewal); without TLS it keeps Node's default (exit).
  if (config.tlsCert !== undefined) process.on('SIGHUP', () => void server.reloadTls());
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return 0;
}
