/**
 * `datamesh admin ...`: the accounts commands (accounts/cli.ts) plus the operations commands
 * inspect and scrub, all through the signed admin API of a running server.
 */
import { AdminUsageError, runAdminCommand, type AdminIo, type ExtraCommand } from '../../../accounts/cli.ts';
import { renderTable } from '../../../accounts/tables.ts';
import type { InspectResult, ScrubState } from '../ops-api.ts';
import type { MeshView } from '../open-data.ts';
import { formatBytes } from '../../core/sizes.ts';
import type { ScrubResult } from '../../data/types.ts';

const inspect: ExtraCommand = async (args, client, { json }) => {
  if (args.length !== 2) throw new AdminUsageError("'inspect' takes BUCKET KEY: datamesh admin inspect BUCKET KEY [--json]");
  const [bucket, key] = args as [string, string];
  const r = await client.request<InspectResult>('GET', `/objects/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`);
  if (json) return JSON.stringify(r, null, 2) + '\n';
  const head = `${r.bucket}/${r.key}: ${r.size} bytes, ETag ${r.etag}, Reed-Solomon ${r.ec.k}+${r.ec.m}, ${r.inline ? 'kept inline (encrypted) in the metadata' : `${r.segments.length} segments`}\n`;
  const rows = r.segments.flatMap((s) => s.shards.map((sh) => [String(s.index), String(sh.index), sh.id, sh.location, sh.path ?? '']));
  return head + (rows.length ? renderTable(['segment', 'shard', 'id', 'location', 'path'], rows) : '');
};

const scrub: ExtraCommand = async (args, client, { json, io }) => {
  if (args.length !== 0) throw new AdminUsageError("'scrub' takes no arguments: datamesh admin scrub");
  const tty = (io.stderr as { isTTY?: boolean }).isTTY === true && !json;
  let timer: NodeJS.Timeout | undefined;
  if (tty) {
    timer = setInterval(() => {
      void client.request<ScrubState>('GET', '/scrub').then((s) => {
        if (!s.running || s.total === 0) return;
        const width = 30;
        const filled = Math.round((s.done / s.total) * width);
        io.stderr.write(`\rscrub [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${s.done}/${s.total} segments`);
      }, () => {});
    }, 250);
  }
  try {
    const r = await client.request<ScrubResult>('POST', '/scrub');
    if (tty) io.stderr.write('\n');
    if (json) return JSON.stringify(r, null, 2) + '\n';
    return (
      `segments checked: ${r.segmentsChecked}\nshards rebuilt: ${r.shardsRebuilt}\nsegments unrecoverable: ${r.unrecoverable.length}\n` +
      r.unrecoverable.map((u) => `  manifest ${u.manifestId} segment ${u.segment}\n`).join('')
    );
  } finally {
    if (timer) clearInterval(timer);
  }
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
  ]);
  const r = v.redundancy;
  const q = v.repair;
  return (
    renderTable(['peer', 'state', 'admission', 'address', 'shards', 'bytes', 'health'], rows) +
    `\nsegments: ${r.full} with all shards, ${r.degraded} with fewer (readable), ${r.lost} unrecoverable\n` +
    `repair: ${q.queue} segments waiting${q.running ? ', a round is running' : ''}; ${q.shardsRebuilt} shards rebuilt so far` +
    (q.lastThroughputMBs !== undefined ? ` (last round ${q.lastThroughputMBs.toFixed(1)} MB/s)` : '') +
    '\n'
  );
};

export function runAdmin(argv: string[], io: AdminIo): Promise<number> {
  return runAdminCommand(argv, io, { inspect, scrub, mesh });
}
