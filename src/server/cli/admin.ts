/**
 * `datamesh admin ...`: the accounts commands (accounts/cli.ts) plus the operations commands
 * info, inspect, scrub, jobs and mesh, all through the signed admin API of a running server.
 *
 * Where the server is: --endpoint, else DATAMESH_ENDPOINT, else `endpoint` of the admin
 * configuration file (--config FILE, default $XDG_CONFIG_HOME/datamesh/config.toml), else
 * http://127.0.0.1:9000.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { AdminUsageError, runAdminCommand, type AdminIo, type ExtraCommand, type Values } from '../../../accounts/cli.ts';
import { AdminApiError, type AdminClient } from '../../../accounts/client.ts';
import { renderTable } from '../../../accounts/tables.ts';
import type { InfoView, InspectResult, JobView } from '../ops-api.ts';
import type { CatalogView, MeshView } from '../open-data.ts';
import { formatBytes } from '../../core/sizes.ts';
import { readConfigFile } from '../config.ts';
import type { CliIo, CommandContext } from './types.ts';

const inspect: ExtraCommand = async (args, client, { json, values }) => {
  const versionId = typeof values['version-id'] === 'string' ? values['version-id'] : undefined;
  const [bucket, key] = args as [string, string];
  const r = await client.request<InspectResult>('GET', `/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`, {
    query: { versionId },
  });
  if (json) return JSON.stringify(r, null, 2) + '\n';
  const head = `${r.bucket}/${r.key}${r.versionId !== undefined && r.versionId !== 'null' ? ` (version ${r.versionId})` : ''}: ${r.size} bytes, ETag ${r.etag}, Reed-Solomon ${r.ec.k}+${r.ec.m}, ${r.inline ? 'kept inline (encrypted) in the metadata' : `${r.segments.length} segments`}\n`;
  const rows = r.segments.flatMap((s) => s.shards.map((sh) => [String(s.index), String(sh.index), sh.id, sh.location, sh.path ?? '']));
  return head + (rows.length ? renderTable(['segment', 'shard', 'id', 'location', 'path'], rows) : '');
};

const isTty = (io: AdminIo) => (io.stderr as { isTTY?: boolean }).isTTY === true;

/**
 * Follows a job until it ends: a progress bar on a terminal (stderr), nothing otherwise. Each
 * request waits on the server for the job to finish, so an idle timeout never cuts a long job's
 * follower and the end is seen at once.
 */
async function follow(client: AdminClient, job: JobView, io: AdminIo, json: boolean): Promise<JobView> {
  const bar = isTty(io) && !json;
  while (job.state === 'running') {
    if (bar && job.progress.total > 0) {
      const width = 30;
      const filled = Math.round((job.progress.done / job.progress.total) * width);
      io.stderr.write(`\r${job.kind} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${job.progress.done}/${job.progress.total} segments`);
    }
    job = await client.request<JobView>('GET', `/jobs/${encodeURIComponent(job.id)}`, { query: { wait: bar ? '0.5' : '10' } });
  }
  if (bar) io.stderr.write('\n');
  if (job.state === 'failed') throw new AdminApiError(500, 'JobFailed', `job ${job.id} failed: ${job.error ?? 'see the server log'}`);
  return job;
}

const scrubSummary = (job: JobView): string => {
  const r = job.result!;
  return (
    `segments checked: ${r.segmentsChecked}\nshards rebuilt: ${r.shardsRebuilt}\nsegments unrecoverable: ${r.unrecoverable.length}\n` +
    r.unrecoverable.map((u) => `  manifest ${u.manifestId} segment ${u.segment}\n`).join('')
  );
};

/** The end of a followed job: its summary, or with --json the scrub summary fields plus the job id. */
const finished = (job: JobView, json: boolean): string =>
  json ? JSON.stringify({ job: job.id, state: job.state, ...job.result }, null, 2) + '\n' : scrubSummary(job);

const scrub: ExtraCommand = async (_args, client, { json, io, values }) => {
  const job = await client.request<JobView>('POST', '/jobs', { body: { kind: 'scrub' } });
  if (values.detach) return json ? JSON.stringify(job, null, 2) + '\n' : `scrub job ${job.id} started; follow it with: datamesh admin jobs ${job.id}\n`;
  io.stderr.write(`scrub job ${job.id} running (interrupting this command leaves it running: datamesh admin jobs ${job.id})\n`);
  return finished(await follow(client, job, io, json), json);
};

const jobs: ExtraCommand = async (args, client, { json, io }) => {
  if (args.length === 1) {
    const job = await client.request<JobView>('GET', `/jobs/${encodeURIComponent(args[0]!)}`);
    return finished(await follow(client, job, io, json), json);
  }
  const r = await client.request<{ jobs: JobView[] }>('GET', '/jobs');
  if (json) return JSON.stringify(r, null, 2) + '\n';
  if (r.jobs.length === 0) return 'no jobs since the server started\n';
  const rows = r.jobs.map((j) => [
    j.id,
    j.kind,
    j.state,
    j.progress.total > 0 ? `${j.progress.done}/${j.progress.total}` : '-',
    j.started,
    j.finished ?? '',
  ]);
  return renderTable(['id', 'kind', 'state', 'progress', 'started', 'finished'], rows);
};

const duration = (s: number): string => {
  const parts: string[] = [];
  for (const [n, u] of [[86400, 'd'], [3600, 'h'], [60, 'm']] as const) {
    if (s >= n) {
      parts.push(`${Math.floor(s / n)}${u}`);
      s %= n;
    }
  }
  return [...parts, `${s}s`].join(' ');
};

const info: ExtraCommand = async (_args, client, { json }) => {
  const v = await client.request<InfoView>('GET', '/info');
  if (json) return JSON.stringify(v, null, 2) + '\n';
  const p = v.mesh.peers;
  return (
    `version:        datamesh ${v.version} (node ${v.node})\n` +
    `uptime:         ${duration(v.uptimeSeconds)} (since ${v.started})\n` +
    `data directory: ${v.dataDir}\n` +
    `capacity:       ${v.capacity === null ? 'unlimited' : formatBytes(v.capacity)}` +
    (v.disk ? `; disk ${formatBytes(v.disk.freeBytes)} free of ${formatBytes(v.disk.totalBytes)}\n` : '\n') +
    `stored:         ${formatBytes(v.usage.bytes)} in ${v.usage.objects} objects, ${v.usage.buckets} buckets, ${v.usage.accounts} accounts\n` +
    `mesh:           ${v.mesh.role === 'single' ? 'single node (no mesh)' : 'gateway'}, peer ${v.mesh.self}\n` +
    `peers:          ${p.up} up, ${p.suspect} suspect, ${p.down} down\n` +
    `jobs running:   ${v.jobs.running}\n`
  );
};

const mesh: ExtraCommand = async (args, client, { json }) => {
  if (args[0] === 'admit' || args[0] === 'evict') {
    if (args.length !== 2) throw new AdminUsageError(`'mesh ${args[0]}' takes one PEER_ID: datamesh admin mesh ${args[0]} 12D3KooW...`);
    const r = await client.request<{ peer: string; admission: string }>('POST', `/mesh/peers/${encodeURIComponent(args[1]!)}/${args[0]}`);
    if (json) return JSON.stringify(r, null, 2) + '\n';
    return `${r.peer}: ${r.admission}${r.admission === 'evicted' ? ' (its shards are being rebuilt on other peers: see datamesh admin mesh)' : ''}\n`;
  }
  if (args.length !== 0) throw new AdminUsageError("'mesh' takes no arguments, or admit|evict PEER_ID: datamesh admin mesh [--json] | datamesh admin mesh admit|evict PEER_ID");
  const v = await client.request<MeshView>('GET', '/mesh');
  if (json) return JSON.stringify(v, null, 2) + '\n';
  const rows = v.peers.map((p) => [
    p.id + (p.self ? ' (this node)' : ''),
    p.state,
    p.admission,
    p.addresses[0] ?? '',
    p.shardsHeld === null ? '-' : String(p.shardsHeld),
    p.bytes === null ? '-' : formatBytes(p.bytes),
    `${Math.round(p.health.successRate * 100)}% ${Math.round(p.health.latencyMs ?? 0)}ms score ${p.health.score.toFixed(2)}`,
    p.audits ? `${p.audits.passed} passed, ${p.audits.failed} failed` : '-',
  ]);
  const r = v.redundancy;
  const q = v.repair;
  return (
    renderTable(['peer', 'state', 'admission', 'address', 'shards', 'bytes', 'health', 'audits'], rows) +
    `\nsegments: ${r.full} with all shards, ${r.degraded} with fewer (readable), ${r.lost} unrecoverable\n` +
    `repair: ${q.queue} segments waiting${q.running ? ', a round is running' : ''}` +
    (q.progress ? ` (${q.progress.segmentsDone} of ${q.progress.segmentsToRepair} segments, ${formatBytes(q.progress.bytesRebuilt)} rebuilt)` : '') +
    `; ${q.shardsRebuilt} shards rebuilt so far` +
    (q.lastThroughputMBs !== undefined ? ` (last round ${q.lastThroughputMBs.toFixed(1)} MB/s)` : '') +
    '\n' +
    (v.catalog
      ? `catalog: copy #${v.catalog.seq} in the mesh, taken ${v.catalog.lastSync ?? 'never'}; ${v.catalog.lagSeconds} s of changes not yet there` +
        (v.catalog.stale ? ' (STALE: the mesh holds a newer catalog; run datamesh recover)' : '') +
        (v.catalog.lastError ? `; last error: ${v.catalog.lastError}` : '') +
        '\n'
      : '')
  );
};

const catalog: ExtraCommand = async (args, client, { json }) => {
  if (args.length !== 1 || args[0] !== 'sync') throw new AdminUsageError("'catalog' takes 'sync': datamesh admin catalog sync [--json]");
  const c = await client.request<CatalogView>('POST', '/catalog/sync');
  if (json) return JSON.stringify(c, null, 2) + '\n';
  return `catalog copy #${c.seq} taken ${c.lastSync} is durable in the mesh\n`;
};

export const EXTRA: Record<string, ExtraCommand> = { info, inspect, scrub, jobs, mesh, catalog };

/** Keys of the admin configuration file ($XDG_CONFIG_HOME/datamesh/config.toml). */
const ADMIN_FILE_KEYS = ['endpoint', 'region', 'data', 'access_key', 'secret_key'];

/** The admin configuration file: --config, else $XDG_CONFIG_HOME (or ~/.config)/datamesh/config.toml when it exists. */
export function adminConfigPath(values: Values, env: CliIo['env']): string | undefined {
  if (typeof values.config === 'string') return values.config;
  const base = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, '.config') : env === process.env ? join(homedir(), '.config') : undefined);
  if (!base) return undefined;
  const file = join(base, 'datamesh', 'config.toml');
  return existsSync(file) ? file : undefined;
}

/** Flags first, then the environment, then the admin configuration file. */
export function resolveAdminValues(values: Values, env: CliIo['env']): Values {
  const path = adminConfigPath(values, env);
  const file = path ? readConfigFile(path, new Set([...ADMIN_FILE_KEYS, ...ADMIN_FILE_KEYS.map((k) => k.replace('_', '-'))]), ADMIN_FILE_KEYS.join(', ')).file : {};
  const fromFile = (k: string): string | undefined => {
    const v = file[k] ?? file[k.replace('_', '-')];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new AdminUsageError(`--config ${path}: ${k} must be a string, e.g. ${k} = "..."`);
    return v;
  };
  const pick = (flag: string, envName: string | undefined, key: string) =>
    (typeof values[flag] === 'string' ? (values[flag] as string) : undefined) ?? (envName ? env[envName] || undefined : undefined) ?? fromFile(key);
  const out: Values = { ...values };
  for (const [flag, envName, key] of [
    ['endpoint', 'DATAMESH_ENDPOINT', 'endpoint'],
    ['region', undefined, 'region'],
    ['data', 'DATAMESH_DATA', 'data'],
    ['access-key', undefined, 'access_key'],
    ['secret-key', undefined, 'secret_key'],
  ] as const) {
    const v = pick(flag, envName, key);
    if (v !== undefined) out[flag] = v;
  }
  return out;
}

/** The command table's runner for every `datamesh admin ...` command. */
export async function adminCommand({ values, args, path, io }: CommandContext): Promise<number> {
  let resolved: Values;
  try {
    resolved = resolveAdminValues(values as Values, io.env);
  } catch (e) {
    io.stderr.write(`datamesh admin: ${(e as Error).message}\n`);
    return 2;
  }
  return runAdminCommand({ values: resolved, positionals: [...path.slice(1), ...args] }, io, EXTRA);
}
