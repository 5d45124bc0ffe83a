/** The shapes of the command table (table.ts), shared by the commands it runs. */
import type { ParsedArgs } from '../config.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in the help, e.g. SIZE. */
  arg?: string;
  help: string;
}
export type Options = Record<string, OptionSpec>;

/** Where a command writes and reads: the process's streams and environment, or a test's. */
export interface CliIo {
  stdout: { write(s: string): unknown; isTTY?: boolean };
  stderr: { write(s: string): unknown; isTTY?: boolean };
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

export interface CommandContext {
  values: ParsedArgs['values'];
  /** The positional arguments after the command's path. */
  args: string[];
  path: readonly string[];
  io: CliIo;
}

export interface CommandSpec {
  /** e.g. ['admin', 'user', 'create'] */
  path: readonly string[];
  /** The arguments in the usage line, e.g. 'NAME' or '[NAME]'. */
  args?: string;
  /** Least and most positional arguments (default none). */
  positionals?: readonly [number, number];
  summary: string;
  /** More text for `--help`. */
  details?: string;
  options: Options;
  /** Exit code (a long-running command such as serve resolves once it is up). */
  run(ctx: CommandContext): Promise<number>;
}
