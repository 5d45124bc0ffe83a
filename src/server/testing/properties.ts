/**
 * Properties of the configuration parsers (flags, environment, the --config file in TOML or JSON),
 * for fast-check: run small in src/server/config.property.test.ts and large by `npm run fuzz`. Any
 * input gives a configuration or a ConfigError (one line for the command line), never another error.
 */
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, type FuzzTarget } from '../../core/testing/fuzz.ts';
import { ConfigError, loadConfig, parseDuration, parseSize, SETTINGS } from '../config.ts';

const configOnly = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`not a ConfigError: ${(e as Error)?.stack ?? String(e)}`);
    assert(!e.message.includes('\n'), `a one-line message: ${JSON.stringify(e.message)}`);
  }
};

const flags = SETTINGS.map((s) => s.flag);
const value = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('4MiB', '0', '-1', '1e9', '4+2', '17+3', '0+0', 'true', 'no', '10m', '127.0.0.1:0', '[::1]:9000', '/ip4/127.0.0.1/tcp/0', 'debug', 'silent', ''),
  fc.nat().map(String),
);
let dir: string | undefined;
const tempFile = (name: string, text: string): string => {
  dir ??= mkdtempSync(join(tmpdir(), 'datamesh-fuzz-config-'));
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const fileValue = fc.oneof(value, fc.integer(), fc.boolean(), fc.array(value, { maxLength: 3 }), fc.constant(null), fc.dictionary(fc.string({ maxLength: 8 }), value, { maxKeys: 2 }));
const settingKey = fc.oneof(fc.constantFrom(...SETTINGS.flatMap((s) => [s.key, s.flag, s.flag.replaceAll('-', '_')]), 'quota'), fc.string({ maxLength: 12 }));
const tomlKey = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,15}$/);

export const configTargets: FuzzTarget[] = [
  {
    parser: 'config',
    name: 'any flags and environment give a configuration or a one-line ConfigError',
    property: () =>
      fc.property(
        fc.array(fc.oneof(fc.tuple(fc.constantFrom(...flags, 'config', 'nope'), value).map(([f, v]) => [`--${f}`, v]), fc.tuple(fc.constantFrom(...flags), value).map(([f, v]) => [`--${f}=${v}`]), fc.string({ maxLength: 10 }).map((s) => [s])), { maxLength: 6 }),
        fc.dictionary(fc.constantFrom(...flags.map((f) => `DATAMESH_${f.toUpperCase().replaceAll('-', '_')}`)), value, { maxKeys: 3 }),
        (argv, env) => configOnly(() => loadConfig(argv.flat().filter((a) => !a.startsWith('--config')), env)),
      ),
  },
  {
    parser: 'config',
    name: 'any --config file (TOML or JSON, well-formed or not) gives a configuration or a one-line ConfigError',
    property: () =>
      fc.property(
        fc.oneof(
          fc.dictionary(settingKey, fileValue, { maxKeys: 5 }).map((o) => ({ ext: 'json', text: JSON.stringify(o) })),
          fc.dictionary(tomlKey, value, { maxKeys: 5 }).map((o) => ({ ext: 'toml', text: Object.entries(o).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n') })),
          fc.tuple(fc.constantFrom('toml', 'json'), fc.string({ unit: 'binary', maxLength: 200 })).map(([ext, text]) => ({ ext, text })),
          fc.dictionary(fc.constantFrom('max_storage', 'max_objects', 'max_buckets', 'nope'), value, { maxKeys: 3 }).map((q) => ({ ext: 'toml', text: `[quota.defaults]\n${Object.entries(q).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join('\n')}` })),
        ),
        ({ ext, text }) => configOnly(() => loadConfig(['--config', tempFile(`c.${ext}`, text)], {})),
      ),
  },
  {
    parser: 'config',
    name: 'round trip: sizes and durations in every unit parse to their value; anything else is a ConfigError',
    property: () =>
      fc.property(fc.nat({ max: 1e6 }), fc.constantFrom(['', 1], ['K', 1e3], ['KiB', 1024], ['MB', 1e6], ['MiB', 2 ** 20], ['GiB', 2 ** 30]), fc.constantFrom(['ms', 1], ['s', 1e3], ['m', 6e4], ['h', 3.6e6]), fc.string({ maxLength: 12 }), (n, [su, sm], [du, dm], junk) => {
        assert(parseSize(`${n}${su}`) === n * (sm as number), `${n}${su}`);
        assert(parseDuration(`${n}${du}`) === n * (dm as number), `${n}${du}`);
        configOnly(() => parseSize(junk));
        configOnly(() => parseDuration(junk));
      }),
  },
];
