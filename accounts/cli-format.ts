/**
 * How the admin CLI shows what the admin API returns: readable tables by default. Pure functions
 * from response bodies to text.
 */
import type { AccountInfo, KeyInfo, NewKey, UsageReport } from './accounts.ts';
import { QUOTA_FIELDS, QUOTA_FLAGS, SIZE_FIELDS, type QuotaView } from './limits.ts';
import { formatBytes, formatCount } from '../src/core/sizes.ts';
import { renderPairs, renderTable } from './tables.ts';

const day = (iso: string): string => iso.replace('T', ' ').slice(0, 19);

export function formatNewKey(k: NewKey, what: 'account' | 'key'): string {
  const head =
    what === 'account'
      ? `Created account '${k.name}'. The secret key is shown only this once: store it now.\n`
      : `Created a new access key for '${k.name}'. The secret key is shown only this once: store it now.\n`;
  return head + renderPairs([
    ['Name', k.name],
    ['Access key id', k.accessKeyId],
    ['Secret access key', k.secretAccessKey],
  ]);
}

export function formatUsers(users: AccountInfo[]): string {
  return renderTable(
    ['NAME', 'ROLE', 'STATUS', 'KEYS', 'STORAGE', 'OBJECTS', 'BUCKETS', 'CREATED'],
    users.map((u) => [
      u.name,
      u.role,
      u.status,
      String(u.accessKeys),
      formatBytes(u.usage.bytes),
      formatCount(u.usage.objects),
      formatCount(u.usage.buckets),
      day(u.created),
    ]),
    ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'left'],
  );
}

const limitText = (field: (typeof QUOTA_FIELDS)[number], limit: number | null): string =>
  limit === null ? 'none' : SIZE_FIELDS.has(field) ? `${formatBytes(limit)} (${limit} B)` : formatCount(limit);

export function formatQuota(quota: QuotaView): string {
  return renderTable(
    ['QUOTA', 'LIMIT', 'FROM'],
    QUOTA_FIELDS.map((f) => [
      QUOTA_FLAGS[f],
      limitText(f, quota[f].limit),
      quota[f].source === 'account' ? 'set on the account' : quota[f].source === 'lifted' ? 'lifted (none)' : 'default',
    ]),
  );
}

export function formatKeys(keys: KeyInfo[]): string {
  if (keys.length === 0) return 'No access keys.\n';
  return renderTable(
    ['ACCESS KEY ID', 'STATUS', 'CREATED'],
    keys.map((k) => [k.accessKeyId, k.status, day(k.created)]),
  );
}

export function formatUserInfo(u: AccountInfo & { keys: KeyInfo[] }): string {
  return (
    renderPairs([
      ['Name', u.name],
      ['Role', u.role],
      ['Status', u.status],
      ['Created', day(u.created)],
      ['Canonical ID', u.canonicalId],
      ['Storage', `${formatBytes(u.usage.bytes)} (exactly ${u.usage.bytes} bytes: live objects plus open multipart parts)`],
      ['Objects', formatCount(u.usage.objects)],
      ['Buckets', formatCount(u.usage.buckets)],
    ]) +
    '\n' +
    formatQuota(u.quota) +
    '\n' +
    formatKeys(u.keys)
  );
}

export function formatUsage(month: string | undefined, usage: UsageReport[]): string {
  if (usage.length === 0) return `No usage recorded${month ? ` in ${month}` : ''}.\n`;
  return renderTable(
    ['ACCOUNT', 'MONTH', 'STORAGE NOW', 'STORAGE BYTE-HOURS', 'INGRESS', 'EGRESS', 'WRITE/LIST REQ', 'READ REQ'],
    usage.map((r) => [
      r.exists ? r.account : `${r.account} (deleted)`,
      r.month,
      r.current ? formatBytes(r.current.bytes) : '-',
      `${formatBytes(Math.round(r.storageByteHours))}-h`,
      formatBytes(r.ingressBytes),
      formatBytes(r.egressBytes),
      formatCount(r.writeRequests),
      formatCount(r.readRequests),
    ]),
    ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'],
  );
}
