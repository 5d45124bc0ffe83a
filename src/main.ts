/**
 * The process: configuration -> database -> storage -> accounts -> HTTP. startServer() is what
 * `datamesh serve` runs and what the tests start on a loopback port.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { createApp } from './app.ts';
import { ConfigError, type Config } from './config.ts';
import { openDatabase } from './db.ts';
import { createLogger, type Logger } from './log.ts';
import { loadMasterKey } from './core/master-key.ts';
import { Store } from './store/store.ts';
import { openDataStore } from './store/open.ts';
import { authenticate } from '../s3/auth/index.ts';
import { createAccounts } from '../accounts/accounts.ts';
import { createAdminApi } from '../accounts/admin-api.ts';
import { mountOpsApi } from './ops-api.ts';
import { quotaSettingsFromConfig } from '../accounts/limits.ts';

export interface RunningServer {
  /** http://host:port */
  url: string;
  port: number;
  config: Config;
  rootCredentials: { accessKey: string; secretKey: string; generated: boolean };
  store: Store;
  /** Graceful stop: in-flight requests get `graceMs` (default 10 s) to finish. */
  close(graceMs?: number): Promise<void>;
}

export async function startServer(config: Config, opts: { env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? createLogger(config.logLevel);
  const dataDir = resolve(config.data);
  mkdirSync(dataDir, { recursive: true });
  const { key: masterKey } = loadMasterKey(dataDir, env);
  const db = openDatabase(join(dataDir, 'datamesh.db'));

  const data = await openDataStore({ config, db, masterKey, dataDir, log });
  const accountsRef: { usage?: Store['usage'] } = {};
  let defaults;
  try {
    defaults = quotaSettingsFromConfig(config.quotaDefaults ?? {});
  } catch (e) {
    throw new ConfigError(`[quota.defaults]: ${(e as Error).message}`);
  }
  const accounts = createAccounts({
    db,
    defaults,
    masterKey,
    dataDir,
    root:
      env.DATAMESH_ROOT_ACCESS_KEY && env.DATAMESH_ROOT_SECRET_KEY
        ? { accessKey: env.DATAMESH_ROOT_ACCESS_KEY, secretKey: env.DATAMESH_ROOT_SECRET_KEY }
        : undefined,
    usage: (account) => accountsRef.usage!(account),
    log,
  });
  const store = new Store({ db, data: data.store, limits: accounts.limits, log });
  accountsRef.usage = (account) => store.usage(account);
  const recovered = await data.store.collect();
  if (recovered.manifests > 0 || recovered.shards > 0) {
    log.info({ recovered }, `collected ${recovered.manifests} unreferenced manifests and ${recovered.shards} orphaned shards`);
  }
  const rootCredentials = accounts.bootstrap();

  const auth = (req: Parameters<typeof authenticate>[0]) => authenticate(req, accounts.lookup, { region: config.region });
  const app = createApp({
    store,
    region: config.region,
    domain: config.domain,
    authenticate: auth,
    // Deletes free space: they stay allowed over the monthly transfer quota.
    admit: (account, kind, op) => accounts.admit(account, kind, { transfersData: !op.startsWith('Delete') && op !== 'AbortMultipartUpload' }),
    onDone: (r) => {
      if (r.account) accounts.recordTransfer(r.account, { ingress: r.bytesIn, egress: r.bytesOut });
      log.info(
        {
          reqId: r.requestId,
          method: r.method,
          op: r.operation,
          bucket: r.bucket,
          key: r.key,
          status: r.status,
          err: r.errorCode,
          bytesIn: r.bytesIn,
          bytesOut: r.bytesOut,
          ms: Math.round(r.durationMs * 10) / 10,
        },
        'request',
      );
    },
    onInternalError: (err, r) => log.error({ err, reqId: r.requestId, op: r.operation }, 'internal error'),
    mount: (app) => {
      const admin = createAdminApi(accounts, {
        authenticate: auth,
        log,
        extend: (api) => mountOpsApi(api, { store, data: data.store }),
      });
      app.route('/_datamesh/admin/v1', admin);
    },
  });

  const [host, portText] = splitHostPort(config.listen);
  const server = await new Promise<Server>((ok, fail) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: Number(portText) }, () => ok(s as Server)) as Server;
    s.once('error', fail);
  });
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url, data: dataDir, region: config.region }, `datamesh serving S3 at ${url}`);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    config,
    rootCredentials,
    store,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        // Stop accepting; let in-flight requests finish within the grace period, then cut the rest.
        await new Promise<void>((ok) => {
          const force = setTimeout(() => server.closeAllConnections(), graceMs);
          server.close(() => {
            clearTimeout(force);
            ok();
          });
          server.closeIdleConnections();
        });
        await accounts.close();
        await store.close();
        await data.close();
        db.close();
      })();
      return closing;
    },
  };
}

export function splitHostPort(listen: string): [string, string] {
  const i = listen.lastIndexOf(':');
  const host = listen.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
  return [host, listen.slice(i + 1)];
}
