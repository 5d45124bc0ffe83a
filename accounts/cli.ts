/**
 * `datamesh admin user|key|quota|usage ...`: the admin CLI over the admin API.
 *
 *   user create NAME [quota flags] [--admin]    user list    user info NAME
 *   user suspend|resume|delete NAME
 *   key create NAME    key list NAME    key delete NAME ACCESS_KEY
 *   quota set NAME [quota flags]    quota show NAME
 *   usage [NAME] [--month YYYY-MM]
 *
 * Credentials: DATAMESH_ACCESS_KEY / DATAMESH_SECRET_KEY, else DATAMESH_ROOT_ACCESS_KEY /
 * DATAMESH_ROOT_SECRET_KEY, else the root-credentials.json of --data DIR (or DATAMESH_DATA, ./data).
 * Exit codes: 0 done, 1 the server said no (or could not be reached), 2 bad invocation.
 *
 * The arguments arrive parsed: the `datamesh` command's one parser (src/server/cli) checks the
 * flags of each command against its table and resolves --endpoint (DATAMESH_ENDPOINT, the admin
 * configuration file) before calling runAdminCommand.
 */
import type { AccountInfo, KeyInfo, NewKey, UsageReport } from './accounts.ts';
import { readCredentialsFile } from './bootstrap.ts';
import { formatKeys, formatNewKey, formatQuota, formatUsage, formatUserInfo, formatUsers } from './cli-format.ts';
import { AdminApiError, createAdminClient, type AdminClient } from './client.ts';
import { parseQuotaValue, QUOTA_FIELDS, QUOTA_FLAGS, type QuotaPatch, type QuotaView } from './limits.ts';
import { isMonth } from './metering.ts';

export interface AdminIo {
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

class UsageError extends Error {}
/** Thrown by extra commands for bad arguments: a one-line message and exit code 2. */
export class AdminUsageError extends Error {}

export type Values = Record<string, string | boolean | undefined>;

/** A command another module adds to `datamesh admin` (e.g. inspect, scrub): same flags, credentials and errors. */
export type ExtraCommand = (args: string[], client: AdminClient, opts: { json: boolean; io: AdminIo; values: Values }) => Promise<string>;

/** `datamesh admin` arguments as the command-line parser hands them over. */
export interface AdminArgs {
  /** Option values by long name: endpoint, region, json, data, month, admin, the quota flags; access-key / secret-key from a configuration file. */
  values: Values;
  /** The command and its arguments, e.g. ['user', 'create', 'alice']. */
  positionals: string[];
}

export async function runAdminCommand({ values, positionals }: AdminArgs, io: AdminIo, extra: Record<string, ExtraCommand> = {}): Promise<number> {
  try {
    const more = extra[positionals[0] ?? ''];
    const cmd: Command = more ? (c, json) => more(positionals.slice(1), c, { json, io, values }) : command(positionals, values);
    const client = createAdminClient({ ...credentials(values, io.env), endpoint: endpoint(values), region: str(values.region) ?? 'us-east-1', ...(io.fetch && { fetch: io.fetch }) });
    io.stdout.write(await cmd(client, values.json === true));
    return 0;
  } catch (e) {
    if (e instanceof UsageError || e instanceof AdminUsageError) {
      io.stderr.write(`datamesh admin: ${e.message}\n`);
      return 2;
    }
    if (e instanceof AdminApiError) {
      io.stderr.write(`datamesh admin: ${e.message} (${e.code}, HTTP ${e.status})\n`);
      return 1;
    }
    io.stderr.write(`datamesh admin: ${unreachable(e, endpoint(values))}\n`);
    return 1;
  }
}

type Command = (client: AdminClient, json: boolean) => Promise<string>;

const out = (json: boolean, body: unknown, text: () => string): string => (json ? JSON.stringify(body, null, 2) + '\n' : text());
const enc = encodeURIComponent;

function command(pos: string[], values: Values): Command {
  const [group, action, ...args] = pos;
  const need = (n: number, shape: string): string[] => {
    if (args.length !== n) throw new UsageError(`'${[group, action].join(' ')}' takes ${shape}: datamesh admin ${group} ${action} ${shape}`);
    return args;
  };
  const quotaFlags = quotaPatch(values);
  const hasQuota = Object.keys(quotaFlags).length > 0;
  const quotaAllowed = (group === 'user' && action === 'create') || (group === 'quota' && action === 'set');
  if (hasQuota && !quotaAllowed) throw new UsageError("quota flags apply only to 'user create' and 'quota set'");
  if (values.admin && !(group === 'user' && action === 'create')) throw new UsageError("--admin applies only to 'user create'");
  if (values.month !== undefined && group !== 'usage') throw new UsageError("--month applies only to 'usage'");

  switch (group) {
    case 'user':
      switch (action) {
        case 'create': {
          const [name] = need(1, 'NAME');
          return async (c, json) => {
            const k = await c.request<NewKey>('POST', '/users', {
              body: { name, role: values.admin ? 'admin' : 'user', ...(hasQuota && { quota: quotaFlags }) },
            });
            return out(json, pickKey(k), () => formatNewKey(k, 'account'));
          };
        }
        case 'list':
          need(0, '(no arguments)');
          return async (c, json) => {
            const r = await c.request<{ users: AccountInfo[] }>('GET', '/users');
            return out(json, r.users, () => formatUsers(r.users));
          };
        case 'info': {
          const [name] = need(1, 'NAME');
          return async (c, json) => {
            const r = await c.request<AccountInfo & { keys: KeyInfo[] }>('GET', `/users/${enc(name!)}`);
            return out(json, r, () => formatUserInfo(r));
          };
        }
        case 'suspend':
        case 'resume': {
          const [name] = need(1, 'NAME');
          return async (c, json) => {
            const r = await c.request<AccountInfo>('POST', `/users/${enc(name!)}/${action}`);
            return out(json, r, () => `Account '${r.name}' is now ${r.status}.\n`);
          };
        }
        case 'delete': {
          const [name] = need(1, 'NAME');
          return async (c, json) => {
            await c.request('DELETE', `/users/${enc(name!)}`);
            return out(json, { deleted: name }, () => `Account '${name}' deleted.\n`);
          };
        }
      }
      break;
    case 'key':
      switch (action) {
        case 'create': {
          const [name] = need(1, 'NAME');
          return async (c, json) => {
            const k = await c.request<NewKey>('POST', `/users/${enc(name!)}/keys`);
            return out(json, pickKey(k), () => formatNewKey(k, 'key'));
          };
        }
        case 'list': {
          const [name] = need(1, 'NAME');
          return async (c, json) => {
            const r = await c.request<{ name: string; keys: KeyInfo[] }>('GET', `/users/${enc(name!)}/keys`);
            return out(json, r, () => formatKeys(r.keys));
          };
        }
        case 'delete': {
          const [name, key] = need(2, 'NAME ACCESS_KEY');
          return async (c, json) => {
            await c.request('DELETE', `/users/${enc(name!)}/keys/${enc(key!)}`);
            return out(json, { name, deleted: key }, () => `Access key ${key} of '${name}' deleted.\n`);
          };
        }
      }
      break;
    case 'quota':
      switch (action) {
        case 'set': {
          const [name] = need(1, 'NAME [quota flags]');
          if (!hasQuota) throw new UsageError("'quota set' needs at least one quota flag, e.g. --max-storage 5GiB (see --help)");
          return async (c, json) => {
            const r = await c.request<{ name: string; quota: QuotaView }>('PATCH', `/users/${enc(name!)}/quota`, { body: quotaFlags });
            return out(json, r, () => `Quota of '${r.name}':\n` + formatQuota(r.quota));
          };
        }
        case 'show': {
          const [name] = need(1, 'NAME');
          return async (c, json) => {
            const r = await c.request<{ name: string; quota: QuotaView }>('GET', `/users/${enc(name!)}/quota`);
            return out(json, r, () => formatQuota(r.quota));
          };
        }
      }
      break;
    case 'usage': {
      const rest = [action, ...args].filter((x): x is string => x !== undefined);
      if (rest.length > 1) throw new UsageError("'usage' takes at most one account name: datamesh admin usage [NAME] [--month YYYY-MM]");
      const month = str(values.month);
      if (month !== undefined && !isMonth(month)) throw new UsageError(`--month '${month}' is not a month: write it as YYYY-MM, e.g. 2025-06`);
      const name = rest[0];
      return async (c, json) => {
        const r = await c.request<{ month?: string; usage: UsageReport[] }>(
          'GET',
          name === undefined ? '/usage' : `/users/${enc(name)}/usage`,
          { query: { month } },
        );
        return out(json, r, () => formatUsage(r.month, r.usage));
      };
    }
    case undefined:
      throw new UsageError("no command given: try 'datamesh admin user list' or 'datamesh admin --help'");
    default:
      throw new UsageError(`unknown command '${group}': use user, key, quota or usage (see 'datamesh help admin')`);
  }
  throw new UsageError(
    action === undefined
      ? `'${group}' needs a subcommand (see 'datamesh admin --help')`
      : `unknown command '${group} ${action}' (see 'datamesh admin --help')`,
  );
}

const pickKey = (k: NewKey): NewKey => ({ name: k.name, accessKeyId: k.accessKeyId, secretAccessKey: k.secretAccessKey });

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

function quotaPatch(values: Values): QuotaPatch {
  const patch: QuotaPatch = {};
  for (const f of QUOTA_FIELDS) {
    const v = str(values[QUOTA_FLAGS[f]]);
    if (v === undefined) continue;
    try {
      patch[f] = parseQuotaValue(f, v);
    } catch (e) {
      throw new UsageError(`--${QUOTA_FLAGS[f]}: ${(e as Error).message} (or 'none' for no limit)`);
    }
  }
  return patch;
}

function endpoint(values: Values): string {
  const e = str(values.endpoint) ?? 'http://127.0.0.1:9000';
  let url: URL;
  try {
    url = new URL(e);
  } catch {
    throw new UsageError(`--endpoint '${e}' is not a URL: write it like http://127.0.0.1:9000`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--endpoint '${e}' must start with http:// or https://`);
  }
  return e;
}

function credentials(values: Values, env: AdminIo['env']): { accessKeyId: string; secretAccessKey: string } {
  const pair = (a: string, s: string): { accessKeyId: string; secretAccessKey: string } | undefined => {
    const ak = env[a];
    const sk = env[s];
    if (ak && sk) return { accessKeyId: ak, secretAccessKey: sk };
    if (ak || sk) throw new UsageError(`set both ${a} and ${s}, or neither`);
    return undefined;
  };
  const fromEnv =
    pair('DATAMESH_ACCESS_KEY', 'DATAMESH_SECRET_KEY') ?? pair('DATAMESH_ROOT_ACCESS_KEY', 'DATAMESH_ROOT_SECRET_KEY');
  if (fromEnv) return fromEnv;
  const ak = str(values['access-key']);
  const sk = str(values['secret-key']);
  if (ak && sk) return { accessKeyId: ak, secretAccessKey: sk };
  const dir = str(values.data) ?? env.DATAMESH_DATA ?? './data';
  let file;
  try {
    file = readCredentialsFile(dir);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (!file) {
    throw new UsageError(
      `no admin credentials: set DATAMESH_ACCESS_KEY and DATAMESH_SECRET_KEY (or DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY), or pass --data DIR of a server that generated root-credentials.json (looked in ${dir})`,
    );
  }
  return { accessKeyId: file.accessKeyId, secretAccessKey: file.secretAccessKey };
}

function unreachable(e: unknown, url: string): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const why = err.cause?.code ?? err.cause?.message ?? err.message;
  return `cannot reach the datamesh server at ${url} (${why}): start it with 'datamesh serve' or pass --endpoint`;
}

