/**
 * The command table of `datamesh`: every command and subcommand with its arguments, its flags and
 * what runs it. Help, strict flag checking and shell completion are all generated from it (and
 * from the settings table of src/server/config.ts): adding a flag is one entry in SETTINGS (server
 * flags) or in a command's `options`; adding a subcommand is one entry in COMMANDS.
 */
import { QUOTA_FIELDS, QUOTA_FLAGS } from '../../../accounts/limits.ts';
import { envName, settingOptions, SETTINGS, type Kind, type Setting } from '../config.ts';
import type { CommandContext, CommandSpec, Options } from './types.ts';

export type { CliIo, CommandContext, CommandSpec, OptionSpec, Options } from './types.ts';

const ARG: Record<Kind, string> = { string: 'VALUE', size: 'SIZE', duration: 'DUR', int: 'N', list: 'MULTIADDR', bool: 'BOOL' };
const PLACEHOLDER: Record<string, string> = { listen: 'HOST:PORT', data: 'DIR', region: 'R', domain: 'D', 'log-level': 'LEVEL', 'log-format': 'json|pretty', ec: 'K+M', 'metrics-token': 'T', 'swarm-key': 'FILE', 'admit-peers': 'manual|auto|PEER_ID' };

const MS: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's'], [1, 'ms']];
const BYTES: [number, string][] = [[2 ** 40, 'TiB'], [2 ** 30, 'GiB'], [2 ** 20, 'MiB'], [2 ** 10, 'KiB'], [1, '']];
const exact = (n: number, units: [number, string][]) => {
  const [size, unit] = units.find(([u]) => n !== 0 && n % u === 0) ?? [1, units.at(-1)![1]];
  return `${n / size}${unit}`;
};

/** A setting's default as it is written on the command line. */
export function shownDefault(s: Setting): string | undefined {
  if (s.default === undefined || (Array.isArray(s.default) && s.default.length === 0)) return undefined;
  if (s.kind === 'duration') return exact(s.default as number, MS);
  if (s.kind === 'size') return exact(s.default as number, BYTES);
  return String(s.default);
}

/** The command-line options of settings, with their help (environment variable and default). */
export function settingsOptions(settings: readonly Setting[]): Options {
  const base = settingOptions(settings);
  return Object.fromEntries(
    settings.map((s) => {
      const def = shownDefault(s);
      return [s.flag, { ...base[s.flag]!, arg: PLACEHOLDER[s.flag] ?? ARG[s.kind], help: `${s.help} [${envName(s.flag)}${def === undefined ? '' : `, default ${def}`}]` }];
    }),
  );
}

const only = (flags: readonly string[]) => SETTINGS.filter((s) => flags.includes(s.flag));

const CONFIG: Options = { config: { type: 'string', arg: 'FILE', help: 'TOML or JSON file with the same settings [DATAMESH_CONFIG]' } };

/** Flags of every admin command. */
export const ADMIN_COMMON: Options = {
  endpoint: { type: 'string', arg: 'URL', help: 'the server [DATAMESH_ENDPOINT, else the config file, else http://127.0.0.1:9000]' },
  region: { type: 'string', arg: 'R', help: 'region to sign for [default us-east-1]' },
  json: { type: 'boolean', help: 'print JSON' },
  data: { type: 'string', arg: 'DIR', help: "a server's data directory: its root-credentials.json signs when no key is in the environment" },
  config: { type: 'string', arg: 'FILE', help: 'admin configuration [default $XDG_CONFIG_HOME/datamesh/config.toml]: endpoint, region, data, access_key, secret_key' },
};

const QUOTA_OPTIONS: Options = Object.fromEntries(
  QUOTA_FIELDS.map((f) => [
    QUOTA_FLAGS[f],
    { type: 'string' as const, arg: /Storage|Size|Transfer/.test(f) ? 'SIZE' : 'N', help: `${QUOTA_FLAGS[f].replace(/-/g, ' ')} ('none' lifts it, 'default' restores it)` },
  ]),
);

/** NODE_FLAGS: what a storage-only peer takes. */
export const NODE_FLAGS = ['data', 'listen-mesh', 'bootstrap', 'capacity', 'log-level', 'log-format', 'fsync', 'swarm-key', 'admit-peers', 'orphan-grace'];

const serve = async (ctx: CommandContext) => (await import('./serve.ts')).serveCommand(ctx);
const admin = async (ctx: CommandContext) => (await import('./admin.ts')).adminCommand(ctx);

const adminCommand = (path: string[], summary: string, extra: Partial<CommandSpec> = {}): CommandSpec => ({
  path: ['admin', ...path],
  summary,
  positionals: [0, 0],
  ...extra,
  options: { ...ADMIN_COMMON, ...extra.options },
  run: admin,
});

export const COMMANDS: CommandSpec[] = [
  {
    path: ['serve'],
    summary: 'serve S3 (and the admin API) on --listen, storing under --data',
    details:
      'Precedence: flags, then DATAMESH_* environment variables, then the --config file, then the defaults.\n' +
      'SIGTERM/SIGINT: finish in-flight requests (up to --shutdown-grace), then exit; a second signal exits at once.\n' +
      'Root credentials come from DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY, or are generated on first start\n' +
      'into DIR/root-credentials.json; the master key is DIR/master.key (back it up: without it nothing can be decrypted).',
    options: { ...settingsOptions(SETTINGS), ...CONFIG },
    run: serve,
  },
  {
    path: ['node'],
    summary: 'a storage-only mesh peer (holds shards for gateways; never sees a key)',
    options: { ...settingsOptions(only(NODE_FLAGS)), ...CONFIG },
    run: async (ctx) => (await import('./node.ts')).nodeCommand(ctx, NODE_FLAGS),
  },
  {
    path: ['config', 'print'],
    summary: 'the effective configuration (flags, environment, file, defaults), secrets masked',
    options: { ...settingsOptions(SETTINGS), ...CONFIG },
    run: async (ctx) => (await import('./serve.ts')).configPrintCommand(ctx),
  },
  {
    path: ['completion'],
    args: 'bash|zsh',
    positionals: [1, 1],
    summary: 'the shell completion script: eval "$(datamesh completion bash)"',
    options: {},
    run: async (ctx) => (await import('./completion.ts')).completionCommand(ctx, COMMANDS),
  },
  {
    path: ['health'],
    summary: 'exit 0 when the server is ready to store and read (for HEALTHCHECK, ExecStartPost), else 1',
    options: {
      endpoint: { type: 'string', arg: 'URL', help: 'the server [DATAMESH_ENDPOINT, else the address of DATAMESH_LISTEN, else http://127.0.0.1:9000]' },
      wait: { type: 'string', arg: 'DUR', help: 'keep asking this long before giving up [default 0: ask once]' },
    },
    run: async (ctx) => (await import('./health.ts')).healthCommand(ctx),
  },
  adminCommand(['info'], 'version, uptime, data directory, capacity and usage, mesh role and peers'),
  adminCommand(['scrub'], 'verify every shard and rebuild the missing or corrupt ones (a background job)', {
    options: { detach: { type: 'boolean', help: 'start the job and return at once (follow it with `admin jobs ID`)' } },
    details: 'The scrub runs on the server as a job: a dropped connection (Ctrl-C, a closed laptop) never stops it.',
  }),
  adminCommand(['jobs'], 'background jobs; with an ID, follow that job to its end', { args: '[ID]', positionals: [0, 1] }),
  adminCommand(['inspect'], "where an object's (or a version's) shards live (its manifest)", {
    args: 'BUCKET KEY',
    positionals: [2, 2],
    options: { 'version-id': { type: 'string', arg: 'V', help: 'one version of the object [default the latest]' } },
  }),
  adminCommand(['mesh'], 'peers, redundancy of the stored data, repair queue, the catalog copy in the mesh'),
  adminCommand(['mesh', 'admit'], 'let a mesh peer holding the network secret take shards (it waits pending until then)', { args: 'PEER_ID', positionals: [1, 1] }),
  adminCommand(['mesh', 'evict'], "stop using a mesh peer: no new shards, and its shards are rebuilt on other peers", { args: 'PEER_ID', positionals: [1, 1] }),
  adminCommand(['catalog', 'sync'], 'ship the catalog to the mesh now; answers once the copy is durable'),
  {
    path: ['key', 'export'],
    summary: "the master key's recovery kit: 24 words, or with --shares K/N, N shares of which any K restore it",
    options: {
      data: { type: 'string', arg: 'DIR', help: 'the data directory holding master.key [DATAMESH_DATA, default ./data]' },
      shares: { type: 'string', arg: 'K/N', help: 'split the key into N Shamir shares, any K of which restore it' },
    },
    run: async (ctx) => keyKit('export', ctx),
  },
  {
    path: ['key', 'import'],
    summary: 'write DIR/master.key from the kit (standard input, --key-words or --key-shares)',
    options: {
      data: { type: 'string', arg: 'DIR', help: 'the data directory to write master.key into [DATAMESH_DATA, default ./data]' },
      'key-words': { type: 'string', arg: 'WORDS', help: 'the 24 words' },
      'key-shares': { type: 'string', multiple: true, arg: 'SHARE', help: 'one share (repeat for K of them)' },
      force: { type: 'boolean', help: 'replace a different existing key' },
    },
    run: async (ctx) => keyKit('import', ctx),
  },
  {
    path: ['recover'],
    summary: "rebuild a lost gateway's catalog from the mesh into a new data directory (README \"Disaster recovery\")",
    options: {
      data: { type: 'string', arg: 'NEWDIR', help: 'the directory the recovered gateway will serve from' },
      bootstrap: { type: 'string', multiple: true, arg: 'MULTIADDR', help: 'a storage peer to recover from (repeatable)' },
      'swarm-key': { type: 'string', arg: 'FILE', help: "the mesh's network secret (a copy of the gateway's DATA/swarm.key) [DATAMESH_SWARM_KEY, else NEWDIR/swarm.key]" },
      'key-words': { type: 'string', arg: 'WORDS', help: "the master key's 24 words" },
      'key-shares': { type: 'string', multiple: true, arg: 'SHARE', help: 'one share of the master key (repeat for K of them)' },
      timeout: { type: 'string', arg: 'DUR', help: 'how long to look for peers and heads [default 30s]' },
      force: { type: 'boolean', help: 'write into a directory that already holds a catalog' },
      json: { type: 'boolean', help: 'print the report as JSON' },
    },
    run: async (ctx) => {
      const { recoverCommand } = await import('./recover.ts');
      return recoverCommand(argvOf(ctx.values), { stdout: ctx.io.stdout, stderr: ctx.io.stderr, env: ctx.io.env });
    },
  },
  adminCommand(['user', 'create'], "create an account; prints its first key once", {
    args: 'NAME',
    positionals: [1, 1],
    options: { ...QUOTA_OPTIONS, admin: { type: 'boolean', help: 'an admin account (may use the admin API)' } },
  }),
  adminCommand(['user', 'list'], 'all accounts'),
  adminCommand(['user', 'info'], 'an account: usage, quota, keys', { args: 'NAME', positionals: [1, 1] }),
  adminCommand(['user', 'suspend'], 'refuse its requests (its data is kept)', { args: 'NAME', positionals: [1, 1] }),
  adminCommand(['user', 'resume'], 'allow its requests again', { args: 'NAME', positionals: [1, 1] }),
  adminCommand(['user', 'delete'], 'delete an account that owns no buckets', { args: 'NAME', positionals: [1, 1] }),
  adminCommand(['user', 'set'], 'change a permission of an account: bypassing GOVERNANCE object lock retention', {
    args: 'NAME',
    positionals: [1, 1],
    options: {
      'allow-bypass-governance': { type: 'boolean', help: 'let it delete/shorten GOVERNANCE-locked versions (with x-amz-bypass-governance-retention: true)' },
      'deny-bypass-governance': { type: 'boolean', help: 'deny that again' },
    },
  }),
  adminCommand(['key', 'create'], 'a new access key (rotation); prints it once', { args: 'NAME', positionals: [1, 1] }),
  adminCommand(['key', 'list'], 'its access keys', { args: 'NAME', positionals: [1, 1] }),
  adminCommand(['key', 'delete'], 'delete one access key', { args: 'NAME ACCESS_KEY', positionals: [2, 2] }),
  adminCommand(['quota', 'set'], "change limits; 'none' lifts one, 'default' restores it", { args: 'NAME', positionals: [1, 1], options: QUOTA_OPTIONS }),
  adminCommand(['quota', 'show'], 'the limits in force', { args: 'NAME', positionals: [1, 1] }),
  adminCommand(['usage'], 'metering: storage byte-hours, transfer, requests', {
    args: '[NAME]',
    positionals: [0, 1],
    options: { month: { type: 'string', arg: 'YYYY-MM', help: 'the calendar month (UTC) [default this month]' } },
  }),
];

/** Parsed flags back into the argv the key and recover commands read (they take --flag value pairs). */
function argvOf(values: CommandContext['values']): string[] {
  return Object.entries(values).flatMap(([k, v]) =>
    v === undefined || v === false ? [] : v === true ? [`--${k}`] : (Array.isArray(v) ? v : [v]).flatMap((x) => [`--${k}`, String(x)]),
  );
}

async function keyKit(sub: 'export' | 'import', ctx: CommandContext): Promise<number> {
  const { keyCommand, readStdin } = await import('./key.ts');
  await keyCommand([sub, ...argvOf(ctx.values)], { stdout: ctx.io.stdout, stdin: readStdin, env: ctx.io.env });
  return typeof process.exitCode === 'number' ? process.exitCode : 0;
}

/** What a group of commands is for, in the help. */
export const GROUPS: Record<string, string> = {
  admin: 'operate a running server through its signed admin API',
  'admin user': 'user accounts',
  'admin key': 'access keys of an account',
  'admin quota': 'quotas of an account',
  'admin catalog': "the catalog's copy in the mesh",
  key: "the master key's recovery kit",
  config: 'the configuration',
};

export const ADMIN_NOTES =
  'Credentials: DATAMESH_ACCESS_KEY / DATAMESH_SECRET_KEY, else DATAMESH_ROOT_ACCESS_KEY / DATAMESH_ROOT_SECRET_KEY,\n' +
  'else access_key / secret_key of the admin config file, else DIR/root-credentials.json of --data (default ./data).\n' +
  'Exit codes: 0 done, 1 the server said no (or could not be reached), 2 a bad invocation.';
