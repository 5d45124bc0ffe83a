/**
 * `datamesh <command>`: one parser for every command, built from the command table (table.ts)
 * and the settings table (config.ts) with node:util parseArgs in strict mode. `--help` / `-h` on
 * any command or group prints its help and exits 0; `help COMMAND...` does the same; `--version`
 * prints the version. Each bad invocation gets one line naming the problem and the fix, and exit
 * code 2.
 */
import { ConfigError, parseCommandLine, type OptionTable } from '../config.ts';
import { packageInfo } from '../version.ts';
import { ADMIN_COMMON, ADMIN_NOTES, COMMANDS, GROUPS, type CliIo, type CommandSpec, type Options } from './table.ts';

const HELP_OPTION: Options = { help: { type: 'boolean', short: 'h', help: 'this help' } };

const key = (path: readonly string[]) => path.join(' ');
const startsWith = (path: readonly string[], prefix: readonly string[]) => prefix.every((p, i) => path[i] === p);
const under = (prefix: readonly string[]) => COMMANDS.filter((c) => startsWith(c.path, prefix));
/** The next words after `prefix` that name commands or groups, in table order. */
const nextWords = (prefix: readonly string[]) => [...new Set(under(prefix).filter((c) => c.path.length > prefix.length).map((c) => c.path[prefix.length]!))];

function usageLine(c: CommandSpec): string {
  return `datamesh ${key(c.path)}${c.args ? ' ' + c.args : ''}${Object.keys(c.options).length > 0 ? ' [flags]' : ''}`;
}

function optionLines(options: Options): string {
  const rows = Object.entries({ ...options, ...HELP_OPTION }).map(([name, o]) => [`${o.short ? `-${o.short}, ` : '    '}--${name}${o.arg ? ' ' + o.arg : ''}${o.multiple ? '...' : ''}`, o.help]);
  const width = Math.min(34, Math.max(...rows.map(([l]) => l!.length)) + 2);
  return rows.map(([l, h]) => `  ${l!.padEnd(width)}${l!.length >= width ? '\n  ' + ' '.repeat(width) : ''}${h}`).join('\n');
}

function commandList(prefix: readonly string[], skip: (c: CommandSpec) => boolean = () => false, extra: string[][] = []): string {
  const rows = [...under(prefix).filter((c) => !skip(c)).map((c) => [usageLine(c).replace(/ \[flags\]$/, ''), c.summary]), ...extra];
  const width = Math.min(44, Math.max(...rows.map(([l]) => l!.length)) + 2);
  return rows.map(([l, s]) => `  ${l!.padEnd(width)}${l!.length >= width ? '\n  ' + ' '.repeat(width) : ''}${s}`).join('\n');
}

export function topHelp(): string {
  const { version } = packageInfo();
  return (
    `datamesh ${version}: an S3-compatible object store on encrypted, erasure-coded shards\n\n` +
    `Usage: datamesh COMMAND [flags]\n\n` +
    `Commands:\n${commandList([], (c) => ACCOUNT_GROUPS.has(c.path[1] ?? '') && c.path.length > 2, [
      ['datamesh admin user|key|quota ...', "accounts, access keys, quotas ('datamesh help admin')"],
      ['datamesh help COMMAND...', "help of a command or a group (or 'datamesh COMMAND --help')"],
      ['datamesh --version', 'the version'],
    ])}\n\n` +
    `Every server flag is also DATAMESH_<FLAG> in the environment or a key of the --config file.\n`
  );
}

function groupHelp(prefix: readonly string[]): string {
  const isAdmin = prefix[0] === 'admin';
  return (
    `Usage: datamesh ${key(prefix)} COMMAND [flags]\n\n${GROUPS[key(prefix)] ?? ''}\n\nCommands:\n${commandList(prefix)}\n` +
    (isAdmin ? `\nFlags of every admin command:\n${optionLines(ADMIN_COMMON)}\n\n${ADMIN_NOTES}\n` : '') +
    `\n'datamesh ${key(prefix)} COMMAND --help' shows the flags of a command.\n`
  );
}

function commandHelp(c: CommandSpec): string {
  return `Usage: ${usageLine(c)}\n\n${c.summary}\n${c.details ? '\n' + c.details + '\n' : ''}\nFlags:\n${optionLines(c.options)}\n${c.path[0] === 'admin' ? '\n' + ADMIN_NOTES + '\n' : ''}`;
}

/** Groups of admin commands listed only by `datamesh help admin`. */
const ACCOUNT_GROUPS = new Set(['user', 'key', 'quota']);

class Usage extends Error {}

/** Help for `datamesh help WORDS...`. */
function helpFor(words: string[]): string {
  if (words.length === 0) return topHelp();
  const exact = COMMANDS.find((c) => key(c.path) === key(words));
  if (exact) return commandHelp(exact);
  if (under(words).length > 0) return groupHelp(words);
  throw new Usage(`no command 'datamesh ${key(words)}': run 'datamesh help' for the commands`);
}

/**
 * Parses and runs one invocation; resolves with the exit code (serve and node resolve once they
 * serve, and keep the process alive).
 */
export async function dispatch(argv: string[], io: CliIo): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === '--help' || first === '-h') return print(io, topHelp());
    if (first === '--version' || first === '-V') return print(io, `datamesh ${packageInfo().version}\n`);
    if (first === 'help') {
      const words = rest.filter((w) => w !== '--help' && w !== '-h');
      return print(io, helpFor(words));
    }
    const family = under([first]);
    if (family.length === 0) throw new Usage(`unknown command '${first}': run 'datamesh help' for the commands`);
    // One strict parse with every flag the family knows; the command's own table is checked next.
    const union: OptionTable = {};
    for (const c of family) for (const [name, o] of Object.entries({ ...c.options, ...HELP_OPTION })) union[name] = { type: o.type, ...(o.multiple ? { multiple: true } : {}), ...(o.short ? { short: o.short } : {}) };
    const hint = `run 'datamesh ${first} --help'`;
    const { values, positionals } = parseCommandLine(rest, union, { positionals: true, hint: `${hint} for the flags` });
    // The longest command path the positionals spell.
    const path = [first];
    while (positionals.length > 0 && nextWords(path).includes(positionals[0]!)) path.push(positionals.shift()!);
    const command = COMMANDS.find((c) => key(c.path) === key(path));
    if (!command) {
      if (values.help || positionals[0] === 'help') return print(io, groupHelp(path)); // `datamesh admin help` too
      const words = nextWords(path);
      if (positionals.length > 0) throw new Usage(`unknown command '${key([...path, positionals[0]!])}': use one of ${words.join(', ')} (run 'datamesh help ${key(path)}')`);
      throw new Usage(`'datamesh ${key(path)}' needs a command: one of ${words.join(', ')} (run 'datamesh help ${key(path)}')`);
    }
    if (values.help) return print(io, commandHelp(command));
    const allowed = new Set(Object.keys(command.options));
    for (const name of Object.keys(values)) {
      if (!allowed.has(name)) throw new Usage(`option --${name} does not apply to 'datamesh ${key(path)}': run 'datamesh ${key(path)} --help' for its flags`);
    }
    const [min, max] = command.positionals ?? [0, 0];
    if (positionals.length < min || positionals.length > max) {
      const shape = command.args ?? '(no arguments)';
      throw new Usage(
        positionals.length > max && max === 0
          ? `unexpected argument '${positionals[0]}': 'datamesh ${key(path)}' takes no arguments`
          : `'datamesh ${key(path)}' takes ${shape}: datamesh ${key(path)} ${shape}`,
      );
    }
    return await command.run({ values, args: positionals, path, io });
  } catch (e) {
    if (e instanceof Usage || e instanceof ConfigError) {
      io.stderr.write(`datamesh: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}

function print(io: CliIo, text: string): number {
  io.stdout.write(text);
  return 0;
}

/** `datamesh admin ARGS` through the one parser, with the given streams and environment (tests, scripts). */
export function runAdmin(argv: string[], io: CliIo): Promise<number> {
  return dispatch(['admin', ...argv], io);
}

/** The process entry: runs argv and sets the exit code. */
export async function run(argv: string[]): Promise<void> {
  process.exitCode = await dispatch(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
}
