/**
 * The process: configuration -> database -> storage -> accounts -> HTTP. startServer() is what
 * `datamesh serve` runs and what the tests start on a loopback port.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createApp } from './app.ts';
import { ConfigError, type Config } from './config.ts';
import { openCatalog } from '../core/db.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { loadMasterKey } from '../core/master-key.ts';
import { Store } from '../store/store.ts';
import { Catalog } from '../store/catalog.ts';
import { mapDiskFull } from '../store/disk-full.ts';
import { LifecycleWorker } from '../store/lifecycle.ts';
import { openDataStore } from './open-data.ts';
import { authenticate } from '../../s3/auth/index.ts';
import { dispatch, requestClassOf, type Route } from '../../s3/handlers/index.ts';
import type { OperationName } from '../../s3/router.ts';
import { createAccounts } from '../../accounts/accounts.ts';
import { createAdminApi } from './admin-api.ts';
import { mountOpsApi } from './ops-api.ts';
import { mountConsole } from './console/index.ts';
import { quotaSettingsFromConfig } from '../../accounts/limits.ts';
import { createMetrics, metricsResponse, type Metrics } from './metrics.ts';
import { applyServerLimits, createRequestLimits, serverOptions } from './limits.ts';
import { countOpenUploads, trackServer } from './shutdown.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { loadTls, tlsFilesOf } from './tls.ts';
import { isLoopback } from '../core/loopback.ts';

export interface RunningServer {
  /** http://host:port */
  url: string;
  port: number;
  config: Config;
  rootCredentials: { accessKey: string; secretKey: string; generated: boolean };
  /** True when this start generated DIR/master.key: tell the operator to export the recovery kit. */
  masterKeyGenerated: boolean;
  store: Store;
  metrics: Metrics;
  /** Bucket lifecycle rules, applied every --lifecycle-interval (tests call runOnce()). */
  lifecycle: LifecycleWorker;
  /**
   * Re-reads --tls-cert and --tls-key (SIGHUP): new connections get the new pair, open ones keep
   * theirs. A bad pair is logged and the old one stays; answers what happened. Without TLS: no-op.
   */
  reloadTls(): { reloaded: boolean; error?: string };
  /** Graceful stop: in-flight requests get `graceMs` (default: --shutdown-grace) to finish. */
  close(graceMs?: number): Promise<void>;
}

export async function startServer(config: Config, opts: { env?: NodeJS.ProcessEnv; log?: Logger } = {}): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? createLogger(config.logLevel, config.logFormat);
  const dataDir = resolve(config.data);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 }); // keys, secrets and shards: owner only
  // One process per data directory, before anything in it is read or collected.
  const lock = lockDataDir(dataDir, 'serve');
  try {
    return await startLocked(config, env, log, dataDir, lock);
  } catch (e) {
    lock.release();
    throw e;
  }
}

async function startLocked(config: Config, env: NodeJS.ProcessEnv, log: Logger, dataDir: string, lock: DataDirLock): Promise<RunningServer> {
  const startedAt = Date.now();
  // A bad certificate stops the start before anything is opened.
  const tlsFiles = tlsFilesOf(config);
  const tls = tlsFiles && loadTls(tlsFiles);
  const { key: masterKey, generated: masterKeyGenerated } = loadMasterKey(dataDir, env);
  const db = openCatalog(config.catalog ?? join(dataDir, 'datamesh.db'));

  // In dependency order: metrics (the data path reports into them; each source is attached once it
  // exists), data, the catalog, accounts (which report usage from the catalog), then the store
  // (which enforces the accounts' limits).
  const metrics = createMetrics({ accountSeries: config.metricsToken !== undefined });
  const data = await openDataStore({ config, db, masterKey, dataDir, log, metrics });
  metrics.attach({ ec: () => data.store.counters });
  const catalog = new Catalog(db);
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
    usage: (account) => catalog.usage.get(account),
    log,
  });
  // a full disk under the catalog is a clean 503 SlowDown, not an InternalError
  const store = mapDiskFull(
    new Store({ db, catalog, data: data.store, limits: accounts.limits, log, mayBypassGovernance: (a) => accounts.mayBypassGovernance(a) }),
    `the disk holding the catalog ${dataDir}`,
  );
  metrics.attach({ accounts: () => accounts.listAccounts().map((a) => a.name), usage: (account) => store.usage(account) });
  store.lifecycleDayMs = config.lifecycleDay;
  const lifecycle = new LifecycleWorker(store, { intervalMs: config.lifecycleInterval, log, onRun: (c) => metrics.lifecycle(c) });
  lifecycle.start();
  const recovered = await data.store.collect();
  const interruptedUploads = countOpenUploads(store);
  log.info(
    { recovered: { ...recovered, interruptedUploads } },
    `start-up collection (normal): freed ${recovered.manifests} manifests of deleted or overwritten objects and ${recovered.shards} shards no object refers to; ${interruptedUploads} multipart uploads are open (clients complete or abort them)`,
  );
  const rootCredentials = accounts.bootstrap();
  const limits = createRequestLimits(config, { onReject: (l) => metrics.rejected(l) });
  metrics.attach({ inFlight: () => limits.inFlight });

  const auth = (req: Parameters<typeof authenticate>[0]) => authenticate(req, accounts.lookup, { region: config.region, sigv2: config.sigv2, ...(config.domain ? { domain: config.domain } : {}) });
  const app = createApp({
    store,
    region: config.region,
    domain: config.domain,
    allowInsecureSseC: config.allowInsecureSseC,
    authenticate: auth,
    lookup: accounts.lookup,
    sigv2: config.sigv2,
    admit: (account, a) => accounts.admit(account, a.requestClass, { transfersData: a.transfersData }),
    chargeTransfer: (account, op, t) => {
      const r = dispatch[op as OperationName] as Route<OperationName> | undefined;
      accounts.chargeTransfer(account, t, r !== undefined && (r.transfersData ?? true) && requestClassOf(r) !== 'list');
    },
    limits,
    onDone: (r) => {
      metrics.observeRequest(r);
      if (r.account) accounts.recordTransfer(r.account, { ingress: r.bytesIn - (r.chargedIn ?? 0), egress: r.bytesOut - (r.chargedOut ?? 0) });
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
    // The client got the message without this host's paths or peer ids; the log keeps them.
    onServerFault: (detail, r) => log.warn({ reqId: r.requestId, op: r.operation, code: r.code, detail }, `server fault (${r.code}): ${detail}`),
    mount: (app) => {
      app.get('/_datamesh/metrics', (c) => metricsResponse(metrics, c.req.header('authorization'), config.metricsToken));
      const admin = createAdminApi(accounts, {
        authenticate: auth,
        log,
        extend: (api) =>
          mountOpsApi(api, {
            store,
            data: data.store,
            view: () => data.view(),
            setAdmission: (peer, action) => data.setAdmission(peer, action),
            ...(data.catalog ? { syncCatalog: () => data.catalog!.syncNow(true) } : {}),
            about: {
              dataDir,
              capacity: config.capacity,
              startedAt,
              role: data.mesh ? 'gateway' : 'single',
              accounts: () => accounts.listAccounts().map((a) => a.name),
            },
          }),
      });
      app.route('/_datamesh/admin/v1', admin);
      mountConsole(app, { accounts, region: config.region, self: () => innerUrl ?? url, log });
    },
  });

  const [host, portText] = splitHostPort(config.listen);
  // Every listener, the console's loopback one included, gets the same header size, timeouts and
  // parser-error answers.
  const listen = (hostname: string, port: number, secure: boolean) =>
    new Promise<Server>((ok, fail) => {
      const s = serve(
        {
          fetch: app.fetch,
          hostname,
          port,
          serverOptions: { ...serverOptions(config), ...(secure ? tls : {}) },
          ...(secure ? { createServer: createHttpsServer } : {}),
        },
        () => ok(s as Server),
      ) as Server;
      s.once('error', fail);
      applyServerLimits(s, config, { onReject: (l) => metrics.rejected(l) });
    });
  const server = await listen(host, Number(portText), tls !== undefined);
  // Over HTTPS the console reaches its own S3 API through a loopback listener, so that it needs
  // neither to trust the certificate nor to match its name (the host name a certificate names
  // is rarely the listen address).
  const inner = tls ? await listen('127.0.0.1', 0, false) : undefined;
  // Expect: 100-continue goes to the app, which answers it once the request is authorized (s3/service.ts).
  server.on('checkContinue', (req, res) => server.emit('request', req, res));
  const http = trackServer(server);
  const port = (server.address() as AddressInfo).port;
  const url = `${tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const innerUrl = inner && `http://127.0.0.1:${(inner.address() as AddressInfo).port}`;
  log.info({ url, data: dataDir, region: config.region }, `datamesh serving S3 at ${url}`);
  if (!tls && !isLoopback(host)) {
    log.warn(
      { listen: config.listen },
      `the admin API (/_datamesh/admin) and the console are reachable over plain HTTP on ${host}: credentials and session cookies cross the network in clear; serve HTTPS with --tls-cert and --tls-key, or listen on 127.0.0.1 behind a TLS proxy`,
    );
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    config,
    rootCredentials,
    masterKeyGenerated,
    store,
    metrics,
    lifecycle,
    reloadTls() {
      if (!tlsFiles) return { reloaded: false };
      try {
        (server as unknown as HttpsServer).setSecureContext(loadTls(tlsFiles));
      } catch (e) {
        const error = (e as Error).message;
        log.error({ cert: tlsFiles.cert, key: tlsFiles.key }, `TLS reload failed; still serving the previous certificate: ${error}`);
        return { reloaded: false, error };
      }
      log.info({ cert: tlsFiles.cert, key: tlsFiles.key }, 'TLS certificate and key reloaded: new connections use them');
      return { reloaded: true };
    },
    close(graceMs = config.shutdownGrace) {
      closing ??= (async () => {
        // Stop accepting; let in-flight requests finish within the grace period, then cut the rest.
        log.info({ inFlight: http.inFlight, graceMs }, `stopping: no new connections; ${http.inFlight} requests in flight get up to ${graceMs} ms`);
        const { cut } = await http.close(graceMs);
        inner?.closeAllConnections();
        inner?.close();
        // Requests cut at the deadline unwind (their uploads abort) before the database closes.
        const drained = await limits.drained(5_000);
        if (cut > 0 || !drained) log.warn({ cut, drained }, `stopped after the grace period: ${cut} requests were cut`);
        await lifecycle.stop();
        await accounts.close();
        await store.close();
        await data.close();
        db.close();
        metrics.close();
        lock.release();
        log.info({}, 'stopped: database and data store closed');
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
