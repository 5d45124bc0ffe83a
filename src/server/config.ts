/**
 * Configuration: one table of settings, each with its flag, its DATAMESH_* environment variable,
 * its default and its parser. Precedence: flags > environment > configuration file > default.
 * A bad value stops the start with one line naming the setting and what is allowed.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { parseEc } from '../codec/erasure.ts';

export class ConfigError extends Error {}

export const parseSize = (v: string): number => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTP]?i?B?)?\s*$/i.exec(v);
  if (!m) throw new ConfigError(`'${v}' is not a size: use bytes or a unit such as 4MiB, 500MB, 5GiB`);
  const unit = (m[2] ?? '').toUpperCase().replace(/B$/, '');
  const pow = ' KMGTP'.indexOf(unit.replace('I', '') || ' ');
  const base = unit.includes('I') ? 1024 : 1000;
  return Math.round(Number(m[1]) * base ** Math.max(pow, 0));
};

export const parseDuration = (v: string): number => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(v);
  if (!m) throw new ConfigError(`'${v}' is not a duration: use e.g. 500ms, 30s, 10m, 1h`);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return Math.round(Number(m[1]) * mult);
};

type Kind = 'string' | 'size' | 'duration' | 'int' | 'list' | 'bool';

interface Setting {
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
  { key: 'ec', flag: 'ec', kind: 'string', default: '4+2', help: 'Reed-Solomon data+parity shards per segment, K+M',
    check: (v) => {
      try {
        parseEc(String(v));
        return undefined;
      } catch (e) {
        return (e as Error).message.replace(/^--ec [^:]*: /, '');
      }
    } },
  { key: 'segmentSize', flag: 'segment-size', kind: 'size', default: 4 * 1024 * 1024, help: 'plaintext bytes per segment',
    check: (v) => ((v as number) >= 64 * 1024 && (v as number) <= 64 * 1024 * 1024 ? undefined : 'use 64KiB to 64MiB') },
  { key: 'inlineThreshold', flag: 'inline-threshold', kind: 'size', default: 4096, help: 'objects up to this size are kept (encrypted) in the metadata' },
  { key: 'scrubInterval', flag: 'scrub-interval', kind: 'duration', default: 24 * 3_600_000, help: 'background scrub interval (0 disables)' },
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
  { key: 'repairAfter', flag: 'repair-after', kind: 'duration', default: 600_000, help: 'rebuild the shards of a peer unreachable this long' },
  { key: 'metricsToken', flag: 'metrics-token', kind: 'string', secret: true, help: 'bearer token required to read /_datamesh/metrics' },
  { key: 'maxConcurrentRequests', flag: 'max-concurrent-requests', kind: 'int', default: 256, help: 'S3 requests served at once; more get 503 SlowDown',
    check: (v) => ((v as number) >= 1 ? undefined : 'use a whole number of at least 1, e.g. 256') },
  { key: 'maxHeaderSize', flag: 'max-header-size', kind: 'size', default: 16 * 1024, help: 'bytes of request line and headers; more get 400 RequestHeaderSectionTooLarge',
    check: (v) => ((v as number) >= 4096 && (v as number) <= 1024 * 1024 ? undefined : 'use 4KiB to 1MiB, e.g. 16KiB') },
  { key: 'headerTimeout', flag: 'header-timeout', kind: 'duration', default: 60_000, help: 'time a client has to send the request headers',
    check: (v) => ((v as number) >= 10 ? undefined : 'use at least 10ms, e.g. 60s') },
  { key: 'bodyIdleTimeout', flag: 'body-idle-timeout', kind: 'duration', default: 60_000, help: 'a request body that sends no byte this long is cut with 400 RequestTimeout',
    check: (v) => ((v as number) >= 10 ? undefined : 'use at least 10ms, e.g. 60s') },
  { key: 'idleTimeout', flag: 'idle-timeout', kind: 'duration', default: 300_000, help: 'a connection with no bytes in either direction this long is closed (0 never)' },
  { key: 'shutdownGrace', flag: 'shutdown-grace', kind: 'duration', default: 30_000, help: 'on SIGTERM/SIGINT, how long requests in flight get to finish' },
];

export interface Config {
  listen: string;
  data: string;
  region: string;
  domain?: string;
  logLevel: string;
  ec: string;
  segmentSize: number;
  inlineThreshold: number;
  scrubInterval: number;
  collectInterval: number;
  fsync: boolean;
  listenMesh: string[];
  bootstrap: string[];
  capacity?: number;
  repairAfter: number;
  swarmKey?: string;
  admitPeers: string[];
  orphanGrace: number;
  metricsToken?: string;
  maxConcurrentRequests: number;
  maxHeaderSize: number;
  headerTimeout: number;
  bodyIdleTimeout: number;
  idleTimeout: number;
  shutdownGrace: number;
  /** [quota.defaults] of the configuration file: limits for new user accounts (accounts/limits.ts parses them). */
  quotaDefaults?: Record<string, unknown>;
}

/** A file may name a setting as `bodyIdleTimeout`, `body-idle-timeout` or `body_idle_timeout`. */
const snake = (flag: string) => flag.replace(/-/g, '_');
const envName = (flag: string) => 'DATAMESH_' + flag.toUpperCase().replace(/-/g, '_');

function convert(s: Setting, raw: unknown, source: string): unknown {
  const name = source === 'flag' ? `--${s.flag}` : source === 'env' ? envName(s.flag) : `'${s.key}' in the configuration file`;
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

/** Splits argv into --flag value pairs (repeatable flags collect) and positionals. */
export function parseArgs(argv: string[]): { flags: Map<string, string[]>; positional: string[] } {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) value = argv[++i]!;
    else value = 'true';
    flags.set(name, [...(flags.get(name) ?? []), value]);
  }
  return { flags, positional };
}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = process.env, allowed: string[] = SETTINGS.map((s) => s.flag)): Config {
  const { flags } = parseArgs(argv);
  const known = new Set([...allowed, 'config']);
  for (const name of flags.keys()) {
    if (!known.has(name)) throw new ConfigError(`unknown option --${name}: run 'datamesh help' for the options`);
  }
  const configFile = flags.get('config')?.at(-1) ?? env.DATAMESH_CONFIG;
  let file: Record<string, unknown> = {};
  if (configFile) {
    let text: string;
    try {
      text = readFileSync(resolve(configFile), 'utf8');
    } catch (e) {
      throw new ConfigError(`--config ${configFile}: cannot read it (${(e as NodeJS.ErrnoException).code}); give the path of a .toml or .json file`);
    }
    try {
      file = configFile.endsWith('.json') ? JSON.parse(text) : (parseToml(text) as Record<string, unknown>);
    } catch (e) {
      throw new ConfigError(`--config ${configFile}: not valid ${configFile.endsWith('.json') ? 'JSON' : 'TOML'}: ${(e as Error).message.split('\n')[0]}`);
    }
    const keys = new Set([...SETTINGS.flatMap((s) => [s.key, s.flag, snake(s.flag)]), 'quota']);
    for (const k of Object.keys(file)) {
      if (!keys.has(k)) throw new ConfigError(`--config ${configFile}: unknown setting '${k}'; known settings: ${SETTINGS.map((s) => s.key).join(', ')}`);
    }
  }
  const out: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const flag = flags.get(s.flag);
    const fromEnv = env[envName(s.flag)];
    const fromFile = file[s.key] ?? file[s.flag] ?? file[snake(s.flag)];
    let v: unknown = s.default;
    if (fromFile !== undefined) v = convert(s, fromFile, 'file');
    if (fromEnv !== undefined && fromEnv !== '') v = convert(s, fromEnv, 'env');
    if (flag !== undefined) v = convert(s, s.kind === 'list' ? flag.flatMap((f) => f.split(',')) : flag.at(-1), 'flag');
    if (v !== undefined) out[s.key] = v;
  }
  const quota = file.quota as { defaults?: unknown } | undefined;
  if (quota !== undefined) {
    if (typeof quota !== 'object' || quota === null || (quota.defaults !== undefined && (typeof quota.defaults !== 'object' || quota.defaults === null))) {
      throw new ConfigError(`--config ${configFile}: [quota.defaults] must be a table such as max_storage = "5GiB"`);
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
