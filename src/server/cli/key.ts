/**
 * `datamesh key export --data DIR [--shares K/N]` prints the node's master key as its recovery
 * kit: 24 words, or N Shamir shares of which any K restore it. `datamesh key import --data DIR
 * [--force]` takes either back (from --key-words / --key-shares, or from standard input) and writes
 * DIR/master.key; it never replaces a different key without --force.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError, parseArgs } from '../config.ts';
import { MASTER_KEY_FILE, parseMasterKey } from '../../core/master-key.ts';
import { KitError, keyToShares, keyToWords, parseKit, parseThreshold, shareLines, sharesToKey, wordsToKey } from '../../core/key-kit.ts';

export interface KeyIo {
  stdout: { write(s: string): unknown };
  stdin?: () => Promise<string>;
  env: NodeJS.ProcessEnv;
}

/** A flag's value, or the contents of the file it names. */
const valueOrFile = (v: string): string => (existsSync(v) ? readFileSync(v, 'utf8') : v);

/**
 * The master key from the kit flags (--key-words PHRASE|FILE, --key-shares SHARE|FILE, repeatable
 * or separated by ';'), else DATAMESH_MASTER_KEY; undefined when none is given.
 */
export function masterKeyFromFlags(flags: Map<string, string[]>, env: NodeJS.ProcessEnv): Buffer | undefined {
  try {
    const words = flags.get('key-words');
    const shares = flags.get('key-shares');
    if (words && shares) throw new ConfigError('give --key-words or --key-shares, not both');
    if (words) return wordsToKey(words.map(valueOrFile).join(' '));
    if (shares) return sharesToKey(shares.flatMap((s) => shareLines(valueOrFile(s))));
  } catch (e) {
    if (e instanceof KitError) throw new ConfigError(`${flags.has('key-words') ? '--key-words' : '--key-shares'}: ${e.message}`);
    throw e;
  }
  if (env.DATAMESH_MASTER_KEY) {
    try {
      return parseMasterKey(env.DATAMESH_MASTER_KEY);
    } catch (e) {
      throw new ConfigError(`DATAMESH_MASTER_KEY: ${(e as Error).message}`);
    }
  }
  return undefined;
}

/** Writes DIR/master.key (mode 0600) atomically. */
export function writeMasterKey(dataDir: string, key: Buffer): void {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, MASTER_KEY_FILE);
  writeFileSync(file + '.tmp', key.toString('hex') + '\n', { mode: 0o600 });
  renameSync(file + '.tmp', file);
}

function only(flags: Map<string, string[]>, allowed: string[], usage: string): void {
  for (const name of flags.keys()) if (!allowed.includes(name)) throw new ConfigError(`unknown option --${name}: ${usage}`);
}

export async function keyCommand(argv: string[], io: KeyIo): Promise<void> {
  const [sub, ...rest] = argv;
  const { flags, positional } = parseArgs(rest);
  const dataDir = resolve(flags.get('data')?.at(-1) ?? io.env.DATAMESH_DATA ?? './data');
  const file = join(dataDir, MASTER_KEY_FILE);
  if (positional.length > 0) throw new ConfigError(`unexpected argument '${positional[0]}': run 'datamesh help' for the key commands`);
  if (sub === 'export') {
    only(flags, ['data', 'shares'], 'use datamesh key export --data DIR [--shares K/N]');
    let key: Buffer;
    if (io.env.DATAMESH_MASTER_KEY) key = masterKeyFromFlags(new Map(), io.env)!;
    else if (existsSync(file)) key = parseMasterKey(readFileSync(file, 'utf8'));
    else throw new ConfigError(`no master key in ${dataDir} (no ${MASTER_KEY_FILE}, no DATAMESH_MASTER_KEY): give the node's --data DIR`);
    const shares = flags.get('shares')?.at(-1);
    if (shares === undefined) {
      io.stdout.write(`${keyToWords(key)}\n`);
      return;
    }
    let k: number, n: number;
    try {
      ({ k, n } = parseThreshold(shares));
    } catch (e) {
      throw new ConfigError((e as Error).message);
    }
    io.stdout.write(keyToShares(key, k, n).join('\n') + '\n');
    return;
  }
  if (sub === 'import') {
    only(flags, ['data', 'force', 'key-words', 'key-shares'], 'use datamesh key import --data DIR [--force] (the kit on standard input, or --key-words / --key-shares)');
    let key = masterKeyFromFlags(flags, {});
    if (key === undefined) {
      const text = io.stdin ? await io.stdin() : '';
      if (text.trim() === '') throw new ConfigError('no kit given: pipe the 24 words or K shares (one per line) into standard input, or use --key-words / --key-shares');
      try {
        key = parseKit(text);
      } catch (e) {
        throw new ConfigError(`the kit on standard input: ${(e as Error).message}`);
      }
    }
    const force = flags.get('force')?.at(-1) === 'true';
    if (existsSync(file)) {
      const existing = parseMasterKey(readFileSync(file, 'utf8'));
      if (existing.equals(key)) {
        io.stdout.write(`${file} already holds this key; nothing changed\n`);
        return;
      }
      if (!force) {
        throw new ConfigError(
          `${file} holds a different master key: everything stored under it would become unreadable; move it away, or add --force if you are sure`,
        );
      }
    }
    writeMasterKey(dataDir, key);
    io.stdout.write(`master key written to ${file} (mode 0600)\n`);
    return;
  }
  throw new ConfigError(`unknown key command '${sub ?? ''}': use 'datamesh key export --data DIR [--shares K/N]' or 'datamesh key import --data DIR'`);
}

/** Reads all of standard input as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
