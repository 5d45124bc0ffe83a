/**
 * `datamesh <command>`: serve | node | admin ... | config print | help. Each bad invocation gets
 * one line naming the problem and the fix, and exit code 2.
 */
import { ConfigError, loadConfig, printable } from '../config.ts';

const HELP = `datamesh: an S3-compatible object store on encrypted, erasure-coded shards

Usage:
  datamesh serve [--listen HOST:PORT] [--data DIR] [--region R] [--domain D] [--log-level L] [--ec K+M] [--config FILE]
                 [--listen-mesh MULTIADDR] [--bootstrap MULTIADDR]... [--repair-after 10m] [--fsync false]
                 [--swarm-key FILE] [--admit-peers manual|auto|PEER_ID,...] [--orphan-grace 1h]
  datamesh node --data DIR --listen-mesh MULTIADDR --bootstrap MULTIADDR... --swarm-key FILE
                --admit-peers GATEWAY_ID,...|auto [--capacity 100GiB]
                                                  a storage-only mesh peer
  datamesh admin mesh admit|evict PEER_ID         let a mesh peer take shards, or drain it
  datamesh admin inspect BUCKET KEY [--json]      where the shards of an object live
  datamesh admin mesh [--json]                    peers, redundancy, repair queue
  datamesh admin scrub                            verify every shard and rebuild what is missing
  datamesh admin user|key|quota|usage ...         accounts (see README)
  datamesh config print [flags]                   the effective configuration, secrets masked

Operations (README "Operations"): --metrics-token T, --max-concurrent-requests N, --max-header-size SIZE,
  --header-timeout DUR, --body-idle-timeout DUR, --idle-timeout DUR, --shutdown-grace DUR.
  Every flag is also DATAMESH_<FLAG> in the environment or a key of the --config file.
  SIGTERM/SIGINT: finish in-flight requests (up to --shutdown-grace), then exit; a second signal exits at once.

Root credentials come from DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY, or are generated on first start.`;

export async function run(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serveCommand(rest);
      case 'node': {
        const { nodeCommand } = await import('./node.ts');
        return await nodeCommand(rest);
      }
      case 'admin': {
        const { runAdmin } = await import('./admin.ts');
        process.exitCode = await runAdmin(rest, { stdout: process.stdout, stderr: process.stderr, env: process.env });
        return;
      }
      case 'config':
        if (rest[0] !== 'print') return usage(`unknown config command '${rest[0] ?? ''}': use 'datamesh config print'`);
        process.stdout.write(JSON.stringify(printable(loadConfig(rest.slice(1))), null, 2) + '\n');
        return;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(HELP + '\n');
        return;
      default:
        return usage(`unknown command '${command}': run 'datamesh help' for the commands`);
    }
  } catch (e) {
    if (e instanceof ConfigError) return usage(e.message);
    throw e;
  }
}

function usage(message: string): void {
  process.stderr.write(`datamesh: ${message}\n`);
  process.exitCode = 2;
}

async function serveCommand(argv: string[]): Promise<void> {
  const config = loadConfig(argv);
  const { startServer } = await import('../main.ts');
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE') return usage(`--listen ${config.listen}: the address is in use; stop the other server or pick another port`);
    if (err.code === 'EACCES') return usage(`--listen ${config.listen}: permission denied; use a port above 1023`);
    if (e instanceof ConfigError) return usage(e.message);
    process.stderr.write(`datamesh: cannot start: ${err.message}\n`);
    process.exitCode = 1;
    return;
  }
  const creds = server.rootCredentials;
  if (creds.generated) {
    process.stderr.write(
      `\nGenerated root credentials (shown once; kept in ${config.data}/root-credentials.json, mode 0600):\n` +
        `  AWS_ACCESS_KEY_ID=${creds.accessKey}\n  AWS_SECRET_ACCESS_KEY=${creds.secretKey}\n\n`,
    );
  }
  let signals = 0;
  const stop = (signal: 'SIGINT' | 'SIGTERM') => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`datamesh: ${signal} again: exiting now\n`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    process.stderr.write(`datamesh: ${signal}: finishing in-flight requests for up to ${config.shutdownGrace} ms (send it again to exit at once)\n`);
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`datamesh: the shutdown failed: ${(e as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
