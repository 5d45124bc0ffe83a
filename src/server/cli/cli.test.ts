/**
 * The one command-line parser: --version, --help on every command and group, strict flags and
 * arguments (one line, exit code 2), the admin endpoint from DATAMESH_ENDPOINT or the admin
 * configuration file, and shell completion generated from the same table.
 */
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ENTRY } from '../testing/server.ts';
import { dispatch } from './index.ts';
import { COMMANDS } from './table.ts';
import { bashCompletion, zshCompletion } from './completion.ts';
import { resolveAdminValues } from './admin.ts';

const dir = mkdtempSync(join(tmpdir(), 'datamesh-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const code = await dispatch(argv, { stdout: { write: (s: string) => (out += s) }, stderr: { write: (s: string) => (err += s) }, env });
  return { code, out, err };
}

const version = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('help and version', () => {
  it('--version prints the package version', async () => {
    expect(await cli(['--version'])).toEqual({ code: 0, out: `datamesh ${version}\n`, err: '' });
  });

  it.each([[['help']], [['--help']], [['-h']], [[]]])('%j prints the commands', async (argv) => {
    const r = await cli(argv);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toMatch(/^datamesh \S+: an S3-compatible object store/);
    expect(r.out).toMatch(/datamesh serve +serve S3/);
  });

  it('every command and group answers --help, -h and `help ...` with its own help and exit 0', async () => {
    for (const c of COMMANDS) {
      for (const argv of [[...c.path, '--help'], [...c.path, '-h'], ['help', ...c.path]]) {
        const r = await cli(argv);
        expect(r, argv.join(' ')).toMatchObject({ code: 0, err: '' });
        expect(r.out, argv.join(' ')).toContain(`Usage: datamesh ${c.path.join(' ')}`);
        for (const flag of Object.keys(c.options)) expect(r.out, `${argv.join(' ')} --${flag}`).toContain(`--${flag}`);
      }
    }
    for (const group of [['admin'], ['admin', 'user'], ['config']]) {
      for (const argv of [[...group, '--help'], ['help', ...group]]) {
        const r = await cli(argv);
        expect(r, argv.join(' ')).toMatchObject({ code: 0, err: '' });
        expect(r.out).toContain(`Usage: datamesh ${group.join(' ')} COMMAND`);
      }
    }
    expect((await cli(['help', 'admin'])).out).toMatch(/datamesh admin scrub +verify every shard/);
    expect((await cli(['admin', 'help'])).out).toBe((await cli(['help', 'admin'])).out);
  });

  it('`datamesh serve -h` prints help and exits 0 without binding a port (a real process)', async () => {
    const port = await new Promise<number>((ok) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => ok(p));
      });
    });
    const r = await promisify(execFile)(process.execPath, [ENTRY, 'serve', '-h', '--listen', `127.0.0.1:${port}`, '--data', join(dir, 'never')]);
    expect(r.stdout).toMatch(/^Usage: datamesh serve \[flags\]/);
    expect(r.stderr).toBe('');
    // nothing listens there, and no data directory was made
    await new Promise<void>((ok, no) => {
      const s = createServer().once('error', no).listen(port, '127.0.0.1', () => s.close(() => ok()));
    });
    expect(spawnSync('ls', [join(dir, 'never')]).status).not.toBe(0);
  });
});

describe('bad invocations: one line, exit code 2', () => {
  it.each([
    [['serve', '--colour', 'blue'], /^datamesh: unknown option --colour: run 'datamesh serve --help' for the flags\n$/],
    [['serve', 'now'], /^datamesh: unexpected argument 'now': 'datamesh serve' takes no arguments\n$/],
    [['serve', '--listen'], /^datamesh: option --listen needs a value/],
    [['node', '--region', 'x'], /^datamesh: unknown option --region: run 'datamesh node --help' for the flags\n$/],
    [['admin', 'user', 'list', '--detach'], /^datamesh: option --detach does not apply to 'datamesh admin user list': run 'datamesh admin user list --help'/],
    [['health', '--wait', 'soon'], /^datamesh: --wait: 'soon' is not a duration/],
    [['frobnicate'], /^datamesh: unknown command 'frobnicate': run 'datamesh help'/],
    [['config'], /^datamesh: 'datamesh config' needs a command: one of print/],
    [['help', 'nothing'], /^datamesh: no command 'datamesh nothing'/],
    [['admin', 'scrub', 'now'], /^datamesh: unexpected argument 'now': 'datamesh admin scrub' takes no arguments\n$/],
    [['admin', 'inspect', 'bucket'], /^datamesh: 'datamesh admin inspect' takes BUCKET KEY/],
    [['admin', 'scrub', '--detach=yes'], /^datamesh: option --detach takes no value/],
    [['completion', 'fish'], /^datamesh: no completion for 'fish': use bash or zsh\n$/],
  ])('%j', async (argv, message) => {
    const r = await cli(argv);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});

describe('admin endpoint and credentials: flags, then environment, then the admin configuration file', () => {
  const xdg = join(dir, 'xdg');
  mkdirSync(join(xdg, 'datamesh'), { recursive: true });
  const file = join(xdg, 'datamesh', 'config.toml');
  writeFileSync(file, 'endpoint = "http://from-file:9000"\naccess_key = "AKFILE"\nsecret_key = "secret-from-file"\n');

  it('reads $XDG_CONFIG_HOME/datamesh/config.toml; DATAMESH_ENDPOINT and --endpoint override it', () => {
    expect(resolveAdminValues({}, { XDG_CONFIG_HOME: xdg })).toMatchObject({ endpoint: 'http://from-file:9000', 'access-key': 'AKFILE', 'secret-key': 'secret-from-file' });
    expect(resolveAdminValues({}, { XDG_CONFIG_HOME: xdg, DATAMESH_ENDPOINT: 'http://from-env:9000' }).endpoint).toBe('http://from-env:9000');
    expect(resolveAdminValues({ endpoint: 'http://flag:1' }, { XDG_CONFIG_HOME: xdg, DATAMESH_ENDPOINT: 'http://from-env:9000' }).endpoint).toBe('http://flag:1');
    expect(resolveAdminValues({}, { HOME: join(dir, 'nohome') }).endpoint).toBeUndefined();
  });

  it('the endpoint from DATAMESH_ENDPOINT is the one the client calls', async () => {
    const r = await cli(['admin', 'user', 'list'], { DATAMESH_ENDPOINT: 'http://127.0.0.1:1', DATAMESH_ACCESS_KEY: 'a', DATAMESH_SECRET_KEY: 'b' });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach the datamesh server at http:\/\/127\.0\.0\.1:1 /);
  });

  it('a broken admin configuration file is named with its line and column', async () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(bad, 'endpoint = "http://x:9000"\ncolour = "blue"\n');
    const r = await cli(['admin', 'user', 'list', '--config', bad]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^datamesh admin: --config \S+bad\.toml:2:1: unknown setting 'colour'; known settings: endpoint, region, data, access_key, secret_key\n$/);
  });
});

describe('shell completion', () => {
  it('bash: valid syntax, completes commands, subcommands and flags', () => {
    const script = join(dir, 'datamesh.bash');
    writeFileSync(script, bashCompletion(COMMANDS));
    expect(spawnSync('bash', ['-n', script]).status).toBe(0);
    const complete = (line: string) =>
      spawnSync('bash', ['-c', `source ${script}; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _datamesh; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).stdout.trim();
    expect(complete('datamesh s')).toBe('serve');
    expect(complete('datamesh admin sc')).toBe('scrub');
    expect(complete('datamesh admin scrub --de')).toBe('--detach');
    expect(complete('datamesh serve --listen 0.0.0.0:9000 --log-f')).toBe('--log-format');
    expect(complete('datamesh admin user c')).toBe('create');
  });

  it('the scripts shipped in scripts/deploy/completion are the generated ones', () => {
    const deploy = new URL('../../../scripts/deploy/completion/', import.meta.url);
    expect(readFileSync(new URL('datamesh.bash', deploy), 'utf8')).toBe(bashCompletion(COMMANDS));
    expect(readFileSync(new URL('_datamesh', deploy), 'utf8')).toBe(zshCompletion(COMMANDS));
  });
});
