/** `datamesh key export|import` as a user runs it: the real CLI process. */
import { afterAll, describe, expect, test } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { keyCommand } from './key.ts';
import { ConfigError } from '../config.ts';

const cli = fileURLToPath(new URL('./datamesh.mjs', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'datamesh-key-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The real process: exit codes and the one-line errors as a shell sees them. */
function datameshProcess(args: string[], input?: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((ok) => {
    const p = execFile(process.execPath, [cli, ...args], { env: { ...process.env, DATAMESH_MASTER_KEY: '', ...env } }, (e, out, err) =>
      ok({ code: e ? ((e as { code?: number }).code ?? 1) : 0, out, err }),
    );
    p.stdin!.end(input ?? '');
  });
}

/** In-process (each process start costs seconds on a loaded machine), with the CLI's error rendering. */
async function datamesh(args: string[], input?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  try {
    await keyCommand(args.slice(1), { stdout: { write: (s: string) => (out += s) }, stdin: async () => input ?? '', env: {} });
    return { code: 0, out, err: '' };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    return { code: 2, out, err: `datamesh: ${e.message}\n` };
  }
}

const dirWithKey = (name: string, key: Buffer): string => {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'master.key'), key.toString('hex') + '\n', { mode: 0o600 });
  return dir;
};

describe('datamesh key', () => {
  test('export prints 24 words; import takes them back into a new directory', async () => {
    const key = randomBytes(32);
    const src = dirWithKey('a', key);
    const exp = await datameshProcess(['key', 'export', '--data', src]);
    expect(exp.code).toBe(0);
    expect(exp.out.trim().split(' ')).toHaveLength(24);
    const dest = join(root, 'a-restored');
    const imp = await datameshProcess(['key', 'import', '--data', dest], exp.out);
    expect(imp).toMatchObject({ code: 0 });
    expect(readFileSync(join(dest, 'master.key'), 'utf8').trim()).toBe(key.toString('hex'));
    // the same kit again: nothing to do
    expect((await datamesh(['key', 'import', '--data', dest, '--key-words', exp.out.trim()])).out).toMatch(/already holds this key/);
  });

  test('--shares 2/3: any two shares restore the key; one is not enough', async () => {
    const key = randomBytes(32);
    const src = dirWithKey('b', key);
    const exp = await datamesh(['key', 'export', '--data', src, '--shares', '2/3']);
    expect(exp.code).toBe(0);
    const shares = exp.out.trim().split('\n');
    expect(shares).toHaveLength(3);
    const dest = join(root, 'b-restored');
    const imp = await datamesh(['key', 'import', '--data', dest], `${shares[2]}\n${shares[0]}\n`);
    expect(imp.code).toBe(0);
    expect(readFileSync(join(dest, 'master.key'), 'utf8').trim()).toBe(key.toString('hex'));
    const one = await datameshProcess(['key', 'import', '--data', join(root, 'b-one'), '--key-shares', shares[1]!]);
    expect(one.code).toBe(2);
    expect(one.err).toMatch(/^datamesh: --key-shares: 1 distinct share\(s\) given; this split needs 2 of them\n$/);
  });

  test('never replaces a different key without --force; bad input gets one line and exit 2', async () => {
    const dir = dirWithKey('c', randomBytes(32));
    const other = randomBytes(32);
    const words = (await datamesh(['key', 'export', '--data', dirWithKey('d', other)])).out.trim();
    const refused = await datamesh(['key', 'import', '--data', dir, '--key-words', words]);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/holds a different master key.*--force/);
    const forced = await datamesh(['key', 'import', '--data', dir, '--key-words', words, '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(dir, 'master.key'), 'utf8').trim()).toBe(other.toString('hex'));

    const typo = await datamesh(['key', 'import', '--data', join(root, 'e')], words.replace(/^\w+/, 'zzzz'));
    expect(typo).toMatchObject({ code: 2 });
    expect(typo.err).toMatch(/'zzzz' is not in the BIP39 English word list/);
    const none = await datamesh(['key', 'export', '--data', join(root, 'nothing-here')]);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no master key in .*nothing-here/);
    const badShares = await datamesh(['key', 'export', '--data', dir, '--shares', '5/3']);
    expect(badShares.err).toMatch(/--shares '5\/3': use K\/N/);
  });
});
