/**
 * Configuration: one table of settings, each with its flag, its DATAMESH_* environment variable,
 * its default and its parser. Precedence: flags > environment > configuration file > default.
 * A bad value stops the start with one line naming the setting and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs as nodeParseArgs } from 'node:util';
import { parse as parseToml } from 'smol-toml';
import { parseEc } from '../codec/erasure.ts';
import { parseDuration as coreDuration, parseSize as coreSize } from '../core/sizes.ts';

export class ConfigError extends Error {}

/** `--audit-threshold FAILED/WINDOW`: FAILED failures among a peer's last WINDOW audits make it untrusted. */
export function parseAuditThreshold(text: string): { failures: number; window: number } {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const failures = Number(m?.[1]);
  const window = Number(m?.[2]);
  if (!m || failures < 1 || window < failures || window > 1000) throw new ConfigError('use FAILED/WINDOW with 1 <= FAILED <= WINDOW <= 1000, e.g. 3/10');
  return { failures, window };
}

/** Sizes and durations have one syntax everywhere (src/core/sizes.ts); here a mistake is a ConfigError. */
const asConfigError =
  <T,>(parse: (v: string) => T) =>
  (v: string): T => {
    try {
      return parse(v);
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
  };
export const parseSize = asConfigError(coreSize);

/** A setting's check from a parser that throws: its message (less `strip`) names what is wrong. */
const parses =
  (parse: (v: string) => unknown, strip?: RegExp) =>
  (v: unknown): string | undefined => {
    try {
      parse(String(v));
      return undefined;
    } catch (e) {
      const msg = (e as Error).message;
      return strip ? msg.replace(strip, '') : msg;
    }
  };
export const parseDuration = asConfigError(coreDuration);

export type Kind = 'string' | 'size' | 'duration' | 'int' | 'list' | 'bool';

export interface Setting {
  key: string;
  flag: string;
  kind: Kind;
  default?: unknown;
  secret?: boolean;
  help: string;
  check?: (v: unknown) => string | undefined;
}

export const SETTINGS: Setting[] = [
  { key: 'listen', flag: 'listen', kind: 'string', default: '127.0.0.1:9000', help: 'HOST:PORT the S3 endpoint listens on',
    check: (v) => (/^[^\s]*:\d+$/.test(String(v)) ? undefined : 'use HOST:PORT, e.g. 127.0.0.1:9000') },
  { key: 'data', flag: 'data', kind: 'string', default: './data', help: 'data directory (SQLite, shards, keys)' },
  { key: 'region', flag: 'region', kind: 'string', default: 'us-east-1', help: 'the S3 region this server answers for' },
  { key: 'domain', flag: 'domain', kind: 'string', help: 'base domain for virtual-hosted-style requests (bucket.DOMAIN)' },
  { key: 'logLevel', flag: 'log-level', kind: 'string', default: 'info', help: 'trace, debug, info, warn, error, fatal, silent',
    check: (v) => (['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(String(v)) ? undefined : 'use one of trace, debug, info, warn, error, fatal, silent') },
  { key: 'logFormat', flag: 'log-format', kind: 'string', help: 'json (the default on a pipe) or pretty (one readable line per record; the default on a terminal)',
    check: (v) => (['json', 'pretty'].includes(String(v)) ? undefined : 'use json or pretty') },
  { key: 'ec', flag: 'ec', kind: 'string', default: '4+2', help: 'Reed-Solomon data+parity shards per segment, K+M',
    check: parses(parseEc, /^--ec [^:]*: /) },
  { key: 'segmentSize', flag: 'segment-size', kind: 'size', default: 4 * 1024 * 1024, help: 'plaintext bytes per segment',
    check: (v) => ((v as number) >= 64 * 1024 && (v as number) <= 64 * 1024 * 1024 ? undefined : 'use 64KiB to 64MiB') },
  { key: 'inlineThreshold', flag: 'inline-threshold', kind: 'size', default: 4096, help: 'objects up to this size are kept (encrypted) in the metadata' },
  { key: 'segmentsInFlight', flag: 'segments-in-flight', kind: 'int', default: 4, help: 'segments of one upload sealed and written at once (memory per upload: this many segments)',
    check: (v) => ((v as number) >= 1 ? undefined : 'use a whole number of at least 1') },
  { key: 'scrubInterval', flag: 'scrub-interval', kind: 'duration', default: 24 * 3_600_000, help: 'background scrub interval (0 disables)' },
  { key: 'auditInterval', flag: 'audit-interval', kind: 'duration', default: 600_000,
    help: 'on a mesh, time between two audits of each storage peer (one random shard fetched and checked against its id; 0 disables)',
    check: (v) => ((v as number) === 0 || (v as number) >= 50 ? undefined : 'use 0 or at least 50ms, e.g. 10m') },
  { key: 'auditThreshold', flag: 'audit-threshold', kind: 'string', default: '3/10',
    help: 'on a mesh, FAILED/WINDOW: a storage peer that fails FAILED of its last WINDOW audits becomes untrusted (no new shards; its shards are rebuilt on other peers)',
    check: parses(parseAuditThreshold) },
  { key: 'fsync', flag: 'fsync', kind: 'bool', default: true, help: 'fsync every shard before it counts as stored (false: faster, relies on the mesh for power-loss safety)' },
  { key: 'collectInterval', flag: 'collect-interval', kind: 'duration', default: 60_000, help: 'how often the data of deleted objects is collected (it waits one interval first)',
    check: (v) => ((v as number) >= 10 ? undefined : 'use at least 10ms, e.g. 60s') },
  { key: 'listenMesh', flag: 'listen-mesh', kind: 'list', default: [], help: 'libp2p multiaddr(s) to listen on' },
  { key: 'bootstrap', flag: 'bootstrap', kind: 'list', default: [], help: 'libp2p multiaddr(s) of peers to join (repeatable)' },
  { key: 'capacity', flag: 'capacity', kind: 'size', help: 'bytes of shards this node accepts' },
  { key: 'swarmKey', flag: 'swarm-key', kind: 'string', secret: true, help: "FILE holding the mesh's network secret (the gateway creates DATA/swarm.key; DATAMESH_SWARM_KEY may also hold the key itself)" },
  { key: 'admitPeers', flag: 'admit-peers', kind: 'list', default: [], help: 'mesh peers to work with: manual (an operator admits each), auto (every peer holding the network secret), or peer ids',
    check: (v) => ((v as string[]).every((p) => p === 'auto' || p === 'manual' || /^[1-9A-HJ-NP-Za-km-z]{40,60}$/.test(p)) && ((v as string[]).length <= 1 || !(v as string[]).some((p) => p === 'auto' || p === 'manual'))
      ? undefined
      : 'use auto, manual, or peer ids such as 12D3KooW...') },
  { key: 'orphanGrace', flag: 'orphan-grace', kind: 'duration', default: 3_600_000, help: 'shards that no admitted gateway claims are deleted once this old',
    check: (v) => ((v as number) >= 100 ? undefined : 'use at least 100ms, e.g. 1h') },
  { key: 'catalogSyncInterval', flag: 'catalog-sync-interval', kind: 'duration', default: 10_000,
    help: 'on a mesh, how often the catalog is shipped to the storage peers (a write acknowledged longer ago survives losing this disk; 0 disables)',
    check: (v) => ((v as number) === 0 || (v as number) >= 100 ? undefined : 'use 0 or at least 100ms, e.g. 10s') },
  { key: 'catalog', flag: 'catalog', kind: 'string', secret: true,
    help: 'the catalog database: postgres://USER@HOST:PORT/DB for several gateways over one catalog (default: SQLite in the data directory)',
    check: (v) => (/^postgres(ql)?:\/\/[^/\s]+\/[^/\s]+$/i.test(String(v)) ? undefined : 'use postgres://USER[:PASSWORD]@HOST:PORT/DATABASE, or leave it out for SQLite in the data directory') },
  { key: 'repairAfter', flag: 'repair-after', kind: 'duration', default: 600_000, help: 'rebuild the shards of a peer unreachable this long' },
  { key: 'sigv2', flag: 'sigv2', kind: 'bool', default: true, help: 'accept AWS Signature Version 2 (Authorization: AWS, ?AWSAccessKeyId=&Signature=&Expires=, SigV2 POST forms) besides SigV4; false answers them 400 InvalidRequest' },
  { key: 'tlsCert', flag: 'tls-cert', kind: 'string', help: 'FILE: PEM certificate chain; with --tls-key the S3 endpoint, admin API and console serve HTTPS (SIGHUP reloads both files)' },
  { key: 'tlsKey', flag: 'tls-key', kind: 'string', help: 'FILE: PEM private key of --tls-cert' },
  { key: 'metricsToken', flag: 'metrics-token', kind: 'string', secret: true, help: 'bearer token required to read /_datamesh/metrics' },
  { key: 'maxConcurrentRequests', flag: 'max-concurrent-requests', kind: 'int', default: 256, help: 'S3 requests served at once; more get 503 SlowDown',
    check: (v) => ((v as number) >= 1 ? undefined : 'use a whole number of at least 1, e.g. 256') },
  { key: 'maxUnauthenticatedRequests', flag: 'max-unauthenticated-requests', kind: 'int', default: 32, help: 'requests not yet authenticated (POST forms before their signature is checked) served at once, apart from the signed ones; more get 503 SlowDown',
    check: (v) => ((v as number) >= 1 ? undefined : 'use a whole number of at least 1, e.g. 32') },
  { key: 'maxHeaderSize', flag: 'max-header-size', kind: 'size', default: 16 * 1024, help: 'bytes of request line and headers; more get 400 RequestHeaderSectionTooLarge',
    check: (v) => ((v as number) >= 4096 && (v as number) <= 1024 * 1024 ? undefined : 'use 4KiB to 1MiB, e.g. 16KiB') },
  { key: 'headerTimeout', flag: 'header-timeout', kind: 'duration', default: 60_000, help: 'time a client has to send the request headers',
    check: (v) => ((v as number) >= 10 ? undefined : 'use at least 10ms, e.g. 60s') },
  { key: 'bodyIdleTimeout', flag: 'body-idle-timeout', kind: 'duration', default: 60_000, help: 'a request body that sends no byte this long is cut with 400 RequestTimeout',
    check: (v) => ((v as number) >= 10 ? undefined : 'use at least 10ms, e.g. 60s') },
  { key: 'idleTimeout', flag: 'idle-timeout', kind: 'duration', default: 300_000, help: 'a connection with no bytes in either direction this long is closed (0 never)' },
  { key: 'lifecycleInterval', flag: 'lifecycle-interval', kind: 'duration', default: 3_600_000, help: 'how often bucket lifecycle rules are applied (0 disables)' },
  { key: 'lifecycleDay', flag: 'lifecycle-day', kind: 'duration', default: 24 * 3_600_000, help: 'the length of a lifecycle "day" (shorten it only for tests)',
    check: (v) => ((v as number) >= 1 ? undefined : 'use at least 1ms, e.g. 24h') },
  { key: 'allowInsecureSseC', flag: 'allow-insecure-sse-c', kind: 'bool', default: false,
    help: 'accept SSE-C keys (x-amz-server-side-encryption-customer-key) over plain HTTP from non-loopback clients; without TLS the key crosses the network in clear' },
  { key: 'shutdownGrace', flag: 'shutdown-grace', kind: 'duration', default: 30_000, help: 'on SIGTERM/SIGINT, how long requests in flight get to finish' },
];

export interface Config {
  listen: string;
  data: string;
  /** postgres://... for a shared catalog; unset: SQLite at DATA/datamesh.db. */
  catalog?: string;
  region: string;
  domain?: string;
  logLevel: string;
  /** Unset: pretty on a terminal, json otherwise. */
  logFormat?: 'json' | 'pretty';
  ec: string;
  segmentSize: number;
  inlineThreshold: number;
  segmentsInFlight: number;
  scrubInterval: number;
  auditInterval: number;
  /** FAILED/WINDOW (parseAuditThreshold). */
  auditThreshold: string;
  collectInterval: number;
  fsync: boolean;
  listenMesh: string[];
  bootstrap: string[];
  capacity?: number;
  repairAfter: number;
  swarmKey?: string;
  admitPeers: string[];
  orphanGrace: number;
  catalogSyncInterval: number;
  tlsCert?: string;
  tlsKey?: string;
  metricsToken?: string;
  sigv2: boolean;
  maxConcurrentRequests: number;
  maxUnauthenticatedRequests: number;
  maxHeaderSize: number;
  headerTimeout: number;
  bodyIdleTimeout: number;
  idleTimeout: number;
  shutdownGrace: number;
  lifecycleInterval: number;
  lifecycleDay: number;
  allowInsecureSseC: boolean;
  /** [quota.defaults] of the configuration file: limits for new user accounts (accounts/limits.ts parses them). */
  quotaDefaults?: Record<string, unknown>;
}

/** A file may name a setting as `bodyIdleTimeout`, `body-idle-timeout` or `body_idle_timeout`. */
const snake = (flag: string) => flag.replace(/-/g, '_');
export const envName = (flag: string): string => 'DATAMESH_' + flag.toUpperCase().replace(/-/g, '_');

function convert(s: Setting, raw: unknown, source: 'flag' | 'env' | 'file', where?: string): unknown {
  const name = source === 'flag' ? `--${s.flag}` : source === 'env' ? envName(s.flag) : (where ?? `'${s.key}' in the configuration file`);
  try {
    let v: unknown;
    switch (s.kind) {
      case 'size':
        v = typeof raw === 'number' ? raw : parseSize(String(raw));
        break;
      case 'duration':
        v = typeof raw === 'number' ? raw : parseDuration(String(raw));
        break;
      case 'int':
        v = Number(raw);
        if (!Number.isInteger(v)) throw new ConfigError(`'${raw}' is not an integer`);
        break;
      case 'list':
        v = Array.isArray(raw) ? raw.map(String) : String(raw).split(',').map((x) => x.trim()).filter(Boolean);
        break;
      case 'bool':
        if (![true, false, 'true', 'false', '1', '0'].includes(raw as string)) throw new ConfigError(`'${raw}' is not true or false`);
        v = raw === true || raw === 'true' || raw === '1';
        break;
      default:
        v = String(raw);
    }
    const problem = s.check?.(v);
    if (problem) throw new ConfigError(`'${String(raw)}': ${problem}`);
    return v;
  } catch (e) {
    throw new ConfigError(`${name}: ${(e as Error).message} (${s.help})`);
  }
}

/** The options of node:util parseArgs, by long name. */
export type OptionTable = Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>;

/** What the one parser hands on: option values by long name, and the positional arguments. */
export interface ParsedArgs {
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  positionals: string[];
}

/** The command-line options of a list of settings (a repeatable list setting collects every use). */
export function settingOptions(settings: readonly Setting[]): OptionTable {
  return Object.fromEntries(settings.map((s) => [s.flag, { type: 'string' as const, ...(s.kind === 'list' ? { multiple: true } : {}) }]));
}

/**
 * The one command-line parser (node:util parseArgs, strict): an unknown option, a missing value or
 * an unexpected argument is a ConfigError with one line naming it and `hint` (what to run for help).
 */
export function parseCommandLine(argv: string[], options: OptionTable, opts: { positionals?: boolean; hint?: string } = {}): ParsedArgs {
  const hint = opts.hint ?? "run 'datamesh help' for the options";
  try {
    const r = nodeParseArgs({ args: argv, options, strict: true, allowPositionals: opts.positionals ?? false });
    return { values: r.values as ParsedArgs['values'], positionals: r.positionals };
  } catch (e) {
    const err = e as Error & { code?: string };
    const quoted = /'(-[^'\s]*)/.exec(err.message)?.[1] ?? /'([^']*)'/.exec(err.message)?.[1] ?? '';
    switch (err.code) {
      case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
        throw new ConfigError(`unknown option ${quoted}: ${hint}`);
      case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
        throw new ConfigError(`unexpected argument '${/'([^']*)'/.exec(err.message)?.[1] ?? ''}': ${hint}`);
      case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
        const flag = /--[\w-]+/.exec(err.message)?.[0] ?? quoted;
        throw new ConfigError(options[flag.replace(/^--/, '')]?.type === 'boolean' ? `option ${flag} takes no value: ${hint}` : `option ${flag} needs a value: ${hint}`);
      }
      default:
        throw new ConfigError(`${err.message.split('\n')[0]}: ${hint}`);
    }
  }
}

/**
 * For the development scripts (bench, cluster): `--flag value` / `--flag=value` pairs (repeatable
 * flags collect) and positionals, without a table of options; the scripts check the names.
 */
export function parseArgs(argv: string[]): { flags: Map<string, string[]>; positional: string[] } {
  const { tokens } = nodeParseArgs({ args: argv, strict: false, allowPositionals: true, tokens: true });
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'positional') positional.push(t.value);
    if (t.kind !== 'option') continue;
    let value = t.value;
    const next = tokens[i + 1];
    if (value === undefined && next?.kind === 'positional' && next.index === t.index + 1) {
      value = next.value;
      i++;
    }
    flags.set(t.name, [...(flags.get(t.name) ?? []), value ?? 'true']);
  }
  return { flags, positional };
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, allowed: string[] = SETTINGS.map((s) => s.flag)): Config {
  const settings = SETTINGS.filter((s) => allowed.includes(s.flag));
  const { values } = parseCommandLine(argv, { ...settingOptions(settings), config: { type: 'string' } });
  return configFromArgs(values, env, settings);
}

/** Where a key of a configuration file is written: ` (FILE:LINE:COLUMN)`, or '' when it cannot be found. */
function whereIs(file: string, text: string, key: string): string {
  const lines = text.split('\n');
  const names = new Set([key, ...SETTINGS.filter((s) => s.key === key || s.flag === key || snake(s.flag) === key).flatMap((s) => [s.key, s.flag, snake(s.flag)])]);
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)["']?([\w-]+)["']?\s*[=:]/.exec(lines[i]!);
    if (m && names.has(m[2]!)) return `${file}:${i + 1}:${m[1]!.length + 1 + (/^\s*["']/.test(lines[i]!) ? 1 : 0)}`;
  }
  return file;
}

/**
 * Where JSON.parse gives up, for the engines whose message names no position (Node 20): the first
 * prefix of the text that fails for a reason other than ending too soon ends at the bad character.
 */
function jsonErrorOffset(text: string): number | undefined {
  for (let i = 1; i <= Math.min(text.length, 65_536); i++) {
    try {
      JSON.parse(text.slice(0, i));
    } catch (e) {
      const m = (e as Error).message;
      const at = /position (\d+)/.exec(m)?.[1];
      const ranOut = /end of JSON input|Unterminated string/i.test(m) || (at !== undefined && Number(at) >= i);
      if (!ranOut) return at !== undefined ? Number(at) : i - 1;
    }
  }
  return undefined;
}

/** line:column of a character offset. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

export function readConfigFile(configFile: string, known: Set<string>, knownList: string): { file: Record<string, unknown>; locate: (key: string) => string } {
  let text: string;
  try {
    text = readFileSync(resolve(configFile), 'utf8');
  } catch (e) {
    throw new ConfigError(`--config ${configFile}: cannot read it (${(e as NodeJS.ErrnoException).code}); give the path of a .toml or .json file`);
  }
  let file: Record<string, unknown>;
  const json = configFile.endsWith('.json');
  try {
    file = json ? JSON.parse(text) : (parseToml(text) as Record<string, unknown>);
  } catch (e) {
    const err = e as Error & { line?: number; column?: number };
    let at = configFile;
    if (typeof err.line === 'number') at = `${configFile}:${err.line}:${err.column ?? 1}`;
    else {
      const pos = /position (\d+)/.exec(err.message)?.[1] ?? (json ? jsonErrorOffset(text) : undefined);
      if (pos !== undefined) at = `${configFile}:${lineColumn(text, Number(pos))}`;
    }
    const what = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '').replace(/ in JSON at position \d+.*$/, '');
    throw new ConfigError(`--config ${at}: not valid ${json ? 'JSON' : 'TOML'}: ${what}`);
  }
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigError(`--config ${configFile}: must hold settings such as listen = "127.0.0.1:9000"`);
  const locate = (key: string) => whereIs(configFile, text, key);
  for (const k of Object.keys(file)) {
    if (!known.has(k)) throw new ConfigError(`--config ${locate(k)}: unknown setting '${k}'; known settings: ${knownList}`);
  }
  return { file, locate };
}

/** The configuration from parsed options, the environment and the configuration file (--config or DATAMESH_CONFIG). */
export function configFromArgs(values: ParsedArgs['values'], env: NodeJS.ProcessEnv = process.env, settings: readonly Setting[] = SETTINGS): Config {
  const flagOf = (name: string): string[] | undefined => {
    const v = values[name];
    if (v === undefined) return undefined;
    return (Array.isArray(v) ? v : [v]).map(String);
  };
  const configFile = flagOf('config')?.at(-1) ?? env.DATAMESH_CONFIG;
  let file: Record<string, unknown> = {};
  let locate = (_key: string) => configFile ?? '';
  if (configFile) {
    const keys = new Set([...SETTINGS.flatMap((s) => [s.key, s.flag, snake(s.flag)]), 'quota']);
    ({ file, locate } = readConfigFile(configFile, keys, SETTINGS.map((s) => s.key).join(', ')));
  }
  const out: Record<string, unknown> = {};
  for (const s of settings) {
    const flag = flagOf(s.flag);
    const fromEnv = env[envName(s.flag)];
    const fileKey = [s.key, s.flag, snake(s.flag)].find((k) => file[k] !== undefined);
    let v: unknown = s.default;
    if (fileKey !== undefined) v = convert(s, file[fileKey], 'file', `--config ${locate(fileKey)}: ${fileKey}`);
    if (fromEnv !== undefined && fromEnv !== '') v = convert(s, fromEnv, 'env');
    if (flag !== undefined) v = convert(s, s.kind === 'list' ? flag.flatMap((f) => f.split(',')) : flag.at(-1), 'flag');
    if (v !== undefined) out[s.key] = v;
  }
  const quota = file.quota as { defaults?: unknown } | undefined;
  if (quota !== undefined) {
    if (typeof quota !== 'object' || quota === null || (quota.defaults !== undefined && (typeof quota.defaults !== 'object' || quota.defaults === null))) {
      throw new ConfigError(`--config ${locate('quota')}: [quota.defaults] must be a table such as max_storage = "5GiB"`);
    }
    out.quotaDefaults = (quota.defaults ?? {}) as Record<string, unknown>;
  }
  return out as unknown as Config;
}

/** The effective configuration with secrets masked (for `datamesh config print`). */
export function printable(c: Config): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const v = (c as unknown as Record<string, unknown>)[s.key];
    out[s.key] = s.secret && v !== undefined ? '********' : v;
  }
  return out;
}
